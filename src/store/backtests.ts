/**
 * What a backtest reads of the archive (closed cases of a playbook) and what it keeps (`backtests`, and
 * the cases it selected with each one's result in `backtest_cases`, migration 327, so a backtest the API
 * was running resumes after a restart).
 */
import type { HashedPlan, Plan } from '../plan/plan.js';
import { type CaseFilter, filterSql } from './case-list.js';
import { withTransaction, type Queryable } from './transaction.js';
import type { Pool } from './pool.js';

/** A closed case a backtest re-runs, with the plan it ran and its archived runs' histories, first run first. */
export interface ArchivedCase {
  caseId: string;
  version: number;
  planHash: string;
  plan: Plan;
  openedAt: string;
  closedAt: string;
  outcome: string | null;
  reason: string | null;
  /** The archived histories as Temporal's JSON; [] when the case's history was not archived. */
  histories: string[];
}

/** Which closed cases a backtest takes, beside its playbook: the case list's filters (not its playbook or status) and a version. */
export type BacktestCaseQuery = Omit<CaseFilter, 'playbook' | 'status'> & { version?: number };

export interface BacktestSelection {
  since?: string | undefined;
  until?: string | undefined;
  cases?: BacktestCaseQuery | undefined;
  limit: number;
}

/**
 * The closed cases of a playbook opened in [since, until) that match `cases`, oldest first, at most
 * `limit`: the cases a sub-playbook opened are left out (their parent's re-run opens them again).
 */
export async function closedCaseIds(db: Queryable, playbook: string, { since, until, cases = {}, limit }: BacktestSelection): Promise<string[]> {
  const { version, ...filter } = cases;
  const { where, values } = filterSql({ ...filter, playbook, status: 'closed' });
  const { rows } = await db.query<{ case_id: string }>(
    `SELECT case_id FROM cases
     WHERE ${where} AND parent_case_id IS NULL
       AND ($9::timestamptz IS NULL OR opened_at >= $9) AND ($10::timestamptz IS NULL OR opened_at < $10)
       AND ($11::integer IS NULL OR version = $11)
     ORDER BY opened_at, case_id
     LIMIT $12`,
    [...values, since ?? null, until ?? null, version ?? null, limit],
  );
  return rows.map((row) => row.case_id);
}

