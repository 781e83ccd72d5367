/**
 * The event inbox over HTTP, on the real stack (time-skipping Temporal, a worker, Postgres): every
 * inbound event is written first, a warehouse receipt reaches the one open case waiting for it, a
 * receipt no case takes is kept and delivered later, replays answer duplicate (also after a crash),
 * and two candidate cases are named in a 409.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import { INTERRUPTED_AFTER_MS } from '../../src/cases/inbox.js';
import { deliverEventUpdate } from '../../src/case-contract/messages.js';
import { workflowIdFor } from '../../src/plan/case.js';
import type { HashedPlan } from '../../src/plan/plan.js';
import { validatePlaybook } from '../../src/playbook/index.js';
import { createApiKey, type Role } from '../../src/store/api-keys.js';
import { logCaseEvent } from '../../src/store/case-events.js';
import { assignInboxEntry, receiveInboundEvent } from '../../src/store/inbox.js';
import { publishPlaybook } from '../../src/store/playbooks.js';
import { openCase } from '../support/playbooks.js';
import { useRuntime } from '../support/runtime.js';
import { compileSmallPlaybook, openSmallCase, RECEIPT_THEN_REFUND } from '../support/small-playbooks.js';

const runtime = useRuntime();
let api: FastifyInstance;
const keys = {} as Record<Role, string>;

beforeAll(async () => {
  api = await buildApi({ pool: runtime.db.pool, cases: runtime.service, inbox: runtime.inbox, audit: runtime.audit, temporalReady: async () => true });
  for (const role of ['agent', 'warehouse', 'ops-lead', 'auditor'] as const) keys[role] = (await createApiKey(runtime.db.pool, role, `${role} inbox key`)).key;
});
afterAll(async () => {
  await api?.close();
});

function call(method: 'GET' | 'POST', url: string, key: string, body?: unknown): Promise<LightMyRequestResponse> {
  return api.inject({
    method,
    url,
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
  });
}

const receipt = (receiptId: string, orderId: string) => call('POST', '/v1/webhooks/warehouse', keys.warehouse, { receiptId, orderId, payload: {} });
const deliver = (inboxId: number, body: { caseId?: string } = {}) => call('POST', `/v1/inbox/${inboxId}/deliver`, keys.agent, body);
const answer = (response: LightMyRequestResponse) => [response.statusCode, response.json()];

/** Waits until the case (its workflow's live view) waits for exactly `types`. */
async function waitsFor(caseId: string, types: string[]): Promise<void> {
  await expect.poll(async () => (await runtime.service.describe(caseId))?.waitingFor, { timeout: 10_000 }).toEqual(types);
}

/** The case's outcome once it closed, from the projection (no time skipping while other cases wait). */
async function closedWith(caseId: string): Promise<unknown> {
  await expect
    .poll(async () => (await runtime.db.pool.query(`SELECT status FROM cases WHERE case_id = $1`, [caseId])).rows[0]?.status, { timeout: 20_000 })
    .toBe('closed');
  return (await runtime.db.pool.query(`SELECT outcome, reason FROM cases WHERE case_id = $1`, [caseId])).rows[0];
}

const refunds = async (caseId: string) =>
  (await runtime.db.pool.query(`SELECT amount FROM refunds WHERE case_id = $1 ORDER BY id`, [caseId])).rows.map((r) => Number(r.amount));
const acceptedEvents = async (caseId: string) =>
  (await runtime.db.pool.query(`SELECT event_id FROM case_events WHERE case_id = $1 ORDER BY event_id`, [caseId])).rows.map((r) => r.event_id);
const inboxRow = async (inboxId: number) =>
  (await runtime.db.pool.query(`SELECT source, event_id, type, status, routed_case_id, reason FROM event_inbox WHERE id = $1`, [inboxId])).rows[0];

/** A review case: it takes a buyer's reply and declares no warehouse event at all. */
const REVIEW = (() => {
  const result = validatePlaybook(
    `playbook: inbox-review
case_type: review
currency: CNY
timezone: UTC
fields:
  order_id: { type: string }
order_id_field: order_id
events:
  buyer.replied: { payload: {} }
steps:
  - id: wait_reply
    wait: { events: [{ event: buyer.replied }], timeout: 30d, on_timeout: done }
  - id: done
    end: { outcome: resolved, reason: replied }
`,
    'inbox-review.yaml',
  );
  if (!result.plan) throw new Error(JSON.stringify(result.diagnostics));
  return result.plan;
})();

