/**
 * GET /v1/figures on a seeded week of cases with known answers: 10 returns and 2 exchanges over 4
 * reasons, refunds paid 1 to 50 hours after the warehouse receipt (2 late), receipts never refunded
 * (late, or pending when younger than 24 hours, or owed nothing), presale orders paid after
 * 0 to 3 reminders, review recoveries closed every way, breached tasks, clocks and refunds, and the
 * cases of each day in Shanghai time. Rows are what the cases write (cases, case_events, refunds,
 * outbox_messages, tasks, escalations, audit_events), with the instants the figures read. Then the
 * same queries on a year of ~20,000 cases read a week by index.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import type { CaseAudit } from '../../src/cases/audit.js';
import type { EventInbox } from '../../src/cases/inbox.js';
import type { CaseService } from '../../src/cases/service.js';
import { createApiKey } from '../../src/store/api-keys.js';
import {
  casesPerDay,
  escalationCounts,
  refundsAfterReceipt,
  returnAndExchangeReasons,
  reviewRecovery,
  slaBreaches,
  unpaidOrderReminders,
  type FigureFilter,
} from '../../src/store/figures.js';
import type { Queryable } from '../../src/store/transaction.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { seedYearOfCases } from '../support/figure-year.js';

const HOUR = 3_600_000;
/** An instant in Shanghai time, November 2026. */
const sh = (day: number, time = '10:00') => new Date(`2026-11-${String(day).padStart(2, '0')}T${time}:00+08:00`);
const later = (at: Date, hours: number) => new Date(at.getTime() + hours * HOUR);
const WEEK = 'from=2026-11-16&to=2026-11-23';
/** When the figures are read: the evening of the week's last day. */
const NOW = sh(22, '20:00');

interface SeedCase {
  id: string;
  playbook: string;
  caseType: string;
  data: Record<string, unknown>;
  openedAt: Date;
  closed?: { at: Date; outcome: string; reason: string };
  status?: 'waiting' | 'closed';
}

/** The rows a seeded week leaves behind: each helper writes what the running case would. */
class Seed {
  constructor(private readonly db: Queryable) {}
  private seq = new Map<string, number>();

  async playbook(name: string, shop: string) {
    await this.db.query(`INSERT INTO playbook_versions (name, version, hash, source_yaml, plan) VALUES ($1, 1, $2, '', $3)`, [
      name,
      `hash-${name}`,
      { shop: { name: shop } },
    ]);
  }

  async case(c: SeedCase) {
    const orderId = typeof c.data.order_id === 'string' ? c.data.order_id : null;
    await this.db.query(
      `INSERT INTO cases (case_id, workflow_id, playbook, version, plan_hash, case_type, order_id, data, status, outcome, reason, opened_at, closed_at, paid_amount, currency)
       VALUES ($1, 'case-' || $1, $2, 1, 'hash-' || $2, $3, $4, $5, $6, $7, $8, $9, $10, 19900, 'CNY')`,
      [
        c.id,
        c.playbook,
        c.caseType,
        orderId,
        c.data,
        c.closed ? 'closed' : (c.status ?? 'waiting'),
        c.closed?.outcome ?? null,
        c.closed?.reason ?? null,
        c.openedAt,
        c.closed?.at ?? null,
      ],
    );
    if (orderId) {
      await this.db.query(`INSERT INTO orders (order_id, currency, paid_amount, recorded_by_case) VALUES ($1, 'CNY', 19900, $2)`, [orderId, c.id]);
      await this.db.query(`INSERT INTO order_refund_caps (order_id, kind, cap) VALUES ($1, 'return_shipping', 3000), ($1, 'price_difference', 19900)`, [
        orderId,
      ]);
      await this.db.query(
        `INSERT INTO order_advances (order_id, kind, amount, currency, evidence, recorded_by) VALUES ($1, 'return_shipping', 3000, 'CNY', 'waybill', 'seed')`,
        [orderId],
      );
    }
  }

  async event(caseId: string, type: string, at: Date, payload: Record<string, unknown> = {}) {
    await this.db.query(`INSERT INTO case_events (case_id, event_id, type, payload, received_at) VALUES ($1, $2, $3, $4, $5)`, [
      caseId,
      `${caseId}-${type}`,
      type,
      payload,
      at,
    ]);
  }

  async refund(caseId: string, step: string, r: { created: Date; paid: Date | null; amount: number; covers?: string; late?: Date }) {
    await this.db.query(
      `INSERT INTO refunds (idempotency_key, case_id, step_id, order_id, amount, currency, reason, covers, status, provider_reference, deadline_at, created_at, answered_at, late_at)
       SELECT $1 || '/' || $2 || '/1', $1, $2, c.order_id, $3, 'CNY', $2, $4, $5, CASE WHEN $6::timestamptz IS NOT NULL THEN 'pay-' || $1 END, $7::timestamptz + interval '24 hours', $7, $6, $8
       FROM cases c WHERE c.case_id = $1`,
      [caseId, step, r.amount, r.covers ?? 'payment', r.paid ? 'issued' : 'requested', r.paid, r.created, r.late ?? null],
    );
  }

