/**
 * Audit rows of a workflow task that did not commit (migrations/329_audit_voided.sql): a task's local
 * activities write its report before Temporal records the task, so a task that fails or times out
 * afterwards leaves rows its retry may not decide. The retry's report voids them, in the chain; a late
 * report of the failed task writes nothing; the trail the readers see, the replay's comparison and
 * `verify` hold only what the case decided.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProgressReport, StepRecord } from '../../src/plan/case.js';
import { recordOpened, recordPublished, verifyAuditTrail } from '../../src/store/audit-chain.js';
import { caseHistory } from '../../src/store/case-history.js';
import { auditRowsOf } from '../../src/store/case-export.js';
import { createPool, type Pool } from '../../src/store/pool.js';
import { recordProgress } from '../../src/store/progress.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let owner: Pool;
const ROOT = { keyId: 'abcdefabcdef', name: 'Root' };

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
/** A workflow task: its started event, when it started, and when its run started. */
const task = (event: number, second: number, runStartedSecond = 0) => ({ task: event, at: at(second), runStartedAt: at(runStartedSecond) });
const record = (seq: number, kind: string, at: string, detail: Record<string, unknown> = {}): { seq: number; record: StepRecord } => ({
  seq,
  record: { step: `s${seq}`, kind, at, detail },
});
const report = (
  caseId: string,
  decidedIn: ProgressReport['decidedIn'],
  from: number,
  audit: ProgressReport['audit'],
  position: Partial<ProgressReport> = {},
): ProgressReport => ({
  caseId,
  status: 'waiting',
  step: 'wait',
  waitingFor: ['warehouse.received'],
  deadlines: [],
  data: {},
  outcome: null,
  returnTracking: null,
  audit,
  from,
  decidedIn,
  ...position,
});

async function openCase(caseId: string) {
  await db.pool.query(
    `INSERT INTO cases (case_id, workflow_id, playbook, version, plan_hash, case_type, data) VALUES ($1, 'case-' || $1, 'return', 1, 'h1', 'return', '{}')`,
    [caseId],
  );
  await recordOpened(db.pool, { caseId, by: ROOT, data: {}, playbook: { name: 'return', version: 1, hash: 'h1' } });
}

/** The trail as the readers see it: seq, kind and step of each row. */
async function trail(caseId: string) {
  const history = await caseHistory(db.pool, caseId);
  return history!.steps.map((s) => [s.seq, s.kind, s.at]);
}

async function projection(caseId: string) {
  const { rows } = await db.pool.query(`SELECT status, current_step, reported_task FROM cases WHERE case_id = $1`, [caseId]);
  return rows[0];
}

beforeAll(async () => {
  db = await createTestDatabase();
  owner = createPool(db.ownerUrl, 2);
  await db.pool.query(`INSERT INTO playbook_versions (name, version, hash, source_yaml, plan) VALUES ('return', 1, 'h1', '', '{}')`);
  await recordPublished(db.pool, { name: 'return', version: 1, hash: 'h1', by: ROOT });
});

afterAll(async () => {
  await owner?.end();
  await db?.drop();
});

