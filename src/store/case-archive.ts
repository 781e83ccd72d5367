/** The archive of cases' Temporal histories (`case_histories`): one row per closed run, written once. */
import type { Queryable } from './transaction.js';

/** How a run closed, from its last history event. */
export type RunStatus = 'completed' | 'continued-as-new' | 'failed' | 'terminated' | 'timed-out' | 'canceled';

export interface ArchivedRun {
  runId: string;
  caseId: string;
  workflowId: string;
  planHash: string;
  runStatus: RunStatus;
  startedAt: string;
  closedAt: string;
  eventCount: number;
  /** The history as Temporal's JSON. */
  history: string;
  /** sha256 of `history` as UTF-8. */
  sha256: Buffer;
}

/** Stores a run's history; false when that run was archived already (nothing is changed then). */
export async function insertArchivedRun(db: Queryable, run: ArchivedRun): Promise<boolean> {
  const inserted = await db.query(
    `INSERT INTO case_histories (run_id, case_id, workflow_id, plan_hash, run_status, started_at, closed_at, event_count, history, sha256)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     ON CONFLICT (run_id) DO NOTHING`,
    [run.runId, run.caseId, run.workflowId, run.planHash, run.runStatus, run.startedAt, run.closedAt, run.eventCount, run.history, run.sha256],
  );
  return inserted.rowCount === 1;
}

/** A case's archived runs, first run first. */
export async function archivedRuns(db: Queryable, caseId: string): Promise<ArchivedRun[]> {
  const { rows } = await db.query(
    `SELECT run_id, case_id, workflow_id, plan_hash, run_status, started_at, closed_at, event_count, history, sha256
     FROM case_histories WHERE case_id = $1 ORDER BY started_at, run_id`,
    [caseId],
  );
  return rows.map((r) => ({
    runId: r.run_id,
    caseId: r.case_id,
    workflowId: r.workflow_id,
    planHash: r.plan_hash,
    runStatus: r.run_status,
    startedAt: r.started_at.toISOString(),
    closedAt: r.closed_at.toISOString(),
    eventCount: r.event_count,
    history: r.history,
    sha256: r.sha256,
  }));
}

/** Which of these runs are archived. */
export async function archivedRunIds(db: Queryable, runIds: string[]): Promise<Set<string>> {
  if (runIds.length === 0) return new Set();
  const { rows } = await db.query<{ run_id: string }>(`SELECT run_id FROM case_histories WHERE run_id = ANY($1)`, [runIds]);
  return new Set(rows.map((r) => r.run_id));
}

/** Closed cases whose history is neither archived nor known lost, longest closed first. */
export async function closedCasesToArchive(db: Queryable, limit: number): Promise<string[]> {
  const { rows } = await db.query<{ case_id: string }>(
    `SELECT case_id FROM cases WHERE status = 'closed' AND history_archive IS NULL ORDER BY closed_at LIMIT $1`,
    [limit],
  );
  return rows.map((r) => r.case_id);
}

/** A case's workflow and pinned plan, by either id; undefined when no such case. */
export async function caseRunIdentity(
  db: Queryable,
  by: { caseId: string } | { workflowId: string },
): Promise<{ caseId: string; workflowId: string; planHash: string; status: string; historyArchive: 'archived' | 'lost' | null } | undefined> {
  const [column, value] = 'caseId' in by ? ['case_id', by.caseId] : ['workflow_id', by.workflowId];
  const { rows } = await db.query(`SELECT case_id, workflow_id, plan_hash, status, history_archive FROM cases WHERE ${column} = $1`, [value]);
  const r = rows[0];
  return r && { caseId: r.case_id, workflowId: r.workflow_id, planHash: r.plan_hash, status: r.status, historyArchive: r.history_archive };
}

/** Marks a closed case's history archived (every run stored) or lost (Temporal no longer had it). */
export async function markHistoryArchive(db: Queryable, caseId: string, state: 'archived' | 'lost'): Promise<void> {
  await db.query(`UPDATE cases SET history_archive = $2 WHERE case_id = $1`, [caseId, state]);
}

/** The latest close time archived: where a scan for newly closed runs may start. */
export async function lastArchivedCloseTime(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ latest: Date | null }>(`SELECT max(closed_at) AS latest FROM case_histories`);
  return rows[0]?.latest ?? null;
}
