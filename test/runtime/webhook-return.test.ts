/**
 * Issue 23's outbound webhooks on the real stack: a case worker whose chat channel, payments, order
 * system, notifications and `warehouse` integration are bound to a destination, a real HTTP receiver
 * that verifies every signature with `standardwebhooks`, Postgres and Temporal's time-skipping server.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseService } from '../../src/cases/service.js';
import { type ConnectorBinding, type ConnectorConfig, LOCAL_CONNECTORS } from '../../src/connectors/config.js';
import { type CaseResult, workflowIdFor } from '../../src/plan/case.js';
import type { HashedPlan } from '../../src/plan/plan.js';
import { composeServices, composeWorker } from '../../src/stack/compose.js';
import { newSecret, type Receiver, startReceiver } from '../connectors/webhook-receiver.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { compileSmallPlaybook, openSmallCase } from '../support/small-playbooks.js';
import { startTimeSkippingServer } from '../support/temporal.js';

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
const behaviour = { down: false, failuresLeft: 0 };
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
    if (got.type === 'integration.call') return { status: 200, body: { returnable: true } };
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
        timeoutMs: 2_000,
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
  worker = await composeWorker({ connection: env.nativeConnection, pool: db.pool, taskQueue: TASK_QUEUE, connectors });
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

const result = (caseId: string) => env.client.workflow.getHandle(workflowIdFor(caseId)).result() as Promise<CaseResult>;
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
    const reference = references.get('wh-ret-1/refund/1');
    expect(closed.steps.find((s) => s.step === 'refund')?.detail).toMatchObject({ providerReference: reference });
    expect(await refundsOf('wh-ret-1')).toMatchObject([{ status: 'issued', provider_reference: reference }]);
    const attempts = (await db.pool.query(`SELECT type, outcome FROM webhook_attempts WHERE case_id = 'wh-ret-1' ORDER BY id`)).rows;
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
});
