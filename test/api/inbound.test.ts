/**
 * Signed inbound events on the real stack (time-skipping Temporal, a worker, Postgres, the API built
 * by composeApi): a marketplace refund request signed with Standard Webhooks opens one return case,
 * sent five times (one after another, or at once) still one; a bad signature, an old or future
 * timestamp, a missing header and an unknown source are 401 and store nothing; a rotation's second
 * secret is accepted; a signed warehouse event reaches its case through the inbox.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validatePlaybook } from '../../src/playbook/index.js';
import { publishPlaybook } from '../../src/store/playbooks.js';
import { findRefund, reserveRefund } from '../../src/store/refunds.js';
import { receiveSignedEvent } from '../../src/store/inbound-events.js';
import { buildApi } from '../../src/api/app.js';
import { composeApi, composeServices, type Services } from '../../src/stack/compose.js';
import { playbookPath, STANDARD_CALENDARS } from '../support/playbooks.js';
import { useRuntime } from '../support/runtime.js';

const secret = () => `whsec_${randomBytes(24).toString('base64')}`;
const SECRETS = { marketplace: secret(), marketplaceNext: secret(), warehouse: secret(), payments: secret() };
const VARIABLES = {
  CB_TEST_MARKETPLACE_SECRET: SECRETS.marketplace,
  CB_TEST_MARKETPLACE_SECRET_NEXT: SECRETS.marketplaceNext,
  CB_TEST_WAREHOUSE_SECRET: SECRETS.warehouse,
  CB_TEST_PAYMENTS_SECRET: SECRETS.payments,
};

/** The standard return playbook, opened by the marketplace's refund request unless the parcel never arrived. */
const OPENS_ON = `
opens_on:
  source: marketplace
  event: refund.requested
  payload:
    order_id: { type: string }
    buyer: { type: string }
    paid: { type: money }
    shipping_fee: { type: money }
    free_shipping: { type: boolean }
    signed_at: { type: timestamp }
    reason: { type: string }
    insured: { type: boolean, required: false }
  when: event.data.reason != "not_received"
  data:
    order_id: event.data.order_id
    buyer_name: event.data.buyer
    order_total: event.data.paid
    outbound_shipping: event.data.shipping_fee
    shipped_free: event.data.free_shipping
    signed_at: event.data.signed_at
    reason: event.data.reason
    shipping_insurance: 'has(event.data.insured) ? event.data.insured : false'
`;

/** A second playbook on the same event: quality complaints also open a review of the product, one open per order. */
const QUALITY_WATCH = `playbook: quality-watch
case_type: review
currency: CNY
fields:
  order_id: { type: string }
order_id_field: order_id
one_open_case_per: [order_id]
opens_on:
  source: marketplace
  event: refund.requested
  payload:
    order_id: { type: string }
    reason: { type: string }
  when: event.data.reason == "quality"
  data:
    order_id: event.data.order_id
events:
  product.reviewed: { payload: {} }
steps:
  - id: wait_review
    wait: { events: [{ event: product.reviewed }], timeout: 30d, on_timeout: done }
  - id: done
    end: { outcome: resolved, reason: reviewed }
`;

const runtime = useRuntime();
let api: FastifyInstance;
let services: Services;

beforeAll(async () => {
  Object.assign(process.env, VARIABLES);
  services = composeServices({
    client: runtime.env.client,
    pool: runtime.db.pool,
    inbound: {
      marketplace: { name: 'marketplace', secretVariables: ['CB_TEST_MARKETPLACE_SECRET', 'CB_TEST_MARKETPLACE_SECRET_NEXT'] },
      warehouse: { name: 'warehouse', secretVariables: ['CB_TEST_WAREHOUSE_SECRET'] },
      payments: { name: 'payments', secretVariables: ['CB_TEST_PAYMENTS_SECRET'] },
    },
  });
  api = await composeApi({ services, pool: runtime.db.pool });
  const source = readFileSync(playbookPath('return'), 'utf8') + OPENS_ON;
  const result = validatePlaybook(source, 'return.yaml', { calendars: STANDARD_CALENDARS });
  if (!result.plan) throw new Error(JSON.stringify(result.diagnostics));
  await publishPlaybook(runtime.db.pool, source, result.plan, 'test');
  const watch = validatePlaybook(QUALITY_WATCH, 'quality-watch.yaml');
  if (!watch.plan) throw new Error(JSON.stringify(watch.diagnostics));
  await publishPlaybook(runtime.db.pool, QUALITY_WATCH, watch.plan, 'test');
});
afterAll(async () => {
  await api?.close();
  for (const name of Object.keys(VARIABLES)) delete process.env[name];
});

