/**
 * parallel and for_each on Temporal's time-skipping server: branches and items run as strands inside
 * the case's workflow; a race cancels its losers with their timers and runs their cleanups; loops run
 * one after another or several at once, and collect; a 500-item loop's history is measured.
 */
import { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { completeTask } from '../../src/cases/agent-work.js';
import { workflowIdFor, type CaseResult, type StepRecord } from '../../src/plan/case.js';
import type { HashedPlan } from '../../src/plan/plan.js';
import { validatePlaybook } from '../../src/playbook/index.js';
import { useApi } from '../support/api.js';
import { recordHistory } from '../support/histories.js';
import { useRuntime } from '../support/runtime.js';
import { openSmallCase, smallPlaybookSource } from '../support/small-playbooks.js';
import { caseRecords } from '../support/records.js';

const runtime = useRuntime();
const http = useApi(runtime, { admin: ['admin', 'Root'] });
const repair = (caseId: string, action: 'retry' | 'close', target: { step?: string; iteration?: string } = {}) =>
  http.api.inject({
    method: 'POST',
    url: `/v1/cases/${caseId}/repair`,
    payload: { action, reason: `${action} by test`, ...target },
    headers: { authorization: `Bearer ${http.keys.admin}` },
  });
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A small playbook with `lines` (id and paid money each) among its fields. */
function compile(name: string, body: string): HashedPlan {
  const source = smallPlaybookSource(name, body).replace(
    '  count: { type: integer, required: false }\n',
    '  count: { type: integer, required: false }\n  lines: { type: list, required: false, items: { type: object, fields: { id: { type: string }, paid: { type: money } } } }\n',
  );
  const result = validatePlaybook(source, `${name}.yaml`);
  if (!result.plan) throw new Error(JSON.stringify(result.diagnostics));
  return result.plan;
}

const handle = (caseId: string) => runtime.env.client.workflow.getHandle(workflowIdFor(caseId));
const result = async (caseId: string): Promise<CaseResult> => ({
  ...((await handle(caseId).result()) as CaseResult),
  steps: await caseRecords(runtime.db.pool, caseId),
});
const rows = async (table: string, caseId: string) => (await runtime.db.pool.query(`SELECT * FROM ${table} WHERE case_id = $1 ORDER BY id`, [caseId])).rows;
const records = (outcome: CaseResult, kind: string) => outcome.steps.filter((s: StepRecord) => s.kind === kind);

async function events(caseId: string) {
  const history = await handle(caseId).fetchHistory();
  return history.events ?? [];
}

const RACE = `events:
  parcel.shipped: { payload: {} }
  payment.received: { payload: {} }
steps:
  - id: race
    parallel:
      join: JOIN
      branches:
        - id: ship
          steps:
            - id: wait_ship
              wait: { events: [{ event: parcel.shipped }], timeout: 2d, on_timeout: ship_late }
            - id: ship_noted
              remark: { text: shipped }
              next: ship_end
            - id: ship_late
              remark: { text: ship late }
            - id: ship_end
              remark: { text: ship branch done }
          cleanup:
            - id: undo_ship
              remark: { text: shipping cancelled }
        - id: pay
          steps:
            - id: wait_pay
              wait: { events: [{ event: payment.received }], timeout: 5h, on_timeout: pay_late }
            - id: pay_noted
              remark: { text: paid }
              next: pay_end
            - id: pay_late
              remark: { text: pay late }
            - id: pay_end
              remark: { text: pay branch done }
          cleanup:
            - id: undo_pay
              remark: { text: payment cancelled }
  - id: done
    end: { outcome: resolved, reason: joined }
`;

describe('parallel', () => {
  it('race (first): the branch whose timer ends first wins; the loser is cancelled with its timer, which never fires, and its cleanup runs', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, compile('race-first', RACE.replace('JOIN', 'first')), 'race-1');
    const started = await runtime.env.currentTimeMs();
    const outcome = await result('race-1');
    expect(outcome).toMatchObject({ outcome: 'resolved', reason: 'joined' });
    const branches = records(outcome, 'branch-end').map((r) => r.detail);
    expect(branches).toEqual([
      { branch: 'pay', done: true },
      { branch: 'ship', cancelled: true },
    ]);
    expect(records(outcome, 'cleanup').map((r) => r.detail)).toEqual([{ branch: 'ship', cleanup: 'done' }]);
    expect(outcome.steps.find((s) => s.step === 'race' && s.detail?.joined)?.detail).toMatchObject({ joined: 'first', winner: 'pay', goto: 'done' });
    // The pay branch timed out after 5 hours; the ship branch's 2-day timeout was cancelled, never fired.
    expect(outcome.steps.some((s) => s.step === 'wait_ship')).toBe(false);
    expect(Date.parse(outcome.steps.at(-1)!.at) - started).toBeLessThan(6 * HOUR);
    const history = await events('race-1');
    const started_ = history.filter((e) => e.timerStartedEventAttributes);
    const cancelled = history.filter((e) => e.timerCanceledEventAttributes).map((e) => e.timerCanceledEventAttributes!.timerId);
    const fired = history.filter((e) => e.timerFiredEventAttributes).map((e) => e.timerFiredEventAttributes!.timerId);
    const twoDays = started_.find((e) => Number(e.timerStartedEventAttributes!.startToFireTimeout!.seconds) > DAY / 1000)!;
    expect(twoDays).toBeDefined();
    expect(cancelled).toContain(twoDays.timerStartedEventAttributes!.timerId);
    expect(fired).not.toContain(twoDays.timerStartedEventAttributes!.timerId);
    // Remarks of the winner and the loser's cleanup, no remark of the loser's body.
    expect((await rows('order_notes', 'race-1')).map((n) => n.remark)).toEqual([
      expect.stringContaining('pay late'),
      expect.stringContaining('pay branch done'),
      expect.stringContaining('shipping cancelled'),
    ]);
    await recordHistory(handle('race-1'), 'blocks-race-first');
  });

  it('any: the first branch done by its event wins; the other is cancelled and cleaned up', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, compile('race-any', RACE.replace('JOIN', 'any')), 'race-2');
    await expect
      .poll(async () => (await runtime.service.describe('race-2'))?.waitingFor ?? [], { timeout: 10_000 })
      .toEqual(['parcel.shipped', 'payment.received']);
    expect((await runtime.service.describe('race-2'))?.status).toBe('waiting');
    expect(await runtime.inbox.deliverEvent('race-2', { type: 'parcel.shipped', id: 's1', payload: {} })).toEqual({ status: 'accepted' });
    const outcome = await result('race-2');
    expect(records(outcome, 'branch-end').map((r) => r.detail)).toEqual([
      { branch: 'ship', done: true },
      { branch: 'pay', cancelled: true },
    ]);
    expect((await rows('order_notes', 'race-2')).map((n) => n.remark)).toEqual([
      expect.stringContaining('shipped'),
      expect.stringContaining('ship branch done'),
      expect.stringContaining('payment cancelled'),
    ]);
  });

  it('all: both branches run to their ends, each taking its own event, and the step joins them', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, compile('race-all', RACE.replace('JOIN', 'all')), 'race-3');
    await expect.poll(async () => (await runtime.service.describe('race-3'))?.waitingFor ?? [], { timeout: 10_000 }).toHaveLength(2);
    await runtime.inbox.deliverEvent('race-3', { type: 'payment.received', id: 'p1', payload: {} });
    await expect.poll(async () => (await runtime.service.describe('race-3'))?.waitingFor ?? [], { timeout: 10_000 }).toEqual(['parcel.shipped']);
    await runtime.inbox.deliverEvent('race-3', { type: 'parcel.shipped', id: 's1', payload: {} });
    const outcome = await result('race-3');
    expect(records(outcome, 'branch-end').map((r) => r.detail)).toEqual([
      { branch: 'pay', done: true },
      { branch: 'ship', done: true },
    ]);
    expect(records(outcome, 'cleanup')).toEqual([]);
    expect(outcome.steps.find((s) => s.detail?.joined)?.detail).toMatchObject({ joined: 'all', done: ['pay', 'ship'] });
  });

  it('an end step in a branch ends the case: the other branch is cancelled and cleaned up first', async () => {
    const ending = RACE.replace('JOIN', 'all').replace(
      '            - id: pay_noted\n              remark: { text: paid }\n              next: pay_end',
      '            - id: pay_noted\n              end: { outcome: resolved, reason: paid_first }',
    );
    await openSmallCase(runtime.service, runtime.db.pool, compile('race-end', ending), 'race-4');
    await expect.poll(async () => (await runtime.service.describe('race-4'))?.waitingFor ?? [], { timeout: 10_000 }).toHaveLength(2);
    await runtime.inbox.deliverEvent('race-4', { type: 'payment.received', id: 'p1', payload: {} });
    const outcome = await result('race-4');
    expect(outcome).toMatchObject({ outcome: 'resolved', reason: 'paid_first' });
    expect(records(outcome, 'branch-end').map((r) => r.detail)).toEqual([
      { branch: 'pay', ended: 'resolved' },
      { branch: 'ship', cancelled: true },
    ]);
    expect(records(outcome, 'cleanup').map((r) => r.detail)).toEqual([{ branch: 'ship', cleanup: 'done' }]);
  });
});