  async message(caseId: string, step: string, template: string, at: Date) {
    await this.db.query(
      `INSERT INTO outbox_messages (idempotency_key, case_id, step_id, recipient_kind, channel, template, body, status, created_at, sent_at)
       VALUES ($1, $2, $3, 'buyer', 'chat', $4, 'text', 'sent', $5, $5)`,
      [`${caseId}/${step}/${template}/${at.toISOString()}`, caseId, step, template, at],
    );
  }

  async task(caseId: string, step: string, t: { due: Date; status: 'open' | 'done' | 'breached'; completed?: Date }) {
    await this.db.query(
      `INSERT INTO tasks (idempotency_key, case_id, step_id, role, title, outcomes, due_at, status, created_at, completed_at)
       VALUES ($1, $2, $3, 'after-sale-agent', 'Decide', '["a"]', $4, $5, $4::timestamptz - interval '2 hours', $6)`,
      [`${caseId}/${step}/1`, caseId, step, t.due, t.status, t.completed ?? null],
    );
  }

  async escalation(caseId: string, step: string, queue: string, reason: string, at: Date) {
    await this.db.query(
      `INSERT INTO escalations (idempotency_key, case_id, step_id, queue, severity, reason, created_at) VALUES ($1, $2, $3, $4, 'high', $5, $6)`,
      [`${caseId}/${step}/escalation`, caseId, step, queue, reason, at],
    );
  }

  async audit(caseId: string, step: string, kind: string, at: Date, detail: Record<string, unknown>) {
    const seq = (this.seq.get(caseId) ?? 0) + 1;
    this.seq.set(caseId, seq);
    await this.db.query(
      `INSERT INTO audit_events (idempotency_key, case_id, seq, at, kind, step_id, detail) VALUES ($1 || '/audit/' || $2, $1, $2::int, $3, $4, $5, $6)`,
      [caseId, seq, at, kind, step, detail],
    );
  }
}

const returnData = (n: number, reason: string) => ({ order_id: `TB-R${n}`, buyer_name: 'Wang', reason, shipped_free: true, shipping_insurance: false });