interface Signing {
  id: string;
  secret?: string;
  /** Seconds from now the signed timestamp is. */
  offset?: number;
  headers?: Record<string, string>;
}

function post(source: string, body: unknown, signing: Signing, app: FastifyInstance = api): Promise<LightMyRequestResponse> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const at = new Date(Date.now() + (signing.offset ?? 0) * 1000);
  const signature = new Webhook(signing.secret ?? SECRETS.marketplace).sign(signing.id, at, text);
  return app.inject({
    method: 'POST',
    url: `/v1/inbound/${source}`,
    payload: text,
    headers: {
      'content-type': 'application/json',
      'webhook-id': signing.id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
      ...signing.headers,
    },
  });
}

const refundRequest = (orderId: string, overrides: Record<string, unknown> = {}) => ({
  type: 'refund.requested',
  timestamp: new Date().toISOString(),
  data: {
    order_id: orderId,
    buyer: 'Li Lei',
    paid: { amount: 19_900, currency: 'CNY' },
    shipping_fee: { amount: 1_000, currency: 'CNY' },
    free_shipping: false,
    signed_at: new Date(Date.now() - 2 * 86_400_000).toISOString(),
    reason: 'no_reason',
    marketplace_ticket: 'T-88',
    ...overrides,
  },
});

const count = async (sql: string, params: unknown[] = []) => Number((await runtime.db.pool.query(sql, params)).rows[0].count);
const casesOf = (orderId: string) => count(`SELECT count(*) FROM cases WHERE order_id = $1`, [orderId]);
const stored = async () => ({
  inbound: await count(`SELECT count(*) FROM inbound_events`),
  inbox: await count(`SELECT count(*) FROM event_inbox`),
  cases: await count(`SELECT count(*) FROM cases`),
});

