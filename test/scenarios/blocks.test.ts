/** `casebook test` scenarios of a playbook with a parallel race and a for_each over an order's lines. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const casebookTest = (file: string) => spawnSync(process.execPath, ['bin/casebook.js', 'test', file], { cwd: ROOT, encoding: 'utf8', timeout: 150_000 });

describe('casebook test with blocks', () => {
  it('a race won by the parcel or by the deadline (the loser cleaned up), then each line refunded in order', () => {
    const run = casebookTest('test/scenarios/blocks.test.yaml');
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('2 passed, 0 failed');
  }, 160_000);
});
