import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { type Destination, LOCAL_CONNECTORS } from '../../src/connectors/config.js';
import { DeliveryFailure, type EffectAttempt } from '../../src/connectors/ports.js';
import { WebhookChannel, WebhookIntegrations, WebhookNotifications, WebhookOrderSystem, WebhookPayments } from '../../src/connectors/webhooks/connectors.js';
import { GATE_DEFAULTS, type GateSettings } from '../../src/connectors/webhooks/gate.js';
import { IN_TASK_TIMEOUT_MS, PENDING_ASK_MS, RETRY_SCHEDULE_MS, WebhookSender } from '../../src/connectors/webhooks/sender.js';
import type { RefundRequest } from '../../src/plan/activities.js';
import { FAILURE_TYPES } from '../../src/plan/failures.js';
import { settleProviderRefund } from '../../src/services/refund-settlements.js';
import { composeAdapters } from '../../src/stack/compose.js';
import { recordOrderPayment } from '../../src/store/orders.js';
import { attemptsOf } from '../../src/store/webhook-attempts.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { newSecret, type Receiver, startReceiver } from './webhook-receiver.js';

let db: TestDatabase;
const secrets = [newSecret(), newSecret()];
const env: NodeJS.ProcessEnv = { SHOP_SECRET: secrets[0], SHOP_SECRET_NEXT: secrets[1] };
const receivers: Receiver[] = [];
const senders: WebhookSender[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const sender of senders) sender.close();
  await Promise.all(receivers.map((receiver) => receiver.close()));
  await db?.drop();
});

async function receiver(answer?: Receiver['answer'], held = secrets): Promise<Receiver> {
  const started = await startReceiver(held, answer);
  receivers.push(started);
  return started;
}

function sender(url: string, destination: Partial<Destination> = {}, gate: Partial<GateSettings> = {}): WebhookSender {
  const made = new WebhookSender(
    {
      name: 'shop',
      url,
      secretVariables: ['SHOP_SECRET', 'SHOP_SECRET_NEXT'],
      timeoutMs: 2_000,
      maxResponseBytes: 4_096,
      allowPrivateAddress: true,
      ...destination,
    },
    db.pool,
    { ...GATE_DEFAULTS, ...gate },
    env,
  );
  senders.push(made);
  return made;
}

let keys = 0;
const message = (caseId = 'wh-case') => ({
  key: `${caseId}/send_${++keys}/1`,
  caseId,
  stepId: `send_${keys}`,
  recipient: { kind: 'buyer' as const },
  channel: 'chat' as const,
  template: 'hello',
  body: 'Hello from Casebook',
  messageId: keys,
});

/** An attempt of the activity after the first (so it never waits its turn), by the real clock. */
const activityAttempt = (n = 2): EffectAttempt => ({ inWorkflowTask: false, activityAttempt: n, scheduledAt: Date.now() });

async function failure(promise: Promise<unknown>): Promise<DeliveryFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DeliveryFailure);
  return error as DeliveryFailure;
}

