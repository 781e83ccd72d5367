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

/** Stores runs' histories in one statement; answers the run ids stored (a run archived already is left as it was). */
export async function insertArchivedRuns(db: Queryable, runs: ArchivedRun[]): Promise<Set<string>> {
  if (runs.length === 0) return new Set();
  const column = <T>(value: (run: ArchivedRun) => T) => runs.map(value);
  const { rows } = await db.query<{ run_id: string }>(
    `INSERT INTO case_histories (run_id, case_id, workflow_id, plan_hash, run_status, started_at, closed_at, event_count, history, sha256)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[], $7::timestamptz[], $8::int[], $9::text[], $10::bytea[])
     ON CONFLICT (run_id) DO NOTHING
     RETURNING run_id`,
    [
      column((run) => run.runId),
      column((run) => run.caseId),
      column((run) => run.workflowId),
      column((run) => run.planHash),
      column((run) => run.runStatus),
      column((run) => run.startedAt),
      column((run) => run.closedAt),
      column((run) => run.eventCount),
      column((run) => run.history),
      column((run) => run.sha256),
    ],
  );
  return new Set(rows.map((row) => row.run_id));
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

/** A case's workflow, pinned plan and whether its history is archived. */
export interface CaseRunIdentity {
  caseId: string;
  workflowId: string;
  planHash: string;
  status: string;
  historyArchive: 'archived' | 'lost' | null;
}

const IDENTITY_COLUMNS = 'case_id, workflow_id, plan_hash, status, history_archive';
const toIdentity = (r: Record<string, string>): CaseRunIdentity => ({
  caseId: r.case_id!,
  workflowId: r.workflow_id!,
  planHash: r.plan_hash!,
  status: r.status!,
  historyArchive: r.history_archive as CaseRunIdentity['historyArchive'],
});

/** Closed cases whose history is neither archived nor known lost, longest closed first. */
export async function closedCasesToArchive(db: Queryable, limit: number): Promise<CaseRunIdentity[]> {
  const { rows } = await db.query(`SELECT ${IDENTITY_COLUMNS} FROM cases WHERE status = 'closed' AND history_archive IS NULL ORDER BY closed_at LIMIT $1`, [
    limit,
  ]);
  return rows.map(toIdentity);
}

/** A case's workflow and pinned plan, by either id; undefined when no such case. */
export async function caseRunIdentity(db: Queryable, by: { caseId: string } | { workflowId: string }): Promise<CaseRunIdentity | undefined> {
  const [column, value] = 'caseId' in by ? ['case_id', by.caseId] : ['workflow_id', by.workflowId];
  const { rows } = await db.query(`SELECT ${IDENTITY_COLUMNS} FROM cases WHERE ${column} = $1`, [value]);
  return rows[0] && toIdentity(rows[0]);
}

/** Marks closed cases' histories archived (every run stored) or lost (Temporal no longer had them), in one statement. */
export async function markHistoryArchives(db: Queryable, marks: { caseId: string; state: 'archived' | 'lost' }[]): Promise<void> {
  if (marks.length === 0) return;
  await db.query(`UPDATE cases c SET history_archive = m.state FROM unnest($1::text[], $2::text[]) AS m (case_id, state) WHERE c.case_id = m.case_id`, [
    marks.map((mark) => mark.caseId),
    marks.map((mark) => mark.state),
  ]);
}

/** The latest close time archived: where a scan for newly closed runs may start. */
export async function lastArchivedCloseTime(db: Queryable): Promise<Date | null> {
  const { rows } = await db.query<{ latest: Date | null }>(`SELECT max(closed_at) AS latest FROM case_histories`);
  return rows[0]?.latest ?? null;
}
