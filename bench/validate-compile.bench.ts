/**
 * Validate + compile time per standard playbook (target: under 5 ms at p50 on a 2-core machine).
 * Run: npm run bench. Writes bench/results/validate-compile.json.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { validatePlaybook } from '../src/playbook/index.js';
import { NO_MARKETPLACE_PACKS } from '../src/playbook/marketplace-packs.js';
import { readCalendarFolder, subPlaybooksInFolder } from '../src/services/playbooks.js';

const { calendars } = readCalendarFolder(fileURLToPath(new URL('../calendars/', import.meta.url)));

const PLAYBOOKS = fileURLToPath(new URL('../playbooks/', import.meta.url));
const OUTPUT = fileURLToPath(new URL('./results/validate-compile.json', import.meta.url));
const WARMUP = 50;
const ITERATIONS = 500;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const results: Record<string, { bytes: number; steps: number; p50Ms: number; p95Ms: number; maxMs: number }> = {};
for (const file of readdirSync(PLAYBOOKS)
  .filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'))
  .sort()) {
  const source = readFileSync(PLAYBOOKS + file);
  // The sub-playbooks it runs, compiled once beside it (as the publish path looks them up once).
  const options = { calendars, playbooks: subPlaybooksInFolder(PLAYBOOKS + file, source, { calendars, marketplaces: NO_MARKETPLACE_PACKS }) };
  const first = validatePlaybook(source, file, options);
  if (!first.plan) throw new Error(`${file} does not compile`);
  for (let i = 0; i < WARMUP; i++) validatePlaybook(source, file, options);
  const times: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    const started = performance.now();
    validatePlaybook(source, file, options);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  results[file] = {
    bytes: source.byteLength,
    steps: Object.keys(first.plan.plan.steps).length,
    p50Ms: round(percentile(times, 50)),
    p95Ms: round(percentile(times, 95)),
    maxMs: round(times[times.length - 1]!),
  };
}

const report = {
  benchmark: 'validate + compile (YAML, JSON Schema, semantics, CEL type checks, plan, hash)',
  measuredAt: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
  iterations: ITERATIONS,
  warmup: WARMUP,
  targetP50Ms: 5,
  results,
};
mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
writeFileSync(OUTPUT, JSON.stringify(report, null, 2) + '\n');
for (const [file, r] of Object.entries(results)) {
  console.log(
    `${file.padEnd(22)} ${String(r.steps).padStart(3)} steps  p50 ${r.p50Ms.toFixed(2)} ms  p95 ${r.p95Ms.toFixed(2)} ms  max ${r.maxMs.toFixed(2)} ms`,
  );
}
