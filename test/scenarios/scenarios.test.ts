/** `casebook test`: the standard playbooks' scenarios, and what a failing scenario looks like. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** A whole run takes 20-40 s; one this late is stuck. */
const STALLED_AFTER_MS = 150_000;

const RUNS = 3;

/**
 * `casebook test` on the files. A run left idle on the time-skipping server is killed and run again,
 * saying so, up to RUNS runs. The stall seen before (a timer firing while the case took an event on its
 * instant, temporalio/sdk-java#3088) is avoided by the runner (src/scenarios/timer-guard.ts,
 * test/scenarios/timer-instant.test.ts); this stays for one of a cause not known, and prints what the
 * stalled run said. A run that ends, with any failed scenario, is the answer.
 */
function casebookTest(...files: string[]) {
  const run = () =>
    spawnSync(process.execPath, ['bin/casebook.js', 'test', ...files], { cwd: ROOT, encoding: 'utf8', timeout: STALLED_AFTER_MS, killSignal: 'SIGKILL' });
  let last = run();
  for (let runs = 1; runs < RUNS && last.signal === 'SIGKILL'; runs++) {
    console.warn(`casebook test stalled for ${STALLED_AFTER_MS / 1000} s and was killed; running it again. What it printed:\n${last.stdout}`);
    last = run();
  }
  return last;
}

describe('casebook test', () => {
  it(
    'runs every scenario of the standard playbooks green',
    () => {
      const run = casebookTest(
        'playbooks/after-delivery.test.yaml',
        'playbooks/exchange.test.yaml',
        'playbooks/presale.test.yaml',
        'playbooks/refund-and-notify.test.yaml',
        'playbooks/return.test.yaml',
        'playbooks/review-recovery.test.yaml',
      );
      expect(run.status, run.stdout + run.stderr).toBe(0);
      const passed = Number(/(\d+) passed, 0 failed/.exec(run.stdout)?.[1]);
      expect(passed).toBeGreaterThanOrEqual(30);
      expect(run.stdout).not.toContain('✗');
    },
    RUNS * STALLED_AFTER_MS + 30_000,
  );

  it(
    'points each failed expectation at its line and exits 1',
    () => {
      const run = casebookTest('test/scenarios/failing.test.yaml');
      expect(run.status).toBe(1);
      expect(run.stdout).toContain('  ✗ wrong refund amount and a refused event that is accepted');
      expect(run.stdout).toContain('test/scenarios/failing.test.yaml:7:26: warehouse.received at +86400s: expected refused, the case answered accepted');
      expect(run.stdout).toContain('test/scenarios/failing.test.yaml:10:7: refunds: expected [19900], got [18900]');
      expect(run.stdout).toContain('0 passed, 1 failed');
    },
    RUNS * STALLED_AFTER_MS + 30_000,
  );

  it(
    'reports a malformed scenario file like a playbook, with line and column',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'casebook-scenario-'));
      const file = join(dir, 'bad.test.yaml');
      writeFileSync(file, 'playbook: return.yaml\nscenarios:\n  - name: x\n    data: {}\n    expect: { outcome: resolved }\n    timelin: []\n');
      const run = casebookTest(file);
      expect(run.status).toBe(1);
      expect(run.stdout).toContain(`${file}:6:5: error SCHEMA001: unknown property 'timelin' in scenarios[0] (hint: did you mean 'timeline'?)`);
    },
    RUNS * STALLED_AFTER_MS + 30_000,
  );
});
