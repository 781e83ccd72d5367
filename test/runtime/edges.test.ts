/**
 * Deadlines, refusals and concurrency on the time-skipping server: a refund declined by the provider,
 * a refund deadline already passed, quiet hours, 100 duplicate receipts, concurrent early events.
 */
import { describe, expect, it } from 'vitest';
import type { HashedPlan } from '../../src/plan/plan.js';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import { useRuntime } from '../support/runtime.js';
import { compileSmallPlaybook, openSmallCase } from '../support/small-playbooks.js';
import { caseRecords } from '../support/records.js';

const runtime = useRuntime();
const HOUR = 3_600_000;

async function run(compiled: HashedPlan, caseId: string, paid = 10_000) {
  await openSmallCase(runtime.service, runtime.db.pool, compiled, caseId, { paid: { amount: paid, currency: 'CNY' } });
}

const result = async (caseId: string): Promise<CaseResult> => ({
  ...((await runtime.env.client.workflow.getHandle(workflowIdFor(caseId)).result()) as CaseResult),
  steps: await caseRecords(runtime.db.pool, caseId),
});
const rows = async (table: string, caseId: string) => (await runtime.db.pool.query(`SELECT * FROM ${table} WHERE case_id = $1 ORDER BY id`, [caseId])).rows;

const REFUND = `events:
  warehouse.received: { early: true, payload: {} }
policy:
  refund_sla: 24h
steps:
  - id: wait_receipt
    wait: { events: [{ event: warehouse.received }], timeout: 10d, on_timeout: late }
  - id: pause
    delay: PAUSE
  - id: refund
    refund: { amount: AMOUNT, reason: test, within: policy.refund_sla, from: warehouse.received, on_breach: paid_late, on_declined: declined }
  - id: done
    end: { outcome: resolved, reason: refunded }
  - id: paid_late
    end: { outcome: resolved, reason: refunded_late }
  - id: late
    escalate: { queue: finance, severity: critical, reason: refund_sla_breached }
  - id: end_late
    end: { outcome: escalated, reason: refund_sla_breached }
  - id: declined
    escalate: { queue: finance, severity: high, reason: refund_declined }
  - id: end_declined
    end: { outcome: escalated, reason: refund_declined }
`;

describe('refund deadlines and refusals', () => {
  it('a refund the provider declines (more than was paid) is not retried: the case escalates', async () => {
    const compiled = compileSmallPlaybook('declines', REFUND.replace('PAUSE', '1m').replace('AMOUNT', 'data.paid.amount + 1'));
    await run(compiled, 'declined-1');
    await runtime.inbox.deliverEvent('declined-1', { type: 'warehouse.received', id: 'w', payload: {} });
    expect(await result('declined-1')).toMatchObject({ outcome: 'escalated', reason: 'refund_declined' });
    expect((await rows('refunds', 'declined-1')).map((r) => [r.amount, r.status])).toEqual([[10_001, 'declined']]);
    expect((await rows('escalations', 'declined-1'))[0]).toMatchObject({ reason: 'refund_declined' });
  });

  it('a refund whose 24-hour deadline has passed is still paid, once: the breach is recorded and escalated first', async () => {
    const compiled = compileSmallPlaybook('breaches', REFUND.replace('PAUSE', '25h').replace('AMOUNT', 'data.paid.amount'));
    await run(compiled, 'breach-1');
    await runtime.inbox.deliverEvent('breach-1', { type: 'warehouse.received', id: 'w', payload: {} });
    const outcome = await result('breach-1');
    expect(outcome).toMatchObject({ outcome: 'resolved', reason: 'refunded_late' });
    const [breach, paid] = outcome.steps.filter((s) => s.step === 'refund');
    const received = outcome.steps.find((s) => s.step === 'wait_receipt')!;
    expect(Date.parse(breach!.detail!.breach as string) - Date.parse(received.at)).toBeLessThanOrEqual(24 * HOUR);
    expect(paid!.detail).toMatchObject({ amount: 10_000, late: true, goto: 'paid_late' });
    const refunds = await rows('refunds', 'breach-1');
    expect(refunds.map((r) => [r.amount, r.status, r.idempotency_key])).toEqual([[10_000, 'issued', 'breach-1/refund/1']]);
    expect(refunds[0].late_at).toBeInstanceOf(Date);
    expect(await rows('escalations', 'breach-1')).toMatchObject([{ queue: 'finance', severity: 'critical', reason: 'refund_sla_breached' }]);
  });

  it('100 deliveries of the same receipt, at once: one accepted, one refund', async () => {
    const compiled = compileSmallPlaybook('dupes', REFUND.replace('PAUSE', '1m').replace('AMOUNT', 'data.paid.amount'));
    await run(compiled, 'dupes-1');
    const statuses = await Promise.all(
      Array.from({ length: 100 }, () => runtime.inbox.deliverEvent('dupes-1', { type: 'warehouse.received', id: 'same-receipt', payload: {} })),
    );
    expect(statuses.filter((s) => s.status === 'accepted')).toHaveLength(1);
    expect(statuses.filter((s) => s.status === 'duplicate')).toHaveLength(99);
    expect(await result('dupes-1')).toMatchObject({ outcome: 'resolved' });
    expect((await rows('refunds', 'dupes-1')).map((r) => [r.amount, r.idempotency_key])).toEqual([[10_000, 'dupes-1/refund/1']]);
  });
});