describe('parallel races with a failing branch', () => {
  const FAILING = `steps:
  - id: race
    parallel:
      join: JOIN
      branches:
        - id: broken
          steps:
            - id: divide
              branch: { cases: [{ when: "1 / (data.paid.amount - data.paid.amount) > 0", goto: broken_done }], otherwise: broken_done }
            - id: broken_done
              remark: { text: broken done }
        - id: slow
          steps:
            - id: pause
              delay: 1h
            - id: slow_done
              remark: { text: slow done }
  - id: done
    end: { outcome: resolved, reason: joined }
`;

  it('any: a branch whose step fails is out of the race, the other wins', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, compile('race-fail-any', FAILING.replace('JOIN', 'any')), 'race-6');
    const outcome = await result('race-6');
    expect(outcome).toMatchObject({ outcome: 'resolved', reason: 'joined' });
    expect(records(outcome, 'branch-end').map((r) => [r.detail?.branch, r.detail?.done ?? r.detail?.failed])).toEqual([
      ['broken', expect.stringContaining('division by zero')],
      ['slow', true],
    ]);
    expect(outcome.steps.find((s) => s.detail?.joined)?.detail).toMatchObject({ joined: 'any', winner: 'slow', failed: ['broken'] });
  });

  it('first: a branch whose step fails finishes the race first: the other is cancelled and the step fails for repair', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, compile('race-fail-first', FAILING.replace('JOIN', 'first')), 'race-7');
    await expect.poll(async () => (await runtime.service.describe('race-7'))?.status, { timeout: 10_000 }).toBe('failed');
    expect((await runtime.service.describe('race-7'))?.step).toBe('race');
    expect((await rows('escalations', 'race-7'))[0]).toMatchObject({ reason: 'case_failed', note: expect.stringContaining('division by zero') });
    const view = await runtime.env.client.workflow.getHandle(workflowIdFor('race-7')).query<{ steps: StepRecord[] }>('caseView');
    expect(view.steps.filter((s) => s.kind === 'branch-end').map((r) => [r.detail?.branch, r.detail?.cancelled ?? 'failed'])).toEqual([
      ['broken', 'failed'],
      ['slow', true],
    ]);
  });
});