describe('a signed marketplace refund request', () => {
  it('opens one return case, recorded as opened by the marketplace; sent five times, still one', async () => {
    const body = refundRequest('TB-7001');
    const first = await post('marketplace', body, { id: 'msg_7001' });
    expect(first.statusCode, first.body).toBe(201);
    const answer = first.json();
    expect(answer).toMatchObject({ status: 'opened', cases: [{ playbook: 'return', version: 1, created: true }] });
    const caseId = answer.cases[0].caseId as string;

    for (let i = 0; i < 4; i += 1) {
      const again = await post('marketplace', body, { id: 'msg_7001' });
      expect([again.statusCode, again.json()]).toEqual([200, { status: 'duplicate', webhookId: 'msg_7001', first: { status: 201, body: answer } }]);
    }
    expect(await casesOf('TB-7001')).toBe(1);
    expect(await count(`SELECT count(*) FROM inbound_events WHERE webhook_id = 'msg_7001'`)).toBe(1);
    const row = (await runtime.db.pool.query(`SELECT playbook, data FROM cases WHERE case_id = $1`, [caseId])).rows[0];
    expect(row.playbook).toBe('return');
    expect(row.data).toMatchObject({ order_id: 'TB-7001', buyer_name: 'Li Lei', order_total: { amount: 19_900, currency: 'CNY' }, shipping_insurance: false });
    const opened = (await runtime.db.pool.query(`SELECT actor_key_id, actor_name FROM audit_events WHERE case_id = $1 AND kind = 'opened'`, [caseId])).rows;
    expect(opened).toEqual([{ actor_key_id: null, actor_name: 'inbound:marketplace' }]);
    await expect.poll(async () => (await runtime.service.describe(caseId))?.waitingFor, { timeout: 10_000 }).toContain('buyer.kept_return');
  });

  it('sent five times at once, opens one case', async () => {
    const body = refundRequest('TB-7002');
    const answers = await Promise.all(Array.from({ length: 5 }, () => post('marketplace', body, { id: 'msg_7002' })));
    const statuses = answers.map((a) => a.statusCode).sort();
    expect(statuses.filter((s) => s === 201).length + statuses.filter((s) => s === 200).length).toBe(5);
    expect(await casesOf('TB-7002')).toBe(1);
    expect(await count(`SELECT count(*) FROM inbound_events WHERE webhook_id = 'msg_7002'`)).toBe(1);
    const caseIds = new Set(answers.map((a) => (a.json().cases ?? a.json().first.body.cases)[0].caseId));
    expect(caseIds.size).toBe(1);
  });

  it('is accepted when signed with the second secret of a rotation, or with a stale and a current signature', async () => {
    const rotated = await post('marketplace', refundRequest('TB-7003'), { id: 'msg_7003', secret: SECRETS.marketplaceNext });
    expect(rotated.statusCode, rotated.body).toBe(201);
    const body = JSON.stringify(refundRequest('TB-7004'));
    const at = new Date();
    const both = [new Webhook(secret()).sign('msg_7004', at, body), new Webhook(SECRETS.marketplace).sign('msg_7004', at, body)].join(' ');
    const twoSignatures = await post('marketplace', body, {
      id: 'msg_7004',
      headers: { 'webhook-signature': both, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)) },
    });
    expect(twoSignatures.statusCode, twoSignatures.body).toBe(201);
  });

  it('reads a webhook-timestamp with trailing text as the library verified it, not as a 500', async () => {
    const at = Math.floor(Date.now() / 1000);
    const body = JSON.stringify(refundRequest('TB-7008'));
    const signature = new Webhook(SECRETS.marketplace).sign('msg_7008', new Date(at * 1000), body);
    const response = await post('marketplace', body, { id: 'msg_7008', headers: { 'webhook-timestamp': `${at}x`, 'webhook-signature': signature } });
    expect(response.statusCode, response.body).toBe(201);
    const sentAt = (await runtime.db.pool.query(`SELECT sent_at FROM inbound_events WHERE webhook_id = 'msg_7008'`)).rows[0].sent_at as Date;
    expect(sentAt.getTime()).toBe(at * 1000);
  });

  it('opens nothing when the condition does not hold', async () => {
    const response = await post('marketplace', refundRequest('TB-7005', { reason: 'not_received' }), { id: 'msg_7005' });
    expect(response.statusCode).toBe(202);
    expect(response.json()).toMatchObject({ status: 'ignored', reason: expect.stringContaining('event.data.reason != "not_received"') });
    expect(await casesOf('TB-7005')).toBe(0);
  });

  it('whose mapping gives data the case refuses is 422 with the pointer, and opens nothing', async () => {
    const refused = await post('marketplace', refundRequest('TB-7006', { reason: 'lost_in_space' }), { id: 'msg_7006' });
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.json()).toMatchObject({
      type: 'https://casebook.dev/problems/invalid-case-data',
      playbook: 'return',
      errors: [{ pointer: '/data/reason', message: expect.stringContaining('must be one of') }],
    });
    const unreadable = await post('marketplace', refundRequest('TB-7007', { paid: { amount: 19_900, currency: 'USD' } }), { id: 'msg_7007' });
    expect(unreadable.statusCode, unreadable.body).toBe(422);
    expect(unreadable.json()).toMatchObject({ type: 'https://casebook.dev/problems/invalid-event', errors: [{ pointer: '/data/paid/currency' }] });
    expect(await casesOf('TB-7006')).toBe(0);
    expect(await casesOf('TB-7007')).toBe(0);
    const replay = await post('marketplace', refundRequest('TB-7006', { reason: 'lost_in_space' }), { id: 'msg_7006' });
    expect([replay.statusCode, replay.json().first.status]).toEqual([200, 422]);
  });
});

