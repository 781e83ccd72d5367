/**
 * Issue 21: nothing a playbook or a case holds takes the process down or wedges a case in silence. A
 * backtracking regular expression runs on RE2 (linear) and answers at once; a string function is
 * counted by the run-time budget; what a step cannot do (a refund amount beyond JavaScript's safe
 * integers, a calendar with no working time ahead, a wait condition that cannot be evaluated) ends the
 * case `failed` at its step, escalated to the repair queue, within seconds, and repair works.
 */
import { describe, expect, it } from 'vitest';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import type { HashedPlan } from '../../src/plan/plan.js';
import { hashPlan, validatePlaybook } from '../../src/playbook/index.js';
import { publishPlaybook } from '../../src/store/playbooks.js';
import { useApi } from '../support/api.js';
import { useRuntime } from '../support/runtime.js';
import { compileSmallPlaybook, openSmallCase } from '../support/small-playbooks.js';
import { caseRecords } from '../support/records.js';

const runtime = useRuntime();
const http = useApi(runtime, { admin: ['admin', 'Root'] });

/** Waits for an agent's check, then branches on `condition` over the buyer's name. */
const namePlaybook = (name: string, condition: string) => `playbook: ${name}
case_type: review
currency: CNY
fields:
  order_id: { type: string }
  buyer_name: { type: string }
events:
  agent.checked: { payload: {} }
steps:
  - id: wait_check
    wait: { events: [{ event: agent.checked }], timeout: 1d, on_timeout: check }
  - id: check
    branch:
      cases:
        - when: '${condition}'
          goto: matched
      otherwise: other
  - id: matched
    end: { outcome: resolved, reason: matched }
  - id: other
    end: { outcome: resolved, reason: other }
`;

async function publishNames(name: string, condition: string) {
  const source = namePlaybook(name, condition);
  const result = validatePlaybook(source, `${name}.yaml`);
  expect(result.diagnostics).toEqual([]);
  return (await publishPlaybook(runtime.db.pool, source, result.plan!, 'test')).version;
}

async function openNamed(playbook: string, caseId: string, buyerName: string) {
  expect(await runtime.service.open({ playbook, caseId, data: { order_id: caseId, buyer_name: buyerName } })).toMatchObject({ kind: 'opened' });
}

const check = async (caseId: string) =>
  expect(await runtime.inbox.deliverEvent(caseId, { type: 'agent.checked', id: `${caseId}-check`, payload: {} })).toEqual({ status: 'accepted' });
const result = async (caseId: string): Promise<CaseResult> => ({
  ...((await runtime.env.client.workflow.getHandle(workflowIdFor(caseId)).result()) as CaseResult),
  steps: await caseRecords(runtime.db.pool, caseId),
});
const projection = async (caseId: string) => (await runtime.db.pool.query(`SELECT status, current_step FROM cases WHERE case_id = $1`, [caseId])).rows[0];
const escalations = async (caseId: string) =>
  (await runtime.db.pool.query(`SELECT queue, reason, note FROM escalations WHERE case_id = $1 ORDER BY id`, [caseId])).rows;
const repair = (caseId: string, action: 'retry' | 'close') =>
  http.api.inject({
    method: 'POST',
    url: `/v1/cases/${caseId}/repair`,
    payload: { action, reason: `${action} by test` },
    headers: { authorization: `Bearer ${http.keys.admin}` },
  });

/** Waits until the case is failed at `step` with one escalation to the repair queue whose note matches `reason`; within `ms`. */
async function failsVisibly(caseId: string, step: string, reason: RegExp, ms = 10_000) {
  const started = performance.now();
  await expect.poll(async () => (await projection(caseId))?.status, { timeout: ms, interval: 100 }).toBe('failed');
  const took = performance.now() - started;
  expect(await projection(caseId)).toEqual({ status: 'failed', current_step: step });
  await expect
    .poll(() => escalations(caseId), { timeout: 5_000 })
    .toEqual([expect.objectContaining({ queue: 'casebook-admin', reason: 'case_failed', note: expect.stringMatching(reason) })]);
  return took;
}

