/**
 * The hash-chained audit trail (migrations/308_audit_chain.sql, src/store/audit-chain.ts): concurrent
 * writers make one chain; whatever the owner (a superuser) alters, removes or inserts, `verifyAuditTrail`
 * names that row or that case's run; the application role cannot change or remove audit rows or archives.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgressReport, StepRecord } from '../../src/plan/case.js';
import { recordArchived, recordOpened, recordPublished, verifyAuditTrail, type AuditVerification } from '../../src/store/audit-chain.js';
import { createPool, type Pool } from '../../src/store/pool.js';
import { recordProgress } from '../../src/store/progress.js';
import { withTransaction } from '../../src/store/transaction.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let owner: Pool;
const HISTORY = JSON.stringify({
  events: [
    { eventId: '1', eventType: 'WORKFLOW_EXECUTION_STARTED' },
    { eventId: '2', eventType: 'WORKFLOW_EXECUTION_COMPLETED' },
  ],
});
const ROOT = { keyId: 'abcdefabcdef', name: 'Root' };

const report = (caseId: string, records: { seq: number; record: StepRecord }[]): ProgressReport => ({
  caseId,
  status: 'waiting',
  step: 'wait',
  waitingFor: [],
  deadlines: [],
  data: {},
  outcome: null,
  returnTracking: null,
  audit: records,
  from: records[0]?.seq ?? 1,
  decidedIn: { at: '2026-01-01T00:00:00.000Z', runStartedAt: '2026-01-01T00:00:00.000Z', task: 3 },
});
const step = (seq: number, kind: string, detail: Record<string, unknown> = {}) => ({
  seq,
  record: { step: `s${seq}`, kind, at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq, 123)).toISOString(), detail },
});

beforeAll(async () => {
  db = await createTestDatabase();
  owner = createPool(db.ownerUrl, 2);
  await db.pool.query(`INSERT INTO playbook_versions (name, version, hash, source_yaml, plan) VALUES ('return', 1, 'h1', '', '{}')`);
  await recordPublished(db.pool, { name: 'return', version: 1, hash: 'h1', by: ROOT });
  for (const caseId of ['c1', 'c2']) {
    await withTransaction(db.pool, async (tx) => {
      await tx.query(
        `INSERT INTO cases (case_id, workflow_id, playbook, version, plan_hash, case_type, data) VALUES ($1, 'case-' || $1, 'return', 1, 'h1', 'return', '{}')`,
        [caseId],
      );
      await recordOpened(tx, { caseId, by: ROOT, data: { order_id: `O-${caseId}` }, playbook: { name: 'return', version: 1, hash: 'h1' } });
    });
  }
  // Interleaved, several rows per statement, as workflows report.
  await recordProgress(db.pool, report('c1', [step(1, 'branch'), step(2, 'wait', { by: { keyId: 'k2', name: 'Lei' } })]));
  await recordProgress(db.pool, report('c2', [step(1, 'branch'), step(2, 'refund', { amount: 5_000, currency: 'CNY' }), step(3, 'message')]));
  // A retried report: seq 2 again, as the first wrote it, is written once.
  await recordProgress(db.pool, report('c1', [step(2, 'wait', { by: { keyId: 'k2', name: 'Lei' } }), step(3, 'close')]));
  await withTransaction(db.pool, async (tx) => {
    await tx.query(
      `INSERT INTO case_histories (run_id, case_id, workflow_id, plan_hash, run_status, started_at, closed_at, event_count, history, sha256)
       VALUES ('run-1', 'c1', 'case-c1', 'h1', 'completed', now(), now(), 2, $1, $2)`,
      [HISTORY, createHash('sha256').update(HISTORY, 'utf8').digest()],
    );
    await recordArchived(tx, { caseId: 'c1', runId: 'run-1', sha256Hex: createHash('sha256').update(HISTORY, 'utf8').digest('hex'), events: 2 });
  });
});
afterAll(async () => {
  await owner?.end();
  await db?.drop();
});

/** The verification of the trail as `tamper` (run as the owner, a superuser) leaves it; the tampering is rolled back after. */
async function verifiedAfter(tamper: string[], options: { caseId?: string } = {}): Promise<AuditVerification> {
  const client = await owner.connect();
  try {
    await client.query('BEGIN');
    for (const sql of tamper) await client.query(sql);
    return await verifyAuditTrail(client, options);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

async function rowOf(key: string): Promise<{ id: string; position: number }> {
  const { rows } = await db.pool.query(`SELECT id::text, position FROM audit_events WHERE idempotency_key = $1`, [key]);
  return rows[0];
}

describe('the audit chain', () => {
  it('is intact as written, names every actor, and records the retried report once', async () => {
    const verified = await verifyAuditTrail(db.pool);
    expect(verified).toMatchObject({ intact: true, rows: 10, archives: 1, problems: [] });
    const { rows } = await db.pool.query(
      `SELECT kind, case_id, seq, actor_key_id, actor_name, encode(hash, 'hex') AS hash FROM audit_events ORDER BY position`,
    );
    expect(verified.head).toBe(rows.at(-1).hash);
    expect(rows.map((r) => [r.kind, r.case_id, r.seq, r.actor_name])).toEqual([
      ['published', null, null, 'Root'],
      ['opened', 'c1', null, 'Root'],
      ['opened', 'c2', null, 'Root'],
      ['branch', 'c1', 1, 'casebook'],
      ['wait', 'c1', 2, 'Lei'],
      ['branch', 'c2', 1, 'casebook'],
      ['refund', 'c2', 2, 'casebook'],
      ['message', 'c2', 3, 'casebook'],
      ['close', 'c1', 3, 'casebook'],
      ['archived', 'c1', null, 'casebook'],
    ]);
    expect(rows[4].actor_key_id).toBe('k2');
  });

  it('stays one chain when many connections insert at once', async () => {
    const many = createPool(db.url, 16);
    try {
      await Promise.all(
        Array.from({ length: 16 }, (_, writer) =>
          withTransaction(many, async (tx) => {
            for (let i = 0; i < 5; i++) {
              await tx.query(`INSERT INTO audit_events (idempotency_key, case_id, seq, at, kind, detail) VALUES ($1, $2, $3, clock_timestamp(), 'note', $4)`, [
                `busy/${writer}/${i}`,
                `busy-notes-${writer}`,
                i + 1,
                JSON.stringify({ writer, i }),
              ]);
              await tx.query('SELECT pg_sleep(0.001)');
            }
          }),
        ),
      );
      await Promise.all(
        Array.from({ length: 16 }, (_, writer) => recordProgress(many, report(`busy-${writer}`, [step(1, 'branch'), step(2, 'wait'), step(3, 'close')]))),
      );
    } finally {
      await many.end();
    }
    const { rows } = await db.pool.query(`SELECT position, encode(prev_hash, 'hex') AS prev, encode(hash, 'hex') AS hash FROM audit_events ORDER BY position`);
    expect(rows.map((r) => r.position)).toEqual(rows.map((_, i) => i + 1));
    rows.slice(1).forEach((row, i) => {
      expect(row.prev, `row ${row.position}`).toBe(rows[i].hash);
    });
    expect(new Set(rows.map((r) => r.prev)).size).toBe(rows.length);
    expect(await verifyAuditTrail(db.pool)).toMatchObject({ intact: true, rows: rows.length, problems: [] });
  });

  it('names the row whose detail was altered', async () => {
    const refund = await rowOf('c2/audit/2');
    const verified = await verifiedAfter([`UPDATE audit_events SET detail = jsonb_set(detail, '{amount}', '50000') WHERE idempotency_key = 'c2/audit/2'`]);
    expect(verified.intact).toBe(false);
    expect(verified.problems).toEqual([
      expect.objectContaining({ problem: 'altered', position: refund.position, id: refund.id, caseId: 'c2', kind: 'refund' }),
    ]);
    expect(verified.problems[0]!.message).toBe(`row ${refund.position} (id ${refund.id}, case c2, kind refund): its content does not match its hash (altered)`);
    // Its own case does not verify; another case does.
    expect(
      (await verifiedAfter([`UPDATE audit_events SET detail = jsonb_set(detail, '{amount}', '50000') WHERE idempotency_key = 'c2/audit/2'`], { caseId: 'c2' }))
        .problems,
    ).toEqual([expect.objectContaining({ problem: 'altered', id: refund.id })]);
    expect(
      await verifiedAfter([`UPDATE audit_events SET detail = jsonb_set(detail, '{amount}', '50000') WHERE idempotency_key = 'c2/audit/2'`], { caseId: 'c1' }),
    ).toMatchObject({ intact: true, rows: 5, archives: 1 });
  });

  it('names an altered actor', async () => {
    const wait = await rowOf('c1/audit/2');
    const verified = await verifiedAfter([`UPDATE audit_events SET actor_name = 'Someone else' WHERE idempotency_key = 'c1/audit/2'`]);
    expect(verified.problems).toEqual([expect.objectContaining({ problem: 'altered', id: wait.id, caseId: 'c1', kind: 'wait' })]);
  });

  it('names the place of a removed row, and the case whose workflow seq it broke', async () => {
    const removed = await rowOf('c1/audit/2');
    const verified = await verifiedAfter([`DELETE FROM audit_events WHERE idempotency_key = 'c1/audit/2'`]);
    expect(verified.intact).toBe(false);
    expect(verified.problems[0]).toMatchObject({ problem: 'gap', position: removed.position + 1 });
    expect(verified.problems[0]!.message).toContain(`row ${removed.position} is missing before it (removed)`);
    expect(verified.problems.slice(1)).toEqual([expect.objectContaining({ problem: 'seq', caseId: 'c1', kind: 'close' })]);
    expect(verified.problems[1]!.message).toContain('workflow seq 2 is missing before it (removed)');
    const ofCase = await verifiedAfter([`DELETE FROM audit_events WHERE idempotency_key = 'c1/audit/2'`], { caseId: 'c1' });
    expect(ofCase.problems.map((p) => p.problem)).toEqual(['gap', 'seq']);
    expect(ofCase.problems[0]!.message).toContain(`row ${removed.position} after it is missing (removed)`);
  });

  it('names a forged row: one inserted through the trigger repeats a workflow seq, one inserted around it has a wrong hash', async () => {
    const through = await verifiedAfter([
      `INSERT INTO audit_events (idempotency_key, case_id, seq, at, kind, step_id, detail) VALUES ('forged', 'c2', 2, now(), 'refund', 'refund', '{"amount": 9000}')`,
    ]);
    expect(through.problems).toEqual([expect.objectContaining({ problem: 'seq', caseId: 'c2', kind: 'refund' })]);
    expect(through.problems[0]!.message).toMatch(/^row \d+ \(id \d+, case c2, kind refund\): workflow seq 2 appears again where 3 was expected \(inserted\)$/);

    const around = await verifiedAfter([
      'SET LOCAL session_replication_role = replica',
      `INSERT INTO audit_events (idempotency_key, case_id, at, kind, detail, position, prev_hash, hash)
       SELECT 'forged', 'c2', now(), 'note', '{"note": "refund approved by phone"}', max(position) + 1,
              (SELECT hash FROM audit_events ORDER BY position DESC LIMIT 1), '\\x${randomBytes(32).toString('hex')}' FROM audit_events`,
    ]);
    expect(around.problems).toEqual([
      expect.objectContaining({ problem: 'altered', caseId: 'c2', kind: 'note', id: expect.any(String) }),
      expect.objectContaining({ problem: 'unnumbered', caseId: 'c2', kind: 'note' }),
    ]);
  });

  it('names the case and run whose archived history was edited', async () => {
    const archived = await rowOf('c1/archived/run-1');
    const edited = await verifiedAfter([`UPDATE case_histories SET history = replace(history, 'COMPLETED', 'FAILED') WHERE run_id = 'run-1'`]);
    expect(edited.problems).toEqual([expect.objectContaining({ problem: 'archive-altered', caseId: 'c1', runId: 'run-1' })]);
    expect(edited.problems[0]!.message).toBe("case c1 run run-1: the archived history's sha256 is not its sha256 column (altered)");
    // Its sha256 column rewritten too: the digest the chained `archived` row recorded still differs.
    const rewritten = await verifiedAfter([
      `UPDATE case_histories SET history = replace(history, 'COMPLETED', 'FAILED') WHERE run_id = 'run-1'`,
      `UPDATE case_histories SET sha256 = sha256(convert_to(history, 'UTF8')) WHERE run_id = 'run-1'`,
    ]);
    expect(rewritten.problems).toEqual([expect.objectContaining({ problem: 'archive-altered', caseId: 'c1', runId: 'run-1', id: archived.id })]);
    expect(rewritten.problems[0]!.message).toBe(
      `case c1 run run-1: the archived history's sha256 is not the digest row ${archived.position} (id ${archived.id}) recorded (altered)`,
    );
    const removed = await verifiedAfter([`DELETE FROM case_histories WHERE run_id = 'run-1'`]);
    expect(removed.problems).toEqual([expect.objectContaining({ problem: 'archive-missing', caseId: 'c1', runId: 'run-1' })]);
    const unrecorded = await verifiedAfter([
      `INSERT INTO case_histories (run_id, case_id, workflow_id, plan_hash, run_status, started_at, closed_at, event_count, history, sha256)
       SELECT 'run-2', case_id, workflow_id, plan_hash, run_status, started_at, closed_at, event_count, history, sha256 FROM case_histories WHERE run_id = 'run-1'`,
    ]);
    expect(unrecorded.problems).toEqual([expect.objectContaining({ problem: 'archive-unrecorded', caseId: 'c1', runId: 'run-2' })]);
    expect(await verifiedAfter([`UPDATE case_histories SET history = history || ' ' WHERE run_id = 'run-1'`], { caseId: 'c1' })).toMatchObject({
      intact: false,
      problems: [expect.objectContaining({ problem: 'archive-altered', runId: 'run-1' })],
    });
    expect(await verifiedAfter([`UPDATE case_histories SET history = history || ' ' WHERE run_id = 'run-1'`], { caseId: 'c2' })).toMatchObject({
      intact: true,
      archives: 0,
    });
  });

  it('records an archive once per run', async () => {
    await recordArchived(db.pool, { caseId: 'c1', runId: 'run-1', sha256Hex: 'ff'.repeat(32), events: 2 });
    const { rows } = await db.pool.query(`SELECT detail->>'sha256' AS sha256 FROM audit_events WHERE kind = 'archived'`);
    expect(rows).toEqual([{ sha256: createHash('sha256').update(HISTORY, 'utf8').digest('hex') }]);
  });
});

describe('the application role', () => {
  it.each([
    `UPDATE audit_events SET detail = '{}'`,
    `UPDATE audit_events SET hash = prev_hash`,
    'DELETE FROM audit_events',
    'TRUNCATE audit_events',
    `UPDATE case_histories SET history = ''`,
    'DELETE FROM case_histories',
    'TRUNCATE case_histories',
    'ALTER TABLE audit_events DISABLE TRIGGER audit_events_chain',
    'SET session_replication_role = replica',
  ])('may not %s', async (sql) => {
    await expect(db.pool.query(sql)).rejects.toThrow(/permission denied|must be owner/);
  });

  it('cannot choose a row’s place or hash: the trigger sets them', async () => {
    await db.pool.query(
      `INSERT INTO audit_events (idempotency_key, case_id, seq, at, kind, position, prev_hash, hash) VALUES ('chosen', 'c9', 1, now(), 'note', 1, '\\x00', '\\x00')`,
    );
    const { rows } = await db.pool.query(`SELECT position, length(hash) AS length FROM audit_events WHERE idempotency_key = 'chosen'`);
    expect(rows[0].position).toBeGreaterThan(1);
    expect(rows[0].length).toBe(32);
    expect((await verifyAuditTrail(db.pool)).intact).toBe(true);
  });
});