/** A return that waits for the buyer's tracking number first, then for the receipt (not early), then refunds. */
const SHIPPED_THEN_RECEIPT = RECEIPT_THEN_REFUND.replace(
  '  warehouse.received: { payload: {} }',
  '  buyer.shipped: { payload: {} }\n  warehouse.received: { payload: {} }',
).replace('steps:\n', 'steps:\n  - id: wait_shipped\n    wait: { events: [{ event: buyer.shipped }], timeout: 30d, on_timeout: late }\n');

let receiptThenRefund: HashedPlan;
beforeAll(() => {
  receiptThenRefund = compileSmallPlaybook('inbox-return', RECEIPT_THEN_REFUND.replace('timeout: 10d', 'timeout: 30d'));
});

async function openReturn(caseId: string, orderId: string, plan = receiptThenRefund): Promise<void> {
  await openSmallCase(runtime.service, runtime.db.pool, plan, caseId, { order_id: orderId });
}

describe('warehouse receipts through the inbox', () => {
  it('reach the return case of the order, never its review case, and a replay answers duplicate', async () => {
    await openReturn('ret-100', 'TB-100');
    // Opened after the return: the newest open case of the order, which used to swallow the receipt.
    const review = (await publishPlaybook(runtime.db.pool, '', REVIEW, 'test')).version;
    await openCase(runtime.service, { caseId: 'rev-100', playbook: review.name, version: review.version, data: { order_id: 'TB-100' } });
    await waitsFor('ret-100', ['warehouse.received']);
    await waitsFor('rev-100', ['buyer.replied']);

    expect(answer(await receipt('wh-100', 'TB-100'))).toEqual([202, { status: 'accepted', caseId: 'ret-100' }]);
    expect(await closedWith('ret-100')).toEqual({ outcome: 'resolved', reason: 'refunded' });
    expect(await refunds('ret-100')).toEqual([1_000]);
    expect(await acceptedEvents('ret-100')).toEqual(['wh-100']);
    expect(await acceptedEvents('rev-100')).toEqual([]);
    await waitsFor('rev-100', ['buyer.replied']);

    expect(answer(await receipt('wh-100', 'TB-100'))).toEqual([200, { status: 'duplicate', caseId: 'ret-100' }]);
    const listed = (await call('GET', '/v1/inbox?orderId=TB-100', keys.agent)).json();
    expect(listed).toEqual({
      events: [
        {
          id: expect.any(Number),
          source: 'warehouse',
          eventId: 'wh-100',
          type: 'warehouse.received',
          payload: {},
          orderId: 'TB-100',
          by: { keyId: expect.any(String), name: 'warehouse inbox key' },
          receivedAt: expect.any(String),
          status: 'routed',
          routedCaseId: 'ret-100',
          reason: null,
          updatedAt: expect.any(String),
        },
      ],
      nextCursor: null,
    });
  });

  it('with no taker is kept as unrouted, listed for agents, and delivered once a case waits for it', async () => {
    const shippedFirst = compileSmallPlaybook('inbox-shipped-first', SHIPPED_THEN_RECEIPT);
    await openReturn('ret-200', 'TB-200', shippedFirst);
    await waitsFor('ret-200', ['buyer.shipped']);

    const early = await receipt('wh-200', 'TB-200');
    expect(early.statusCode).toBe(202);
    const { inboxId } = early.json();
    expect(early.json()).toEqual({
      status: 'unrouted',
      inboxId: expect.any(Number),
      reason: 'no open case of order TB-200 waits for warehouse.received: ret-200 (inbox-shipped-first) waits for buyer.shipped',
    });
    expect(answer(await receipt('wh-nobody', 'TB-NOBODY'))).toEqual([
      202,
      { status: 'unrouted', inboxId: expect.any(Number), reason: 'no case has order TB-NOBODY' },
    ]);

    const unrouted = (await call('GET', '/v1/inbox?status=unrouted', keys.agent)).json();
    expect(unrouted.events.map((e: { eventId: string }) => e.eventId)).toEqual(expect.arrayContaining(['wh-200', 'wh-nobody']));
    expect(unrouted.events.find((e: { id: number }) => e.id === inboxId)).toMatchObject({
      source: 'warehouse',
      orderId: 'TB-200',
      status: 'unrouted',
      routedCaseId: null,
    });

    // Nobody waits for it yet: delivering it again leaves it where it is.
    expect(answer(await deliver(inboxId))).toEqual([202, { status: 'unrouted', inboxId, reason: expect.stringContaining('waits for buyer.shipped') }]);
    expect(answer(await call('POST', '/v1/cases/ret-200/events', keys.agent, { type: 'buyer.shipped', id: 'ship-200', payload: {} }))).toEqual([
      202,
      { status: 'accepted' },
    ]);
    await waitsFor('ret-200', ['warehouse.received']);

    expect(answer(await deliver(inboxId))).toEqual([202, { status: 'accepted', caseId: 'ret-200' }]);
    expect(await closedWith('ret-200')).toEqual({ outcome: 'resolved', reason: 'refunded' });
    expect(await refunds('ret-200')).toEqual([1_000]);
    expect(await inboxRow(inboxId)).toMatchObject({ status: 'routed', routed_case_id: 'ret-200' });
    const stillUnrouted = (await call('GET', '/v1/inbox?status=unrouted', keys['ops-lead'])).json();
    expect(stillUnrouted.events.map((e: { eventId: string }) => e.eventId)).not.toContain('wh-200');

    // Delivered once: the agent's retry and the warehouse's replay are duplicates.
    expect(answer(await deliver(inboxId))).toEqual([200, { status: 'duplicate', caseId: 'ret-200' }]);
    expect(answer(await receipt('wh-200', 'TB-200'))).toEqual([200, { status: 'duplicate', caseId: 'ret-200' }]);
    expect(await refunds('ret-200')).toEqual([1_000]);
  });

  it('for a case that declares it early is delivered before the case waits for it', async () => {
    const early = compileSmallPlaybook(
      'inbox-early',
      SHIPPED_THEN_RECEIPT.replace('warehouse.received: { payload: {} }', 'warehouse.received: { early: true, payload: {} }'),
    );
    await openReturn('ret-250', 'TB-250', early);
    await waitsFor('ret-250', ['buyer.shipped']);
    expect(answer(await receipt('wh-250', 'TB-250'))).toEqual([202, { status: 'accepted', caseId: 'ret-250' }]);
    expect(answer(await call('POST', '/v1/cases/ret-250/events', keys.agent, { type: 'buyer.shipped', id: 'ship-250', payload: {} }))).toEqual([
      202,
      { status: 'accepted' },
    ]);
    expect(await closedWith('ret-250')).toEqual({ outcome: 'resolved', reason: 'refunded' });
  });

  it('answers duplicate after a crash, whether the crash came before the delivery or after it', async () => {
    await openReturn('ret-300', 'TB-300');
    await openReturn('ret-301', 'TB-301');
    await waitsFor('ret-300', ['warehouse.received']);
    await waitsFor('ret-301', ['warehouse.received']);

    // Crashed after writing the inbox row, before delivering: the replay delivers it.
    const stuck = await receiveInboundEvent(runtime.db.pool, {
      source: 'warehouse',
      eventId: 'wh-300',
      type: 'warehouse.received',
      payload: {},
      orderId: 'TB-300',
    });
    expect(stuck.status).toBe('received');
    expect(answer(await receipt('wh-300', 'TB-300'))).toEqual([202, { status: 'accepted', caseId: 'ret-300' }]);
    expect(answer(await receipt('wh-300', 'TB-300'))).toEqual([200, { status: 'duplicate', caseId: 'ret-300' }]);
    expect(await inboxRow(stuck.id)).toMatchObject({ status: 'routed', routed_case_id: 'ret-300' });
    // The case's event counts from when Casebook took it into the inbox, not from when the case's answer came back.
    const logged = await runtime.db.pool.query(
      `SELECT e.received_at = date_trunc('milliseconds', i.received_at) AS same FROM case_events e JOIN event_inbox i ON i.event_id = e.event_id WHERE e.event_id = 'wh-300'`,
    );
    expect(logged.rows).toEqual([{ same: true }]);

    // Crashed after the case took it, before the row said so: the replay goes to the case it was for, which has it.
    const taken = await receiveInboundEvent(runtime.db.pool, {
      source: 'warehouse',
      eventId: 'wh-301',
      type: 'warehouse.received',
      payload: {},
      orderId: 'TB-301',
    });
    await assignInboxEntry(runtime.db.pool, taken.id, 'ret-301');
    const event = { type: 'warehouse.received', id: 'wh-301', payload: {} };
    await runtime.env.client.workflow.getHandle(workflowIdFor('ret-301')).executeUpdate(deliverEventUpdate, { args: [event] });
    await logCaseEvent(runtime.db.pool, 'ret-301', event, taken.receivedAt);
    expect(answer(await receipt('wh-301', 'TB-301'))).toEqual([200, { status: 'duplicate', caseId: 'ret-301' }]);
    expect(await inboxRow(taken.id)).toMatchObject({ status: 'duplicate', routed_case_id: 'ret-301' });

    for (const caseId of ['ret-300', 'ret-301']) {
      expect(await closedWith(caseId)).toEqual({ outcome: 'resolved', reason: 'refunded' });
      expect(await refunds(caseId)).toEqual([1_000]);
    }
  });

  it('answers duplicate for an event its case took though a crash kept it out of case_events, and records it as the case took it', async () => {
    await openReturn('ret-310', 'TB-310');
    await waitsFor('ret-310', ['warehouse.received']);
    // The crash came after the case took the receipt, before case_events (or the inbox row) said so.
    const taken = await receiveInboundEvent(runtime.db.pool, {
      source: 'warehouse',
      eventId: 'wh-310',
      type: 'warehouse.received',
      payload: {},
      orderId: 'TB-310',
    });
    await assignInboxEntry(runtime.db.pool, taken.id, 'ret-310');
    const depot = { keyId: 'k-depot', name: 'Depot Hangzhou' };
    await runtime.env.client.workflow
      .getHandle(workflowIdFor('ret-310'))
      .executeUpdate(deliverEventUpdate, { args: [{ type: 'warehouse.received', id: 'wh-310', payload: {}, by: depot }] });
    expect(await closedWith('ret-310')).toEqual({ outcome: 'resolved', reason: 'refunded' });
    expect(await acceptedEvents('ret-310')).toEqual([]);

    // The warehouse sends it again (with another key): the closed case had it, so duplicate, recorded as the case took it.
    expect(answer(await receipt('wh-310', 'TB-310'))).toEqual([200, { status: 'duplicate', caseId: 'ret-310' }]);
    const { rows } = await runtime.db.pool.query(
      `SELECT e.payload, e.actor_key_id, e.actor_name, e.received_at = date_trunc('milliseconds', i.received_at) AS received_on_arrival
       FROM case_events e JOIN event_inbox i ON i.event_id = e.event_id WHERE e.case_id = 'ret-310'`,
    );
    expect(rows).toEqual([{ payload: {}, actor_key_id: 'k-depot', actor_name: 'Depot Hangzhou', received_on_arrival: true }]);
    const history = (await call('GET', '/v1/cases/ret-310/history', keys.auditor)).json();
    expect(history.events).toEqual([expect.objectContaining({ id: 'wh-310', type: 'warehouse.received', by: depot })]);
    expect(answer(await receipt('wh-310', 'TB-310'))).toEqual([200, { status: 'duplicate', caseId: 'ret-310' }]);
    expect(await refunds('ret-310')).toEqual([1_000]);

    // The same for an event sent to the case by name.
    await openReturn('ret-311', 'TB-311');
    await waitsFor('ret-311', ['warehouse.received']);
    await receiveInboundEvent(runtime.db.pool, { source: 'api', eventId: 'named-311', type: 'warehouse.received', payload: {}, targetCaseId: 'ret-311' });
    await runtime.env.client.workflow
      .getHandle(workflowIdFor('ret-311'))
      .executeUpdate(deliverEventUpdate, { args: [{ type: 'warehouse.received', id: 'named-311', payload: {}, by: depot }] });
    expect(await closedWith('ret-311')).toEqual({ outcome: 'resolved', reason: 'refunded' });
    expect(answer(await call('POST', '/v1/cases/ret-311/events', keys.warehouse, { type: 'warehouse.received', id: 'named-311', payload: {} }))).toEqual([
      200,
      { status: 'duplicate' },
    ]);
    expect(await acceptedEvents('ret-311')).toEqual(['named-311']);
    // An event the closed case never took is still refused as closed.
    expect((await call('POST', '/v1/cases/ret-311/events', keys.warehouse, { type: 'warehouse.received', id: 'other-311', payload: {} })).json()).toMatchObject(
      { type: 'https://casebook.dev/problems/case-closed', status: 409 },
    );
  });

  it('interrupted by a crash are finished by Casebook, as from their sender, without waiting for a resend', async () => {
    for (const n of [320, 321, 322]) await openReturn(`ret-${n}`, `TB-${n}`);
    for (const n of [320, 321, 322]) await waitsFor(`ret-${n}`, ['warehouse.received']);
    const depot = { keyId: 'k-depot', name: 'Depot Hangzhou' };
    const received = (n: number) =>
      receiveInboundEvent(runtime.db.pool, { source: 'warehouse', eventId: `wh-${n}`, type: 'warehouse.received', payload: {}, orderId: `TB-${n}`, by: depot });
    // The case took it, then the crash: case_events and the row never said so.
    const took = await received(320);
    await assignInboxEntry(runtime.db.pool, took.id, 'ret-320');
    await runtime.env.client.workflow
      .getHandle(workflowIdFor('ret-320'))
      .executeUpdate(deliverEventUpdate, { args: [{ type: 'warehouse.received', id: 'wh-320', payload: {}, by: depot }] });
    // The crash came after the case was chosen, before it took the event (or the Update was lost with the server's in-flight work).
    const chosen = await received(321);
    await assignInboxEntry(runtime.db.pool, chosen.id, 'ret-321');
    // The crash came before routing.
    const unrouted = await received(322);
    // Still being delivered, for all anyone knows.
    const fresh = await receiveInboundEvent(runtime.db.pool, {
      source: 'api',
      eventId: 'fresh-321',
      type: 'warehouse.received',
      payload: {},
      targetCaseId: 'ret-321',
    });
    expect(await closedWith('ret-320')).toEqual({ outcome: 'resolved', reason: 'refunded' });

    for (const { id } of [took, chosen, unrouted]) {
      await runtime.db.pool.query(`UPDATE event_inbox SET updated_at = now() - $2 * interval '1 millisecond' WHERE id = $1`, [
        id,
        INTERRUPTED_AFTER_MS + 1_000,
      ]);
    }
    expect(await runtime.inbox.settleInterrupted()).toEqual({ settled: 3, failed: [] });
    expect(await inboxRow(took.id)).toMatchObject({ status: 'duplicate', routed_case_id: 'ret-320' });
    expect(await inboxRow(chosen.id)).toMatchObject({ status: 'routed', routed_case_id: 'ret-321' });
    expect(await inboxRow(unrouted.id)).toMatchObject({ status: 'routed', routed_case_id: 'ret-322' });
    expect(await inboxRow(fresh.id)).toMatchObject({ status: 'received' });
    for (const n of [320, 321, 322]) {
      expect(await closedWith(`ret-${n}`)).toEqual({ outcome: 'resolved', reason: 'refunded' });
      expect(await refunds(`ret-${n}`)).toEqual([1_000]);
      const { rows } = await runtime.db.pool.query(`SELECT event_id, actor_key_id, actor_name FROM case_events WHERE case_id = $1`, [`ret-${n}`]);
      expect(rows).toEqual([{ event_id: `wh-${n}`, actor_key_id: 'k-depot', actor_name: 'Depot Hangzhou' }]);
    }
    expect(answer(await receipt('wh-321', 'TB-321'))).toEqual([200, { status: 'duplicate', caseId: 'ret-321' }]);
    expect(await runtime.inbox.settleInterrupted()).toEqual({ settled: 0, failed: [] });
  });

  it('sent 50 times at once are taken once and answered duplicate 49 times; 50 more once the case closed are all duplicate', async () => {
    await openReturn('ret-330', 'TB-330');
    await waitsFor('ret-330', ['warehouse.received']);
    const first = await Promise.all(Array.from({ length: 50 }, () => receipt('wh-330', 'TB-330')));
    const tally = (responses: LightMyRequestResponse[]) => {
      const counts: Record<string, number> = {};
      for (const [status, body] of responses.map(answer)) {
        const key = `${status} ${(body as { status?: string; type?: string }).status ?? (body as { type: string }).type}`;
        counts[key] = (counts[key] ?? 0) + 1;
      }
      return counts;
    };
    expect(tally(first)).toEqual({ '202 accepted': 1, '200 duplicate': 49 });
    expect(await closedWith('ret-330')).toEqual({ outcome: 'resolved', reason: 'refunded' });
    expect(tally(await Promise.all(Array.from({ length: 50 }, () => receipt('wh-330', 'TB-330'))))).toEqual({ '200 duplicate': 50 });
    expect(await acceptedEvents('ret-330')).toEqual(['wh-330']);
    expect(await refunds('ret-330')).toEqual([1_000]);

    // A case that ends on the receipt: the other 49 meet it closed, its workflow finished.
    const endsOnReceipt = compileSmallPlaybook('inbox-ends', RECEIPT_THEN_REFUND.replace('timeout: 10d', 'timeout: 30d').replace(/ {2}- id: refund\n.*\n/, ''));
    await openReturn('ret-331', 'TB-331', endsOnReceipt);
    await waitsFor('ret-331', ['warehouse.received']);
    expect(tally(await Promise.all(Array.from({ length: 50 }, () => receipt('wh-331', 'TB-331'))))).toEqual({ '202 accepted': 1, '200 duplicate': 49 });
    expect(await closedWith('ret-331')).toEqual({ outcome: 'resolved', reason: 'refunded' });
    expect(await acceptedEvents('ret-331')).toEqual(['wh-331']);
    // The same sent to the case by name.
    await openReturn('ret-332', 'TB-332', endsOnReceipt);
    await waitsFor('ret-332', ['warehouse.received']);
    const named = () => call('POST', '/v1/cases/ret-332/events', keys.warehouse, { type: 'warehouse.received', id: 'named-332', payload: {} });
    expect(tally(await Promise.all(Array.from({ length: 50 }, named)))).toEqual({ '202 accepted': 1, '200 duplicate': 49 });
    expect(tally(await Promise.all(Array.from({ length: 50 }, named)))).toEqual({ '200 duplicate': 50 });
  });

  it('with two open cases waiting for it answers 409 naming both, and an agent delivers it to one', async () => {
    await openReturn('ret-400a', 'TB-400');
    await openReturn('ret-400b', 'TB-400');
    await waitsFor('ret-400a', ['warehouse.received']);
    await waitsFor('ret-400b', ['warehouse.received']);

    const conflict = await receipt('wh-400', 'TB-400');
    expect(conflict.statusCode).toBe(409);
    expect(conflict.headers['content-type']).toContain('application/problem+json');
    const { inboxId } = conflict.json();
    expect(conflict.json()).toMatchObject({
      type: 'https://casebook.dev/problems/ambiguous-event',
      status: 409,
      inboxId: expect.any(Number),
      candidates: ['ret-400a', 'ret-400b'],
      detail: '2 open cases of order TB-400 wait for warehouse.received: ret-400a, ret-400b; deliver it to one of them',
    });
    expect(await inboxRow(inboxId)).toMatchObject({ status: 'unrouted', routed_case_id: null });
    expect((await receipt('wh-400', 'TB-400')).statusCode).toBe(409);

    expect(answer(await deliver(inboxId, { caseId: 'ret-400b' }))).toEqual([202, { status: 'accepted', caseId: 'ret-400b' }]);
    expect(await closedWith('ret-400b')).toEqual({ outcome: 'resolved', reason: 'refunded' });
    expect(await acceptedEvents('ret-400a')).toEqual([]);
    await waitsFor('ret-400a', ['warehouse.received']);
    expect(answer(await receipt('wh-400', 'TB-400'))).toEqual([200, { status: 'duplicate', caseId: 'ret-400b' }]);
  });
});