describe('the audit rows of a workflow task that did not commit', () => {
  const first = task(3, 1);
  const failed = task(9, 5);
  const retry = task(13, 16);

  beforeAll(async () => {
    await openCase('v1');
    // Task 3 reports the case waiting for the parcel, and commits.
    await recordProgress(db.pool, report('v1', first, 1, [record(1, 'branch', first.at), record(2, 'wait', first.at)]));
    // Task 9 takes the warehouse's event and refunds, then times out before Temporal records it.
    await recordProgress(
      db.pool,
      report('v1', failed, 3, [record(3, 'wait', failed.at, { event: 'warehouse.received' }), record(4, 'refund', failed.at)], { step: 'refund' }),
    );
    // Its retry, task 13, sees the buyer's cancel that arrived meanwhile and decides otherwise.
    await recordProgress(db.pool, report('v1', retry, 3, [record(3, 'cancelled', retry.at)], { status: 'closed', step: null, waitingFor: [] }));
  });

  it('leaves only what the retry decided in the trail the readers see', async () => {
    expect(await trail('v1')).toEqual([
      [1, 'branch', first.at],
      [2, 'wait', first.at],
      [3, 'cancelled', retry.at],
    ]);
    expect(await projection('v1')).toEqual({ status: 'closed', current_step: null, reported_task: 13 });
  });

  it('keeps the failed task’s rows in the chain, voided by a row that names them', async () => {
    const rows = await auditRowsOf(db.pool, 'v1');
    const voiding = rows.find((row) => row.kind === 'voided')!;
    expect(voiding).toMatchObject({ seq: null, actor: { keyId: null, name: 'casebook' }, detail: { seqs: [3, 4], task: 13, decidedAt: retry.at } });
    expect(rows.filter((row) => row.seq !== null).map((row) => [row.seq, row.kind, row.voidedBy])).toEqual([
      [1, 'branch', null],
      [2, 'wait', null],
      [3, 'wait', voiding.position],
      [4, 'refund', voiding.position],
      [3, 'cancelled', null],
    ]);
    expect(await verifyAuditTrail(db.pool, { caseId: 'v1' })).toMatchObject({ intact: true, problems: [] });
  });

  it('writes nothing for a late report of the failed task', async () => {
    const before = await auditRowsOf(db.pool, 'v1');
    // The stalled worker's local activity of task 9 is retried after task 13 reported.
    const written = await recordProgress(db.pool, report('v1', failed, 3, [record(3, 'wait', failed.at), record(4, 'refund', failed.at)], { step: 'refund' }));
    expect(written).toBe(false);
    expect(await auditRowsOf(db.pool, 'v1')).toEqual(before);
    expect(await projection('v1')).toEqual({ status: 'closed', current_step: null, reported_task: 13 });
  });
});

describe('a report written again', () => {
  it('by a retried local activity of the same task writes each row once and voids nothing', async () => {
    await openCase('v2');
    const t = task(3, 1);
    const again = report('v2', t, 1, [record(1, 'branch', t.at), record(2, 'wait', t.at, { by: { keyId: 'k2', name: 'Lei' } })]);
    expect(await recordProgress(db.pool, again)).toBe(true);
    expect(await recordProgress(db.pool, again)).toBe(true);
    const rows = await auditRowsOf(db.pool, 'v2');
    expect(rows.map((row) => [row.seq, row.kind, row.actor.name, row.voidedBy])).toEqual([
      [null, 'opened', 'Root', null],
      [1, 'branch', 'casebook', null],
      [2, 'wait', 'Lei', null],
    ]);
  });

  it('by a retried task deciding the same at a later time replaces the rows, voiding the first times', async () => {
    await openCase('v3');
    const failed = task(3, 1);
    const retry = task(6, 12);
    await recordProgress(db.pool, report('v3', failed, 1, [record(1, 'branch', failed.at), record(2, 'wait', failed.at)]));
    await recordProgress(db.pool, report('v3', retry, 1, [record(1, 'branch', retry.at), record(2, 'wait', retry.at)]));
    expect(await trail('v3')).toEqual([
      [1, 'branch', retry.at],
      [2, 'wait', retry.at],
    ]);
    expect(await verifyAuditTrail(db.pool, { caseId: 'v3' })).toMatchObject({ intact: true });
  });
});

describe('a case continued as new', () => {
  it('orders the new run’s tasks after the old run’s, though their event ids start again', async () => {
    await openCase('v7');
    // The old run's last task and the new run's first start in the same millisecond.
    const last = task(240, 30, 0);
    const next = task(3, 30, 30);
    await recordProgress(db.pool, report('v7', last, 1, [record(1, 'branch', last.at)]));
    expect(await recordProgress(db.pool, report('v7', next, 2, [record(2, 'wait', next.at)]))).toBe(true);
    expect(await projection('v7')).toMatchObject({ reported_task: 3 });
    // A late write of the old run's last task is older still.
    expect(await recordProgress(db.pool, report('v7', last, 1, [record(1, 'branch', last.at)]))).toBe(false);
    expect((await trail('v7')).map(([seq, kind]) => [seq, kind])).toEqual([
      [1, 'branch'],
      [2, 'wait'],
    ]);
  });
});