describe('several playbooks opening on one event', () => {
  it('each opens its case when its condition holds, each on its own: one refusing does not stop the others', async () => {
    const first = await post('marketplace', refundRequest('TB-7401', { reason: 'quality' }), { id: 'msg_7401' });
    expect(first.statusCode, first.body).toBe(201);
    const cases = first.json().cases as { caseId: string; playbook: string }[];
    expect(cases.map((c) => c.playbook)).toEqual(['quality-watch', 'return']);
    expect(await casesOf('TB-7401')).toBe(2);

    const second = await post('marketplace', refundRequest('TB-7401', { reason: 'quality' }), { id: 'msg_7402' });
    expect(second.statusCode, second.body).toBe(409);
    // quality-watch keeps one open case per order; the return playbook has no such rule and opens a second return.
    expect(second.json()).toMatchObject({
      type: 'https://casebook.dev/problems/duplicate-case',
      playbook: 'quality-watch',
      caseId: cases[0]!.caseId,
      opened: [{ playbook: 'return', created: true }],
    });
    expect(await casesOf('TB-7401')).toBe(3);
  });
});

describe('an event that is not signed by the source', () => {
  const refusals: [string, () => Promise<LightMyRequestResponse>, string][] = [
    ['a bad signature', () => post('marketplace', refundRequest('TB-7101'), { id: 'msg_7101', secret: secret() }), 'no webhook-signature matches'],
    ['a timestamp 6 minutes old', () => post('marketplace', refundRequest('TB-7102'), { id: 'msg_7102', offset: -360 }), 'more than 5 minutes old'],
    ['a timestamp 6 minutes ahead', () => post('marketplace', refundRequest('TB-7103'), { id: 'msg_7103', offset: 360 }), 'in the future'],
    ['no webhook-id', () => post('marketplace', refundRequest('TB-7104'), { id: 'msg_7104', headers: { 'webhook-id': '' } }), 'webhook-id header is missing'],
    ['an unknown source', () => post('payments-v2', refundRequest('TB-7105'), { id: 'msg_7105' }), 'no inbound source named payments-v2'],
    [
      'the warehouse signing as the marketplace',
      () => post('marketplace', refundRequest('TB-7106'), { id: 'msg_7106', secret: SECRETS.warehouse }),
      'no webhook-signature matches',
    ],
    [
      'a body changed after signing',
      async () => {
        const at = new Date();
        const signature = new Webhook(SECRETS.marketplace).sign('msg_7107', at, JSON.stringify(refundRequest('TB-7107')));
        return api.inject({
          method: 'POST',
          url: '/v1/inbound/marketplace',
          payload: JSON.stringify(refundRequest('TB-7107', { paid: { amount: 99_900, currency: 'CNY' } })),
          headers: {
            'content-type': 'application/json',
            'webhook-id': 'msg_7107',
            'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
            'webhook-signature': signature,
          },
        });
      },
      'no webhook-signature matches',
    ],
  ];

  it.each(refusals)('with %s is 401 invalid-signature and stores nothing', async (_what, send, detail) => {
    const before = await stored();
    const response = await send();
    expect(response.statusCode, response.body).toBe(401);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ type: 'https://casebook.dev/problems/invalid-signature', detail: expect.stringContaining(detail) });
    expect(await stored()).toEqual(before);
  });

  it('keeps the body limit: over 1 MiB is 413', async () => {
    const response = await post('marketplace', refundRequest('TB-7108', { padding: 'x'.repeat(1024 * 1024) }), { id: 'msg_7108' });
    expect(response.statusCode).toBe(413);
  });

  it('signed but not an event is 400 with the pointer, and stores nothing', async () => {
    const before = await stored();
    const notJson = await post('marketplace', '{"type": "refund.requested", ', { id: 'msg_7109' });
    expect([notJson.statusCode, notJson.json().type]).toEqual([400, 'https://casebook.dev/problems/malformed-json']);
    const noData = await post('marketplace', { type: 'refund.requested' }, { id: 'msg_7110' });
    expect([noData.statusCode, noData.json().errors]).toEqual([400, [{ pointer: '/data', message: 'data must be an object' }]]);
    expect(await stored()).toEqual(before);
  });
});

