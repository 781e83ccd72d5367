/**
 * A plan named by hash (a history's plan reference, decision 0018) is found by index, however many
 * versions are published (migrations/328_plan_hash_index.sql).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { publishedPlanByHash } from '../../src/store/playbooks.js';
import type { Queryable } from '../../src/store/transaction.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(
    `INSERT INTO playbook_versions (name, version, hash, source_yaml, plan)
     SELECT 'playbook-' || (i % 50), i, 'hash-' || i, '', json_build_object('version', i)
     FROM generate_series(1, 5000) AS i`,
  );
  // As autovacuum would: only the owner may analyze the table.
  const owner = new pg.Client({ connectionString: db.ownerUrl });
  await owner.connect();
  await owner.query('ANALYZE playbook_versions');
  await owner.end();
});
afterAll(() => db.drop());

describe('a plan by its hash', () => {
  it('is the published plan with that hash, or none', async () => {
    expect(await publishedPlanByHash(db.pool, 'hash-4321')).toEqual({ version: 4321 });
    expect(await publishedPlanByHash(db.pool, 'hash-none')).toBeUndefined();
  });

  it('is read through the hash index, not a scan of every version', async () => {
    let sent: { text: string; values: unknown[] } | undefined;
    const capture = { query: async (text: string, values: unknown[]) => ((sent = { text, values }), { rows: [] }) } as unknown as Queryable;
    await publishedPlanByHash(capture, 'hash-4321');
    const { rows } = await db.pool.query(`EXPLAIN ${sent!.text}`, sent!.values);
    const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
    expect(plan).toMatch(/Index Scan using playbook_versions_hash/);
    expect(plan).not.toMatch(/Seq Scan/);
  });
});