async function seedWeek(seed: Seed) {
  await seed.playbook('return', 'Casebook Store');
  await seed.playbook('exchange', 'Casebook Store');
  await seed.playbook('presale', 'Casebook Store');
  await seed.playbook('review-recovery', 'Casebook Store');
  await seed.playbook('return-outlet', 'Outlet Store');

  // Reasons: 10 returns (4 wrong size, 3 quality, 2 changed mind, 1 not as described), 2 exchanges,
  // the outlet's return; r1 opens on the first instant of the range, r0 and r11 just outside it.
  const reasons = ['wrong_size', 'wrong_size', 'wrong_size', 'wrong_size', 'quality', 'quality', 'quality', 'changed_mind', 'changed_mind', 'not_as_described'];
  for (const [i, reason] of reasons.entries()) {
    await seed.case({
      id: `r${i + 1}`,
      playbook: 'return',
      caseType: 'return',
      data: returnData(i + 1, reason),
      openedAt: i === 0 ? sh(16, '00:00') : sh(16 + (i % 4), '09:00'),
    });
  }
  await seed.case({ id: 'r0', playbook: 'return', caseType: 'return', data: returnData(0, 'quality'), openedAt: new Date(sh(16, '00:00').getTime() - 1) });
  await seed.case({ id: 'r11', playbook: 'return', caseType: 'return', data: returnData(11, 'quality'), openedAt: sh(23, '00:00') });
  const prices = (original: number, wanted: number) => ({
    original_price: { amount: original, currency: 'CNY' },
    wanted_price: { amount: wanted, currency: 'CNY' },
  });
  await seed.case({
    id: 'x1',
    playbook: 'exchange',
    caseType: 'exchange',
    data: { order_id: 'TB-X1', exchange_reason: 'wrong_size', ...prices(19900, 17900) },
    openedAt: sh(17),
  });
  await seed.case({ id: 'x2', playbook: 'exchange', caseType: 'exchange', data: { order_id: 'TB-X2', exchange_reason: 'quality' }, openedAt: sh(18) });
  await seed.case({ id: 'o1', playbook: 'return-outlet', caseType: 'return', data: returnData(101, 'other'), openedAt: sh(19) });

  // Receipts and the refunds after them: r1..r8 paid 2, 4, 6, 10, 20, 24 (on time: at most 24), 30 and
  // 50 hours after; r5's return shipping (1 hour) is not the item's refund; r9's refund is not paid yet;
  // x1's price difference after 3 hours, o1's after 1; r0's receipt is before the range.
  const delays = [2, 4, 6, 10, 20, 24, 30, 50];
  for (const [i, hours] of delays.entries()) {
    const id = `r${i + 1}`;
    const received = sh(17 + (i % 3), '08:00');
    await seed.event(id, 'warehouse.received', received, { condition: 'resellable' });
    await seed.refund(id, i >= 4 && i <= 6 ? 'refund_quality' : 'refund_no_reason', {
      created: later(received, hours),
      paid: later(received, hours),
      amount: 19900,
      ...(hours > 24 ? { late: later(received, 24) } : {}),
    });
  }
  await seed.refund('r5', 'refund_return_shipping', {
    created: later(sh(18, '08:00'), 1),
    paid: later(sh(18, '08:00'), 1),
    amount: 1200,
    covers: 'return_shipping',
  });
  await seed.event('r9', 'warehouse.received', sh(20, '08:00'), { condition: 'damaged' });
  await seed.refund('r9', 'refund_partial', { created: sh(20, '09:00'), paid: null, amount: 9950 });
  await seed.event('x1', 'warehouse.received', sh(19, '08:00'), { condition: 'resellable' });
  await seed.refund('x1', 'refund_difference', { created: sh(19, '11:00'), paid: sh(19, '11:00'), amount: 2000, covers: 'price_difference' });
  await seed.event('o1', 'warehouse.received', sh(20, '08:00'), { condition: 'resellable' });
  await seed.refund('o1', 'refund_no_reason', { created: sh(20, '09:00'), paid: sh(20, '09:00'), amount: 19900 });
  // Receipts with no refund paid, of cases opened the week before: r12 received 30 hours before NOW
  // (late), r13 2 hours before (pending); x3, an exchange for an item of the same price, and r14, a
  // damaged return refused, are owed no refund.
  const unrefunded = async (id: string, caseType: string, data: Record<string, unknown>, received: Date, closed?: SeedCase['closed']) => {
    await seed.case({ id, playbook: caseType, caseType, data, openedAt: sh(15), ...(closed ? { closed } : {}) });
    await seed.event(id, 'warehouse.received', received, { condition: closed ? 'damaged' : 'resellable' });
  };
  await unrefunded('r12', 'return', returnData(12, 'wrong_size'), later(NOW, -30));
  await unrefunded('r13', 'return', returnData(13, 'changed_mind'), later(NOW, -2));
  await unrefunded('x3', 'exchange', { order_id: 'TB-X3', exchange_reason: 'wrong_size', ...prices(19900, 19900) }, later(NOW, -30));
  await unrefunded('r14', 'return', returnData(14, 'no_reason'), sh(21, '08:00'), { at: sh(21, '12:00'), outcome: 'refused', reason: 'returned_damaged' });
  await seed.event('r0', 'warehouse.received', sh(14, '08:00'), { condition: 'resellable' });
  await seed.refund('r0', 'refund_quality', {
    created: later(sh(14, '08:00'), 40),
    paid: later(sh(14, '08:00'), 40),
    amount: 19900,
    late: later(sh(14, '08:00'), 24),
  });

  // Presale: p1 paid before any reminder, p8 too (its address message came after the payment);
  // p2, p3 paid after 1 reminder, p4 after 2, p5 after 3; p6 closed unpaid after 3; p7 still unpaid
  // after 1; p9 is cash on delivery.
  const presale = async (id: string, method: string, reminders: number, paidAfter: boolean | 'closed' | 'waiting') => {
    const opened = sh(18, '11:00');
    await seed.case({
      id,
      playbook: 'presale',
      caseType: 'presale',
      data: { order_id: `TB-${id}`, payment_method: method },
      openedAt: opened,
      ...(paidAfter === 'closed' ? { closed: { at: later(opened, 24), outcome: 'expired', reason: 'unpaid_after_reminders' } } : {}),
    });
    for (let n = 0; n < reminders; n++)
      await seed.message(id, n === 0 ? 'remind_pay' : 'wait_payment', n === 0 ? 'pay_now_ships_today' : 'pay_reminder', later(opened, 4 + 2 * n));
    if (paidAfter === true) await seed.event(id, 'order.paid', later(opened, 5 + 2 * reminders));
  };
  await presale('p1', 'online', 0, true);
  await presale('p2', 'online', 1, true);
  await presale('p3', 'online', 1, true);
  await presale('p4', 'online', 2, true);
  await presale('p5', 'online', 3, true);
  await presale('p6', 'online', 3, 'closed');
  await presale('p7', 'online', 1, 'waiting');
  await presale('p8', 'online', 0, true);
  await seed.message('p8', 'check_address', 'confirm_address', later(sh(18, '11:00'), 6));
  await presale('p9', 'cash_on_delivery', 2, true);

  // Reviews, opened and closed on known days (v3 opens at 01:30 on the 17th in Shanghai, the 16th in UTC).
  const review = (id: string, rating: string, openedAt: Date, closed?: SeedCase['closed']) =>
    seed.case({ id, playbook: 'review-recovery', caseType: 'review', data: { order_id: `TB-${id}`, rating }, openedAt, ...(closed ? { closed } : {}) });
  await review('v1', 'medium', sh(16, '09:00'), { at: sh(17, '15:00'), outcome: 'resolved', reason: 'review_amended' });
  await review('v2', 'negative', sh(16, '23:59'), { at: sh(18, '10:00'), outcome: 'resolved', reason: 'review_amended' });
  await review('v3', 'negative', sh(17, '01:30'), { at: sh(18, '23:00'), outcome: 'resolved', reason: 'solved_not_amended' });
  await review('v4', 'medium', sh(17, '12:00'), { at: sh(19, '09:00'), outcome: 'resolved', reason: 'extortion_complaint_filed' });
  await review('v5', 'negative', sh(18, '12:00'), { at: sh(19, '18:00'), outcome: 'escalated', reason: 'buyer_not_contacted_in_time' });
  await review('v6', 'medium', sh(20, '12:00'));

  // Deadlines: v5's contact breached, v3's met; r9's and r10's damaged decisions done late and still
  // open past due; r0's breached before the range. v6's recovery clock ran out (its pause is no breach).
  await seed.task('v5', 'contact_buyer', { due: sh(18, '14:00'), status: 'breached', completed: sh(18, '14:00') });
  await seed.task('v3', 'contact_buyer', { due: sh(17, '14:00'), status: 'done', completed: sh(17, '13:00') });
  await seed.task('r9', 'decide_damaged', { due: sh(20, '16:00'), status: 'done', completed: sh(20, '18:00') });
  await seed.task('r10', 'decide_damaged', { due: sh(21, '16:00'), status: 'open' });
  await seed.task('r0', 'decide_damaged', { due: sh(15, '16:00'), status: 'breached', completed: sh(15, '16:00') });
  await seed.audit('v6', 'wait_reply', 'clock', sh(20, '13:00'), { clock: 'recovery', paused: sh(20, '13:00').toISOString(), left: '20h' });
  await seed.audit('v6', 'wait_amend', 'clock', sh(22, '10:00'), {
    clock: 'recovery',
    breached: sh(22, '10:00').toISOString(),
    escalationId: 4,
    queue: 'cs-supervisor',
    reason: 'review_recovery_overdue',
  });
  await seed.escalation('v5', 'escalate_not_contacted', 'cs-supervisor', 'buyer_not_contacted_in_time', sh(18, '14:00'));
  await seed.escalation('v6', 'wait_amend', 'cs-supervisor', 'review_recovery_overdue', sh(22, '10:00'));
  await seed.escalation('r7', 'refund_quality', 'finance', 'refund_sla_breached', later(sh(17, '08:00'), 24));
  await seed.escalation('r8', 'refund_no_reason', 'finance', 'refund_sla_breached', later(sh(18, '08:00'), 24));
  await seed.escalation('r0', 'refund_quality', 'finance', 'refund_sla_breached', later(sh(14, '08:00'), 24));
}

