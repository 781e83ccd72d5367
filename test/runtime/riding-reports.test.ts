/**
 * History shape 5: a message, order note or escalation carries the progress report of the wait or end
 * the case reaches next, so the standard quality return writes no progress marker of its own, and the
 * projection and the audit trail still say what the case did, every record once and in order.
 */
import { Context } from '@temporalio/activity';
import { temporal } from '@temporalio/proto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { caseViewQuery } from '../../src/case-contract/messages.js';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import { HISTORIES } from '../support/histories.js';
import { openCase, publishStandardPlaybook, recordAdvance } from '../support/playbooks.js';
import { channelThrough, useRuntime } from '../support/runtime.js';
import { compileSmallPlaybook, openSmallCase } from '../support/small-playbooks.js';

const DAY = 86_400_000;
const CHANNEL_DOWN_IN_TASK = 'ride-channel-down';
/** Whether any message reached the channel with the report it carried (it must not). */
const reportsSeenByChannel: boolean[] = [];

const SLOW_NOTE = 'ride-slow-note';

const runtime = useRuntime(
  async ({ db }) => {
    await publishStandardPlaybook(db.pool, 'return');
  },
  {
    wrap: (adapters) => {
      const channel = channelThrough(async (message, next) => {
        reportsSeenByChannel.push('rides' in message);
        if (message.caseId === CHANNEL_DOWN_IN_TASK && Context.current().info.isLocal) throw new Error('chat gateway unavailable (scripted)');
        return next(message);
      })(adapters);
      // The shop's order system answers this case's note after three seconds: the case's clock moves on meanwhile.
      const writeNote: typeof adapters.orders.writeNote = async (request, attempt) => {
        if (request.caseId === SLOW_NOTE) await new Promise((resolve) => setTimeout(resolve, 3_000));
        return adapters.orders.writeNote(request, attempt);
      };
      return { ...channel, orders: { ...adapters.orders, writeNote } };
    },
  },
);

const { EventType } = temporal.api.enums.v1;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The local activities of a history, by type, in order, and its workflow tasks and activities. */
function costOf(events: HistoryEvent[]) {
  return {
    workflowTasks: events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED).length,
    localActivities: events
      .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')
      .map((e) => {
        const data = e.markerRecordedEventAttributes!.details!.data!.payloads![0]!.data!;
        return (JSON.parse(new TextDecoder().decode(data)) as { activity_type: string }).activity_type;
      }),
    activities: events
      .filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
      .map((e) => e.activityTaskScheduledEventAttributes!.activityType!.name),
  };
}

const historyOf = async (caseId: string) => (await runtime.env.client.workflow.getHandle(workflowIdFor(caseId)).fetchHistory()).events!;

/** The case's result, with the records of its run as the workflow holds them (its view): the result carries none from shape 6 on. */
async function closed(caseId: string): Promise<CaseResult> {
  const handle = runtime.env.client.workflow.getHandle(workflowIdFor(caseId));
  const result = (await handle.result()) as CaseResult;
  return { ...result, steps: (await handle.query(caseViewQuery)).steps };
}

/** The case's audit trail as the workflow's step records: every record once, numbered from 1 in order. */
async function auditOf(caseId: string) {
  const { rows } = await runtime.db.pool.query(`SELECT seq, step_id, kind, at, detail FROM audit_trail WHERE case_id = $1 AND seq IS NOT NULL ORDER BY seq`, [
    caseId,
  ]);
  return rows.map((row: { seq: number; step_id: string; kind: string; at: Date; detail: Record<string, unknown> }) => ({
    seq: row.seq,
    record: { step: row.step_id, kind: row.kind, at: row.at.toISOString(), detail: row.detail },
  }));
}

const projectionOf = async (caseId: string) =>
  (await runtime.db.pool.query(`SELECT status, current_step, waiting_for, deadlines, outcome FROM cases WHERE case_id = $1`, [caseId])).rows[0];

/** Waits until the projection says the case waits for `type`. */
async function untilWaitingFor(caseId: string, type: string) {
  await expect.poll(async () => (await runtime.service.describe(caseId))?.waitingFor ?? [], { timeout: 10_000 }).toContain(type);
}

const ESCALATE_THEN_END = compileSmallPlaybook(
  'escalate-then-end',
  `steps:
  - id: raise
    escalate: { queue: after-sale-supervisor, severity: high, reason: parcel_not_received }
  - id: done
    end: { outcome: escalated, reason: parcel_not_received }
`,
);

