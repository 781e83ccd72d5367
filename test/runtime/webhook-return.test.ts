/**
 * Issue 23's outbound webhooks on the real stack: a case worker whose chat channel, payments, order
 * system, notifications and `warehouse` integration are bound to a destination, a real HTTP receiver
 * that verifies every signature with `standardwebhooks`, Postgres and Temporal's time-skipping server.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseActivity } from '../../src/cases/reads.js';
import type { CaseService } from '../../src/cases/service.js';
import { type ConnectorBinding, type ConnectorConfig, LOCAL_CONNECTORS } from '../../src/connectors/config.js';
import { type CaseResult, workflowIdFor } from '../../src/plan/case.js';
import type { HashedPlan } from '../../src/plan/plan.js';
import { IN_TASK_TIMEOUT_MS } from '../../src/connectors/webhooks/sender.js';
import { composeServices } from '../../src/stack/compose.js';
import { newSecret, type Receiver, startReceiver } from '../connectors/webhook-receiver.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { composeTestWorker } from '../support/runtime.js';
import { compileSmallPlaybook, openSmallCase } from '../support/small-playbooks.js';
import { startTimeSkippingServer } from '../support/temporal.js';
import { caseRecords } from '../support/records.js';

const TASK_QUEUE = 'webhook-return';
const secret = newSecret();
let db: TestDatabase;
let env: TestWorkflowEnvironment;
let service: CaseService;
let shop: Receiver;
let worker: Worker;
let running: Promise<void>;
let plan: HashedPlan;

/**
 * What the shop's receiver does: a refund is paid once per webhook-id; `down`: its payment and
 * notification endpoints answer 503 (the case has sent its message and made its call by then).
 */
const behaviour = { down: false, failuresLeft: 0, callsFail: false, messagesRefused: false, messagesHang: false };
const references = new Map<string, string>();

beforeAll(async () => {
  [db, env] = await Promise.all([createTestDatabase(), startTimeSkippingServer()]);
  process.env.CASEBOOK_TEST_SHOP_SECRET = secret;
  shop = await startReceiver([secret], (got) => {
    if (behaviour.down && (got.type === 'refund.request' || got.type === 'notification')) return { status: 503 };
    if (got.type === 'refund.request' && behaviour.failuresLeft > 0) {
      behaviour.failuresLeft -= 1;
      return { status: 500, body: { error: 'try again' } };
    }
    if (got.type === 'refund.request') {
      if (!references.has(got.id)) references.set(got.id, `PSP-${references.size + 1}`);
      return { status: 200, body: { status: 'issued', reference: references.get(got.id) } };
    }
    if (got.type === 'integration.call') return behaviour.callsFail ? { status: 500 } : { status: 200, body: { returnable: true } };
    if (got.type === 'message.send' && behaviour.messagesHang) return () => {};
    if (got.type === 'message.send' && behaviour.messagesRefused) return { status: 422, body: { error: 'unknown buyer' } };
    return { status: 204 };
  });
  const shopBinding: ConnectorBinding = { connector: 'webhook', destination: 'shop' };
  const connectors: ConnectorConfig = {
    ...LOCAL_CONNECTORS,
    destinations: {
      shop: {
        name: 'shop',
        url: shop.url,
        secretVariables: ['CASEBOOK_TEST_SHOP_SECRET'],
        timeoutMs: 10_000,
        maxResponseBytes: 65_536,
        allowPrivateAddress: true,
      },
    },
    channels: { ...LOCAL_CONNECTORS.channels, chat: shopBinding },
    payments: shopBinding,
    orderSystem: shopBinding,
    notifications: shopBinding,
    integrations: { default: { connector: 'local' }, warehouse: shopBinding },
  };
  worker = await composeTestWorker({ connection: env.nativeConnection, pool: db.pool, taskQueue: TASK_QUEUE, connectors });
  running = worker.run();
  service = composeServices({ client: env.client, pool: db.pool, taskQueue: TASK_QUEUE }).cases;
  plan = compileSmallPlaybook(
    'webhook-return',
    `integrations:
  warehouse: { operations: [check_return] }
templates:
  accepted: { channel: chat, text: "Your return of order {{ data.order_id }} is accepted." }
steps:
  - id: tell
    send: { to: buyer, template: accepted }
  - id: check
    call: { integration: warehouse, operation: check_return, input: { order_id: data.order_id }, on_error: broken }
  - id: refund
    refund: { amount: data.paid.amount, reason: return, within: 1h, from: case.opened, on_breach: paid_late, on_declined: declined }
  - id: done
    end: { outcome: resolved, reason: refunded }
  - id: paid_late
    end: { outcome: resolved, reason: refunded_late }
  - id: declined
    end: { outcome: escalated, reason: refund_declined }
  - id: broken
    end: { outcome: escalated, reason: warehouse_unreachable }
`,
  );
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await shop?.close();
  await env?.teardown();
  await db?.drop();
});