describe('parallel, cancelled with its case', () => {
  it('a cancel while both branches wait cancels them with their timers, runs both cleanups, then ends the case cancelled', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, compile('race-cancel', RACE.replace('JOIN', 'all')), 'race-5');
    await expect.poll(async () => (await runtime.service.describe('race-5'))?.waitingFor ?? [], { timeout: 10_000 }).toHaveLength(2);
    const cancelled = await http.api.inject({
      method: 'POST',
      url: '/v1/cases/race-5/cancel',
      payload: { reason: 'buyer withdrew' },
      headers: { authorization: `Bearer ${http.keys.admin}` },
    });
    expect(cancelled.statusCode).toBeLessThan(300);
    const outcome = await result('race-5');
    expect(outcome).toMatchObject({ outcome: 'cancelled', reason: 'buyer withdrew' });
    expect(records(outcome, 'branch-end').map((r) => r.detail)).toEqual([
      { branch: 'ship', cancelled: true },
      { branch: 'pay', cancelled: true },
    ]);
    expect(records(outcome, 'cleanup').map((r) => r.detail)).toEqual([
      { branch: 'ship', cleanup: 'done' },
      { branch: 'pay', cleanup: 'done' },
    ]);
    expect((await rows('order_notes', 'race-5')).map((n) => n.remark)).toEqual([
      expect.stringContaining('shipping cancelled'),
      expect.stringContaining('payment cancelled'),
    ]);
    const history = await events('race-5');
    expect(history.filter((e) => e.timerCanceledEventAttributes)).toHaveLength(2);
    expect(history.filter((e) => e.timerFiredEventAttributes)).toHaveLength(0);
  });
});

