import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(
    `INSERT INTO playbook_versions (name, version, hash, source_yaml, plan) VALUES ('return', 1, 'h', '', '{}')`,
  );
  await db.pool.query(
    `INSERT INTO cases (case_id, workflow_id, playbook, version, plan_hash, case_type, data, paid_amount, currency)
     VALUES ('c1', 'case-c1', 'return', 1, 'h', 'return', '{}', 10000, 'CNY')`,
  );
});
afterAll(() => db.drop());

const refund = (key: string, amount: number, currency = 'CNY') =>
  db.pool.query(
    `INSERT INTO refunds (idempotency_key, case_id, step_id, amount, currency, reason, status)
     VALUES ($1, 'c1', 'refund', $2, $3, 'test', 'issued')`,
    [key, amount, currency],
  );

describe('refunds ledger', () => {
  it('refuses a second row with the same idempotency key', async () => {
    await refund('c1/refund-a', 1000);
    await expect(refund('c1/refund-a', 1000)).rejects.toThrow(/duplicate key/);
  });

  it('refuses refunds that would total more than the paid amount', async () => {
    await refund('c1/refund-b', 9000);
    await expect(refund('c1/refund-c', 1)).rejects.toThrow(/would total 10001 > paid 10000/);
    const { rows } = await db.pool.query(`SELECT sum(amount)::bigint AS total FROM refunds WHERE case_id = 'c1'`);
    expect(rows[0].total).toBe(10000);
  });

  it('refuses a currency other than the one paid, and non-positive amounts', async () => {
    await expect(refund('c1/refund-d', 1, 'USD')).rejects.toThrow(/differs from the paid currency/);
    await expect(refund('c1/refund-e', 0)).rejects.toThrow(/check constraint/);
  });
});