describe('a signed warehouse event', () => {
  it('is logged with the case it opened or reached, its source the actor, and the request id', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) };
    const dependencies = { pool: runtime.db.pool, ...services, temporalReady: async () => true };
    const logged = await buildApi(dependencies, { logger: { level: 'info', stream } });
    try {
      const opened = await post('marketplace', refundRequest('TB-7251'), { id: 'msg_7251', headers: { 'x-request-id': 'open-7251' } }, logged);
      const caseId = opened.json().cases[0].caseId as string;
      await expect.poll(async () => (await runtime.service.describe(caseId))?.waitingFor, { timeout: 10_000 }).toContain('buyer.kept_return');
      const receipt = { type: 'warehouse.received', data: { orderId: 'TB-7251', payload: { condition: 'resellable' } } };
      const headers = { 'x-request-id': 'wh-7251' };
      expect((await post('warehouse', receipt, { id: 'wh_7251', secret: SECRETS.warehouse, headers }, logged)).statusCode).toBe(202);
      expect(lines.filter((l) => l.caseId === caseId).map(({ msg, reqId, actor, eventType, eventId }) => ({ msg, reqId, actor, eventType, eventId }))).toEqual([
        { msg: 'case opened', reqId: 'open-7251', actor: { source: 'marketplace' }, eventType: 'refund.requested', eventId: 'msg_7251' },
        { msg: 'event accepted', reqId: 'wh-7251', actor: { source: 'warehouse' }, eventType: 'warehouse.received', eventId: 'wh_7251' },
      ]);
    } finally {
      await logged.close();
    }
  });

  it('reaches the case of its order through the event inbox, once', async () => {
    const opened = await post('marketplace', refundRequest('TB-7201'), { id: 'msg_7201' });
    const caseId = opened.json().cases[0].caseId as string;
    await expect.poll(async () => (await runtime.service.describe(caseId))?.waitingFor, { timeout: 10_000 }).toContain('buyer.kept_return');

    const receipt = { type: 'warehouse.received', data: { orderId: 'TB-7201', payload: { condition: 'resellable' } } };
    const delivered = await post('warehouse', receipt, { id: 'wh_7201', secret: SECRETS.warehouse });
    expect([delivered.statusCode, delivered.json()]).toEqual([202, { status: 'accepted', caseId }]);
    const again = await post('warehouse', receipt, { id: 'wh_7201', secret: SECRETS.warehouse });
    expect([again.statusCode, again.json()]).toEqual([
      200,
      { status: 'duplicate', webhookId: 'wh_7201', first: { status: 202, body: { status: 'accepted', caseId } } },
    ]);

    const inbox = (await runtime.db.pool.query(`SELECT source, event_id, type, status, routed_case_id, actor_name FROM event_inbox WHERE event_id = 'wh_7201'`))
      .rows;
    expect(inbox).toEqual([
      {
        source: 'inbound:warehouse',
        event_id: 'wh_7201',
        type: 'warehouse.received',
        status: 'routed',
        routed_case_id: caseId,
        actor_name: 'inbound:warehouse',
      },
    ]);
    const events = (await runtime.db.pool.query(`SELECT event_id, type FROM case_events WHERE case_id = $1`, [caseId])).rows;
    expect(events).toEqual([{ event_id: 'wh_7201', type: 'warehouse.received' }]);
  });

  it('naming its case reaches that case; naming a case that does not exist is 404 unknown-case', async () => {
    const opened = await post('marketplace', refundRequest('TB-7203'), { id: 'msg_7203' });
    const caseId = opened.json().cases[0].caseId as string;
    await expect.poll(async () => (await runtime.service.describe(caseId))?.waitingFor, { timeout: 10_000 }).toContain('buyer.kept_return');
    const shipped = { type: 'buyer.shipped', data: { caseId, payload: { tracking_number: 'SF-7203' } } };
    const delivered = await post('marketplace', shipped, { id: 'msg_7204' });
    expect([delivered.statusCode, delivered.json()]).toEqual([202, { status: 'accepted', caseId }]);
    const nobody = await post('marketplace', { type: 'buyer.shipped', data: { caseId: 'no-such-case', payload: {} } }, { id: 'msg_7205' });
    expect([nobody.statusCode, nobody.json().type]).toEqual([404, 'https://casebook.dev/problems/unknown-case']);
  });

  it('naming no case, order or tracking number, and opening none, is kept and answered ignored', async () => {
    const response = await post('warehouse', { type: 'warehouse.stocktake', data: { sku: 'A-1' } }, { id: 'wh_7202', secret: SECRETS.warehouse });
    expect([response.statusCode, response.json().status]).toEqual([202, 'ignored']);
    expect(await count(`SELECT count(*) FROM inbound_events WHERE webhook_id = 'wh_7202'`)).toBe(1);
  });
});