let db: TestDatabase;
let api: FastifyInstance;
const keys = {} as Record<'lead' | 'auditor' | 'admin' | 'agent', string>;

beforeAll(async () => {
  db = await createTestDatabase();
  await seedWeek(new Seed(db.pool));
  // The figures read only Postgres.
  api = await buildApi({ pool: db.pool, cases: {} as CaseService, inbox: {} as EventInbox, audit: {} as CaseAudit, temporalReady: async () => true });
  keys.lead = (await createApiKey(db.pool, 'ops-lead', 'Mei, ops lead')).key;
  keys.auditor = (await createApiKey(db.pool, 'auditor', 'Audit')).key;
  keys.admin = (await createApiKey(db.pool, 'admin', 'Root')).key;
  keys.agent = (await createApiKey(db.pool, 'agent', 'Lei')).key;
  // The API reads the figures as of the clock's now.
  vi.useFakeTimers({ toFake: ['Date'], now: NOW });
});
afterAll(async () => {
  vi.useRealTimers();
  await api?.close();
  await db?.drop();
});

const get = (query: string, key = keys.lead, headers: Record<string, string> = {}) =>
  api.inject({ method: 'GET', url: `/v1/figures?${query}`, headers: { authorization: `Bearer ${key}`, ...headers } });

async function figures(query: string) {
  const response = await get(query);
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

describe('the figures of a seeded week', () => {
  it('return and exchange reasons: counts, shares and the top three, both kinds together', async () => {
    expect((await figures(`${WEEK}&shop=Casebook%20Store`)).reasons).toEqual({
      total: 12,
      reasons: [
        { reason: 'wrong_size', returns: 4, exchanges: 1, count: 5, share: 0.4167, topThree: true },
        { reason: 'quality', returns: 3, exchanges: 1, count: 4, share: 0.3333, topThree: true },
        { reason: 'changed_mind', returns: 2, exchanges: 0, count: 2, share: 0.1667, topThree: true },
        { reason: 'not_as_described', returns: 1, exchanges: 0, count: 1, share: 0.0833, topThree: false },
      ],
    });
    expect((await figures(`${WEEK}&playbook=return`)).reasons.reasons.map((r: { reason: string; share: number }) => [r.reason, r.share])).toEqual([
      ['wrong_size', 0.4],
      ['quality', 0.3],
      ['changed_mind', 0.2],
      ['not_as_described', 0.1],
    ]);
    const all = (await figures(WEEK)).reasons;
    expect(all.total).toBe(13);
    expect(all.reasons.at(-1)).toEqual({ reason: 'other', returns: 1, exchanges: 0, count: 1, share: 0.0769, topThree: false });
  });

  it('refunds paid within 24 hours of the warehouse receipt: every receipt owed one, paid on time, late, unpaid or pending', async () => {
    const refunds = (await figures(WEEK)).refundsAfterReceipt;
    // 13 receipts owed a refund: 10 paid (8 within 24 hours, r7 and r8 later), r9 and r12 unpaid for
    // 60 and 30 hours, r13 pending (2 hours); x3 and r14 are owed none. The share is 8 of the 12 that
    // are on time or late. Delays paid: 1, 2, 3, 4, 6, 10, 20, 24, 30, 50 hours: the median between 6
    // and 10, p95 at 8.55 of 0..9.
    expect(refunds).toMatchObject({
      asOf: NOW.toISOString(),
      receipts: 13,
      within24h: 8,
      latePaid: 2,
      lateUnpaid: 2,
      pending: 1,
      shareWithin24h: 0.6667,
      refunded: 10,
      medianDelaySeconds: 8 * 3600,
      p95DelaySeconds: 41 * 3600,
    });
    expect(refunds.late).toEqual([
      {
        caseId: 'r9',
        orderId: 'TB-R9',
        receivedAt: sh(20, '08:00').toISOString(),
        status: 'unpaid',
        paidAt: null,
        delaySeconds: 60 * 3600,
        amount: 9950,
        currency: 'CNY',
      },
      {
        caseId: 'r12',
        orderId: 'TB-R12',
        receivedAt: later(NOW, -30).toISOString(),
        status: 'unpaid',
        paidAt: null,
        delaySeconds: 30 * 3600,
        amount: null,
        currency: null,
      },
      {
        caseId: 'r8',
        orderId: 'TB-R8',
        receivedAt: sh(18, '08:00').toISOString(),
        status: 'paid',
        paidAt: later(sh(18, '08:00'), 50).toISOString(),
        delaySeconds: 50 * 3600,
        amount: 19900,
        currency: 'CNY',
      },
      {
        caseId: 'r7',
        orderId: 'TB-R7',
        receivedAt: sh(17, '08:00').toISOString(),
        status: 'paid',
        paidAt: later(sh(17, '08:00'), 30).toISOString(),
        delaySeconds: 30 * 3600,
        amount: 19900,
        currency: 'CNY',
      },
    ]);
    // The return playbook alone: r1..r8 paid, r9 and r12 late unpaid, r13 pending: 6 of 10.
    expect((await figures(`${WEEK}&playbook=return`)).refundsAfterReceipt).toMatchObject({
      receipts: 11,
      within24h: 6,
      latePaid: 2,
      lateUnpaid: 2,
      pending: 1,
      shareWithin24h: 0.6,
      refunded: 8,
      medianDelaySeconds: 15 * 3600,
      p95DelaySeconds: 43 * 3600,
    });
  });

  it('as of now: a receipt not refunded turns from pending to late 24 hours after it; later receipts and payments do not count yet', async () => {
    const week: FigureFilter = { from: '2026-11-16', to: '2026-11-23', timeZone: 'Asia/Shanghai', playbook: 'return', shop: null };
    const at = async (now: Date) => {
      const { pending, lateUnpaid, late } = await refundsAfterReceipt(db.pool, week, now);
      return { pending, lateUnpaid, unpaid: late.filter((l) => l.status === 'unpaid').map((l) => [l.caseId, l.delaySeconds]) };
    };
    // r13 was received at NOW − 2 h: pending until NOW + 22 h (24 hours is still on time), late after.
    expect(await at(later(NOW, 22))).toEqual({
      pending: 1,
      lateUnpaid: 2,
      unpaid: [
        ['r9', 82 * 3600],
        ['r12', 52 * 3600],
      ],
    });
    expect(await at(new Date(later(NOW, 22).getTime() + 1))).toEqual({
      pending: 0,
      lateUnpaid: 3,
      unpaid: [
        ['r9', 82 * 3600],
        ['r12', 52 * 3600],
        ['r13', 24 * 3600],
      ],
    });
    // At NOW − 6 h, r12 (received at NOW − 30 h) is 24 hours old, pending; r13 has not arrived.
    expect(await at(later(NOW, -6))).toEqual({ pending: 1, lateUnpaid: 1, unpaid: [['r9', 54 * 3600]] });
    // Before r8's payment (50 hours after its receipt on the 18th at 08:00), r8 is late and unpaid.
    const beforeR8Paid = await refundsAfterReceipt(db.pool, week, sh(20, '09:00'));
    expect(beforeR8Paid).toMatchObject({ receipts: 9, within24h: 6, latePaid: 1, lateUnpaid: 1, pending: 1, refunded: 7 });
    expect(beforeR8Paid.late.map((l) => [l.caseId, l.status, l.delaySeconds])).toEqual([
      ['r8', 'unpaid', 49 * 3600],
      ['r7', 'paid', 30 * 3600],
    ]);
  });

  it('unpaid orders recovered by reminders, by how many had gone out before the payment', async () => {
    expect((await figures(WEEK)).unpaidReminders).toEqual({
      orders: 8,
      paidBeforeReminder: 2,
      reminded: 6,
      recovered: 4,
      closedUnpaid: 1,
      stillUnpaid: 1,
      shareRecovered: 0.6667,
      byReminder: [
        { reminders: 1, recovered: 2, share: 0.3333 },
        { reminders: 2, recovered: 1, share: 0.1667 },
        { reminders: 3, recovered: 1, share: 0.1667 },
      ],
    });
  });

  it('medium and negative reviews handled and amended', async () => {
    expect((await figures(WEEK)).reviews).toEqual({
      reviews: 6,
      medium: 3,
      negative: 3,
      open: 1,
      handled: 4,
      askedToAmend: 3,
      amended: 2,
      amendedShare: 0.6667,
      escalated: 1,
      byOutcome: [
        { outcome: 'resolved', reason: 'review_amended', count: 2 },
        { outcome: 'escalated', reason: 'buyer_not_contacted_in_time', count: 1 },
        { outcome: 'resolved', reason: 'extortion_complaint_filed', count: 1 },
        { outcome: 'resolved', reason: 'solved_not_amended', count: 1 },
      ],
    });
  });

  it('SLA breaches and escalations by playbook, step and queue', async () => {
    expect((await figures(WEEK)).sla).toEqual({
      breaches: [
        { kind: 'task-sla', playbook: 'return', step: 'decide_damaged', queue: 'after-sale-agent', count: 2 },
        { kind: 'clock', playbook: 'review-recovery', step: 'recovery', queue: 'cs-supervisor', count: 1 },
        { kind: 'refund', playbook: 'return', step: 'refund_no_reason', queue: null, count: 1 },
        { kind: 'refund', playbook: 'return', step: 'refund_quality', queue: null, count: 1 },
        { kind: 'task-sla', playbook: 'review-recovery', step: 'contact_buyer', queue: 'after-sale-agent', count: 1 },
      ],
      escalations: [
        { playbook: 'return', step: 'refund_no_reason', queue: 'finance', reason: 'refund_sla_breached', count: 1, open: 1 },
        { playbook: 'return', step: 'refund_quality', queue: 'finance', reason: 'refund_sla_breached', count: 1, open: 1 },
        { playbook: 'review-recovery', step: 'escalate_not_contacted', queue: 'cs-supervisor', reason: 'buyer_not_contacted_in_time', count: 1, open: 1 },
        { playbook: 'review-recovery', step: 'wait_amend', queue: 'cs-supervisor', reason: 'review_recovery_overdue', count: 1, open: 1 },
      ],
    });
  });

  it('cases opened and closed per day by outcome, days in Shanghai time', async () => {
    expect((await figures(`${WEEK}&playbook=review-recovery`)).casesPerDay).toEqual({
      outcomes: ['escalated', 'resolved'],
      days: [
        { date: '2026-11-16', opened: 2, closed: {} },
        { date: '2026-11-17', opened: 2, closed: { resolved: 1 } },
        { date: '2026-11-18', opened: 1, closed: { resolved: 2 } },
        { date: '2026-11-19', opened: 0, closed: { escalated: 1, resolved: 1 } },
        { date: '2026-11-20', opened: 1, closed: {} },
        { date: '2026-11-21', opened: 0, closed: {} },
        { date: '2026-11-22', opened: 0, closed: {} },
      ],
    });
    // In UTC, v2 (23:59 on the 16th) and v3 (01:30 on the 17th) open on the 16th.
    const utc = (await figures(`${WEEK}&playbook=review-recovery&timeZone=UTC`)).casesPerDay.days;
    expect(utc.slice(0, 2)).toEqual([
      { date: '2026-11-16', opened: 3, closed: {} },
      { date: '2026-11-17', opened: 1, closed: { resolved: 1 } },
    ]);
  });

  it('counts days in the shop’s configured time zone when the request names none', async () => {
    const utcShop = await buildApi({
      pool: db.pool,
      cases: {} as CaseService,
      inbox: {} as EventInbox,
      audit: {} as CaseAudit,
      temporalReady: async () => true,
      console: { timeZone: 'UTC', temporalUiUrl: null, namespace: 'default' },
    });
    try {
      const response = await utcShop.inject({
        method: 'GET',
        url: `/v1/figures?${WEEK}&playbook=review-recovery`,
        headers: { authorization: `Bearer ${keys.lead}` },
      });
      expect(response.json().range.timeZone).toBe('UTC');
      expect(response.json().casesPerDay.days[0]).toEqual({ date: '2026-11-16', opened: 3, closed: {} });
    } finally {
      await utcShop.close();
    }
  });

  it('the range and filters it was asked for; a shop no playbook names has no cases', async () => {
    const body = await figures(`${WEEK}&shop=Nowhere`);
    expect(body.range).toEqual({ from: '2026-11-16', to: '2026-11-23', timeZone: 'Asia/Shanghai', playbook: null, shop: 'Nowhere' });
    expect(body.reasons).toEqual({ total: 0, reasons: [] });
    expect(body.refundsAfterReceipt).toEqual({
      asOf: NOW.toISOString(),
      receipts: 0,
      within24h: 0,
      latePaid: 0,
      lateUnpaid: 0,
      pending: 0,
      shareWithin24h: null,
      refunded: 0,
      medianDelaySeconds: null,
      p95DelaySeconds: null,
      late: [],
    });
    expect(body.unpaidReminders.shareRecovered).toBeNull();
    expect(body.casesPerDay.days).toHaveLength(7);
  });
});

describe('CSV', () => {
  it('Accept: text/csv downloads one long table figure,item,measure,value, the same as format=csv', async () => {
    const response = await get(`${WEEK}&playbook=return`, keys.lead, { accept: 'text/csv' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toBe('attachment; filename="casebook-figures-2026-11-16-to-2026-11-23-return.csv"');
    const lines = response.body.replace(/^\ufeff/, '').split('\r\n');
    expect(lines.slice(0, 7)).toEqual([
      'figure,item,measure,value',
      'range,,from,2026-11-16',
      'range,,to,2026-11-23',
      'range,,time_zone,Asia/Shanghai',
      'range,,playbook,return',
      'range,,shop,',
      'reasons,all,cases,10',
    ]);
    expect(lines).toContain('reasons,wrong_size,share,0.4');
    expect(lines).toContain('reasons,wrong_size,top_three,true');
    expect(lines).toEqual(
      expect.arrayContaining([
        'refunds_after_receipt,all,as_of,2026-11-22T12:00:00.000Z',
        'refunds_after_receipt,all,receipts,11',
        'refunds_after_receipt,all,within_24h,6',
        'refunds_after_receipt,all,late_paid,2',
        'refunds_after_receipt,all,late_unpaid,2',
        'refunds_after_receipt,all,pending,1',
        'refunds_after_receipt,all,share_within_24h,0.6',
        'refunds_after_receipt,all,refunded,8',
        'late_refunds,r8,status,paid',
        'late_refunds,r8,delay_seconds,180000',
        'late_refunds,r8,amount_minor,19900',
        'late_refunds,r12,status,unpaid',
        'late_refunds,r12,paid_at,',
        'late_refunds,r12,delay_seconds,108000',
        'late_refunds,r12,amount_minor,',
        'late_refunds,r12,currency,',
      ]),
    );
    expect(lines.filter((line) => line.startsWith('late_refunds,') && line.includes(',status,'))).toEqual([
      'late_refunds,r9,status,unpaid',
      'late_refunds,r12,status,unpaid',
      'late_refunds,r8,status,paid',
      'late_refunds,r7,status,paid',
    ]);
    expect(lines).toContain('sla_breaches,return/decide_damaged/after-sale-agent,task-sla,2');
    expect(lines).toContain('cases_per_day,2026-11-16,opened,3');
    expect(lines.at(-1)).toBe('');
    const asked = await get(`${WEEK}&playbook=return&format=csv`);
    expect(asked.body).toBe(response.body);
  });

  it('format=json wins over Accept: text/csv', async () => {
    const response = await get(`${WEEK}&format=json`, keys.lead, { accept: 'text/csv' });
    expect(response.headers['content-type']).toMatch(/^application\/json/);
  });
});

describe('requests', () => {
  const pointers = async (query: string) => {
    const response = await get(query);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json().type).toBe('https://casebook.dev/problems/invalid-request');
    return response.json().errors.map((e: { pointer: string }) => e.pointer);
  };

  it('refuses a date it cannot read, a range that ends before it starts or spans more than a year, and unknown parameters', async () => {
    expect(await pointers('from=2026-13-01&to=2026-11-23')).toEqual(['/from']);
    expect(await pointers('from=2026-02-30&to=2026-03-02')).toEqual(['/from']);
    expect(await pointers('from=0000-12-30&to=0001-01-02')).toEqual(['/from']);
    expect(await pointers('from=2026-11-16&to=23.11.2026')).toEqual(['/to']);
    expect(await pointers('to=2026-11-23')).toEqual(['/from']);
    expect(await pointers('from=2026-11-23&to=2026-11-16')).toEqual(['/to']);
    expect(await pointers('from=2026-11-16&to=2026-11-16')).toEqual(['/to']);
    expect(await pointers('from=2025-11-16&to=2026-11-18')).toEqual(['/to']);
    expect(await pointers(`${WEEK}&timeZone=Mars/Olympus`)).toEqual(['/timeZone']);
    expect(await pointers(`${WEEK}&format=xlsx`)).toEqual(['/format']);
    expect(await pointers(`${WEEK}&status=open`)).toEqual(['/status']);
  });

  it('answers a year (366 days) of days', async () => {
    expect((await figures('from=2025-11-23&to=2026-11-24')).casesPerDay.days).toHaveLength(366);
  });

  it('ops leads, auditors and admins read the figures; agents may not', async () => {
    expect((await get(WEEK, keys.auditor)).statusCode).toBe(200);
    expect((await get(WEEK, keys.admin)).statusCode).toBe(200);
    const refused = await get(WEEK, keys.agent);
    expect(refused.statusCode).toBe(403);
    expect((await api.inject({ method: 'GET', url: `/v1/figures?${WEEK}` })).statusCode).toBe(401);
  });
});

describe('a year of cases', () => {
  let big: TestDatabase;
  beforeAll(async () => {
    big = await createTestDatabase();
    await seedYearOfCases(big.pool, big.ownerUrl);
  });
  afterAll(() => big?.drop());

  const week: FigureFilter = { from: '2026-06-01', to: '2026-06-08', timeZone: 'Asia/Shanghai', playbook: null, shop: null };
  const asOf = new Date('2026-11-25T00:00:00+08:00');
  const queries = {
    returnAndExchangeReasons,
    refundsAfterReceipt: (db: Queryable, filter: FigureFilter) => refundsAfterReceipt(db, filter, asOf),
    unpaidOrderReminders,
    reviewRecovery,
    slaBreaches,
    escalationCounts,
    casesPerDay,
  };

  /** The plan Postgres chooses for the query a figure sends. */
  async function planOf(figure: (db: Queryable, filter: FigureFilter) => Promise<unknown>, filter: FigureFilter): Promise<string> {
    let sent: { text: string; values: unknown[] } | undefined;
    const capture = { query: async (text: string, values: unknown[]) => ((sent = { text, values }), { rows: [{}] }) } as unknown as Queryable;
    await figure(capture, filter).catch(() => undefined);
    const { rows } = await big.pool.query(`EXPLAIN ${sent!.text}`, sent!.values);
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  }

  it.each(Object.entries(queries))('%s reads a week of a year by index, with no scan of a whole table', async (_name, figure) => {
    const plan = await planOf(figure, week);
    expect(plan).not.toMatch(/Seq Scan on (cases|case_events|refunds|outbox_messages|tasks|escalations|audit_events)\b/);
    expect(await planOf(figure, { ...week, playbook: 'return', shop: 'Casebook Store' })).not.toMatch(
      /Seq Scan on (cases|case_events|refunds|tasks|escalations|audit_events)\b/,
    );
  });

  it('answers a whole year', async () => {
    const year: FigureFilter = { from: '2025-11-25', to: '2026-11-25', timeZone: 'Asia/Shanghai', playbook: null, shop: null };
    for (const figure of Object.values(queries)) await figure(big.pool, year);
    const reasons = await returnAndExchangeReasons(big.pool, year);
    // Returns are every third case; the 6,666th opens after the year's end.
    expect(reasons.total).toBe(6665);
  });
});
