/** A call's `retry`: bounded at publish, compiled only when written, so plans without it keep their hash. */
import { describe, expect, it } from 'vitest';
import { validatePlaybook, type Diagnostic } from '../../src/playbook/index.js';
import { kindOf } from '../../src/plan/steps/index.js';
import type { CallStep } from '../../src/plan/steps/index.js';
import { smallPlaybookSource } from '../support/small-playbooks.js';

/** A playbook whose step `ship` (line 17) calls the warehouse with `extra` written after `on_error`. */
const withRetry = (extra: string) =>
  smallPlaybookSource(
    'retries',
    `policy:
  warehouse_answers_within: 45s
  long_wait: 2h
integrations:
  warehouse: { operations: [ship_replacement] }
steps:
  - id: ship
    call:
      integration: warehouse
      operation: ship_replacement
      on_error: escalate
${extra}  - id: done
    end: { outcome: resolved, reason: shipped }
  - id: escalate
    end: { outcome: escalated, reason: not_shipped }
`,
  );

const compile = (extra: string) => validatePlaybook(withRetry(extra), 'retries.yaml');
const errors = (extra: string): Pick<Diagnostic, 'code' | 'line' | 'column' | 'message'>[] =>
  compile(extra)
    .diagnostics.filter((d) => d.severity === 'error')
    .map(({ code, line, column, message }) => ({ code, line, column, message }));
const shipOf = (extra: string) => compile(extra).plan!.plan.steps.ship as CallStep;

describe("a call's retry", () => {
  it('compiles what is written, in milliseconds, policy durations included', () => {
    expect(shipOf('      retry: { attempts: 3, timeout: 30s, backoff: 10s }\n').retry).toEqual({ attempts: 3, timeoutMs: 30_000, backoffMs: 10_000 });
    expect(shipOf('      retry: { timeout: policy.warehouse_answers_within }\n').retry).toEqual({ timeoutMs: 45_000 });
    expect(shipOf('      retry:\n        attempts: 2\n').retry).toEqual({ attempts: 2 });
  });

  it('is drawn in the diagram line of the step, when written', () => {
    const line = (extra: string) => {
      const step = shipOf(extra);
      return kindOf(step).describe(step);
    };
    expect(line('')).toBe('call warehouse.ship_replacement');
    expect(line('      retry: { attempts: 3, timeout: 30s, backoff: 10s }\n')).toBe('call warehouse.ship_replacement, 3 attempts, 30s each, backoff 10s');
    expect(line('      retry: { attempts: 1 }\n')).toBe('call warehouse.ship_replacement, 1 attempt');
  });

  it('leaves a call without retry as it was: no retry in the plan, the same hash as before retries existed', () => {
    const plain = compile('').plan!;
    expect(plain.plan.steps.ship).not.toHaveProperty('retry');
    expect(compile('      retry: { attempts: 5 }\n').plan!.hash).not.toBe(plain.hash);
    // The plan of this source as compiled before `retry` existed (commit 7c4254e).
    expect(plain.hash).toBe(PLAIN_HASH);
  });

  it('refuses values out of bounds, each at its value', () => {
    expect(errors('      retry: { attempts: 0, timeout: 700s, backoff: 2h }\n')).toEqual([
      { code: 'PB190', line: 22, column: 26, message: 'a call is attempted 1 to 20 times, not 0' },
      { code: 'PB191', line: 22, column: 38, message: "an attempt's timeout is from 1s to 10m, not 700s" },
      { code: 'PB192', line: 22, column: 53, message: 'the backoff between attempts is from 1s to 1h, not 2h' },
    ]);
    expect(errors('      retry:\n        attempts: 21\n        timeout: 0s\n        backoff: policy.long_wait\n')).toEqual([
      { code: 'PB190', line: 23, column: 19, message: 'a call is attempted 1 to 20 times, not 21' },
      expect.objectContaining({ code: 'PB030', line: 24, column: 18 }),
      { code: 'PB192', line: 25, column: 18, message: 'the backoff between attempts is from 1s to 1h, not policy.long_wait' },
    ]);
    expect(errors('      retry: { attempts: 20, timeout: 10m, backoff: 1h }\n')).toEqual([]);
    expect(errors('      retry: { attempts: 1, timeout: 1s, backoff: 1s }\n')).toEqual([]);
  });

  it('is checked by the schema: known keys, an integer count, durations, not empty', () => {
    expect(errors('      retry: { attempts: 2.5 }\n').map((d) => d.code)).toEqual(['SCHEMA003']);
    expect(errors('      retry: { attempts: 2, tries: 3 }\n').map((d) => d.code)).toEqual(['SCHEMA001']);
    expect(errors('      retry: { timeout: soon }\n').map((d) => d.code)).toEqual(['SCHEMA005']);
    expect(errors('      retry: {}\n').map((d) => d.code)).toEqual(['SCHEMA008']);
  });

  it('is written on calls only: a refund goes on until paid, a send or remark until written', () => {
    const refund = validatePlaybook(
      smallPlaybookSource(
        'refund-retry',
        `steps:
  - id: pay
    refund: { amount: data.paid.amount, reason: r, within: 1d, from: case.opened, on_breach: done, on_declined: done, retry: { attempts: 2 } }
  - id: note
    remark: { text: noted, retry: { attempts: 2 } }
  - id: done
    end: { outcome: resolved, reason: refunded }
`,
      ),
      'refund-retry.yaml',
    ).diagnostics.filter((d) => d.severity === 'error');
    expect(refund.map(({ code, line, column }) => ({ code, line, column }))).toEqual([
      { code: 'SCHEMA001', line: 13, column: 119 },
      { code: 'SCHEMA001', line: 15, column: 28 },
    ]);
  });
});

const PLAIN_HASH = 'e1003d5e2fd92289e64dceee150b1928503968cb435a2b37e346a775b5885477';
