/**
 * The order ledger on the real stack: refunds of every case of an order count against one cap per kind,
 * enforced by the database; a late refund is still paid, once, and escalated; money and time values are
 * strict at case opening.
 */
import { describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import { createApiKey } from '../../src/store/api-keys.js';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import { FaultScript } from '../../src/scenarios/faults.js';
import { publishPlaybook } from '../../src/store/playbooks.js';
import { recordHistory } from '../support/histories.js';
import { useRuntime } from '../support/runtime.js';
import { validatePlaybook } from '../../src/playbook/index.js';
import { recordAdvance } from '../support/playbooks.js';
import { caseRecords } from '../support/records.js';

const faults = new FaultScript();
const runtime = useRuntime(async () => {}, { wrap: (adapters) => faults.wrap(adapters) });

async function result(caseId: string): Promise<CaseResult> {
  const handle = runtime.env.client.workflow.getHandle(workflowIdFor(caseId));
  const outcome = (await handle.result()) as CaseResult;
  if (caseId === 'late-1') await recordHistory(handle, 'refund-paid-late');
  return { ...outcome, steps: await caseRecords(runtime.db.pool, caseId) };
}
const refunds = async (caseId: string) =>
  (await runtime.db.pool.query(`SELECT amount, covers, status, order_id, late_at FROM refunds WHERE case_id = $1 ORDER BY id`, [caseId])).rows;

/** Refunds AMOUNT of kind KIND once the warehouse received the item; a refusal ends `declined`. */
const REFUND = `events:
  warehouse.received: { early: true, payload: {} }
steps:
  - id: wait_receipt
    wait: { events: [{ event: warehouse.received }], timeout: 10d, on_timeout: declined }
  - id: refund
    refund: { amount: "AMOUNT", covers: KIND, reason: test, within: 24h, from: warehouse.received, on_breach: paid_late, on_declined: declined }
  - id: done
    end: { outcome: resolved, reason: refunded }
  - id: paid_late
    end: { outcome: resolved, reason: refunded_late }
  - id: declined
    end: { outcome: escalated, reason: refund_declined }
`;
/** A playbook with a paid amount, an order id, an optional advanced return shipping and its caps. */
function playbook(name: string, amount: number, kind = 'payment', fields = '') {
  const source = `playbook: ${name}
case_type: return
currency: CNY
fields:
  paid: { type: money }
  order_id: { type: string }
  advanced: { type: money, required: false }
${fields}paid_field: paid
order_id_field: order_id
refund_caps: { return_shipping: [order.advanced_return_shipping, policy.max_return_shipping] }
policy:
  max_return_shipping: { amount: 3000, currency: CNY }
${REFUND.replace('AMOUNT', String(amount)).replace('KIND', kind)}`;
  const compiled = validatePlaybook(source, `${name}.yaml`).plan;
  if (!compiled) throw new Error(`${name} does not compile`);
  return compiled;
}

async function open(name: string, compiled: ReturnType<typeof playbook>, caseId: string, data: Record<string, unknown>) {
  const { version } = await publishPlaybook(runtime.db.pool, '', compiled, 'test');
  return runtime.service.open({ caseId, playbook: name, version: version.version, data });
}

/** Opens the case, records what its buyer advanced (when given), then the warehouse receives the item. */
async function openAndReceive(
  name: string,
  compiled: ReturnType<typeof playbook>,
  caseId: string,
  data: Record<string, unknown>,
  advance?: { amount: number; evidence: string },
) {
  expect(await open(name, compiled, caseId, data)).toMatchObject({ kind: 'opened', created: true });
  if (advance) await recordAdvance(runtime.db.pool, data.order_id as string, advance.amount, advance.evidence);
  expect(await runtime.inbox.deliverEvent(caseId, { type: 'warehouse.received', id: `${caseId}-receipt`, payload: {} })).toEqual({ status: 'accepted' });
  return result(caseId);
}

const PAID = { amount: 19_900, currency: 'CNY' };

describe('one ledger per order', () => {
  it('two cases of one order cannot refund more than was paid', async () => {
    const first = playbook('ledger-a', 15_000);
    const second = playbook('ledger-b', 10_000);
    expect(await openAndReceive('ledger-a', first, 'order-1-a', { paid: PAID, order_id: 'ORDER-1' })).toMatchObject({ reason: 'refunded' });
    expect(await openAndReceive('ledger-b', second, 'order-1-b', { paid: PAID, order_id: 'ORDER-1' })).toMatchObject({ reason: 'refund_declined' });
    expect(await refunds('order-1-a')).toMatchObject([{ amount: 15_000, status: 'issued', order_id: 'ORDER-1' }]);
    expect(await refunds('order-1-b')).toMatchObject([{ amount: 10_000, status: 'declined', order_id: 'ORDER-1' }]);
    const issued = await runtime.db.pool.query(`SELECT sum(amount)::int AS total FROM refunds WHERE order_id = 'ORDER-1' AND status = 'issued'`);
    expect(issued.rows[0].total).toBe(15_000);
  });

  it('return shipping cannot exceed what the buyer advanced as recorded, nor the policy maximum, whatever the case data says', async () => {
    const over = playbook('shipping-over', 1_600, 'return_shipping');
    const within = playbook('shipping-within', 1_500, 'return_shipping');
    const claimed = { amount: 40_000, currency: 'CNY' };
    const waybill = { amount: 1_500, evidence: 'waybill SF2' };
    expect(await openAndReceive('shipping-over', over, 'ship-over', { paid: PAID, order_id: 'ORDER-2', advanced: claimed }, waybill)).toMatchObject({
      reason: 'refund_declined',
    });
    expect(await openAndReceive('shipping-within', within, 'ship-within', { paid: PAID, order_id: 'ORDER-2', advanced: claimed })).toMatchObject({
      reason: 'refunded',
    });
    const overPolicy = playbook('shipping-policy', 3_500, 'return_shipping');
    expect(
      await openAndReceive('shipping-policy', overPolicy, 'ship-policy', { paid: PAID, order_id: 'ORDER-3' }, { amount: 5_000, evidence: 'waybill SF3' }),
    ).toMatchObject({ reason: 'refund_declined' });
    expect(await refunds('ship-policy')).toMatchObject([{ amount: 3_500, covers: 'return_shipping', status: 'declined' }]);
    const unrecorded = playbook('shipping-unrecorded', 100, 'return_shipping');
    expect(await openAndReceive('shipping-unrecorded', unrecorded, 'ship-unrecorded', { paid: PAID, order_id: 'ORDER-4', advanced: claimed })).toMatchObject({
      reason: 'refund_declined',
    });
  });

  it('the order’s ledger shows what was paid and every refund of its cases, by kind', async () => {
    const api = await buildApi({ pool: runtime.db.pool, cases: runtime.service, inbox: runtime.inbox, audit: runtime.audit, temporalReady: async () => true });
    try {
      const { key } = await createApiKey(runtime.db.pool, 'auditor', 'Zhao');
      const response = await api.inject({ method: 'GET', url: '/v1/orders/ORDER-1/ledger', headers: { authorization: `Bearer ${key}` } });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({
        orderId: 'ORDER-1',
        currency: 'CNY',
        paid: 19_900,
        advanced: 0,
        canOwe: 19_900,
        givenBack: 15_000,
        advances: [],
        kinds: [
          { kind: 'payment', cap: 19_900, policyCap: null, refunded: 15_000, requested: 0 },
          { kind: 'return_shipping', cap: 0, policyCap: 3_000, refunded: 0 },
          { kind: 'price_difference', cap: 0 },
          { kind: 'goodwill', cap: 0 },
        ],
        refunds: [
          { caseId: 'order-1-a', amount: 15_000, status: 'issued' },
          { caseId: 'order-1-b', amount: 10_000, status: 'declined' },
        ],
      });
      const unknown = await api.inject({ method: 'GET', url: '/v1/orders/NOPE/ledger', headers: { authorization: `Bearer ${key}` } });
      expect(unknown.statusCode).toBe(404);
    } finally {
      await api.close();
    }
  });

  it('the warehouse records what a buyer advanced, once per evidence; an agent may not', async () => {
    const api = await buildApi({ pool: runtime.db.pool, cases: runtime.service, inbox: runtime.inbox, audit: runtime.audit, temporalReady: async () => true });
    try {
      const warehouse = (await createApiKey(runtime.db.pool, 'warehouse', 'Wu, warehouse')).key;
      const agent = (await createApiKey(runtime.db.pool, 'agent', 'Lei')).key;
      const post = (key: string, orderId: string, body: Record<string, unknown>) =>
        api.inject({ method: 'POST', url: `/v1/orders/${orderId}/advances`, headers: { authorization: `Bearer ${key}` }, payload: body });
      const advance = { kind: 'return_shipping', amount: 1_200, currency: 'CNY', evidence: 'waybill SF1 (freight prepaid)' };
      const first = await post(warehouse, 'ORDER-1', advance);
      expect(first.statusCode).toBe(201);
      expect(first.json()).toMatchObject({
        paid: 19_900,
        advanced: 1_200,
        canOwe: 21_100,
        advances: [{ amount: 1_200, evidence: advance.evidence, recordedBy: expect.stringMatching(/^Wu, warehouse \(key /) }],
      });
      const again = await post(warehouse, 'ORDER-1', advance);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toMatchObject({ advanced: 1_200 });
      expect((await post(agent, 'ORDER-1', { ...advance, evidence: 'typed by an agent' })).statusCode).toBe(403);
      expect((await post(warehouse, 'NOPE', advance)).json()).toMatchObject({ status: 404, type: expect.stringMatching(/unknown-order$/) });
      const otherCurrency = await post(warehouse, 'ORDER-1', { ...advance, currency: 'USD', evidence: 'waybill SF1b' });
      expect(otherCurrency.statusCode).toBe(422);
      expect(otherCurrency.json()).toMatchObject({ type: expect.stringMatching(/invalid-advance$/), errors: [{ pointer: '/currency' }] });
      const huge = await post(warehouse, 'ORDER-1', { ...advance, amount: 2 ** 53, evidence: 'waybill SF1c' });
      expect(huge.statusCode).toBe(400);
      expect((await post(warehouse, 'ORDER-1', { ...advance, evidence: '   ' })).statusCode).toBe(400);
    } finally {
      await api.close();
    }
  });

  it('the database refuses a refund past its cap, whoever writes it', async () => {
    const insert = (key: string, amount: number) =>
      runtime.db.pool.query(
        `INSERT INTO refunds (idempotency_key, case_id, step_id, order_id, amount, currency, reason, covers, status)
       VALUES ($1, 'order-1-a', 'manual', 'ORDER-1', $2, 'CNY', 'by hand', 'payment', 'issued')`,
        [key, amount],
      );
    await expect(insert('by-hand-1', 4_901)).rejects.toThrow(/would total 19901 > cap 19900/);
    await expect(insert('by-hand-2', 4_900)).resolves.toBeDefined();
  });

  it('a case that says its order was paid otherwise is refused at opening', async () => {
    const compiled = playbook('ledger-c', 100);
    const answer = await open('ledger-c', compiled, 'order-1-c', { paid: { amount: 29_900, currency: 'CNY' }, order_id: 'ORDER-1' });
    expect(answer).toMatchObject({ kind: 'invalid-data', problems: [{ pointer: '/data/paid', message: expect.stringMatching(/recorded as paid 19900 CNY/) }] });
    expect((await runtime.db.pool.query(`SELECT 1 FROM cases WHERE case_id = 'order-1-c'`)).rowCount).toBe(0);
  });
});

describe('late refunds', () => {
  it('a refund past its deadline with a recovering provider is paid late, once, and escalated', async () => {
    const compiled = playbook('late', 19_900);
    faults.set('late-1', { payments: 'down_until_late' });
    const outcome = await openAndReceive('late', compiled, 'late-1', { paid: PAID, order_id: 'ORDER-4' });
    expect(outcome).toMatchObject({ outcome: 'resolved', reason: 'refunded_late' });
    const rows = await refunds('late-1');
    expect(rows).toMatchObject([{ amount: 19_900, status: 'issued' }]);
    expect(rows[0].late_at).toBeInstanceOf(Date);
    const paid = await runtime.db.pool.query(`SELECT count(*)::int AS n FROM provider_refunds WHERE idempotency_key = 'late-1/refund/1'`);
    expect(paid.rows[0].n).toBe(1);
    const escalations = await runtime.db.pool.query(`SELECT queue, severity, reason FROM escalations WHERE case_id = 'late-1'`);
    expect(escalations.rows).toEqual([{ queue: 'finance', severity: 'critical', reason: 'refund_sla_breached' }]);
    const breach = outcome.steps.find((s) => s.step === 'refund' && s.detail?.late === true && 'breach' in (s.detail ?? {}))!;
    expect(Date.parse(breach.at)).toBeGreaterThanOrEqual(Date.parse(breach.detail!.breach as string));
  });
});

describe('strict values at case opening', () => {
  const strict = () => playbook('strict', 100, 'payment', '  signed_at: { type: timestamp }\n');
  const data = { paid: PAID, order_id: 'S-1', signed_at: '2026-11-24T10:00:00+08:00' };

  it('opens a case whose values are all right', async () => {
    expect(await open('strict', strict(), 'strict-ok', data)).toMatchObject({ kind: 'opened' });
  });

  it('refuses money in another currency than the playbook’s, with a JSON pointer', async () => {
    const answer = await open('strict', strict(), 'strict-1', { ...data, paid: { amount: 19_900, currency: 'JPY' } });
    expect(answer).toMatchObject({ kind: 'invalid-data', problems: [{ pointer: '/data/paid/currency' }] });
  });

  it.each([
    '2026-02-30T10:00:00Z',
    '2026-11-24T24:00:00Z',
    '0000-01-01T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-11-24T10:00:00+25:00',
    '2026-11-24T10:60:00Z',
  ])('refuses the impossible timestamp %s', async (timestamp) => {
    const answer = await open('strict', strict(), 'strict-2', { ...data, signed_at: timestamp });
    expect(answer).toMatchObject({ kind: 'invalid-data', problems: [{ pointer: '/data/signed_at' }] });
  });
});
