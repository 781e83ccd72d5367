/**
 * What an order can owe, on the real stack with the standard playbooks: all the refunds of one order,
 * every kind, every case, both playbooks, never give back more than was paid plus what the buyer
 * advanced, recorded with its evidence. The database enforces it for every writer.
 */
import { describe, expect, it } from 'vitest';
import { workflowIdFor, type CaseEvent, type CaseResult } from '../../src/plan/case.js';
import { orderLedger } from '../../src/store/orders.js';
import { openCase, publishStandardPlaybook, recordAdvance, returnCaseData } from '../support/playbooks.js';
import { useRuntime } from '../support/runtime.js';

const DAY = 86_400_000;
const PAID = { amount: 19_900, currency: 'CNY' };

const runtime = useRuntime(async ({ db }) => {
  for (const name of ['return', 'exchange']) await publishStandardPlaybook(db.pool, name);
});

const signedDaysAgo = async (days: number) => new Date((await runtime.env.currentTimeMs()) - days * DAY).toISOString();

async function deliverWhenAwaited(caseId: string, event: CaseEvent) {
  await expect.poll(async () => (await runtime.service.describe(caseId))?.waitingFor ?? [], { timeout: 20_000 }).toContain(event.type);
  expect(await runtime.inbox.deliverEvent(caseId, event)).toEqual({ status: 'accepted' });
}

const result = (caseId: string) => runtime.env.client.workflow.getHandle(workflowIdFor(caseId)).result() as Promise<CaseResult>;

/** A no-reason return of an item shipped free, the exchange offered declined: the whole payment is refunded once the warehouse has it. */
async function receiveReturn(caseId: string, orderId: string): Promise<void> {
  await openCase(runtime.service, {
    caseId,
    playbook: 'return',
    version: 1,
    data: returnCaseData(orderId, (await runtime.env.currentTimeMs()) - 2 * DAY, { shipped_free: true }),
  });
  await deliverWhenAwaited(caseId, { type: 'buyer.kept_return', id: `${caseId}-kept`, payload: {} });
  await deliverWhenAwaited(caseId, { type: 'warehouse.received', id: `${caseId}-rcv`, payload: { condition: 'resellable' } });
}

async function returnCase(caseId: string, orderId: string): Promise<CaseResult> {
  await receiveReturn(caseId, orderId);
  return result(caseId);
}

/** An exchange whose agent typed the wanted item's price as 0.00: the whole price comes back as a difference once the warehouse has the item. */
async function receiveExchange(caseId: string, orderId: string): Promise<void> {
  await openCase(runtime.service, {
    caseId,
    playbook: 'exchange',
    version: 1,
    data: {
      order_id: orderId,
      buyer_name: 'Sun',
      order_total: PAID,
      signed_at: await signedDaysAgo(2),
      exchange_type: 'non_quality',
      exchange_reason: 'wrong_size',
      wanted_item: 'Jacket L',
      original_price: PAID,
      wanted_price: { amount: 0, currency: 'CNY' },
    },
  });
  await deliverWhenAwaited(caseId, { type: 'agent.checked_resale', id: `${caseId}-chk`, payload: { resellable: true } });
  await deliverWhenAwaited(caseId, { type: 'buyer.shipped', id: `${caseId}-ship`, payload: { tracking_number: 'ZT1' } });
  await deliverWhenAwaited(caseId, { type: 'warehouse.received', id: `${caseId}-rcv`, payload: { condition: 'resellable' } });
}

