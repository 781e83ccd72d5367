/** Benchmark results: bench/results/<name>.json, with where and on what code they were measured. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, type as osType } from 'node:os';
import { fileURLToPath } from 'node:url';

const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));
const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));

export interface BenchmarkResult {
  benchmark: string;
  measuredAt: string;
  commit: { sha: string; dirty: boolean };
  machine: { cpus: number; model: string | undefined; memoryBytes: number; node: string; os: string };
  parameters: Record<string, unknown>;
  figures: Record<string, unknown>;
}

function git(...args: string[]): string {
  return execFileSync('git', args, { cwd: REPOSITORY, encoding: 'utf8' }).trim();
}

/**
 * The commit the code ran at, read when the benchmark starts; `dirty` when tracked files other than
 * the results (which a benchmark rewrites after each step) differed from it.
 */
function currentCommit(): { sha: string; dirty: boolean } {
  return { sha: git('rev-parse', 'HEAD'), dirty: git('status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)bench/results') !== '' };
}

const COMMIT_AT_START = currentCommit();

export function machine(): BenchmarkResult['machine'] {
  return { cpus: cpus().length, model: cpus()[0]?.model, memoryBytes: totalmem(), node: process.version, os: `${osType()} ${release()}` };
}

/** Writes bench/results/<name>.json and prints the figures; answers the file's path. */
export function writeResult(name: string, description: string, parameters: Record<string, unknown>, figures: Record<string, unknown>): string {
  const result: BenchmarkResult = {
    benchmark: description,
    measuredAt: new Date().toISOString(),
    commit: COMMIT_AT_START,
    machine: machine(),
    parameters,
    figures,
  };
  mkdirSync(RESULTS, { recursive: true });
  const file = `${RESULTS}${name}.json`;
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`\n${description}\n${result.commit.sha.slice(0, 12)}${result.commit.dirty ? ' (dirty)' : ''}, ${result.machine.cpus} × ${result.machine.model}`);
  console.log(`parameters: ${JSON.stringify(parameters)}`);
  for (const line of summaryLines(figures)) console.log(line);
  console.log(`written to ${file}`);
  return file;
}

/** One line per figure: nested objects become dotted paths, and objects of numbers stay on one line. */
export function summaryLines(figures: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(figures).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`  ${path}: ${JSON.stringify(value)}`];
    const entries = Object.entries(value);
    if (entries.every(([, inner]) => typeof inner !== 'object' || inner === null)) {
      return [`  ${path}: ${entries.map(([k, v]) => `${k} ${v}`).join(', ')}`];
    }
    return summaryLines(value as Record<string, unknown>, path);
  });
}