describe('events and time', () => {
  it('concurrent early events are all kept and taken in the order the playbook waits for them', async () => {
    const compiled = compileSmallPlaybook(
      'sequence',
      `events:
  step.one: { early: true, payload: { n: { type: integer } } }
  step.two: { early: true, payload: { n: { type: integer } } }
  step.three: { early: true, payload: { n: { type: integer } } }
templates:
  summary: { channel: chat, text: "{{ events.step.one.n }} {{ events.step.two.n }} {{ events.step.three.n }}" }
steps:
  - id: first
    wait: { events: [{ event: step.one }], timeout: 1d, on_timeout: lost }
  - id: second
    wait: { events: [{ event: step.two }], timeout: 1d, on_timeout: lost }
  - id: third
    wait: { events: [{ event: step.three }], timeout: 1d, on_timeout: lost }
  - id: tell
    send: { to: agent, template: summary }
  - id: done
    end: { outcome: resolved, reason: all_events }
  - id: lost
    end: { outcome: expired, reason: event_lost }
`,
    );
    await run(compiled, 'seq-1');
    const statuses = await Promise.all(
      ['three', 'one', 'two'].map((name, i) => runtime.inbox.deliverEvent('seq-1', { type: `step.${name}`, id: `e-${name}`, payload: { n: i } })),
    );
    expect(statuses.map((s) => s.status)).toEqual(['accepted', 'accepted', 'accepted']);
    const outcome = await result('seq-1');
    expect(outcome).toMatchObject({ outcome: 'resolved', reason: 'all_events' });
    expect(outcome.steps.filter((s) => s.kind === 'wait').map((s) => s.detail!.event)).toEqual(['step.one', 'step.two', 'step.three']);
    // Each payload reached its own wait: three was sent first (n 0), then one (n 1), then two (n 2).
    expect((await rows('outbox_messages', 'seq-1')).map((m) => [m.recipient_kind, m.body])).toEqual([['agent', '1 2 0']]);
    expect((await runtime.db.pool.query(`SELECT event_id FROM case_events WHERE case_id = 'seq-1' ORDER BY event_id`)).rows.map((e) => e.event_id)).toEqual([
      'e-one',
      'e-three',
      'e-two',
    ]);
  });

  it('an SMS to the buyer during quiet hours is held until they end', async () => {
    const start = new Date(await runtime.env.currentTimeMs());
    const hh = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;
    const quiet = `quiet_hours: { start: "${hh(start.getUTCHours())}", end: "${hh(start.getUTCHours() + 2)}" }\n`;
    const compiled = compileSmallPlaybook(
      'quiet',
      `templates:
  note: { text: "Order {{ data.order_id }}" }
steps:
  - id: tell
    send: { to: buyer, template: note, channel: sms }
  - id: done
    end: { outcome: resolved, reason: told }
`,
      quiet,
    );
    await run(compiled, 'quiet-1');
    const outcome = await result('quiet-1');
    const sent = outcome.steps.find((s) => s.step === 'tell')!;
    const quietEnd = new Date(start);
    quietEnd.setUTCHours(start.getUTCHours() + 2, 0, 0, 0);
    expect(Date.parse(sent.at)).toBeGreaterThanOrEqual(quietEnd.getTime());
    expect(Date.parse(sent.at) - quietEnd.getTime()).toBeLessThan(60_000);
    expect((await rows('outbox_messages', 'quiet-1'))[0]).toMatchObject({ channel: 'sms', body: 'Order quiet-1', status: 'sent' });
  });
});