const NOTIFY = compileSmallPlaybook(
  'ride-notify',
  `templates:
  hello: { channel: chat, text: "Hello {{ data.order_id }}" }
steps:
  - id: hello
    send: { to: buyer, template: hello }
  - id: done
    end: { outcome: resolved, reason: notified }
`,
);

/** A branch that reads the time: at the slow note's time it goes to wait_ping, three seconds later to wait_pong. */
const TIME_TURNS = compileSmallPlaybook(
  'ride-time-turns',
  `events:
  ping: { payload: {} }
  pong: { payload: {} }
steps:
  - id: note
    remark: { text: "noted" }
  - id: early
    branch:
      cases:
        - when: now < opened_at + policy.grace
          goto: wait_ping
      otherwise: wait_pong
  - id: wait_ping
    wait:
      events:
        - event: ping
          goto: done
      timeout: 1d
      on_timeout: done
  - id: wait_pong
    wait:
      events:
        - event: pong
          goto: done
      timeout: 1d
      on_timeout: done
  - id: done
    end: { outcome: resolved, reason: answered }
`,
  `policy:\n  grace: 1s\n`,
);

describe('progress reports riding on side effects', () => {
  it('a standard quality return writes no progress marker of its own: 3 workflow tasks and 7 local activities, not 10', async () => {
    const caseId = 'ride-return';
    await openCase(runtime.service, {
      caseId,
      playbook: 'return',
      version: 1,
      openedBy: 'Lei, after-sale',
      data: {
        order_id: 'RIDE-1',
        buyer_name: 'Li',
        order_total: { amount: 30_000, currency: 'CNY' },
        outbound_shipping: { amount: 1_000, currency: 'CNY' },
        shipped_free: true,
        signed_at: new Date((await runtime.env.currentTimeMs()) - 6 * DAY).toISOString(),
        reason: 'quality',
        advanced_return_shipping: { amount: 1_500, currency: 'CNY' },
        refund_account: 'alipay 138-0000-0001',
        shipping_insurance: false,
      },
    });
    await recordAdvance(runtime.db.pool, 'RIDE-1', 1_500);

    // The exchange offer carried the report of the wait for the answer: waiting there, its record audited.
    await untilWaitingFor(caseId, 'buyer.kept_return');
    // The report is written within the workflow task, before the task's markers reach the history.
    await expect.poll(async () => costOf(await historyOf(caseId)).localActivities, { timeout: 10_000 }).toEqual(['sendMessage']);
    expect(await projectionOf(caseId)).toMatchObject({
      status: 'waiting',
      current_step: 'wait_exchange_answer',
      waiting_for: ['buyer.kept_return', 'buyer.chose_exchange'],
    });
    expect((await projectionOf(caseId)).deadlines).toEqual([{ kind: 'timeout', step: 'wait_exchange_answer', at: expect.any(String) }]);
    expect((await auditOf(caseId)).map(({ seq, record }) => [seq, record.step, record.kind])).toEqual([
      [1, 'check_window', 'branch'],
      [2, 'offer_exchange', 'send'],
    ]);

    // The return address carried the report of the wait for the parcel, through the insurance branch.
    expect(await runtime.inbox.deliverEvent(caseId, { type: 'buyer.kept_return', id: 'k1', payload: {} })).toEqual({ status: 'accepted' });
    await untilWaitingFor(caseId, 'warehouse.received');
    expect(await projectionOf(caseId)).toMatchObject({ status: 'waiting', current_step: 'wait_shipment' });
    expect((await auditOf(caseId)).map(({ record }) => record.step).slice(2)).toEqual(['wait_exchange_answer', 'approve', 'send_address', 'check_insurance']);

    expect(await runtime.inbox.deliverEvent(caseId, { type: 'warehouse.received', id: 'w1', payload: { condition: 'damaged' } })).toEqual({
      status: 'accepted',
    });
    const result = await closed(caseId);
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'refunded' });

    const cost = costOf(await historyOf(caseId));
    expect(cost).toEqual({
      workflowTasks: 3,
      localActivities: ['sendMessage', 'writeOrderNote', 'sendMessage', 'issueRefund', 'writeOrderNote', 'issueRefund', 'sendMessage'],
      activities: [],
    });
    // The same path in history shape 4 (its golden history): the same effects and three progress reports more.
    const before = costOf(temporal.api.history.v1.History.decode(readFileSync(`${HISTORIES}before-reports-ride/return-quality.history`)).events!);
    expect(before.workflowTasks).toBe(cost.workflowTasks);
    expect(before.localActivities.filter((type) => type !== 'recordProgress')).toEqual(cost.localActivities);
    expect(before.localActivities.filter((type) => type === 'recordProgress')).toHaveLength(3);
    // History shape 6: the completion event carries the outcome and reason, not the records again.
    const events = await historyOf(caseId);
    const completed = events.at(-1)!.workflowExecutionCompletedEventAttributes!.result!.payloads![0]!;
    expect(JSON.parse(new TextDecoder().decode(completed.data!))).toEqual({ outcome: 'resolved', reason: 'refunded', steps: [] });
    const lean = temporal.api.history.v1.History.encode({ events }).finish().length;
    console.log(`standard quality return: ${lean} history bytes (${completed.data!.length} of them the result)`);

    // The audit trail is the case's records, each once, in order (messages' ids merged in by their activity).
    expect(await auditOf(caseId)).toEqual(result.steps.map((record, i) => ({ seq: i + 1, record })));
    expect(await projectionOf(caseId)).toMatchObject({ status: 'closed', current_step: null, waiting_for: [], deadlines: [], outcome: 'resolved' });
    expect(reportsSeenByChannel.length).toBeGreaterThan(0);
    expect(reportsSeenByChannel.every((seen) => !seen)).toBe(true);
  });

  it('an escalation before the end carries the closing report, its escalation id in its record', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, ESCALATE_THEN_END, 'ride-escalate');
    const result = await closed('ride-escalate');
    expect(costOf(await historyOf('ride-escalate')).localActivities).toEqual(['openEscalation']);
    const { rows } = await runtime.db.pool.query(`SELECT id FROM escalations WHERE case_id = 'ride-escalate'`);
    expect(result.steps.map((record) => [record.step, record.detail])).toEqual([
      ['raise', { escalationId: rows[0].id, queue: 'after-sale-supervisor', reason: 'parcel_not_received' }],
      ['done', { outcome: 'escalated', reason: 'parcel_not_received' }],
    ]);
    expect(await auditOf('ride-escalate')).toEqual(result.steps.map((record, i) => ({ seq: i + 1, record })));
    expect(await projectionOf('ride-escalate')).toMatchObject({ status: 'closed', outcome: 'escalated' });
  });

  it('a message that goes on as an activity carries no report: the end reports for itself', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, NOTIFY, CHANNEL_DOWN_IN_TASK);
    const result = await closed(CHANNEL_DOWN_IN_TASK);
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'notified' });
    const cost = costOf(await historyOf(CHANNEL_DOWN_IN_TASK));
    expect(cost.activities).toEqual(['sendMessage']);
    expect(cost.localActivities.at(-1)).toBe('recordProgress');
    expect(await auditOf(CHANNEL_DOWN_IN_TASK)).toEqual(result.steps.map((record, i) => ({ seq: i + 1, record })));
    expect(await projectionOf(CHANNEL_DOWN_IN_TASK)).toMatchObject({ status: 'closed', outcome: 'resolved' });
  });

  it('a branch after a slow effect is decided at the time of the effect, as the report it carried told', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, TIME_TURNS, SLOW_NOTE);
    await untilWaitingFor(SLOW_NOTE, 'ping');
    await expect.poll(async () => costOf(await historyOf(SLOW_NOTE)).localActivities, { timeout: 10_000 }).toEqual(['writeOrderNote']);
    expect(await projectionOf(SLOW_NOTE)).toMatchObject({ status: 'waiting', current_step: 'wait_ping', waiting_for: ['ping'] });
    expect(await runtime.inbox.deliverEvent(SLOW_NOTE, { type: 'ping', id: 'p1', payload: {} })).toEqual({ status: 'accepted' });
    const result = await closed(SLOW_NOTE);
    expect(result.steps.map((record) => [record.step, record.detail?.goto])).toEqual([
      ['note', undefined],
      ['early', 'wait_ping'],
      ['wait_ping', 'done'],
      ['done', undefined],
    ]);
    // The note took three seconds; the branch read the time the note was sent at, and says so.
    const [note, early] = result.steps;
    expect(early!.at).toBe(note!.at);
    expect((early!.detail!.values as Record<string, string>).now).toBe(note!.at);
    expect(await auditOf(SLOW_NOTE)).toEqual(result.steps.map((record, i) => ({ seq: i + 1, record })));
  });
});
