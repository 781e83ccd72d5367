/** `casebook start` refuses a configuration it cannot run before anything starts, with exit code 2. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
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
  it('an adapter name it does not know, naming the variable and the names there are', () => {
    const run = start([], { CASEBOOK_PAYMENTS: 'stripe' });
    expect(run.stderr).toBe("casebook: CASEBOOK_PAYMENTS must name an implementation of the payments adapter (local), not 'stripe'\n");
    expect(run.status).toBe(2);
    expect(existsSync(join(parent, 'data'))).toBe(false);
  });

  it('arguments, with its usage', () => {
    const run = start(['--bogus'], {});
    expect(run.stderr).toMatch(/^usage: casebook start/);
    expect(run.status).toBe(2);
  });
});