const result = async (caseId: string): Promise<CaseResult> => ({
  ...((await env.client.workflow.getHandle(workflowIdFor(caseId)).result()) as CaseResult),
  steps: await caseRecords(db.pool, caseId),
});
const refundsOf = async (caseId: string) => (await db.pool.query(`SELECT * FROM refunds WHERE case_id = $1`, [caseId])).rows;
const receivedFor = (caseId: string, type: string) => shop.received.filter((r) => r.type === type && r.data.caseId === caseId);

describe('a return case over outbound webhooks', () => {
  it("sends the message, the call and the refund to the receiver, and closes with the provider's reference", async () => {
    const closed = await (async () => {
      await openSmallCase(service, db.pool, plan, 'wh-ret-1');
      return result('wh-ret-1');
    })();
    expect(closed).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    expect(shop.badSignatures).toBe(0);
    expect(receivedFor('wh-ret-1', 'message.send')).toMatchObject([
      { id: 'wh-ret-1/tell/1', data: { channel: 'chat', body: 'Your return of order wh-ret-1 is accepted.' } },
    ]);
    expect(receivedFor('wh-ret-1', 'integration.call')).toMatchObject([
      { id: 'wh-ret-1/check/1', data: { integration: 'warehouse', operation: 'check_return' } },
    ]);
    expect(receivedFor('wh-ret-1', 'refund.request')).toMatchObject([{ id: 'wh-ret-1/refund/1', data: { amount: 1_000, currency: 'CNY', order: 'wh-ret-1' } }]);
    expect((await db.pool.query(`SELECT status FROM outbox_messages WHERE case_id = 'wh-ret-1'`)).rows).toEqual([{ status: 'sent' }]);
    const reference = references.get('wh-ret-1/refund/1');
    expect(closed.steps.find((s) => s.step === 'refund')?.detail).toMatchObject({ providerReference: reference });
    expect(await refundsOf('wh-ret-1')).toMatchObject([{ status: 'issued', provider_reference: reference }]);
    // What the case's page shows (GET /v1/cases/{caseId}/activity).
    const attempts = (await caseActivity(db.pool, 'wh-ret-1'))!.deliveries.map(({ type, outcome }) => ({ type, outcome }));
    expect(attempts).toEqual([
      { type: 'message.send', outcome: 'delivered' },
      { type: 'integration.call', outcome: 'delivered' },
      { type: 'refund.request', outcome: 'delivered' },
    ]);
  });

  it('a receiver answering 500 three times, then 200, gets one refund per webhook-id and the ledger shows one', async () => {
    behaviour.failuresLeft = 3;
    const closed = await (async () => {
      await openSmallCase(service, db.pool, plan, 'wh-ret-2');
      return result('wh-ret-2');
    })();
    const { startTime, closeTime } = await env.client.workflow.getHandle(workflowIdFor('wh-ret-2')).describe();
    const elapsed = closeTime!.getTime() - startTime.getTime();
    expect(closed).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    const asked = receivedFor('wh-ret-2', 'refund.request');
    expect(asked).toHaveLength(4);
    expect(new Set(asked.map((r) => r.id))).toEqual(new Set(['wh-ret-2/refund/1']));
    expect(await refundsOf('wh-ret-2')).toMatchObject([{ status: 'issued', provider_reference: references.get('wh-ret-2/refund/1') }]);
    const outcomes = (await db.pool.query(`SELECT attempt, http_status, outcome FROM webhook_attempts WHERE webhook_id = 'wh-ret-2/refund/1' ORDER BY attempt`))
      .rows;
    expect(outcomes).toEqual([
      { attempt: 1, http_status: 500, outcome: 'failed' },
      { attempt: 2, http_status: 500, outcome: 'failed' },
      { attempt: 3, http_status: 500, outcome: 'failed' },
      { attempt: 4, http_status: 200, outcome: 'delivered' },
    ]);
    // Svix's schedule, in the server's time: at once (in the workflow task), 5 s, 5 min, 30 min.
    expect(elapsed).toBeGreaterThanOrEqual(35 * 60_000);
    expect(elapsed).toBeLessThan(60 * 60_000);
  });

  it('a receiver down past the refund deadline: the case is escalated as late, and paid once when it comes back', async () => {
    behaviour.down = true;
    try {
      await openSmallCase(service, db.pool, plan, 'wh-ret-3');
      const late = async () =>
        (await db.pool.query(`SELECT count(*)::int AS n FROM escalations WHERE case_id = 'wh-ret-3' AND reason = 'refund_sla_breached'`)).rows[0].n;
      for (let i = 0; i < 50 && (await late()) === 0; i++) await env.sleep(15 * 60_000);
      expect(await late()).toBe(1);
      expect(await refundsOf('wh-ret-3')).toMatchObject([{ status: 'requested' }]);
    } finally {
      behaviour.down = false;
    }
    const closed = await result('wh-ret-3');
    expect(closed).toMatchObject({ outcome: 'resolved', reason: 'refunded_late' });
    expect(new Set(receivedFor('wh-ret-3', 'refund.request').map((r) => r.id))).toEqual(new Set(['wh-ret-3/refund/1']));
    const [refund] = await refundsOf('wh-ret-3');
    expect(refund).toMatchObject({ status: 'issued', provider_reference: references.get('wh-ret-3/refund/1') });
    expect(refund.late_at).not.toBeNull();
    // The escalation was announced to the shop too, once it answered again.
    const announced = await db.pool.query(
      `SELECT outcome FROM webhook_attempts WHERE webhook_id = 'wh-ret-3/refund/1/late/notified' ORDER BY attempt DESC LIMIT 1`,
    );
    expect(announced.rows).toEqual([{ outcome: 'delivered' }]);
  }, 120_000);

  it('a call the receiver keeps failing takes on_error after its attempts, on the schedule', async () => {
    behaviour.callsFail = true;
    try {
      const closed = await (async () => {
        await openSmallCase(service, db.pool, plan, 'wh-ret-4');
        return result('wh-ret-4');
      })();
      expect(closed).toMatchObject({ outcome: 'escalated', reason: 'warehouse_unreachable' });
      expect(closed.steps.find((s) => s.step === 'check')?.detail).toMatchObject({ goto: 'broken' });
    } finally {
      behaviour.callsFail = false;
    }
    const attempts = (await db.pool.query(`SELECT attempt, outcome FROM webhook_attempts WHERE webhook_id = 'wh-ret-4/check/1' ORDER BY attempt`)).rows;
    // The call step's five attempts: at once, 5 s, 5 min, 30 min, 2 h.
    expect(attempts.map((a) => a.outcome)).toEqual(['failed', 'failed', 'failed', 'failed', 'failed']);
    const { startTime, closeTime } = await env.client.workflow.getHandle(workflowIdFor('wh-ret-4')).describe();
    expect(closeTime!.getTime() - startTime.getTime()).toBeGreaterThanOrEqual(2.5 * 3_600_000);
    expect(await refundsOf('wh-ret-4')).toEqual([]);
  });

  it('a message the receiver refuses for good (a 4xx) fails the case, escalated for repair', async () => {
    behaviour.messagesRefused = true;
    try {
      await openSmallCase(service, db.pool, plan, 'wh-ret-5');
      const status = async () => (await db.pool.query(`SELECT status FROM cases WHERE case_id = 'wh-ret-5'`)).rows[0]?.status;
      await expect.poll(status, { timeout: 30_000, interval: 200 }).toBe('failed');
    } finally {
      behaviour.messagesRefused = false;
    }
    const escalations = (await db.pool.query(`SELECT reason, queue, note FROM escalations WHERE case_id = 'wh-ret-5'`)).rows;
    expect(escalations).toMatchObject([{ reason: 'case_failed', queue: 'casebook-admin' }]);
    expect(escalations[0].note).toContain('HTTP 422');
    // Refused once, never asked again (an attempt before it may have met the circuit the failed calls above opened).
    const attempts = (await db.pool.query(`SELECT outcome, error_kind FROM webhook_attempts WHERE webhook_id = 'wh-ret-5/tell/1' ORDER BY attempt`)).rows;
    expect(attempts.at(-1)).toEqual({ outcome: 'refused', error_kind: 'status' });
    expect(attempts.slice(0, -1).every((a) => a.error_kind === 'circuit_open')).toBe(true);
    expect(receivedFor('wh-ret-5', 'message.send')).toHaveLength(1);
    // The escalation reached the shop as a notification.
    await expect.poll(() => receivedFor('wh-ret-5', 'notification').map((r) => r.data.event)).toEqual(['escalation.opened']);
  });

  it('tells the shop of a task opened, with the task', async () => {
    const tasks = compileSmallPlaybook(
      'webhook-task',
      `steps:
  - id: review
    task: { role: after-sale-agent, title: Check the parcel, sla: 4h, outcomes: { ok: done }, on_sla_breach: done }
  - id: done
    end: { outcome: resolved, reason: reviewed }
`,
    );
    await openSmallCase(service, db.pool, tasks, 'wh-task-1');
    await expect.poll(() => receivedFor('wh-task-1', 'notification').length, { timeout: 30_000 }).toBe(1);
    const [notice] = receivedFor('wh-task-1', 'notification');
    const [task] = (await db.pool.query(`SELECT id FROM tasks WHERE case_id = 'wh-task-1'`)).rows;
    expect(notice).toMatchObject({
      id: 'wh-task-1/review/1/notified',
      data: { event: 'task.opened', taskId: task.id, role: 'after-sale-agent', title: 'Check the parcel', outcomes: ['ok'] },
    });
  });

  it("a receiver that hangs holds the case's workflow task for 3 s at most, then the activity carries the message", async () => {
    behaviour.messagesHang = true;
    try {
      const began = performance.now();
      await openSmallCase(service, db.pool, plan, 'wh-hang-1');
      const handle = env.client.workflow.getHandle(workflowIdFor('wh-hang-1'));
      const scheduled = async () =>
        (await handle.fetchHistory()).events?.some((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'sendMessage') ?? false;
      await expect.poll(scheduled, { timeout: 15_000, interval: 100 }).toBe(true);
      // One try in the task, cut at 3 s (not the destination's 10 s timeout, nor three tries).
      expect(performance.now() - began).toBeLessThan(IN_TASK_TIMEOUT_MS + 2_500);
      const [first] = (await db.pool.query(`SELECT attempt, error_kind, latency_ms FROM webhook_attempts WHERE webhook_id = 'wh-hang-1/tell/1'`)).rows;
      expect(first).toMatchObject({ attempt: 1, error_kind: 'timeout' });
      expect(first.latency_ms).toBeGreaterThanOrEqual(IN_TASK_TIMEOUT_MS - 50);
      expect(first.latency_ms).toBeLessThan(IN_TASK_TIMEOUT_MS + 1_000);
    } finally {
      behaviour.messagesHang = false;
    }
  });
});
