/** `casebook start` refuses a configuration it cannot run before anything starts, with exit code 2. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const parent = mkdtempSync(join(tmpdir(), 'casebook-refusal-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

const start = (args: string[], env: Record<string, string>) =>
  spawnSync(process.execPath, ['bin/casebook.js', 'start', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, CASEBOOK_DATA_DIR: join(parent, 'data'), ...env },
  });

describe('casebook start refuses', () => {
  it('a deployment configuration with problems, one line per problem at its place', () => {
    const file = join(parent, 'casebook.yaml');
    writeFileSync(file, 'channels:\n  emial: { connector: local }\npayments: { connector: stripe }\n');
    const run = start([], { CASEBOOK_CONFIG: file });
    expect(run.stderr).toBe(
      [
        `casebook: the configuration ${file} (CASEBOOK_CONFIG) has 2 problems:`,
        `${file}:2:3: error CFG020: unknown channel 'emial' (hint: did you mean 'email'?)`,
        `${file}:3:24: error CFG013: payments.connector must be one of: local, webhook, smtp`,
        '',
      ].join('\n'),
    );
    expect(run.status).toBe(2);
    expect(existsSync(join(parent, 'data'))).toBe(false);
  });

  it('arguments, with its usage', () => {
    const run = start(['--bogus'], {});
    expect(run.stderr).toMatch(/^usage: casebook start/);
    expect(run.status).toBe(2);
  });

  it('--api or --worker alone on the embedded servers, which belong to one process', () => {
    for (const flag of ['--api', '--worker']) {
      const run = start([flag], { TEMPORAL_ADDRESS: '', DATABASE_URL: '' });
      expect(run.stderr).toMatch(
        new RegExp(`^casebook: start ${flag} runs beside other Casebook processes on a shared Temporal and Postgres: set TEMPORAL_ADDRESS and DATABASE_URL`),
      );
      expect(run.status).toBe(2);
    }
    expect(existsSync(join(parent, 'data'))).toBe(false);
  });
});