describe('regular expressions', () => {
  it('the catastrophic pattern answers at once on RE2; 20 cases in flight complete beside it', async () => {
    await publishNames('names', 'data.buyer_name.matches("^(a+)+$")');
    const others = Array.from({ length: 20 }, (_, i) => `names-${i}`);
    for (const caseId of others) await openNamed('names', caseId, i(caseId) % 2 ? 'aaaa' : 'Mei');
    await openNamed('names', 'redos-1', `${'a'.repeat(30)}!`);
    const started = performance.now();
    await check('redos-1');
    await expect.poll(async () => (await projection('redos-1'))?.status, { timeout: 5_000, interval: 20 }).toBe('closed');
    const took = performance.now() - started;
    console.log(`"a" x 30 + "!" against ^(a+)+$: the case ended in ${Math.round(took)} ms`);
    for (const caseId of others) await check(caseId);
    expect(await result('redos-1')).toMatchObject({ outcome: 'resolved', reason: 'other' });
    const outcomes = await Promise.all(others.map(result));
    expect(outcomes.map((o) => o.reason)).toEqual(others.map((caseId) => (i(caseId) % 2 ? 'matched' : 'other')));
    const evidence = (await result('redos-1')).steps.find((s) => s.step === 'check')!.detail!;
    expect(evidence).toMatchObject({
      otherwise: 'other',
      notTaken: ['data.buyer_name.matches("^(a+)+$")'],
      values: { 'data.buyer_name': `${'a'.repeat(30)}!` },
    });
  });

  it('a string function over a long text is counted by the run-time budget: the case fails alone, escalated', async () => {
    await publishNames('long-names', 'data.buyer_name.matches("^(a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q|r|s|t|u|v|w|x|y|z)+$")');
    await openNamed('long-names', 'long-1', 'a'.repeat(200_000));
    await openNamed('long-names', 'short-1', 'mei');
    await check('long-1');
    await check('short-1');
    await failsVisibly('long-1', 'check', /would cost \d+ evaluation steps; the budget is 100000/);
    expect(await result('short-1')).toMatchObject({ reason: 'matched' });
  });

  it('a pattern from the case that RE2 refuses fails the case, naming it', async () => {
    const source = namePlaybook('pattern-from-data', 'data.order_id.matches(data.buyer_name)');
    const compiled = validatePlaybook(source, 'pattern-from-data.yaml').plan!;
    await publishPlaybook(runtime.db.pool, source, compiled, 'test');
    await openNamed('pattern-from-data', 'backref-1', '(a)\\1');
    await check('backref-1');
    await failsVisibly('backref-1', 'check', /is not a regular expression RE2 accepts/);
  });
});

const i = (caseId: string) => Number(caseId.split('-').at(-1));

const REFUND = (amount: string) => `events:
  warehouse.received: { payload: {} }
steps:
  - id: wait_receipt
    wait: { events: [{ event: warehouse.received }], timeout: 10d, on_timeout: late }
  - id: refund
    refund: { amount: ${amount}, reason: test, within: 24h, from: warehouse.received, on_breach: late, on_declined: late }
  - id: done
    end: { outcome: resolved, reason: refunded }
  - id: late
    end: { outcome: escalated, reason: late }
`;

