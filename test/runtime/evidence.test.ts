/**
 * Evidence on the time-skipping server: each decision's audit row says what it was decided on, in
 * business terms (issue 12). The expected values are computed here from the instants the rows record.
 */
import { describe, expect, it } from 'vitest';
import { deliverEventUpdate } from '../../src/case-contract/messages.js';
import { workflowIdFor, type CaseEvent, type CaseResult } from '../../src/plan/case.js';
import { readableDuration } from '../../src/plan/evidence.js';
import { validatePlaybook } from '../../src/playbook/index.js';
import { useRuntime } from '../support/runtime.js';
import { openSmallCase } from '../support/small-playbooks.js';

const runtime = useRuntime();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const SOURCE = `playbook: evidence
case_type: return
currency: CNY
timezone: Asia/Shanghai
fields:
  paid: { type: money }
  order_id: { type: string }
  signed_at: { type: timestamp, required: false }
paid_field: paid
order_id_field: order_id
events:
  warehouse.received:
    payload:
      condition: { type: string }
policy:
  window: 7d
  restocking_fee: { amount: 500, currency: CNY }
steps:
  - id: wait_receipt
    wait: { events: [{ event: warehouse.received }], timeout: 2h, on_timeout: timed_out }
  - id: review
    task: { role: after-sale-agent, title: Check the parcel, sla: 4h, outcomes: { approve: check_window, reject: rejected }, on_sla_breach: rejected }
  - id: check_window
    branch:
      cases:
        - when: now - data.signed_at <= policy.window && events.warehouse.received.condition == "resellable"
          goto: refund
      otherwise: rejected
  - id: refund
    refund: { amount: data.paid.amount - policy.restocking_fee.amount, reason: test, within: 24h, from: warehouse.received, on_breach: paid_late, on_declined: rejected }
  - id: done
    end: { outcome: resolved, reason: refunded }
  - id: timed_out
    branch:
      cases:
        - when: has(data.signed_at) && now - data.signed_at > duration("720h")
          goto: rejected
      otherwise: late_refund
  - id: late_refund
    refund: { amount: data.paid.amount, reason: test, within: 1h, from: case.opened, on_breach: paid_late, on_declined: rejected }
  - id: done_on_time
    end: { outcome: resolved, reason: refunded }
  - id: paid_late
    end: { outcome: resolved, reason: refunded_late }
  - id: rejected
    end: { outcome: refused, reason: rejected }
`;

function compile() {
  const result = validatePlaybook(SOURCE, 'evidence.yaml');
  if (!result.plan) throw new Error(JSON.stringify(result.diagnostics));
  return result.plan;
}

interface AuditRow {
  seq: number;
  at: Date;
  kind: string;
  step_id: string;
  detail: Record<string, unknown>;
}

const audit = async (caseId: string): Promise<AuditRow[]> =>
  (await runtime.db.pool.query(`SELECT seq, at, kind, step_id, detail FROM audit_trail WHERE case_id = $1 ORDER BY seq`, [caseId])).rows;
const rowOf = (rows: AuditRow[], step: string, kind?: string) => rows.filter((r) => r.step_id === step && (kind === undefined || r.kind === kind));
const result = (caseId: string) => runtime.env.client.workflow.getHandle(workflowIdFor(caseId)).result() as Promise<CaseResult>;

/** Delivered straight to the workflow, as the API does, with the actor who sent it. */
async function deliverWhenAwaited(caseId: string, event: CaseEvent) {
  await expect.poll(async () => (await runtime.service.describe(caseId))?.waitingFor ?? [], { timeout: 10_000 }).toContain(event.type);
  const handle = runtime.env.client.workflow.getHandle(workflowIdFor(caseId));
  expect(await handle.executeUpdate(deliverEventUpdate, { args: [event] })).toEqual({ status: 'accepted' });
}

/** ISO text of an instant in Shanghai (UTC+8, no daylight saving), written out independently of the code under test. */
const shanghai = (ms: number) =>
  new Date(ms + 8 * HOUR)
    .toISOString()
    .replace(/\.000Z$/, 'Z')
    .replace(/Z$/, '+08:00');
const iso = (ms: number) => new Date(ms).toISOString();

