/**
 * An admin delivers again a webhook that ran out of attempts (issue 23), on the real stack: a case
 * worker whose chat channel and payments are bound to a destination, a real HTTP receiver verifying
 * every signature with `standardwebhooks`, Postgres, Temporal's time-skipping server and the API.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseService } from '../../src/cases/service.js';
import { type ConnectorBinding, type ConnectorConfig, LOCAL_CONNECTORS } from '../../src/connectors/config.js';
import { DeliveryFailure } from '../../src/connectors/ports.js';
import { WebhookChannel } from '../../src/connectors/webhooks/connectors.js';
import { RETRY_SCHEDULE_MS, WebhookSender } from '../../src/connectors/webhooks/sender.js';
import { type CaseResult, workflowIdFor } from '../../src/plan/case.js';
import type { HashedPlan } from '../../src/plan/plan.js';
import { redeliverWebhook } from '../../src/services/deliveries.js';
import { composeApi, composeServices, type Services } from '../../src/stack/compose.js';
import { createApiKey } from '../../src/store/api-keys.js';
import { verifyAuditTrail } from '../../src/store/audit-chain.js';
import { beginAttempt, finishAttempt } from '../../src/store/webhook-attempts.js';
import { keepRequest } from '../../src/store/webhook-requests.js';
import { newSecret, type Receiver, startReceiver } from '../connectors/webhook-receiver.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { composeTestWorker } from '../support/runtime.js';
import { compileSmallPlaybook, openSmallCase } from '../support/small-playbooks.js';
import { startTimeSkippingServer } from '../support/temporal.js';

const TASK_QUEUE = 'webhook-redelivery';
const secret = newSecret();
let db: TestDatabase;
let env: TestWorkflowEnvironment;
let services: Services;
let service: CaseService;
let api: FastifyInstance;
let shop: Receiver;
let worker: Worker;
let running: Promise<void>;
let plan: HashedPlan;
const keys = { admin: '', agent: '' };
let adminKeyId = '';

/** `down`: the shop answers 503 to every message; `hang`: it never answers one; `refundsRefused`: 422 to every refund. */
const behaviour = { down: false, hang: false, refundsRefused: false };

beforeAll(async () => {
  [db, env] = await Promise.all([createTestDatabase(), startTimeSkippingServer()]);
  process.env.CASEBOOK_TEST_REDELIVERY_SECRET = secret;
  shop = await startReceiver([secret], (got) => {
    if (got.type === 'message.send' && behaviour.hang) return () => {};
    if (got.type === 'message.send' && behaviour.down) return { status: 503, body: { error: 'down for maintenance' } };
    if (got.type === 'refund.request' && behaviour.refundsRefused) return { status: 422, body: { error: 'unknown order' } };
    if (got.type === 'refund.request') return { status: 200, body: { status: 'issued', reference: 'PSP-1' } };
    return { status: 204 };
  });
  const shopBinding: ConnectorBinding = { connector: 'webhook', destination: 'shop' };
  const connectors: ConnectorConfig = {
    ...LOCAL_CONNECTORS,
    destinations: {
      shop: {
        name: 'shop',
        url: shop.url,
        secretVariables: ['CASEBOOK_TEST_REDELIVERY_SECRET'],
        timeoutMs: 10_000,
        maxResponseBytes: 65_536,
        allowPrivateAddress: true,
      },
    },
    channels: { ...LOCAL_CONNECTORS.channels, chat: shopBinding },
    payments: shopBinding,
  };
  worker = await composeTestWorker({ connection: env.nativeConnection, pool: db.pool, taskQueue: TASK_QUEUE, connectors });
  running = worker.run();
  services = composeServices({ client: env.client, pool: db.pool, taskQueue: TASK_QUEUE, destinations: connectors.destinations });
  service = services.cases;
  api = await composeApi({ services, pool: db.pool });
  const admin = await createApiKey(db.pool, 'admin', 'Root');
  keys.admin = admin.key;
  adminKeyId = admin.apiKey.id;
  keys.agent = (await createApiKey(db.pool, 'agent', 'Lei')).key;
  plan = compileSmallPlaybook(
    'webhook-redelivery',
    `templates:
  accepted: { channel: chat, text: "Your return of order {{ data.order_id }} is accepted." }
steps:
  - id: tell
    send: { to: buyer, template: accepted, on_error: unreachable }
  - id: refund
    refund: { amount: data.paid.amount, reason: return, within: 1h, from: case.opened, on_breach: done, on_declined: declined }
  - id: done
    end: { outcome: resolved, reason: refunded }
  - id: unreachable
    end: { outcome: escalated, reason: buyer_unreachable }
  - id: declined
    end: { outcome: escalated, reason: refund_declined }
`,
  );
});
afterAll(async () => {
  await api?.close();
  await services?.close();
  worker?.shutdown();
  await running;
  await shop?.close();
  await env?.teardown();
  await db?.drop();
});