describe('a report an older build scheduled as an activity before a rolling upgrade', () => {
  it('has no task nor from: it is written as before, voiding nothing, and later tasks still order', async () => {
    await openCase('v6');
    const t = task(3, 1);
    await recordProgress(db.pool, report('v6', t, 1, [record(1, 'branch', t.at)]));
    const { decidedIn: _task, from: _from, ...legacy } = report('v6', t, 1, [record(1, 'branch', '2026-01-01T00:00:09.000Z'), record(2, 'refund', t.at)]);
    expect(await recordProgress(db.pool, legacy)).toBe(true);
    expect((await trail('v6')).map(([seq, kind, at]) => [seq, kind, at])).toEqual([
      [1, 'branch', t.at],
      [2, 'refund', t.at],
    ]);
    expect(await projection('v6')).toMatchObject({ reported_task: 3 });
    expect(await recordProgress(db.pool, report('v6', task(2, 0), 3, [record(3, 'end', t.at)]))).toBe(false);
  });
});

describe('a report carried ahead of a way the case did not go', () => {
  it('is voided from where the case went another way by the task’s next report', async () => {
    await openCase('v4');
    const t = task(7, 3);
    // A message's local activity carried the report of the close it leads to...
    await recordProgress(
      db.pool,
      report('v4', t, 1, [record(1, 'message', t.at), record(2, 'branch', t.at), record(3, 'end', t.at)], {
        status: 'closed',
        step: null,
        outcome: { outcome: 'resolved', reason: 'refunded' },
      }),
    );
    // ...but a cancel came first: the same task reports the truth from seq 2.
    await recordProgress(db.pool, report('v4', t, 2, [record(2, 'cancelled', t.at)], { status: 'closed', step: null }));
    expect((await trail('v4')).map(([seq, kind]) => [seq, kind])).toEqual([
      [1, 'message'],
      [2, 'cancelled'],
    ]);
    const voiding = (await auditRowsOf(db.pool, 'v4')).find((row) => row.kind === 'voided');
    expect(voiding?.detail).toMatchObject({ seqs: [2, 3] });
    expect(await verifyAuditTrail(db.pool, { caseId: 'v4' })).toMatchObject({ intact: true });
  });
});

describe('what is out of the trail stays out', () => {
  it('the application role cannot change or remove what voided a row', async () => {
    await expect(db.pool.query(`DELETE FROM audit_voided`)).rejects.toThrow(/permission denied/);
    await expect(db.pool.query(`UPDATE audit_voided SET voided_by = audit_id`)).rejects.toThrow(/permission denied/);
  });

  it('verify names a row taken out of the trail by anything but a voided row naming it', async () => {
    await openCase('v5');
    const t = task(3, 1);
    await recordProgress(db.pool, report('v5', t, 1, [record(1, 'branch', t.at), record(2, 'refund', t.at)]));
    // The owner hides the refund row behind the case's `opened` row.
    await owner.query(
      `INSERT INTO audit_voided (audit_id, voided_by)
       SELECT r.id, o.id FROM audit_events r, audit_events o WHERE r.idempotency_key = 'v5/audit/2' AND o.case_id = 'v5' AND o.kind = 'opened'`,
    );
    expect((await trail('v5')).map(([seq]) => seq)).toEqual([1]);
    const verified = await verifyAuditTrail(db.pool, { caseId: 'v5' });
    expect(verified.intact).toBe(false);
    expect(verified.problems).toEqual([expect.objectContaining({ problem: 'voided', caseId: 'v5', kind: 'refund' })]);
  });
});
