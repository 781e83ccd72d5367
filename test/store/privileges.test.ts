/**
 * Least privilege: Casebook's application role (`casebook_app`, the role every test database is used
 * as) cannot change the schema, switch triggers off, or rewrite ledger and audit rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { withConnection } from '../../src/store/databases.js';
import { reserveRefund, settleRefund, markRefundLate, findRefund } from '../../src/store/refunds.js';
import { recordOrderPayment } from '../../src/store/orders.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await recordOrderPayment(db.pool, { orderId: 'O-1', currency: 'CNY', amount: 10_000 }, 'c1');
  await reserveRefund(db.pool, {
    key: 'c1/refund/1',
    caseId: 'c1',
    stepId: 'refund',
    orderId: 'O-1',
    amount: 5_000,
    currency: 'CNY',
    reason: 'test',
    covers: 'payment',
    deadlineAt: new Date().toISOString(),
  });
  await db.pool.query(`INSERT INTO audit_events (idempotency_key, case_id, seq, at, kind) VALUES ('c1/audit/1', 'c1', 1, now(), 'branch')`);
});
afterAll(() => db.drop());

describe('the application role', () => {
  it('is who the tests connect as', async () => {
    const { rows } = await db.pool.query(`SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user`);
    expect(rows).toEqual([{ current_user: 'casebook_app', rolsuper: false }]);
  });

  it.each([
    ['UPDATE refunds SET amount = 1', /permission denied/],
    ["UPDATE refunds SET idempotency_key = 'other'", /permission denied/],
    ['DELETE FROM refunds', /permission denied/],
    ['DELETE FROM audit_events', /permission denied/],
    ["UPDATE audit_events SET kind = 'timer'", /permission denied/],
    ['UPDATE provider_refunds SET amount = 1', /permission denied/],
    ['UPDATE orders SET paid_amount = 1000000', /permission denied/],
    ['ALTER TABLE refunds DISABLE TRIGGER ALL', /must be owner/],
    ['ALTER TABLE refunds DISABLE TRIGGER refunds_within_order_caps', /must be owner/],
    ['SET session_replication_role = replica', /permission denied/],
    ['DROP TABLE audit_events', /must be owner/],
    ['TRUNCATE refunds', /permission denied/],
    ['TRUNCATE audit_events', /permission denied/],
    ['UPDATE audit_events SET hash = prev_hash', /permission denied/],
    ['ALTER TABLE audit_events DISABLE TRIGGER audit_events_chain', /must be owner/],
    ['DROP FUNCTION audit_event_content(text, integer, timestamptz, text, text, text, text, jsonb) CASCADE', /must be owner/],
    ["UPDATE case_histories SET history = ''", /permission denied/],
    ['DELETE FROM case_histories', /permission denied/],
    ['TRUNCATE case_histories', /permission denied/],
    ['ALTER TABLE cases ADD COLUMN x int', /must be owner/],
    ['CREATE TABLE mine (x int)', /permission denied/],
    ['DROP FUNCTION refunds_within_order_caps() CASCADE', /must be owner/],
    ['DELETE FROM schema_migrations', /permission denied/],
  ])('may not %s', async (sql, error) => {
    await expect(db.pool.query(sql)).rejects.toThrow(error);
  });

  it('settles a refund once: a settled refund never changes again, only its lateness is noted once', async () => {
    await settleRefund(db.pool, 'c1/refund/1', { providerReference: 'P-1' });
    await settleRefund(db.pool, 'c1/refund/1', { declineReason: 'too late' });
    await markRefundLate(db.pool, 'c1/refund/1');
    expect(await findRefund(db.pool, 'c1/refund/1')).toMatchObject({
      status: 'issued',
      providerReference: 'P-1',
      declineReason: null,
      lateAt: expect.any(String),
    });
    for (const sql of [
      `UPDATE refunds SET status = 'declined', decline_reason = 'changed my mind'`,
      `UPDATE refunds SET provider_reference = 'P-2'`,
      `UPDATE refunds SET late_at = now() - interval '1 day'`,
      `UPDATE refunds SET status = 'requested'`,
    ]) {
      await expect(db.pool.query(sql), sql).rejects.toThrow(/cannot change/);
    }
  });

  it('stays within the ledger caps, which it cannot switch off', async () => {
    const over = await reserveRefund(db.pool, {
      key: 'c1/refund/2',
      caseId: 'c1',
      stepId: 'refund',
      orderId: 'O-1',
      amount: 6_000,
      currency: 'CNY',
      reason: 'test',
      covers: 'payment',
      deadlineAt: new Date().toISOString(),
    });
    expect(over.status).toBe('declined');
  });

  it('is not what migrations run as: the owner still may alter the schema', async () => {
    await withConnection(db.ownerUrl, async (owner) => {
      const { rows } = await owner.query(`SELECT current_user <> 'casebook_app' AS owner`);
      expect(rows).toEqual([{ owner: true }]);
    });
  });
});