describe('events for a named case through the inbox', () => {
  it('are recorded with where they went; event ids stay per case', async () => {
    await openReturn('ret-500', 'TB-500');
    await openReturn('ret-501', 'TB-501');
    await waitsFor('ret-500', ['warehouse.received']);
    const refused = await call('POST', '/v1/cases/ret-500/events', keys.agent, { type: 'buyer.paid', id: 'evt-1', payload: {} });
    expect(refused.statusCode).toBe(409);
    // The same id for two cases is two events; each case takes its own.
    expect(answer(await call('POST', '/v1/cases/ret-500/events', keys.warehouse, { type: 'warehouse.received', id: 'same-id', payload: {} }))).toEqual([
      202,
      { status: 'accepted' },
    ]);
    expect(answer(await call('POST', '/v1/cases/ret-501/events', keys.warehouse, { type: 'warehouse.received', id: 'same-id', payload: {} }))).toEqual([
      202,
      { status: 'accepted' },
    ]);
    expect(answer(await call('POST', '/v1/cases/ret-501/events', keys.warehouse, { type: 'warehouse.received', id: 'same-id', payload: {} }))).toEqual([
      200,
      { status: 'duplicate' },
    ]);
    expect((await call('POST', '/v1/cases/no-such-case/events', keys.agent, { type: 'buyer.shipped', id: 'lost', payload: {} })).statusCode).toBe(404);

    const rows = (
      await runtime.db.pool.query(
        `SELECT target_case_id, event_id, status, routed_case_id, reason FROM event_inbox WHERE source = 'api' AND target_case_id IN ('ret-500', 'ret-501', 'no-such-case') ORDER BY id`,
      )
    ).rows;
    expect(rows).toEqual([
      {
        target_case_id: 'ret-500',
        event_id: 'evt-1',
        status: 'refused',
        routed_case_id: null,
        reason: expect.stringContaining("declares no event 'buyer.paid'"),
      },
      { target_case_id: 'ret-500', event_id: 'same-id', status: 'routed', routed_case_id: 'ret-500', reason: null },
      { target_case_id: 'ret-501', event_id: 'same-id', status: 'routed', routed_case_id: 'ret-501', reason: null },
      { target_case_id: 'no-such-case', event_id: 'lost', status: 'refused', routed_case_id: null, reason: 'no case no-such-case' },
    ]);
    for (const caseId of ['ret-500', 'ret-501']) expect(await closedWith(caseId)).toEqual({ outcome: 'resolved', reason: 'refunded' });
  });
});

