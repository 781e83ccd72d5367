import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/store/migrate.js';
import { withTransaction } from '../src/store/transaction.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(`INSERT INTO playbook_versions (name, version, hash, source_yaml, plan) VALUES ('return', 1, 'h', '', '{}')`);
  await db.pool.query(
    `INSERT INTO cases (case_id, workflow_id, playbook, version, plan_hash, case_type, order_id, data, paid_amount, currency)
     VALUES ('c1', 'case-c1', 'return', 1, 'h', 'return', 'O-1', '{}', 10000, 'CNY')`,
  );
  await db.pool.query(`INSERT INTO orders (order_id, currency, paid_amount, recorded_by_case) VALUES ('O-1', 'CNY', 10000, 'c1')`);
});
afterAll(() => db.drop());

const refund = (key: string, amount: number, currency = 'CNY') =>
  db.pool.query(
    `INSERT INTO refunds (idempotency_key, case_id, step_id, order_id, amount, currency, reason, status)
     VALUES ($1, 'c1', 'refund', 'O-1', $2, $3, 'test', 'issued')`,
    [key, amount, currency],
  );

describe('refunds ledger', () => {
  it('refuses a second row with the same idempotency key', async () => {
    await refund('c1/refund-a', 1000);
    await expect(refund('c1/refund-a', 1000)).rejects.toThrow(/duplicate key/);
  });

  it('refuses refunds that would total more than the order’s paid amount', async () => {
    await refund('c1/refund-b', 9000);
    await expect(refund('c1/refund-c', 1)).rejects.toThrow(/payment refunds on order O-1 would total 10001 > cap 10000/);
    const { rows } = await db.pool.query(`SELECT sum(amount)::bigint AS total FROM refunds WHERE case_id = 'c1'`);
    expect(rows[0].total).toBe(10000);
  });

  it('refuses a currency other than the one paid, and non-positive amounts', async () => {
    await expect(refund('c1/refund-d', 1, 'USD')).rejects.toThrow(/differs from the currency CNY order O-1 was paid in/);
    await expect(refund('c1/refund-e', 0)).rejects.toThrow(/check constraint/);
  });
});

describe('transactions', () => {
  it('withTransaction commits what the function wrote, or nothing when it throws', async () => {
    const note = (key: string) => `INSERT INTO order_notes (idempotency_key, case_id, remark) VALUES ('${key}', 'c1', 'r')`;
    await withTransaction(db.pool, async (client) => {
      await client.query(note('tx-1'));
    });
    await expect(
      withTransaction(db.pool, async (client) => {
        await client.query(note('tx-2'));
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const { rows } = await db.pool.query(`SELECT idempotency_key FROM order_notes WHERE idempotency_key LIKE 'tx-%'`);
    expect(rows).toEqual([{ idempotency_key: 'tx-1' }]);
  });
});

describe('migration 301 on a database made by earlier versions', () => {
  it('backfills the audit sequence from the idempotency keys, and refuses the status nothing sets', async () => {
    const old = await createTestDatabase({ migrations: 3 });
    try {
      await old.pool.query(`INSERT INTO playbook_versions (name, version, hash, source_yaml, plan) VALUES ('return', 1, 'h', '', '{}')`);
      await old.pool.query(
        `INSERT INTO cases (case_id, workflow_id, playbook, version, plan_hash, case_type, data) VALUES ('a.b-1', 'case-a.b-1', 'return', 1, 'h', 'return', '{}')`,
      );
      for (const seq of [1, 2, 10]) {
        await old.pool.query(`INSERT INTO audit_events (idempotency_key, case_id, at, kind) VALUES ($1, 'a.b-1', now(), 'branch')`, [`a.b-1/audit/${seq}`]);
      }
      await migrate(old.url, 1);
      const { rows } = await old.pool.query(`SELECT seq FROM audit_events ORDER BY id`);
      expect(rows.map((r) => r.seq)).toEqual([1, 2, 10]);
      await expect(old.pool.query(`UPDATE cases SET status = 'failed'`)).rejects.toThrow(/cases_status_check/);
      const columns = await old.pool.query(
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'integration_calls' AND column_name = 'result'`,
      );
      expect(columns.rows).toEqual([]);
    } finally {
      await old.drop();
    }
  });
});