describe('evidence in the audit trail', () => {
  it('an event, a task, a window branch and a refund on time: each row carries what it was decided on', async () => {
    const signedAt = Math.floor((await runtime.env.currentTimeMs()) / HOUR) * HOUR - 2 * DAY;
    await openSmallCase(runtime.service, runtime.db.pool, compile(), 'ev-1', { paid: { amount: 10_000, currency: 'CNY' }, signed_at: iso(signedAt) });
    await deliverWhenAwaited('ev-1', {
      type: 'warehouse.received',
      id: 'w1',
      payload: { condition: 'resellable' },
      by: { keyId: 'k-wh', name: 'warehouse-bot' },
    });
    await deliverWhenAwaited('ev-1', {
      type: 'task.completed',
      id: 't1',
      payload: { task: 'review', outcome: 'approve' },
      by: { keyId: 'k-mei', name: 'Mei' },
    });
    expect(await result('ev-1')).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    const rows = await audit('ev-1');

    const [wait] = rowOf(rows, 'wait_receipt');
    const arrived = Date.parse(wait!.detail.arrived as string);
    expect(wait!.detail).toEqual({
      since: wait!.detail.since,
      event: 'warehouse.received',
      eventId: 'w1',
      goto: 'review',
      arrived: iso(arrived),
      payload: { condition: 'resellable' },
      by: { keyId: 'k-wh', name: 'warehouse-bot' },
      waited: readableDuration(wait!.at.getTime() - Date.parse(wait!.detail.since as string)),
    });

    // The task opened when the receipt was taken: due four hours later, done well within.
    const [task] = rowOf(rows, 'review');
    const slaDue = wait!.at.getTime() + 4 * HOUR;
    expect(task!.detail).toEqual({
      outcome: 'approve',
      eventId: 't1',
      goto: 'check_window',
      by: { keyId: 'k-mei', name: 'Mei' },
      role: 'after-sale-agent',
      slaDue: iso(slaDue),
      sla: 'met',
      margin: readableDuration(slaDue - task!.at.getTime()),
    });
    expect(task!.detail.margin).toMatch(/^3h 59m/);

    const [branch] = rowOf(rows, 'check_window');
    const decidedAt = branch!.at.getTime();
    expect(branch!.detail).toEqual({
      case: 0,
      when: 'now - data.signed_at <= policy.window && events.warehouse.received.condition == "resellable"',
      goto: 'refund',
      values: {
        'now - data.signed_at': readableDuration(decidedAt - signedAt),
        'policy.window': '7d',
        'events.warehouse.received.condition': 'resellable',
        now: shanghai(decidedAt),
        'data.signed_at': shanghai(signedAt),
      },
    });
    expect((branch!.detail.values as Record<string, string>)['data.signed_at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:00:00\+08:00$/);
    expect((branch!.detail.values as Record<string, string>)['now - data.signed_at']).toMatch(/^2d( |$)/);

    const [refund] = rowOf(rows, 'refund');
    const deadline = arrived + 24 * HOUR;
    expect(refund!.detail).toEqual({
      amountFrom: { 'data.paid.amount': '10000', 'policy.restocking_fee.amount': '500' },
      money: '95.00 CNY',
      currency: 'CNY',
      amount: 9_500,
      deadline: iso(deadline),
      deadlineFrom: 'warehouse.received',
      within: '1d',
      met: true,
      margin: readableDuration(deadline - refund!.at.getTime()),
      refundId: expect.any(Number),
      providerReference: expect.any(String),
    });
    expect(refund!.detail.margin).toMatch(/^23h 59m/);
  });

  it('a timeout, an otherwise and a late refund: the instants and by how much it was late', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, compile(), 'ev-2', { paid: { amount: 10_000, currency: 'CNY' } });
    expect(await result('ev-2')).toMatchObject({ outcome: 'resolved', reason: 'refunded_late' });
    const rows = await audit('ev-2');

    const [wait] = rowOf(rows, 'wait_receipt');
    const since = Date.parse(wait!.detail.since as string);
    expect(wait!.detail).toEqual({ since: iso(since), timeout: iso(since + 2 * HOUR), goto: 'timed_out', waited: '2h', reminders: 0 });

    const [branch] = rowOf(rows, 'timed_out');
    const decidedAt = branch!.at.getTime();
    expect(branch!.detail).toEqual({
      otherwise: 'late_refund',
      notTaken: ['has(data.signed_at) && now - data.signed_at > duration("720h")'],
      // An operand that cannot be evaluated shows why; a field path that is not set shows 'absent'.
      values: { 'now - data.signed_at': 'error: No such key: signed_at', 'duration("720h")': '30d', 'data.signed_at': 'absent', now: shanghai(decidedAt) },
    });

    // The case opened when the wait began: the refund was due an hour later, and paid an hour after that.
    const [breach, paid] = rowOf(rows, 'late_refund');
    const deadline = since + HOUR;
    const evidence = {
      amountFrom: { 'data.paid.amount': '10000' },
      money: '100.00 CNY',
      currency: 'CNY',
      deadline: iso(deadline),
      deadlineFrom: 'case.opened',
      within: '1h',
      met: false,
    };
    expect(breach!.detail).toEqual({
      ...evidence,
      lateBy: readableDuration(breach!.at.getTime() - deadline),
      breach: iso(deadline),
      amount: 10_000,
      escalationId: expect.any(Number),
      late: true,
    });
    expect(paid!.detail).toEqual({
      ...evidence,
      lateBy: readableDuration(paid!.at.getTime() - deadline),
      amount: 10_000,
      refundId: expect.any(Number),
      providerReference: expect.any(String),
      late: true,
      goto: 'paid_late',
    });
    expect(paid!.detail.lateBy).toMatch(/^1h/);
  });
});