/** A closed case with its plan and archived histories; undefined when it is not there. */
export async function archivedCase(db: Queryable, caseId: string): Promise<ArchivedCase | undefined> {
  const { rows } = await db.query(
    `SELECT c.case_id, c.version, c.plan_hash, v.plan, c.opened_at, c.closed_at, c.outcome, c.reason,
            COALESCE((SELECT array_agg(h.history ORDER BY h.started_at, h.run_id) FROM case_histories h WHERE h.case_id = c.case_id), '{}') AS histories
     FROM cases c JOIN playbook_versions v ON v.name = c.playbook AND v.version = c.version
     WHERE c.case_id = $1`,
    [caseId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    caseId: r.case_id,
    version: r.version,
    planHash: r.plan_hash,
    plan: r.plan,
    openedAt: r.opened_at.toISOString(),
    closedAt: r.closed_at?.toISOString() ?? r.opened_at.toISOString(),
    outcome: r.outcome,
    reason: r.reason,
    histories: r.histories,
  };
}

/** What a re-run of a case left on the scratch database: its deadlines missed, in the order they were. */
export async function deadlinesMissed(db: Queryable, caseId: string): Promise<string[]> {
  const { rows } = await db.query<{ missed: string }>(
    `WITH RECURSIVE family(case_id) AS (SELECT $1::text UNION SELECT c.case_id FROM cases c JOIN family f ON c.parent_case_id = f.case_id)
     SELECT missed FROM (
       SELECT 'timeout ' || a.step_id AS missed, a.at FROM audit_trail a
       WHERE a.case_id IN (SELECT case_id FROM family) AND a.kind = 'wait' AND a.detail ? 'timeout'
       UNION ALL
       SELECT 'clock ' || (a.detail->>'clock'), a.at FROM audit_trail a
       WHERE a.case_id IN (SELECT case_id FROM family) AND a.kind = 'clock' AND a.detail ? 'breached'
       UNION ALL
       SELECT 'task-sla ' || t.step_id, t.due_at FROM tasks t
       WHERE t.case_id IN (SELECT case_id FROM family) AND (t.status = 'breached' OR t.completed_at > t.due_at)
       UNION ALL
       SELECT 'refund-late ' || r.step_id, r.late_at FROM refunds r
       WHERE r.case_id IN (SELECT case_id FROM family) AND r.late_at IS NOT NULL
     ) missed ORDER BY at, missed`,
    [caseId],
  );
  return rows.map((row) => row.missed);
}

export interface BacktestRow {
  id: string;
  playbook: string;
  planHash: string;
  startedBy: string;
  status: 'running' | 'done' | 'failed';
  total: number;
  done: number;
  report: unknown;
  problem: string | null;
  startedAt: string;
  finishedAt: string | null;
  /** The playbook's current version when the backtest started (what the candidate is compared with in the console); null when none was. */
  baseline: { version: number; hash: string } | null;
  /** The published version the candidate is, if it is one. */
  candidateVersion: number | null;
}

/** What a backtest compares, kept so that it can resume: the candidate, its selection, the baseline. */
export interface BacktestStart {
  id: string;
  candidate: HashedPlan;
  selection: BacktestSelection;
  startedBy: string;
  baseline: { version: number; hash: string } | null;
  candidateVersion: number | null;
  /** Whether `casebook start` picks it up again when it was left running (the API's backtests). */
  resumable: boolean;
}

export async function insertBacktest(db: Queryable, row: BacktestStart): Promise<void> {
  await db.query(
    `INSERT INTO backtests (id, playbook, plan_hash, started_by, candidate, options, baseline_version, baseline_hash, candidate_version, resumable)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      row.id,
      row.candidate.plan.name,
      row.candidate.hash,
      row.startedBy,
      JSON.stringify(row.candidate),
      JSON.stringify(row.selection),
      row.baseline?.version ?? null,
      row.baseline?.hash ?? null,
      row.candidateVersion,
      row.resumable,
    ],
  );
}

/** What a kept backtest compares (null for one kept before migration 327, which cannot resume). */
export async function backtestStart(db: Queryable, id: string): Promise<Omit<BacktestStart, 'resumable'> | undefined> {
  const { rows } = await db.query(`SELECT * FROM backtests WHERE id = $1 AND candidate IS NOT NULL`, [id]);
  const r = rows[0];
  if (!r) return undefined;
  return {
    id: r.id,
    candidate: r.candidate,
    selection: r.options,
    startedBy: r.started_by,
    baseline: r.baseline_version === null ? null : { version: r.baseline_version, hash: r.baseline_hash },
    candidateVersion: r.candidate_version,
  };
}

/** Keeps the cases a backtest selects, in order, unless it kept them already (a resumed one). */
export async function keepBacktestCases(pool: Pool, id: string, caseIds: () => Promise<string[]>): Promise<void> {
  await withTransaction(pool, async (tx) => {
    const { rows } = await tx.query(`SELECT 1 FROM backtests WHERE id = $1 AND total = 0 AND status = 'running' FOR UPDATE`, [id]);
    if (rows.length === 0) return;
    const ids = await caseIds();
    await tx.query(
      `INSERT INTO backtest_cases (backtest_id, position, case_id) SELECT $1, position, case_id FROM unnest($2::text[]) WITH ORDINALITY AS s(case_id, position)`,
      [id, ids],
    );
    await tx.query(`UPDATE backtests SET total = $2 WHERE id = $1`, [id, ids.length]);
  });
}

/** The backtest's cases without a result, in order. */
export async function pendingBacktestCases(db: Queryable, id: string): Promise<string[]> {
  const { rows } = await db.query<{ case_id: string }>(`SELECT case_id FROM backtest_cases WHERE backtest_id = $1 AND result IS NULL ORDER BY position`, [id]);
  return rows.map((row) => row.case_id);
}

/** Every case's result, in order (null for one not yet re-run). */
export async function backtestCaseResults(db: Queryable, id: string): Promise<{ caseId: string; result: unknown; at: string | null }[]> {
  const { rows } = await db.query(`SELECT case_id, result, at FROM backtest_cases WHERE backtest_id = $1 ORDER BY position`, [id]);
  return rows.map((r) => ({ caseId: r.case_id, result: r.result, at: r.at?.toISOString() ?? null }));
}

/** Keeps a case's result (once: a second result of the same case is not taken) and the progress. */
export async function recordBacktestCase(db: Queryable, id: string, caseId: string, result: unknown): Promise<void> {
  await db.query(
    `WITH kept AS (UPDATE backtest_cases SET result = $3, at = now() WHERE backtest_id = $1 AND case_id = $2 AND result IS NULL RETURNING 1)
     UPDATE backtests SET done = done + (SELECT count(*) FROM kept) WHERE id = $1`,
    [id, caseId, JSON.stringify(result)],
  );
}

/** The backtests the API left running, oldest first: what `casebook start` resumes. */
export async function resumableBacktests(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM backtests WHERE status = 'running' AND resumable AND candidate IS NOT NULL ORDER BY started_at, id`,
  );
  return rows.map((row) => row.id);
}

export async function finishBacktest(db: Queryable, id: string, end: { report: unknown } | { problem: string }): Promise<void> {
  await db.query(`UPDATE backtests SET status = $2, report = $3, problem = $4, finished_at = now() WHERE id = $1`, [
    id,
    'report' in end ? 'done' : 'failed',
    'report' in end ? JSON.stringify(end.report) : null,
    'problem' in end ? end.problem : null,
  ]);
}

export async function getBacktest(db: Queryable, id: string): Promise<BacktestRow | undefined> {
  const { rows } = await db.query(`SELECT ${COLUMNS}, report FROM backtests WHERE id = $1`, [id]);
  return rows[0] ? toRow(rows[0]) : undefined;
}

/** The most recently started backtests, newest first, without their reports. */
export async function recentBacktests(db: Queryable, limit: number): Promise<BacktestRow[]> {
  const { rows } = await db.query(`SELECT ${COLUMNS}, NULL AS report FROM backtests ORDER BY started_at DESC, id LIMIT $1`, [limit]);
  return rows.map(toRow);
}

const COLUMNS =
  'id, playbook, plan_hash, started_by, status, total, done, problem, started_at, finished_at, baseline_version, baseline_hash, candidate_version';

// biome-ignore lint/suspicious/noExplicitAny: a row of `backtests` as pg returns it
function toRow(r: any): BacktestRow {
  return {
    id: r.id,
    playbook: r.playbook,
    planHash: r.plan_hash,
    startedBy: r.started_by,
    status: r.status,
    total: r.total,
    done: r.done,
    report: r.report,
    problem: r.problem,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at?.toISOString() ?? null,
    baseline: r.baseline_version === null ? null : { version: r.baseline_version, hash: r.baseline_hash },
    candidateVersion: r.candidate_version,
  };
}
