/**
 * Case lists read an index, whatever the filter: no scan of the table; broad filters (all cases, a
 * status, a playbook) read it in page order, so a page costs its own rows however many cases match.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCases, type CaseListFilter } from '../../src/store/case-list.js';
import type { Queryable } from '../../src/store/transaction.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(`INSERT INTO playbook_versions (name, version, hash, source_yaml, plan) VALUES ('return', 1, 'h', '', '{}'), ('presale', 1, 'h2', '', '{}')`);
  await db.pool.query(
    `INSERT INTO cases (case_id, workflow_id, playbook, version, plan_hash, case_type, order_id, data, status, opened_at)
     SELECT 'c' || i, 'case-c' || i, CASE WHEN i % 3 = 0 THEN 'return' ELSE 'presale' END, 1, CASE WHEN i % 3 = 0 THEN 'h' ELSE 'h2' END, 'return',
            'O-' || (i % 5000), '{}', (ARRAY['open', 'waiting', 'closed', 'failed'])[1 + i % 4], now() - i * interval '1 minute'
     FROM generate_series(1, 20000) AS i`,
  );
  // As autovacuum would: only the owner may analyze the table.
  const owner = new pg.Client({ connectionString: db.ownerUrl });
  await owner.connect();
  await owner.query('ANALYZE cases');
  await owner.end();
});
afterAll(() => db.drop());

/** The plan Postgres chooses for the query `listCases` sends for `filter`. */
async function planFor(filter: CaseListFilter): Promise<string> {
  let sent: { text: string; values: unknown[] } | undefined;
  const capture = { query: async (text: string, values: unknown[]) => ((sent = { text, values }), { rows: [] }) } as unknown as Queryable;
  await listCases(capture, filter);
  const { rows } = await db.pool.query(`EXPLAIN ${sent!.text}`, sent!.values);
  return rows.map((row) => row['QUERY PLAN']).join('\n');
}

describe('case lists', () => {
  const broad: CaseListFilter[] = [{}, { status: 'waiting' }, { playbook: 'return' }, { playbook: 'return', status: 'waiting' }, { limit: '10' }];
  it.each(broad)('%j: an index scan in page order', async (filter) => {
    const plan = await planFor(filter);
    expect(plan).toMatch(/Index Scan/);
    expect(plan).not.toMatch(/Seq Scan|Sort/);
  });

  it('an order’s cases: found by index', async () => {
    const plan = await planFor({ orderId: 'O-42' });
    expect(plan).toMatch(/Index Scan/);
    expect(plan).not.toMatch(/Seq Scan/);
  });

  it('pages through a filtered list without a sort, and every case once', async () => {
    const first = (await listCases(db.pool, { playbook: 'return', status: 'waiting', limit: '100' }))!;
    const cursor = first.nextCursor!;
    expect(await planFor({ playbook: 'return', status: 'waiting', cursor })).not.toMatch(/Seq Scan|Sort/);
    const second = (await listCases(db.pool, { playbook: 'return', status: 'waiting', limit: '100', cursor }))!;
    const ids = [...first.cases, ...second.cases].map((c) => c.caseId);
    expect(new Set(ids).size).toBe(200);
    expect([...first.cases, ...second.cases].every((c) => c.playbook === 'return' && c.status === 'waiting')).toBe(true);
  });
});
