/** `casebook test` scenarios that cancel: a person's `cancel` in the timeline, and a `cancel_on` event. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const casebookTest = (file: string) => spawnSync(process.execPath, ['bin/casebook.js', 'test', file], { cwd: ROOT, encoding: 'utf8', timeout: 150_000 });

describe('casebook test with cancels', () => {
  it('a timeline cancel and a cancel_on event end the case cancelled, compensated, the refund escalated', () => {
    const run = casebookTest('test/scenarios/cancellable.test.yaml');
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('2 passed, 0 failed');
  }, 160_000);
});