const LOOP = `templates:
  line_note: { text: "line {{ line.id }} refunded {{ line.paid.amount }}" }
steps:
  - id: each_line
    for_each:
      in: data.lines
      as: line
      max: MAX
      concurrency: CONCURRENCY
      collect: line.paid.amount
      steps:
        BODY
  - id: total
    set: { count: "steps.each_line.results.size()" }
  - id: done
    end: { outcome: resolved, reason: refunded }
`;

const REFUND_BODY = `- id: refund_line
          refund: { amount: line.paid.amount, reason: returned_line, within: 7d, from: case.opened, on_breach: refund_late, on_declined: refund_late }
        - id: noted
          remark: { text: "{{ line.id }} refunded" }
          next: line_done
        - id: refund_late
          remark: { text: "{{ line.id }} late or declined" }
        - id: line_done
          remark: { text: "{{ line.id }} done" }`;

const lines = (n: number, paid = 100) => Array.from({ length: n }, (_, i) => ({ id: `L${i + 1}`, paid: { amount: paid, currency: 'CNY' } }));

describe('for_each', () => {
  it('one after another: each line refunded once under its item key, results collected in order', async () => {
    const plan = compile('loop-seq', LOOP.replace('MAX', '10').replace('CONCURRENCY', '1').replace('BODY', REFUND_BODY));
    await openSmallCase(runtime.service, runtime.db.pool, plan, 'loop-1', { paid: { amount: 600, currency: 'CNY' }, lines: lines(3, 200) });
    const outcome = await result('loop-1');
    expect(outcome).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    expect((await rows('refunds', 'loop-1')).map((r) => [r.amount, r.idempotency_key])).toEqual([
      [200, 'loop-1/refund_line@0/1'],
      [200, 'loop-1/refund_line@1/1'],
      [200, 'loop-1/refund_line@2/1'],
    ]);
    expect(records(outcome, 'iteration').map((r) => r.detail)).toEqual([
      { index: 0, item: { id: 'L1', paid: { amount: 200, currency: 'CNY' } } },
      { index: 1, item: { id: 'L2', paid: { amount: 200, currency: 'CNY' } } },
      { index: 2, item: { id: 'L3', paid: { amount: 200, currency: 'CNY' } } },
    ]);
    expect(outcome.steps.find((s) => s.step === 'each_line' && s.detail?.done !== undefined)?.detail).toEqual({
      done: 3,
      results: [200, 200, 200],
      goto: 'total',
    });
    // Body steps record their iteration; later steps read the results.
    expect(outcome.steps.filter((s) => s.step === 'refund_line').map((s) => s.detail?.iteration)).toEqual(['0', '1', '2']);
    expect(outcome.steps.find((s) => s.step === 'total')?.detail).toEqual({ set: { count: 3 } });
    await recordHistory(handle('loop-1'), 'blocks-for-each');
  });

  it('several at once, at most `concurrency`: four one-hour items two at a time take two hours', async () => {
    const body = `- id: pause
          delay: 1h
        - id: noted
          remark: { text: "{{ line.id }} done" }`;
    const plan = compile('loop-conc', LOOP.replace('MAX', '10').replace('CONCURRENCY', '2').replace('BODY', body));
    await openSmallCase(runtime.service, runtime.db.pool, plan, 'loop-2', { lines: lines(4) });
    const outcome = await result('loop-2');
    const starts = records(outcome, 'iteration').map((r) => Date.parse(r.at));
    expect(starts[1]! - starts[0]!).toBe(0);
    // The third and fourth items start when the first two are done, an hour on (and the moment their last step took).
    for (const start of [starts[2]!, starts[3]!]) {
      expect(start - starts[0]!).toBeGreaterThanOrEqual(HOUR);
      expect(start - starts[0]!).toBeLessThan(HOUR + 60_000);
    }
    const delays = outcome.steps.filter((s) => s.step === 'pause');
    expect(delays).toHaveLength(4);
    expect(Date.parse(delays.at(-1)!.at) - starts[0]!).toBeGreaterThanOrEqual(2 * HOUR);
    expect(Date.parse(delays.at(-1)!.at) - starts[0]!).toBeLessThan(2 * HOUR + 60_000);
  });

  it('a list longer than max fails the step: the case waits for repair, escalated', async () => {
    const plan = compile('loop-long', LOOP.replace('MAX', '2').replace('CONCURRENCY', '1').replace('BODY', REFUND_BODY));
    await openSmallCase(runtime.service, runtime.db.pool, plan, 'loop-3', { paid: { amount: 600, currency: 'CNY' }, lines: lines(3, 200) });
    await expect.poll(async () => (await runtime.service.describe('loop-3'))?.status, { timeout: 10_000 }).toBe('failed');
    const view = await runtime.service.describe('loop-3');
    expect(view?.step).toBe('each_line');
    expect((await rows('escalations', 'loop-3'))[0]).toMatchObject({
      reason: 'case_failed',
      note: expect.stringContaining('holds 3 items; the loop runs at most 2'),
    });
    expect(await rows('refunds', 'loop-3')).toEqual([]);
  });

  it('500 lines with a refund body: every line refunded once; the history stays small (measured)', async () => {
    const plan = compile('loop-500', LOOP.replace('MAX', '500').replace('CONCURRENCY', '10').replace('BODY', REFUND_BODY));
    await openSmallCase(runtime.service, runtime.db.pool, plan, 'loop-500', { paid: { amount: 50_000, currency: 'CNY' }, lines: lines(500, 100) });
    const outcome = await result('loop-500');
    expect(outcome).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    const refunds = await rows('refunds', 'loop-500');
    expect(refunds).toHaveLength(500);
    expect(new Set(refunds.map((r) => r.idempotency_key)).size).toBe(500);
    const history = await handle('loop-500').fetchHistory();
    const bytes = temporal.api.history.v1.History.encode(temporal.api.history.v1.History.fromObject(history)).finish().length;
    const count = history.events?.length ?? 0;
    console.log(`500-line for_each (refund + remark per line, 10 at once): ${count} history events, ${bytes} bytes`);
    // Temporal's limits: 51,200 events and 50 MB; warned from 10,240 events and 10 MB.
    expect(count).toBeLessThan(10_240);
    expect(bytes).toBeLessThan(10 * 1024 * 1024);
  }, 300_000);

  it('a failing step in an item waits for repair in its strand while the other items go on; a retry runs it again there, a close ends the case', async () => {
    const body = `- id: check_line
          branch: { cases: [{ when: "100 / line.paid.amount > 0", goto: line_ok }], otherwise: line_ok }
        - id: line_ok
          remark: { text: "{{ line.id }} ok" }`;
    const plan = compile('loop-fails', LOOP.replace('MAX', '10').replace('CONCURRENCY', '2').replace('BODY', body));
    const data = { lines: [...lines(1), { id: 'L2', paid: { amount: 0, currency: 'CNY' } }, ...lines(3).slice(2)] };
    await openSmallCase(runtime.service, runtime.db.pool, plan, 'loop-4', data);
    const notes = async () => (await rows('order_notes', 'loop-4')).map((n) => n.remark as string);
    await expect.poll(notes, { timeout: 10_000 }).toEqual([expect.stringContaining('L1 ok'), expect.stringContaining('L3 ok')]);
    await expect.poll(async () => (await runtime.service.describe('loop-4'))?.status, { timeout: 10_000 }).toBe('failed');
    expect((await runtime.service.describe('loop-4'))?.step).toBe('each_line');
    expect((await rows('escalations', 'loop-4'))[0]).toMatchObject({ reason: 'case_failed', note: expect.stringContaining("'100 / line.paid.amount > 0'") });
    expect((await repair('loop-4', 'retry')).statusCode).toBe(200);
    await expect.poll(async () => (await rows('escalations', 'loop-4')).length, { timeout: 10_000 }).toBe(2);
    expect((await repair('loop-4', 'close')).statusCode).toBe(200);
    const outcome = await result('loop-4');
    expect(outcome).toMatchObject({ outcome: 'failed', reason: 'close by test' });
    expect(records(outcome, 'failed').map((r) => [r.step, r.detail?.iteration])).toEqual([
      ['check_line', '1'],
      ['check_line', '1'],
    ]);
    expect(records(outcome, 'repair').map((r) => r.detail?.repair)).toEqual(['retry', 'close']);
  });

  it('two items failed at once: a repair names the one it repairs (step and iteration), one naming none is refused with the list', async () => {
    const body = `- id: check_line
          branch: { cases: [{ when: "100 / line.paid.amount > 0", goto: line_ok }], otherwise: line_ok }
        - id: line_ok
          remark: { text: "{{ line.id }} ok" }`;
    const plan = compile('loop-fails-two', LOOP.replace('MAX', '10').replace('CONCURRENCY', '2').replace('BODY', body));
    const free = { amount: 0, currency: 'CNY' };
    await openSmallCase(runtime.service, runtime.db.pool, plan, 'loop-7', {
      lines: [
        { id: 'L1', paid: free },
        { id: 'L2', paid: free },
      ],
    });
    const escalations = async () => (await rows('escalations', 'loop-7')).length;
    await expect.poll(escalations, { timeout: 10_000 }).toBe(2);
    // Each failure is escalated apart (both at once, in either order), its note naming the iteration a repair names.
    expect((await rows('escalations', 'loop-7')).map((e) => String(e.note).slice(0, 12)).sort()).toEqual(['iteration 0:', 'iteration 1:']);
    const unclear = await repair('loop-7', 'retry');
    expect(unclear.statusCode).toBe(409);
    expect(unclear.json()).toMatchObject({
      type: 'https://casebook.dev/problems/repair-target-unclear',
      failed: [
        { step: 'check_line', iteration: '0' },
        { step: 'check_line', iteration: '1' },
      ],
    });
    expect((await repair('loop-7', 'retry', { step: 'line_ok' })).statusCode).toBe(409);
    expect((await repair('loop-7', 'retry', { iteration: '1' })).json()).toMatchObject({ errors: [{ pointer: '/iteration' }] });
    // The retry goes to item 1, whatever failed first; item 1 fails again and waits beside item 0.
    const retried = await repair('loop-7', 'retry', { step: 'check_line', iteration: '1' });
    expect(retried.json()).toEqual({ status: 'failed', step: 'check_line', iteration: '1' });
    await expect.poll(escalations, { timeout: 10_000 }).toBe(3);
    expect((await repair('loop-7', 'close', { step: 'check_line', iteration: '0' })).json()).toEqual({ status: 'failed', step: 'check_line', iteration: '0' });
    const outcome = await result('loop-7');
    expect(outcome).toMatchObject({ outcome: 'failed', reason: 'close by test' });
    expect(records(outcome, 'repair').map((r) => [r.detail?.repair, r.detail?.iteration])).toEqual([
      ['retry', '1'],
      ['close', '0'],
    ]);
  });

  it("a task in items open at once: completing one item's task moves that item, not the one that began waiting first", async () => {
    const body = `- id: check_line
          task: { role: agent, title: Check the line, sla: 1d, outcomes: { ok: line_ok, bad: line_bad }, on_sla_breach: line_bad }
        - id: line_ok
          remark: { text: "{{ line.id }} ok" }
          next: line_done
        - id: line_bad
          remark: { text: "{{ line.id }} bad" }
        - id: line_done
          remark: { text: "{{ line.id }} done" }`;
    const plan = compile('loop-tasks', LOOP.replace('MAX', '10').replace('CONCURRENCY', '2').replace('BODY', body));
    await openSmallCase(runtime.service, runtime.db.pool, plan, 'loop-8', { lines: lines(2) });
    const tasks = async () => rows('tasks', 'loop-8');
    await expect.poll(async () => (await tasks()).length, { timeout: 10_000 }).toBe(2);
    const second = (await tasks()).find((t) => String(t.idempotency_key).includes('@1/'))!;
    const first = (await tasks()).find((t) => String(t.idempotency_key).includes('@0/'))!;
    const by = { keyId: 'testkey00001', name: 'Agent in test' };
    const deps = { pool: runtime.db.pool, inbox: runtime.inbox, cases: runtime.service };
    expect(await completeTask(deps, { taskId: Number(second.id), outcome: 'bad', by })).toMatchObject({ kind: 'completed', status: 'accepted' });
    await expect
      .poll(async () => (await rows('order_notes', 'loop-8')).map((n) => n.remark as string), { timeout: 10_000 })
      .toEqual([expect.stringContaining('L2 bad'), expect.stringContaining('L2 done')]);
    // The two items open their tasks at once, in either order: compared by key.
    const byKey = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0]));
    expect((await tasks()).map((t) => [t.idempotency_key, t.status, t.outcome]).sort(byKey)).toEqual([
      [first.idempotency_key, 'open', null],
      [second.idempotency_key, 'done', 'bad'],
    ]);
    expect(await completeTask(deps, { taskId: Number(first.id), outcome: 'ok', by })).toMatchObject({ kind: 'completed', status: 'accepted' });
    const outcome = await result('loop-8');
    expect(outcome.steps.filter((s) => s.step === 'check_line').map((s) => [s.detail?.iteration, s.detail?.outcome, s.detail?.eventId])).toEqual([
      ['1', 'bad', `task-${second.id}-completed`],
      ['0', 'ok', `task-${first.id}-completed`],
    ]);
  });

  it('items waiting at once: an event goes to the first waiting item whose wait takes it, a `where` reading the item picks its own', async () => {
    const plan = compile(
      'loop-waits',
      `events:
  line.checked: { payload: { line: { type: string } } }
  any.checked: { payload: {} }
${LOOP.replace('MAX', '10')
  .replace('CONCURRENCY', '3')
  .replace(
    'BODY',
    `- id: wait_check
          wait: { events: [{ event: line.checked, where: event.line == line.id }], timeout: 1d, on_timeout: unchecked }
        - id: wait_any
          wait: { events: [{ event: any.checked }], timeout: 1d, on_timeout: unchecked }
        - id: checked
          remark: { text: "{{ line.id }} checked" }
          next: line_done
        - id: unchecked
          remark: { text: "{{ line.id }} unchecked" }
        - id: line_done
          remark: { text: "{{ line.id }} done" }`,
  )}`,
    );
    await openSmallCase(runtime.service, runtime.db.pool, plan, 'loop-5', { lines: lines(3) });
    const view = () => runtime.service.describe('loop-5');
    await expect.poll(async () => (await view())?.status, { timeout: 10_000 }).toBe('waiting');
    expect((await view())?.waitingFor).toEqual(['line.checked']);
    for (const line of ['L3', 'L1', 'L2']) await runtime.inbox.deliverEvent('loop-5', { type: 'line.checked', id: `c-${line}`, payload: { line } });
    await expect.poll(async () => (await view())?.waitingFor, { timeout: 10_000 }).toEqual(['any.checked']);
    // Three events of one type, no condition: each goes to the item that began waiting first (item 2 was checked first).
    for (const n of [1, 2, 3]) await runtime.inbox.deliverEvent('loop-5', { type: 'any.checked', id: `a-${n}`, payload: {} });
    const outcome = await result('loop-5');
    const taken = outcome.steps.filter((s) => s.kind === 'wait').map((s) => [s.step, s.detail?.iteration, s.detail?.eventId]);
    expect(taken).toEqual([
      ['wait_check', '2', 'c-L3'],
      ['wait_check', '0', 'c-L1'],
      ['wait_check', '1', 'c-L2'],
      ['wait_any', '2', 'a-1'],
      ['wait_any', '0', 'a-2'],
      ['wait_any', '1', 'a-3'],
    ]);
  });

  it('nests a race in each item (its branch steps keyed by the item) and an end in an item ends the case, the rest never run', async () => {
    const body = `- id: race_line
          parallel:
            join: any
            branches:
              - id: checked
                steps:
                  - id: wait_line
                    wait: { events: [{ event: line.checked, where: event.line == line.id }], timeout: 1d, on_timeout: not_checked }
                  - id: not_checked
                    remark: { text: "{{ line.id }} wait over" }
              - id: timer
                steps:
                  - id: pause_line
                    delay: 1h
        - id: stop_at_two
          branch: { cases: [{ when: line.id == "L2", goto: stop }], otherwise: line_done }
        - id: stop
          end: { outcome: resolved, reason: stopped_at_two }
        - id: line_done
          remark: { text: "{{ line.id }} done" }`;
    const plan = compile(
      'loop-nested',
      `events:\n  line.checked: { payload: { line: { type: string } } }\n${LOOP.replace('MAX', '10').replace('CONCURRENCY', '1').replace('BODY', body)}`,
    );
    await openSmallCase(runtime.service, runtime.db.pool, plan, 'loop-6', { lines: lines(3) });
    const outcome = await result('loop-6');
    expect(outcome).toMatchObject({ outcome: 'resolved', reason: 'stopped_at_two' });
    expect(records(outcome, 'iteration').map((r) => r.detail?.index)).toEqual([0, 1]);
    expect(records(outcome, 'branch-end').map((r) => [r.detail?.branch, r.detail?.done ?? r.detail?.cancelled, r.detail?.iteration])).toEqual([
      ['timer', true, '0'],
      ['checked', true, '0'],
      ['timer', true, '1'],
      ['checked', true, '1'],
    ]);
    expect(outcome.steps.filter((s) => s.step === 'pause_line').map((s) => s.detail?.iteration)).toEqual(['0', '1']);
    expect((await rows('order_notes', 'loop-6')).map((n) => n.remark)).toEqual([expect.stringContaining('L1 done')]);
    const history = await events('loop-6');
    // Each item's one-day wait is cancelled when its hour is up.
    expect(history.filter((e) => e.timerCanceledEventAttributes)).toHaveLength(2);
  });
});
