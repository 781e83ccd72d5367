/** `bulk_jobs` and `bulk_job_cases`: operations on many cases at once, each case's result kept as it is reached. */
import type { Actor } from '../plan/case.js';
import type { Severity } from '../plan/plan.js';
import type { CaseSelection } from './case-list.js';
import type { Pool } from './pool.js';
import { withTransaction, type Queryable } from './transaction.js';

export type BulkOperation = 'cancel' | 'retry' | 'escalate' | 'migrate';
export type BulkCaseState = 'pending' | 'done' | 'skipped' | 'failed';

/** What the operation needs besides the case: the cancel's or the repair's reason, the escalation's queue and severity, the migration's version and mapping. */
export interface BulkParams {
  reason: string;
  queue?: string;
  severity?: Severity;
  toVersion?: number;
  /** Old step id → new step id. */
  mapping?: Record<string, string>;
}

export interface BulkJobRequest {
  operation: BulkOperation;
  selection: CaseSelection;
  params: BulkParams;
  ratePerSecond: number;
  by: Actor;
  /** The submitter's Idempotency-Key: the same key (and key holder) again answers the job already made. */
  idempotencyKey?: string;
}

export interface BulkJob {
  id: string;
  operation: BulkOperation;
  selection: CaseSelection;
  params: BulkParams;
  ratePerSecond: number;
  createdBy: Actor;
  status: 'running' | 'finished';
  createdAt: string;
  finishedAt: string | null;
  /** How many of its cases are in each state. */
  progress: Record<BulkCaseState, number> & { total: number };
}

export interface BulkCaseResult {
  caseId: string;
  state: BulkCaseState;
  detail: string | null;
  at: string | null;
}

/**
 * Makes the job with its cases (in the order they are to be reached) in one transaction; with an
 * idempotency key already used by the same key holder, makes nothing and answers that job's id.
 */
export async function insertBulkJob(pool: Pool, job: BulkJobRequest, caseIds: string[]): Promise<{ id: string; created: boolean }> {
  return withTransaction(pool, async (db) => {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO bulk_jobs (created_by_key_id, created_by_name, idempotency_key, operation, selection, params, rate_per_second)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (created_by_key_id, idempotency_key) DO NOTHING RETURNING id`,
      [job.by.keyId, job.by.name, job.idempotencyKey ?? null, job.operation, job.selection, job.params, job.ratePerSecond],
    );
    if (!rows[0]) {
      const existing = await db.query<{ id: string }>(`SELECT id FROM bulk_jobs WHERE created_by_key_id IS NOT DISTINCT FROM $1 AND idempotency_key = $2`, [
        job.by.keyId,
        job.idempotencyKey,
      ]);
      return { id: String(existing.rows[0]!.id), created: false };
    }
    const id = String(rows[0].id);
    await db.query(
      `INSERT INTO bulk_job_cases (job_id, position, case_id) SELECT $1, ordinality, case_id FROM unnest($2::text[]) WITH ORDINALITY AS c(case_id, ordinality)`,
      [id, caseIds],
    );
    return { id, created: true };
  });
}

/** The job as submitted, with its progress; undefined when there is no such job. */
export async function findBulkJob(db: Queryable, id: string): Promise<BulkJob | undefined> {
  const { rows } = await db.query(
    `SELECT j.*, (SELECT jsonb_object_agg(state, n) FROM (SELECT state, count(*) AS n FROM bulk_job_cases WHERE job_id = j.id GROUP BY state) s) AS progress
     FROM bulk_jobs j WHERE j.id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) return undefined;
  const counts = { pending: 0, done: 0, skipped: 0, failed: 0, ...(row.progress ?? {}) };
  return {
    id: String(row.id),
    operation: row.operation,
    selection: row.selection,
    params: row.params,
    ratePerSecond: row.rate_per_second,
    createdBy: { keyId: row.created_by_key_id, name: row.created_by_name },
    status: row.status,
    createdAt: row.created_at.toISOString(),
    finishedAt: row.finished_at ? row.finished_at.toISOString() : null,
    progress: { ...counts, total: counts.pending + counts.done + counts.skipped + counts.failed },
  };
}

/** The newest jobs first. */
export async function listBulkJobs(db: Queryable, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM bulk_jobs ORDER BY id DESC LIMIT $1`, [limit]);
  return rows.map((row) => String(row.id));
}

/** The jobs not finished: those a restart resumes. */
export async function runningBulkJobs(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM bulk_jobs WHERE status = 'running' ORDER BY id`);
  return rows.map((row) => String(row.id));
}

/** The job's cases in order, from `after` (a position), at most `limit`; `state` narrows them. */
export async function bulkJobCases(
  db: Queryable,
  id: string,
  options: { after?: number; limit: number; state?: BulkCaseState },
): Promise<(BulkCaseResult & { position: number })[]> {
  const { rows } = await db.query(
    `SELECT position, case_id, state, detail, at FROM bulk_job_cases
     WHERE job_id = $1 AND position > $2 AND ($3::text IS NULL OR state = $3) ORDER BY position LIMIT $4`,
    [id, options.after ?? 0, options.state ?? null, options.limit],
  );
  return rows.map((row) => ({
    position: row.position,
    caseId: row.case_id,
    state: row.state,
    detail: row.detail,
    at: row.at ? row.at.toISOString() : null,
  }));
}

/** Records what became of one case of the job. */
export async function recordBulkCase(
  db: Queryable,
  id: string,
  caseId: string,
  state: Exclude<BulkCaseState, 'pending'>,
  detail: string | null,
): Promise<void> {
  await db.query(`UPDATE bulk_job_cases SET state = $3, detail = $4, at = now() WHERE job_id = $1 AND case_id = $2 AND state = 'pending'`, [
    id,
    caseId,
    state,
    detail,
  ]);
}

export async function finishBulkJob(db: Queryable, id: string): Promise<void> {
  await db.query(`UPDATE bulk_jobs SET status = 'finished', finished_at = now() WHERE id = $1 AND status = 'running'`, [id]);
}

/** Whether an escalation with this idempotency key exists. */
export async function escalationKeyTaken(db: Queryable, key: string): Promise<boolean> {
  const { rows } = await db.query(`SELECT 1 FROM escalations WHERE idempotency_key = $1`, [key]);
  return rows.length > 0;
}