describe('what one workflow task may evaluate', () => {
  it('a chain of steps that never waits, each within the budget, fails its case once the task has spent ten budgets', async () => {
    const TEN = '[0,1,2,3,4,5,6,7,8,9]';
    // About 33,000 evaluation steps each (a tenth of a second at most): 40 of them would be 1.3 million.
    const heavy = `${TEN}.map(a, ${TEN}.map(b, ${TEN}.map(c, ${TEN}.map(d, d)))).size()`;
    const steps = Array.from({ length: 40 }, (_, n) => `  - id: heavy_${n}\n    set: { count: "${heavy}" }\n`).join('');
    const compiled = compileSmallPlaybook('heavy-chain', `steps:\n${steps}  - id: done\n    end: { outcome: resolved, reason: done }\n`);
    await openSmallCase(runtime.service, runtime.db.pool, compiled, 'heavy-1');
    await failsVisibly('heavy-1', 'heavy_30', /would bring what this workflow task evaluates to \d+ evaluation steps; a task's budget is 1000000/);
    expect((await repair('heavy-1', 'retry')).statusCode).toBe(200);
    // Retried in a later task, the budget starts again: the chain goes on past the step that failed.
    expect(await result('heavy-1')).toMatchObject({ outcome: 'resolved', reason: 'done' });
  });
});

describe('run-time impossibilities fail their case visibly', () => {
  it.each([
    ['2^53 + 1', 'data.count + 9007199254740992', 'huge-1'],
    ['the most negative 64-bit integer', '-9223372036854775807 - data.count', 'negative-1'],
  ])('a refund of %s: failed at the refund step, escalated; retried it fails again; closed it ends', async (_name, amount, caseId) => {
    await openSmallCase(runtime.service, runtime.db.pool, compileSmallPlaybook(`amount-${caseId}`, REFUND(amount)), caseId, { count: 1 });
    await runtime.inbox.deliverEvent(caseId, { type: 'warehouse.received', id: `${caseId}-w`, payload: {} });
    const took = await failsVisibly(caseId, 'refund', /integer out of range/);
    console.log(`a refund of ${_name}: failed and escalated in ${Math.round(took)} ms`);
    expect((await runtime.db.pool.query(`SELECT count(*)::int AS n FROM refunds WHERE case_id = $1`, [caseId])).rows[0].n).toBe(0);
    expect((await repair(caseId, 'retry')).statusCode).toBe(200);
    await expect.poll(async () => (await escalations(caseId)).length, { timeout: 10_000 }).toBe(2);
    await expect.poll(async () => (await projection(caseId))?.status, { timeout: 10_000 }).toBe('failed');
    expect((await repair(caseId, 'close')).statusCode).toBe(200);
    expect(await result(caseId)).toMatchObject({ outcome: 'failed', reason: 'close by test' });
  });

  it('a calendar closed for three years (published before PB137): the business-time timeout fails the case, escalated', async () => {
    const body = `events:
  buyer.replied: { payload: {} }
steps:
  - id: wait_reply
    wait: { events: [{ event: buyer.replied, goto: done }], timeout: 4 business hours, on_timeout: done }
  - id: done
    end: { outcome: resolved, reason: replied }
`;
    const header = 'calendar:\n  hours: { mon: ["09:00-18:00"], tue: ["09:00-18:00"], wed: ["09:00-18:00"], thu: ["09:00-18:00"], fri: ["09:00-18:00"] }\n';
    const valid = compileSmallPlaybook('closed-calendar', body, header);
    // What the compiler now refuses (PB137), as a plan stored before it did: every day of three years a holiday.
    const exceptions = { ...valid.plan.calendar!.exceptions };
    const now = await runtime.env.currentTimeMs();
    for (let day = now - 86_400_000; day < now + 3 * 366 * 86_400_000; day += 86_400_000) exceptions[new Date(day).toISOString().slice(0, 10)] = [];
    const plan = { ...valid.plan, calendar: { ...valid.plan.calendar!, exceptions } };
    const closed: HashedPlan = { plan, hash: hashPlan(plan) };
    await openSmallCase(runtime.service, runtime.db.pool, closed, 'closed-1');
    const took = await failsVisibly('closed-1', 'wait_reply', /no working time within 800 days/);
    console.log(`a calendar closed for three years: failed and escalated in ${Math.round(took)} ms`);
    expect((await repair('closed-1', 'close')).statusCode).toBe(200);
    expect(await result('closed-1')).toMatchObject({ outcome: 'failed' });
  });

  it('a wait condition that cannot be evaluated when its event arrives fails the case at the wait, not the workflow task', async () => {
    const compiled = compileSmallPlaybook(
      'divides-in-wait',
      `events:
  counted: { payload: { n: { type: integer } } }
steps:
  - id: wait_count
    wait: { events: [{ event: counted, where: 10 / event.n > 1, goto: done }], timeout: 1d, on_timeout: done }
  - id: done
    end: { outcome: resolved, reason: counted }
`,
    );
    await openSmallCase(runtime.service, runtime.db.pool, compiled, 'zero-1');
    await expect.poll(async () => (await projection('zero-1'))?.status, { timeout: 10_000 }).toBe('waiting');
    expect(await runtime.inbox.deliverEvent('zero-1', { type: 'counted', id: 'zero', payload: { n: 0 } })).toEqual({ status: 'accepted' });
    await failsVisibly('zero-1', 'wait_count', /expression '10 \/ event.n > 1' \(playbook line \d+\) failed/);
  });
});