describe('outbound webhooks to a real receiver', () => {
  it('signs with every configured secret, sends the envelope under the effect key and records the attempt', async () => {
    const shop = await receiver();
    const sent = message('wh-signed');
    await new WebhookChannel(sender(shop.url), db.pool).deliver(sent, activityAttempt());
    expect(shop.badSignatures).toBe(0);
    expect(shop.received).toHaveLength(1);
    const [got] = shop.received;
    expect(got!.id).toBe(sent.key);
    expect(got!.type).toBe('message.send');
    expect(got!.data).toEqual({ caseId: 'wh-signed', stepId: sent.stepId, channel: 'chat', recipient: { kind: 'buyer' }, template: 'hello', body: sent.body });
    expect(String(got!.headers['webhook-signature']).split(' ')).toHaveLength(2);
    // A receiver holding only the next secret (after the rotation) verifies it too.
    const rotated = await receiver(undefined, [secrets[1]!]);
    await new WebhookChannel(sender(rotated.url), db.pool).deliver(message('wh-signed'), activityAttempt());
    expect([rotated.badSignatures, rotated.received.length]).toEqual([0, 1]);
    expect(await attemptsOf(db.pool, sent.key)).toMatchObject([
      {
        destination: 'shop',
        caseId: 'wh-signed',
        stepId: sent.stepId,
        type: 'message.send',
        attempt: 1,
        httpStatus: 200,
        errorKind: null,
        outcome: 'delivered',
      },
    ]);
  });

  it('a receiver answering 500 three times, then 200, is asked on the schedule and pays one refund', async () => {
    let answered = 0;
    const references = new Map<string, string>();
    const provider = await receiver((got) => {
      answered += 1;
      if (answered <= 3) return { status: 500, body: { error: 'down for maintenance' } };
      if (!references.has(got.id)) references.set(got.id, `R-${references.size + 1}`);
      return { status: 200, body: { status: 'issued', reference: references.get(got.id) } };
    });
    const payments = new WebhookPayments(sender(provider.url, {}, { failuresToOpen: 10 }));
    const request = refundRequest('wh-refund');
    const delays: (number | undefined)[] = [];
    for (let i = 0; i < 3; i++) delays.push((await failure(payments.refund(request, activityAttempt(i + 2)))).retryInMs);
    expect(delays).toEqual([RETRY_SCHEDULE_MS[1], RETRY_SCHEDULE_MS[2], RETRY_SCHEDULE_MS[3]]);
    expect(await payments.refund(request, activityAttempt(5))).toEqual({ issued: true, providerReference: 'R-1' });
    expect(new Set(provider.received.map((r) => r.id))).toEqual(new Set([request.key]));
    expect(provider.received[0]!.data).toMatchObject({ amount: 1_500, currency: 'CNY', order: 'wh-refund', covers: 'payment' });
    const attempts = await attemptsOf(db.pool, request.key);
    expect(attempts.map((a) => [a.attempt, a.httpStatus, a.outcome])).toEqual([
      [1, 500, 'failed'],
      [2, 500, 'failed'],
      [3, 500, 'failed'],
      [4, 200, 'delivered'],
    ]);
    expect(attempts[0]!.responseExcerpt).toBe('{"error":"down for maintenance"}');
  });

  it('reads declined and pending answers; a refusal (4xx) is a decline; pending is settled by the provider later', async () => {
    const answers = [{ status: 'declined', reason: 'card closed' }, { status: 'pending' }];
    const provider = await receiver((got) =>
      got.data.amount === 999 ? { status: 422, body: { error: 'bad amount' } } : { status: 200, body: answers.shift() },
    );
    const payments = new WebhookPayments(sender(provider.url));
    expect(await payments.refund(refundRequest('wh-declined'), activityAttempt())).toEqual({ issued: false, declineReason: 'card closed' });
    expect(await payments.refund({ ...refundRequest('wh-refused'), amount: 999 }, activityAttempt())).toEqual({
      issued: false,
      declineReason: 'the payment provider refused the request (HTTP 422)',
    });
    const pending = refundRequest('wh-pending');
    expect((await failure(payments.refund(pending, activityAttempt()))).retryInMs).toBe(RETRY_SCHEDULE_MS[1]);
    expect((await attemptsOf(db.pool, pending.key)).map((a) => a.outcome)).toEqual(['pending']);
  });

  it('a refund still pending is asked again every 5 minutes at most, not on the schedule of a failing receiver', async () => {
    const provider = await receiver(() => ({ status: 200, body: { status: 'pending' } }));
    const payments = new WebhookPayments(sender(provider.url));
    const request = refundRequest('wh-pending-long');
    const delays: (number | undefined)[] = [];
    for (let i = 0; i < 5; i++) delays.push((await failure(payments.refund(request, activityAttempt(i + 2)))).retryInMs);
    expect(delays).toEqual([RETRY_SCHEDULE_MS[1], PENDING_ASK_MS, PENDING_ASK_MS, PENDING_ASK_MS, PENDING_ASK_MS]);
    expect(PENDING_ASK_MS).toBeLessThan(RETRY_SCHEDULE_MS[3]!);
    expect(new Set(provider.received.map((r) => r.id))).toEqual(new Set([request.key]));
  });

  it('a pending refund settled by the provider is found settled on the next ask, which asks no more', async () => {
    const provider = await receiver(() => ({ status: 200, body: { status: 'pending' } }));
    const payments = new WebhookPayments(sender(provider.url));
    const request = refundRequest('wh-settled');
    await recordOrderPayment(db.pool, { orderId: request.orderId!, amount: 5_000, currency: 'CNY' }, request.caseId);
    const activities = createActivities(db.pool, { ...composeAdapters(LOCAL_CONNECTORS, db.pool), payments });
    const pending = await activities.issueRefund(request).catch((e: unknown) => e);
    expect(pending).toMatchObject({ type: FAILURE_TYPES.DeliveryFailed, nonRetryable: false, nextRetryDelay: RETRY_SCHEDULE_MS[1] });
    expect(await settleProviderRefund(db.pool, { key: request.key, status: 'issued', reference: 'PSP-77' })).toMatchObject({
      result: 'settled',
      refund: { status: 'issued', providerReference: 'PSP-77' },
    });
    expect(await settleProviderRefund(db.pool, { key: request.key, status: 'declined', reason: 'late' })).toMatchObject({
      result: 'unchanged',
      refund: { status: 'issued', providerReference: 'PSP-77' },
    });
    expect(await activities.issueRefund(request)).toMatchObject({ providerReference: 'PSP-77' });
    expect(provider.received).toHaveLength(1);
    expect(await settleProviderRefund(db.pool, { key: 'no-such-refund', status: 'issued', reference: 'X' })).toEqual({ result: 'unknown' });
  });

  it('writes an order note with its flag', async () => {
    const orders = await receiver();
    const note = { key: 'wh-note/approve/1', caseId: 'wh-note', orderId: 'TB-9', remark: 'exchange approved', flag: 'purple' as const };
    await new WebhookOrderSystem(sender(orders.url)).writeNote(note, activityAttempt());
    expect(orders.received).toMatchObject([
      { id: 'wh-note/approve/1', type: 'order.note', data: { caseId: 'wh-note', order: 'TB-9', remark: 'exchange approved', flag: 'purple' } },
    ]);
    expect(await attemptsOf(db.pool, note.key)).toMatchObject([{ stepId: 'approve', type: 'order.note', outcome: 'delivered' }]);
  });

  it('an integration call answers the parsed JSON body', async () => {
    const warehouse = await receiver((got) => ({ status: 200, body: { shipped: true, echo: got.data.input } }));
    const gateway = new WebhookIntegrations(sender(warehouse.url));
    const request = { key: 'wh-call/ship/1', caseId: 'wh-call', stepId: 'ship', integration: 'warehouse', operation: 'ship', input: { sku: 'A-1' } };
    expect(await gateway.call(request, activityAttempt())).toEqual({ shipped: true, echo: { sku: 'A-1' } });
    expect(warehouse.received[0]).toMatchObject({ type: 'integration.call', data: { integration: 'warehouse', operation: 'ship', input: { sku: 'A-1' } } });
  });

  it('does not follow a redirect: a 3xx is a failed attempt', async () => {
    const elsewhere = await receiver();
    const redirecting = await receiver(() => ({ status: 307, headers: { location: elsewhere.url } }));
    const sent = message('wh-redirect');
    expect((await failure(new WebhookChannel(sender(redirecting.url), db.pool).deliver(sent, activityAttempt()))).retryInMs).toBe(RETRY_SCHEDULE_MS[1]);
    expect(elsewhere.received).toHaveLength(0);
    expect(await attemptsOf(db.pool, sent.key)).toMatchObject([{ httpStatus: 307, errorKind: 'redirect', outcome: 'failed' }]);
  });

  it('refuses a loopback address, literal or resolved, unless the destination allows it', async () => {
    const shop = await receiver();
    const port = new URL(shop.url).port;
    for (const host of ['127.0.0.1', 'localhost', '[::ffff:127.0.0.1]']) {
      const sent = message('wh-private');
      await failure(new WebhookChannel(sender(`http://${host}:${port}/hook`, { allowPrivateAddress: false }), db.pool).deliver(sent, activityAttempt()));
      expect(await attemptsOf(db.pool, sent.key)).toMatchObject([{ httpStatus: null, errorKind: 'private_address', outcome: 'failed' }]);
    }
    expect(shop.received).toHaveLength(0);
  });

  it('cuts a huge or endless answer at max_response_bytes and a trickling one at the timeout', async () => {
    const endless = await receiver(() => (response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(16_384, 'x');
      const pour = () => {
        while (!response.destroyed && response.write(chunk));
        if (!response.destroyed) response.once('drain', pour);
      };
      pour();
    });
    const huge = message('wh-huge');
    const began = performance.now();
    await failure(new WebhookChannel(sender(endless.url, { maxResponseBytes: 65_536 }), db.pool).deliver(huge, activityAttempt()));
    expect(performance.now() - began).toBeLessThan(1_500);
    expect(await attemptsOf(db.pool, huge.key)).toMatchObject([{ httpStatus: 200, errorKind: 'too_large', outcome: 'failed' }]);
    await expect.poll(() => endless.cutAnswers, { timeout: 2_000 }).toBe(1);

    const trickling = await receiver(() => (response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const drip = setInterval(() => (response.destroyed ? clearInterval(drip) : response.write(' ')), 50);
    });
    const slow = message('wh-trickle');
    const started = performance.now();
    await failure(new WebhookChannel(sender(trickling.url, { timeoutMs: 500 }), db.pool).deliver(slow, activityAttempt()));
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(await attemptsOf(db.pool, slow.key)).toMatchObject([{ errorKind: 'timeout', outcome: 'failed' }]);
  });

  it('a 4xx is refused for good; 408, 409 and 429 are retried', async () => {
    const statuses = [400, 408, 409, 429, 404];
    const shop = await receiver(() => ({ status: statuses.shift()! }));
    const channel = new WebhookChannel(sender(shop.url), db.pool);
    const retried = [];
    for (let i = 0; i < 5; i++) retried.push((await failure(channel.deliver(message('wh-4xx'), activityAttempt()))).retryInMs !== undefined);
    expect(retried).toEqual([false, true, true, true, false]);
  });

  it('opens the circuit after failures in a row and lets one trial through when it half-opens', async () => {
    let healthy = false;
    const shop = await receiver(() => ({ status: healthy ? 200 : 503 }));
    const channel = new WebhookChannel(sender(shop.url, {}, { failuresToOpen: 3, openMs: 300 }), db.pool);
    for (let i = 0; i < 4; i++) await failure(channel.deliver(message('wh-breaker'), activityAttempt()));
    expect(shop.received).toHaveLength(3);
    const refused = (await db.pool.query(`SELECT error_kind FROM webhook_attempts WHERE case_id = 'wh-breaker' ORDER BY id`)).rows.map((r) => r.error_kind);
    expect(refused).toEqual(['status', 'status', 'status', 'circuit_open']);
    await new Promise((resolve) => setTimeout(resolve, 350));
    healthy = true;
    await channel.deliver(message('wh-breaker'), activityAttempt());
    await channel.deliver(message('wh-breaker'), activityAttempt());
    expect(shop.received).toHaveLength(5);
  });

  it('bounds the requests in flight to a hanging receiver; another destination is not slowed', async () => {
    const releases: (() => void)[] = [];
    const hanging = await receiver(() => (response) => releases.push(() => response.writeHead(200).end()));
    const healthy = await receiver();
    const stuck = new WebhookChannel(sender(hanging.url, { timeoutMs: 5_000 }, { maxInFlight: 2, slotWaitMs: 200 }), db.pool);
    const held = [stuck.deliver(message('wh-hang'), activityAttempt()), stuck.deliver(message('wh-hang'), activityAttempt())];
    await expect.poll(() => hanging.received.length).toBe(2);
    const began = performance.now();
    const busy = await failure(stuck.deliver(message('wh-hang'), activityAttempt()));
    expect(busy.message).toContain('in flight');
    expect(performance.now() - began).toBeGreaterThanOrEqual(190);
    // Inside a workflow task it does not wait, and no attempt is counted: the activity makes it at once.
    const inTask = message('wh-hang');
    const deferred = await failure(stuck.deliver(inTask, { inWorkflowTask: true, activityAttempt: 1, scheduledAt: Date.now() }));
    expect(deferred.retryInMs).toBe(0);
    expect(await attemptsOf(db.pool, inTask.key)).toEqual([]);
    await new WebhookChannel(sender(healthy.url), db.pool).deliver(message('wh-other'), activityAttempt());
    expect(performance.now() - began).toBeLessThan(700);
    // A request that finds the slots taken gets the first one freed within its wait.
    const waiter = stuck.deliver(message('wh-hang'), activityAttempt());
    await new Promise((resolve) => setTimeout(resolve, 50));
    releases.shift()!();
    await expect.poll(() => hanging.received.length).toBe(3);
    for (const release of releases) release();
    await Promise.all([...held, waiter]);
  });

  it('is out of attempts after the eighth, and never retries past the deadline', async () => {
    const down = await receiver(() => ({ status: 502 }));
    const channel = new WebhookChannel(sender(down.url, {}, { failuresToOpen: 100 }), db.pool);
    const sent = message('wh-exhausted');
    const delays = [];
    for (let i = 0; i < 8; i++) delays.push((await failure(channel.deliver(sent, activityAttempt(i + 2)))).retryInMs);
    expect(delays).toEqual([...RETRY_SCHEDULE_MS.slice(1), undefined]);
    const ninth = await failure(channel.deliver(sent, activityAttempt(10)));
    expect([ninth.retryInMs, down.received.length]).toEqual([undefined, 8]);
    expect(ninth.message).toContain('out of attempts (8)');

    const notifications = new WebhookNotifications(sender(down.url, {}, { failuresToOpen: 100 }));
    const now = Date.now();
    const task = {
      key: 'wh-due/review/1',
      caseId: 'wh-due',
      stepId: 'review',
      role: 'agent',
      title: 'Review',
      outcomes: ['ok'],
      dueAt: new Date(now + 60_000).toISOString(),
    };
    const first = await failure(notifications.notify({ event: 'task.opened', taskId: 7, ...task }, activityAttempt()));
    expect(first.retryInMs).toBe(RETRY_SCHEDULE_MS[1]);
    const second = await failure(notifications.notify({ event: 'task.opened', taskId: 7, ...task }, activityAttempt(3)));
    expect(second.retryInMs).toBeUndefined();
    expect(second.message).toContain("after the step's deadline");
    expect(down.received.at(-1)).toMatchObject({
      id: 'wh-due/review/1/notified',
      type: 'notification',
      data: { event: 'task.opened', taskId: 7, role: 'agent' },
    });
  });

  it('inside the workflow task gives up after a short time; the activity waits its turn in the schedule', async () => {
    const slow = await receiver(async () => {
      await new Promise((resolve) => setTimeout(resolve, IN_TASK_TIMEOUT_MS + 1_000));
      return { status: 200 };
    });
    const channel = new WebhookChannel(sender(slow.url, { timeoutMs: 10_000 }), db.pool);
    const sent = message('wh-in-task');
    const began = performance.now();
    const inTask = await failure(channel.deliver(sent, { inWorkflowTask: true, activityAttempt: 1, scheduledAt: Date.now() }));
    expect(inTask.retryInMs).toBe(0);
    expect(performance.now() - began).toBeLessThan(IN_TASK_TIMEOUT_MS + 500);
    const waits = await failure(channel.deliver(sent, { inWorkflowTask: false, activityAttempt: 1, scheduledAt: Date.now() }));
    expect(waits.retryInMs).toBe(RETRY_SCHEDULE_MS[1]);
    expect(slow.received).toHaveLength(1);
    expect((await attemptsOf(db.pool, sent.key)).map((a) => [a.attempt, a.errorKind])).toEqual([[1, 'timeout']]);
  }, 15_000);

  it('pings a destination for config check, and names a missing secret variable, never a value', async () => {
    const shop = await receiver();
    expect(await sender(shop.url).ping()).toMatchObject({ ok: true, status: 200 });
    expect(shop.received[0]).toMatchObject({ type: 'casebook.ping', data: {} });
    const unset = await sender(shop.url, { secretVariables: ['SHOP_SECRET', 'UNSET_SECRET'] }).ping();
    expect(unset).toMatchObject({ ok: false, problem: 'the environment variable UNSET_SECRET is not set' });
  });

  it('a secret variable that holds no Standard Webhooks secret fails the attempt, naming the variable only', async () => {
    const shop = await receiver();
    env.SHOP_SECRET_BAD = 'hunter2 is not base64!';
    const sent = message('wh-bad-secret');
    const failed = await failure(new WebhookChannel(sender(shop.url, { secretVariables: ['SHOP_SECRET_BAD'] }), db.pool).deliver(sent, activityAttempt()));
    expect(failed.message).toContain('SHOP_SECRET_BAD does not hold a Standard Webhooks secret');
    expect(failed.message).not.toContain('hunter2');
    expect(failed.retryInMs).toBe(RETRY_SCHEDULE_MS[1]);
    expect(await attemptsOf(db.pool, sent.key)).toMatchObject([{ errorKind: 'secret', outcome: 'failed' }]);
    expect(shop.received).toHaveLength(0);
  });
});

function refundRequest(caseId: string): RefundRequest {
  return {
    key: `${caseId}/refund/1`,
    caseId,
    stepId: 'refund',
    orderId: caseId,
    amount: 1_500,
    currency: 'CNY',
    reason: 'test',
    covers: 'payment',
    deadlineAt: new Date(Date.now() + 86_400_000).toISOString(),
  };
}