const result = (caseId: string) => env.client.workflow.getHandle(workflowIdFor(caseId)).result() as Promise<CaseResult>;
const redeliver = (webhookId: string, key: string) =>
  api.inject({ method: 'POST', url: `/v1/deliveries/${encodeURIComponent(webhookId)}/redeliver`, headers: { authorization: `Bearer ${key}` } });

describe('an admin delivers a webhook again', () => {
  it('a message out of attempts took on_error; once the receiver is back, the redelivery reaches it under the same webhook-id, signed', async () => {
    behaviour.down = true;
    let closed: CaseResult;
    try {
      await openSmallCase(service, db.pool, plan, 'rd-1');
      closed = await result('rd-1');
    } finally {
      behaviour.down = false;
    }
    expect(closed).toMatchObject({ outcome: 'escalated', reason: 'buyer_unreachable' });
    const webhookId = 'rd-1/tell/1';
    const scheduled = (await db.pool.query(`SELECT attempt, outcome FROM webhook_attempts WHERE webhook_id = $1 ORDER BY attempt`, [webhookId])).rows;
    expect(scheduled).toHaveLength(RETRY_SCHEDULE_MS.length);
    expect(scheduled.every((a) => a.outcome === 'failed')).toBe(true);
    const first = shop.received.find((r) => r.id === webhookId)!;
    const before = shop.received.length;

    // An agent may not; the admin may.
    const refused = await redeliver(webhookId, keys.agent);
    expect(refused.statusCode).toBe(403);
    expect(shop.received).toHaveLength(before);

    const answer = await redeliver(webhookId, keys.admin);
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toMatchObject({
      webhookId,
      type: 'message.send',
      stepId: 'tell',
      destination: 'shop',
      attempt: RETRY_SCHEDULE_MS.length + 1,
      httpStatus: 204,
      outcome: 'delivered',
      errorKind: null,
      requestedBy: 'Root',
    });
    expect(shop.badSignatures).toBe(0);
    const again = shop.received.slice(before);
    expect(again).toHaveLength(1);
    expect(again[0]!.id).toBe(webhookId);
    expect(again[0]!.type).toBe('message.send');
    expect(again[0]!.data).toEqual(first.data);
    expect(again[0]!.headers['webhook-signature']).toMatch(/^v1,/);

    // The case keeps the path it took; the audit trail names who redelivered what, and stays intact.
    expect(await result('rd-1')).toEqual(closed);
    const audit = (
      await db.pool.query(`SELECT kind, step_id, actor_key_id, actor_name, detail FROM audit_events WHERE case_id = 'rd-1' AND kind = 'delivery-redelivered'`)
    ).rows;
    expect(audit).toEqual([
      {
        kind: 'delivery-redelivered',
        step_id: 'tell',
        actor_key_id: adminKeyId,
        actor_name: 'Root',
        detail: { webhookId, attempt: RETRY_SCHEDULE_MS.length + 1, type: 'message.send', destination: 'shop' },
      },
    ]);
    expect((await verifyAuditTrail(db.pool, { caseId: 'rd-1' })).problems).toEqual([]);
    // The case's page lists the attempt with who asked for it.
    const activity = await api.inject({ method: 'GET', url: '/v1/cases/rd-1/activity', headers: { authorization: `Bearer ${keys.agent}` } });
    expect(activity.json().deliveries.at(-1)).toMatchObject({ webhookId, attempt: RETRY_SCHEDULE_MS.length + 1, outcome: 'delivered', requestedBy: 'Root' });

    // Delivered now: nothing to do.
    const twice = await redeliver(webhookId, keys.admin);
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toMatchObject({ type: 'https://casebook.dev/problems/delivery-delivered', status: 409 });
    expect(shop.received).toHaveLength(before + 1);
  }, 120_000);

  it('an unknown webhook-id is 404', async () => {
    const answer = await redeliver('no-such-case/tell/1', keys.admin);
    expect(answer.statusCode).toBe(404);
    expect(answer.json()).toMatchObject({ type: 'https://casebook.dev/problems/unknown-delivery' });
  });

  it('a refund is never delivered again by hand, even refused: the ledger says declined, the provider is not asked', async () => {
    behaviour.refundsRefused = true;
    try {
      await openSmallCase(service, db.pool, plan, 'rd-2');
      expect(await result('rd-2')).toMatchObject({ outcome: 'escalated', reason: 'refund_declined' });
    } finally {
      behaviour.refundsRefused = false;
    }
    const refunds = shop.received.filter((r) => r.type === 'refund.request' && r.data.caseId === 'rd-2');
    expect(refunds).toHaveLength(1);
    const answer = await redeliver(refunds[0]!.id, keys.admin);
    expect(answer.statusCode).toBe(409);
    expect(answer.json()).toMatchObject({ type: 'https://casebook.dev/problems/delivery-not-redeliverable' });
    expect(answer.json().detail).toContain('refund');
    expect(shop.received.filter((r) => r.type === 'refund.request' && r.data.caseId === 'rd-2')).toHaveLength(1);
  }, 60_000);

  it('keeps the safety rules of a call: a private address not allowed is refused, a hanging receiver cut at the timeout', async () => {
    behaviour.down = true;
    try {
      await openSmallCase(service, db.pool, plan, 'rd-3');
      expect(await result('rd-3')).toMatchObject({ outcome: 'escalated', reason: 'buyer_unreachable' });
    } finally {
      behaviour.down = false;
    }
    const webhookId = 'rd-3/tell/1';
    const before = shop.received.length;
    const destination = {
      name: 'shop',
      url: shop.url,
      secretVariables: ['CASEBOOK_TEST_REDELIVERY_SECRET'],
      timeoutMs: 500,
      maxResponseBytes: 65_536,
      allowPrivateAddress: false,
    };
    const strict = new WebhookSender(destination, db.pool);
    const slow = new WebhookSender({ ...destination, allowPrivateAddress: true }, db.pool);
    const by = { keyId: adminKeyId, name: 'Root' };
    try {
      const refused = await redeliverWebhook(db.pool, () => strict, webhookId, by);
      expect(refused).toMatchObject({
        kind: 'redelivered',
        attempt: { outcome: 'failed', errorKind: 'private_address', httpStatus: null, requestedBy: 'Root' },
      });
      expect(shop.received).toHaveLength(before);
      behaviour.hang = true;
      const begun = Date.now();
      const cut = await redeliverWebhook(db.pool, () => slow, webhookId, by);
      expect(cut).toMatchObject({ kind: 'redelivered', attempt: { outcome: 'failed', errorKind: 'timeout' } });
      expect(Date.now() - begun).toBeLessThan(5_000);
    } finally {
      behaviour.hang = false;
      strict.close();
      slow.close();
    }
    // Failed redeliveries leave it redeliverable; the next one, through the API, reaches the receiver.
    const answer = await redeliver(webhookId, keys.admin);
    expect(answer.json()).toMatchObject({ outcome: 'delivered', attempt: RETRY_SCHEDULE_MS.length + 3 });
    expect((await verifyAuditTrail(db.pool, { caseId: 'rd-3' })).problems).toEqual([]);
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM audit_events WHERE case_id = 'rd-3' AND kind = 'delivery-redelivered'`)).rows[0].n).toBe(3);
  }, 120_000);

  it('is refused, sending nothing, for a request not kept or an attempt in flight; verify names a forged redelivery row', async () => {
    const start = { destination: 'shop', caseId: 'rd-1', stepId: 'tell', type: 'message.send' };
    // First attempted before migration 319 kept requests: nothing to send again.
    const old = await beginAttempt(db.pool, { ...start, webhookId: 'rd-old/tell/1' });
    await finishAttempt(db.pool, old.id, { latencyMs: 3, httpStatus: 503, errorKind: 'status', responseExcerpt: null, outcome: 'failed' });
    const notKept = await redeliver('rd-old/tell/1', keys.admin);
    expect([notKept.statusCode, notKept.json().type]).toEqual([409, 'https://casebook.dev/problems/delivery-not-redeliverable']);
    expect(notKept.json().detail).toContain('not kept');
    // An attempt begun a moment ago and not finished is in flight.
    await keepRequest(db.pool, { ...start, webhookId: 'rd-flying/tell/1', data: '{}' });
    await beginAttempt(db.pool, { ...start, webhookId: 'rd-flying/tell/1' });
    const before = shop.received.length;
    const flying = await redeliver('rd-flying/tell/1', keys.admin);
    expect([flying.statusCode, flying.json().detail]).toEqual([409, 'attempt 1 of rd-flying/tell/1 is still in flight']);
    expect(shop.received).toHaveLength(before);

    await db.pool.query(
      `INSERT INTO audit_events (idempotency_key, case_id, at, kind, step_id, detail, actor_key_id, actor_name)
       VALUES ('forged-redelivery', 'rd-1', now(), 'delivery-redelivered', 'tell', $1, $2, 'Root')`,
      [JSON.stringify({ webhookId: 'rd-1/tell/1', attempt: 1, type: 'message.send', destination: 'shop' }), adminKeyId],
    );
    const verified = await verifyAuditTrail(db.pool, { caseId: 'rd-1' });
    expect(verified.problems.map((p) => p.message)).toEqual([
      expect.stringContaining('kind delivery-redelivered): no attempt of that delivery was asked for by that admin (forged)'),
    ]);
  });

  it("is not one of the schedule's attempts: a delivery still on its schedule keeps its place in it", async () => {
    const sender = new WebhookSender(
      {
        name: 'shop',
        url: shop.url,
        secretVariables: ['CASEBOOK_TEST_REDELIVERY_SECRET'],
        timeoutMs: 2_000,
        maxResponseBytes: 65_536,
        allowPrivateAddress: true,
      },
      db.pool,
    );
    const channel = new WebhookChannel(sender, db.pool);
    const message = {
      key: 'rd-4/tell/1',
      caseId: 'rd-4',
      stepId: 'tell',
      recipient: { kind: 'buyer' as const },
      channel: 'chat' as const,
      template: 'hello',
      body: 'Hello',
      messageId: 0,
    };
    const next = async () => {
      const error = await channel.deliver(message, { inWorkflowTask: false, activityAttempt: 2, scheduledAt: Date.now() }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DeliveryFailure);
      return (error as DeliveryFailure).retryInMs;
    };
    behaviour.down = true;
    try {
      expect(await next()).toBe(RETRY_SCHEDULE_MS[1]);
      const redelivered = await redeliverWebhook(db.pool, () => sender, 'rd-4/tell/1', { keyId: adminKeyId, name: 'Root' });
      expect(redelivered).toMatchObject({ kind: 'redelivered', attempt: { attempt: 2, outcome: 'failed', httpStatus: 503 } });
      // The schedule's second attempt (the third made) waits as a second does.
      expect(await next()).toBe(RETRY_SCHEDULE_MS[2]);
    } finally {
      behaviour.down = false;
      sender.close();
    }
  });
});