describe('the inbox routes', () => {
  it('pages newest first by cursor and refuses cursors it did not issue', async () => {
    const first = (await call('GET', '/v1/inbox?limit=2', keys.agent)).json();
    expect(first.events).toHaveLength(2);
    expect(first.events[0].id).toBeGreaterThan(first.events[1].id);
    const second = (await call('GET', `/v1/inbox?limit=2&cursor=${first.nextCursor}`, keys.agent)).json();
    expect(second.events[0].id).toBeLessThan(first.events[1].id);
    const bad = await call('GET', '/v1/inbox?cursor=bm9wZQ', keys.agent);
    expect([bad.statusCode, bad.json().type]).toEqual([400, 'https://casebook.dev/problems/invalid-cursor']);
    expect((await call('GET', '/v1/inbox?status=lost', keys.agent)).statusCode).toBe(400);
  });

  it('answers 404 for an event the inbox does not have, and for a case that does not exist', async () => {
    const missing = await deliver(987_654);
    expect([missing.statusCode, missing.json().type]).toEqual([404, 'https://casebook.dev/problems/unknown-inbox-event']);
    const { inboxId } = (await receipt('wh-600', 'TB-600')).json();
    const noCase = await deliver(inboxId, { caseId: 'no-such-case' });
    expect([noCase.statusCode, noCase.json().type]).toEqual([404, 'https://casebook.dev/problems/unknown-case']);
    expect(await inboxRow(inboxId)).toMatchObject({ status: 'unrouted', reason: 'no case no-such-case' });
    expect((await deliver(inboxId, { caseId: '../x' } as { caseId: string })).statusCode).toBe(400);
    expect((await call('GET', '/v1/inbox', keys.auditor)).statusCode).toBe(403);
    expect((await call('POST', `/v1/inbox/${inboxId}/deliver`, keys.warehouse, {})).statusCode).toBe(403);
  });
});