/** The exchange to its end: declined and escalated, or the replacement shipped with its tracking number and received. */
async function exchangeCase(caseId: string, orderId: string): Promise<CaseResult> {
  await receiveExchange(caseId, orderId);
  const then = [
    { type: 'warehouse.shipped_replacement', id: `${caseId}-out`, payload: { tracking_number: 'YT1' } },
    { type: 'buyer.received_replacement', id: `${caseId}-got`, payload: {} },
  ];
  for (const event of then) {
    await expect
      .poll(
        async () => {
          const described = await runtime.service.describe(caseId);
          return described?.status !== 'open' || (described.waitingFor ?? []).includes(event.type);
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    if ((await runtime.service.describe(caseId))?.status === 'open') expect(await runtime.inbox.deliverEvent(caseId, event)).toEqual({ status: 'accepted' });
  }
  return result(caseId);
}

async function givenBack(orderId: string) {
  const { rows } = await runtime.db.pool.query<{ status: string; total: number; count: number }>(
    `SELECT status, sum(amount)::bigint AS total, count(*)::int AS count FROM refunds WHERE order_id = $1 GROUP BY status ORDER BY status`,
    [orderId],
  );
  return Object.fromEntries(rows.map((r) => [r.status, { total: r.total, count: r.count }]));
}

describe('what an order can owe', () => {
  it('exchange then return on one order: the price difference is paid, the return’s refund declined and escalated', async () => {
    expect(await exchangeCase('owe-ex-1', 'OWE-1')).toMatchObject({ outcome: 'resolved', reason: 'exchanged' });
    expect(await returnCase('owe-ret-1', 'OWE-1')).toMatchObject({ outcome: 'escalated', reason: 'refund_declined' });
    expect(await givenBack('OWE-1')).toEqual({ issued: { total: 19_900, count: 1 }, declined: { total: 19_900, count: 1 } });
    const declined = await runtime.db.pool.query(`SELECT case_id, decline_reason FROM refunds WHERE order_id = 'OWE-1' AND status = 'declined'`);
    expect(declined.rows[0]).toMatchObject({ case_id: 'owe-ret-1', decline_reason: expect.stringMatching(/would total 39800 > 19900 it can owe/) });
    const escalations = await runtime.db.pool.query(`SELECT reason FROM escalations WHERE case_id = 'owe-ret-1'`);
    expect(escalations.rows.map((r) => r.reason)).toContain('refund_declined');
  });

  it('return then exchange on one order: the payment is refunded, the price difference declined', async () => {
    expect(await returnCase('owe-ret-2', 'OWE-2')).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    expect(await exchangeCase('owe-ex-2', 'OWE-2')).toMatchObject({ outcome: 'escalated', reason: 'refund_declined' });
    expect(await givenBack('OWE-2')).toEqual({ issued: { total: 19_900, count: 1 }, declined: { total: 19_900, count: 1 } });
  });

  it('20 cases of one order across both playbooks at once give back what was paid, once', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? receiveExchange(`owe-many-ex-${i}`, 'OWE-20') : receiveReturn(`owe-many-ret-${i}`, 'OWE-20'))),
    );
    await expect
      .poll(
        async () => {
          const { rows } = await runtime.db.pool.query(`SELECT count(*)::int AS settled FROM refunds WHERE order_id = 'OWE-20' AND status <> 'requested'`);
          return rows[0].settled;
        },
        { timeout: 30_000 },
      )
      .toBe(20);
    expect(await givenBack('OWE-20')).toEqual({ issued: { total: 19_900, count: 1 }, declined: { total: 19 * 19_900, count: 19 } });
    expect(await orderLedger(runtime.db.pool, 'OWE-20')).toMatchObject({ paid: 19_900, advanced: 0, canOwe: 19_900, givenBack: 19_900 });
    await expect
      .poll(
        async () => {
          const { rows } = await runtime.db.pool.query(
            `SELECT count(*)::int AS declined FROM escalations WHERE case_id LIKE 'owe-many-%' AND reason = 'refund_declined'`,
          );
          return rows[0].declined;
        },
        { timeout: 30_000 },
      )
      .toBe(19);
  }, 120_000);

  it('what the buyer advanced, recorded with its evidence, is owed on top of the payment, and no more', async () => {
    expect(await returnCase('owe-ret-3', 'OWE-3')).toMatchObject({ reason: 'refunded' });
    await recordAdvance(runtime.db.pool, 'OWE-3', 1_200, 'waybill SF3');
    await recordAdvance(runtime.db.pool, 'OWE-3', 1_200, 'waybill SF3');
    const insert = (key: string, covers: string, amount: number) =>
      runtime.db.pool.query(
        `INSERT INTO refunds (idempotency_key, case_id, step_id, order_id, amount, currency, reason, covers, status)
       VALUES ($1, 'owe-ret-3', 'by-hand', 'OWE-3', $2, 'CNY', 'by hand', $3, 'requested')`,
        [key, amount, covers],
      );
    await expect(insert('owe-3-goodwill', 'goodwill', 1)).rejects.toThrow(/goodwill refunds on order OWE-3 would total 1 > cap 0/);
    await expect(insert('owe-3-shipping-over', 'return_shipping', 1_201)).rejects.toThrow(/return_shipping refunds on order OWE-3 would total 1201 > cap 1200/);
    await expect(insert('owe-3-shipping', 'return_shipping', 1_200)).resolves.toBeDefined();
    expect(await orderLedger(runtime.db.pool, 'OWE-3')).toMatchObject({ paid: 19_900, advanced: 1_200, canOwe: 21_100, givenBack: 21_100 });
  });

  it('the application’s role cannot insert a refund past what the order can owe, nor edit or delete an advance', async () => {
    const role = await runtime.db.pool.query(`SELECT current_user AS name`);
    expect(role.rows[0].name).toBe('casebook_app');
    await expect(
      runtime.db.pool.query(
        `INSERT INTO refunds (idempotency_key, case_id, step_id, order_id, amount, currency, reason, covers, status)
       VALUES ('owe-2-raw', 'owe-ret-2', 'raw', 'OWE-2', 100, 'CNY', 'raw insert', 'price_difference', 'issued')`,
      ),
    ).rejects.toThrow(/would total 20000 > 19900 it can owe/);
    await expect(runtime.db.pool.query(`UPDATE order_advances SET amount = 99999 WHERE order_id = 'OWE-3'`)).rejects.toThrow(/permission denied/);
    await expect(runtime.db.pool.query(`DELETE FROM order_advances WHERE order_id = 'OWE-3'`)).rejects.toThrow(/permission denied/);
  });
});