describe("the payment provider's refund.settled", () => {
  it('settles a pending refund once: a replay, or a later contrary event, changes nothing', async () => {
    const opened = await post('marketplace', refundRequest('TB-7301'), { id: 'msg_7301' });
    const caseId = opened.json().cases[0].caseId as string;
    const key = `${caseId}/refund_no_reason/1`;
    // As the refund activity reserves it before asking the provider, which answered pending.
    await reserveRefund(runtime.db.pool, {
      key,
      caseId,
      stepId: 'refund_no_reason',
      orderId: 'TB-7301',
      amount: 18_900,
      currency: 'CNY',
      reason: 'no_reason',
      covers: 'payment',
      deadlineAt: new Date(Date.now() + 86_400_000).toISOString(),
    });
    const settled = { type: 'refund.settled', data: { key, status: 'issued', reference: 'PAY-7301' } };
    const first = await post('payments', settled, { id: 'pay_7301', secret: SECRETS.payments });
    expect([first.statusCode, first.json()]).toEqual([200, { status: 'settled', key }]);
    expect(await findRefund(runtime.db.pool, key)).toMatchObject({ status: 'issued', providerReference: 'PAY-7301' });

    const replay = await post('payments', settled, { id: 'pay_7301', secret: SECRETS.payments });
    expect([replay.statusCode, replay.json()]).toEqual([
      200,
      { status: 'duplicate', webhookId: 'pay_7301', first: { status: 200, body: { status: 'settled', key } } },
    ]);
    const contrary = await post(
      'payments',
      { type: 'refund.settled', data: { key, status: 'declined', reason: 'late' } },
      { id: 'pay_7302', secret: SECRETS.payments },
    );
    expect([contrary.statusCode, contrary.json()]).toEqual([200, { status: 'unchanged', key }]);
    expect(await findRefund(runtime.db.pool, key)).toMatchObject({ status: 'issued', providerReference: 'PAY-7301' });
  });

  it('naming no refund, or without a reference, is 422 with the pointer', async () => {
    const unknown = await post(
      'payments',
      { type: 'refund.settled', data: { key: 'nope/1', status: 'issued', reference: 'X' } },
      { id: 'pay_7303', secret: SECRETS.payments },
    );
    expect([unknown.statusCode, unknown.json().errors[0].pointer]).toEqual([422, '/data/key']);
    const noReference = await post(
      'payments',
      { type: 'refund.settled', data: { key: 'nope/1', status: 'issued' } },
      { id: 'pay_7304', secret: SECRETS.payments },
    );
    expect([noReference.statusCode, noReference.json().errors[0].pointer]).toEqual([422, '/data/reference']);
  });

  it('from another source is not a settlement', async () => {
    const response = await post('marketplace', { type: 'refund.settled', data: { key: 'x', status: 'issued', reference: 'X' } }, { id: 'msg_7305' });
    expect([response.statusCode, response.json().status]).toEqual([202, 'ignored']);
  });
});

describe('an event a crash left unanswered', () => {
  it("is finished by Casebook itself, and the sender's retry then gets that answer", async () => {
    // Written, then the process died before the event was handled (as the route writes it).
    const body = refundRequest('TB-7501');
    await receiveSignedEvent(runtime.db.pool, {
      source: 'marketplace',
      webhookId: 'msg_7501',
      type: body.type,
      data: body.data,
      sentAt: new Date().toISOString(),
    });
    expect(await services.inbound.settleUnanswered()).toEqual({ settled: 0, failed: [] });
    await runtime.db.pool.query(`UPDATE inbound_events SET received_at = now() - interval '1 minute' WHERE webhook_id = 'msg_7501'`);

    expect(await services.inbound.settleUnanswered()).toEqual({ settled: 1, failed: [] });
    expect(await casesOf('TB-7501')).toBe(1);
    const retry = await post('marketplace', body, { id: 'msg_7501' });
    expect([retry.statusCode, retry.json().first.status, retry.json().first.body.status]).toEqual([200, 201, 'opened']);
    expect(await services.inbound.settleUnanswered()).toEqual({ settled: 0, failed: [] });
    expect(await casesOf('TB-7501')).toBe(1);
  });
});
