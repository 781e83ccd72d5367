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
  await db.pool.query(
    `INSERT INTO playbook_versions (name, version, hash, source_yaml, plan) VALUES ('return', 1, 'h', '', '{}'), ('presale', 1, 'h2', '', '{}')`,
  );
  await db.pool.query(
    `INSERT INTO cases (case_id, workflow_id, playbook, version, plan_hash, case_type, order_id, data, status, opened_at)
     SELECT 'c' || i, 'case-c' || i, CASE WHEN i % 3 = 0 THEN 'return' ELSE 'presale' END, 1, CASE WHEN i % 3 = 0 THEN 'h' ELSE 'h2' END, 'return',
            'O-' || (i % 5000), '{}', (ARRAY['open', 'waiting', 'closed', 'failed'])[1 + i % 4], now() - i * interval '1 minute'
     FROM generate_series(1, 20000) AS i`,
  );
  await seedSearchCases(db);
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

/**
 * Four exchange cases opened in March 2025 (older than every generated case): x1 with a late refund,
 * x2 with a task past its SLA, x3 with a clock that only started, x4 with a clock that ran out.
 */
async function seedSearchCases(test: TestDatabase): Promise<void> {
  await test.pool.query(`INSERT INTO playbook_versions (name, version, hash, source_yaml, plan) VALUES ('exchange', 1, 'h3', '', '{}')`);
  await test.pool.query(
    `INSERT INTO cases (case_id, workflow_id, playbook, version, plan_hash, case_type, order_id, data, status, outcome, reason, opened_at) VALUES
       ('x1', 'case-x1', 'exchange', 1, 'h3', 'exchange', 'TB-X1', '{}', 'closed', 'resolved', 'refunded', '2025-03-01T10:00:00Z'),
       ('x2', 'case-x2', 'exchange', 1, 'h3', 'exchange', 'TB-X2', '{}', 'closed', 'resolved', 'exchanged', '2025-03-02T10:00:00Z'),
       ('x3', 'case-x3', 'exchange', 1, 'h3', 'exchange', 'TB-X3', '{}', 'closed', 'refused', 'outside_return_window', '2025-03-03T10:00:00Z'),
       ('x4', 'case-x4', 'exchange', 1, 'h3', 'exchange', 'TB-X4', '{}', 'waiting', NULL, NULL, '2025-03-04T10:00:00Z')`,
  );
  await test.pool.query(`INSERT INTO orders (order_id, currency, paid_amount, recorded_by_case) VALUES ('TB-X1', 'CNY', 19900, 'x1')`);
  await test.pool.query(
    `INSERT INTO refunds (idempotency_key, case_id, step_id, order_id, amount, currency, reason, status, deadline_at, late_at)
     VALUES ('x1/refund/1', 'x1', 'refund', 'TB-X1', 19900, 'CNY', 'no_reason_return', 'requested', '2025-03-02T10:00:00Z', '2025-03-02T10:00:00Z')`,
  );
  await test.pool.query(
    `INSERT INTO tasks (idempotency_key, case_id, step_id, role, title, outcomes, due_at, status)
     VALUES ('x2/decide/1', 'x2', 'decide', 'after-sale-agent', 'Decide', '["approve"]', '2025-03-02T18:00:00Z', 'breached'),
            ('x3/decide/1', 'x3', 'decide', 'after-sale-agent', 'Decide', '["approve"]', '2025-03-03T18:00:00Z', 'done')`,
  );
  await test.pool.query(
    `INSERT INTO audit_events (idempotency_key, case_id, seq, at, kind, step_id, detail) VALUES
       ('x3/audit/1', 'x3', 1, '2025-03-03T10:00:00Z', 'clock', 'check', '{"clock": "reply", "started": "2025-03-03T10:00:00Z", "left": "1d"}'),
       ('x4/audit/1', 'x4', 1, '2025-03-04T10:00:00Z', 'clock', 'wait', '{"clock": "reply", "breached": "2025-03-05T10:00:00Z"}')`,
  );
}

describe('case search', () => {
  const ids = async (filter: CaseListFilter) => (await listCases(db.pool, { playbook: 'exchange', ...filter }))!.cases.map((c) => c.caseId);

  it('by outcome and by reason', async () => {
    expect(await ids({ outcome: 'resolved' })).toEqual(['x2', 'x1']);
    expect(await ids({ reason: 'outside_return_window' })).toEqual(['x3']);
    expect(await ids({ outcome: 'resolved', reason: 'exchanged' })).toEqual(['x2']);
    expect(await ids({ outcome: 'expired' })).toEqual([]);
  });

  it('by opening dates: from a day or an instant (inclusive) to a day or an instant (exclusive)', async () => {
    expect(await ids({ openedFrom: '2025-03-02', openedTo: '2025-03-04' })).toEqual(['x3', 'x2']);
    expect(await ids({ openedFrom: '2025-03-03T10:00:00Z' })).toEqual(['x4', 'x3']);
    expect(await ids({ openedTo: '2025-03-02T10:00:00Z' })).toEqual(['x1']);
    // A day in Shanghai starts at 16:00 UTC the day before: the console sends that instant.
    expect(await ids({ openedFrom: '2025-03-01T16:00:00Z', openedTo: '2025-03-02T16:00:00Z' })).toEqual(['x2']);
  });

  it('breached: a late refund, a task past its SLA or a clock that ran out; not a clock that only started', async () => {
    expect(await ids({ breached: 'true' })).toEqual(['x4', 'x2', 'x1']);
    expect(await ids({ breached: 'false' })).toEqual(['x3']);
    expect(await ids({ breached: 'true', outcome: 'resolved', openedFrom: '2025-03-02' })).toEqual(['x2']);
  });

  it('by outcome or reason: found by index', async () => {
    expect(await planFor({ outcome: 'resolved' })).toMatch(/Index Scan using cases_outcome_newest/);
    expect(await planFor({ reason: 'refunded' })).toMatch(/Index Scan using cases_reason_newest/);
  });
});
