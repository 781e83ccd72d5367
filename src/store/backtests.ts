/** What a backtest reads of the archive (closed cases of a playbook) and the reports it keeps (`backtests`). */
import type { Plan } from '../plan/plan.js';
import type { Queryable } from './transaction.js';

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

/**
 * The closed cases of a playbook opened in [since, until), oldest first, at most `limit`: the cases a
 * sub-playbook opened are left out (their parent's re-run opens them again).
 */
export async function closedCasesOf(
  db: Queryable,
  playbook: string,
  { since, until, limit }: { since?: string | undefined; until?: string | undefined; limit: number },
): Promise<ArchivedCase[]> {
  const { rows } = await db.query(
    `SELECT c.case_id, c.version, c.plan_hash, v.plan, c.opened_at, c.closed_at, c.outcome, c.reason,
            COALESCE((SELECT array_agg(h.history ORDER BY h.started_at, h.run_id) FROM case_histories h WHERE h.case_id = c.case_id), '{}') AS histories
     FROM cases c JOIN playbook_versions v ON v.name = c.playbook AND v.version = c.version
     WHERE c.playbook = $1 AND c.status = 'closed' AND c.parent_case_id IS NULL
       AND ($2::timestamptz IS NULL OR c.opened_at >= $2) AND ($3::timestamptz IS NULL OR c.opened_at < $3)
     ORDER BY c.opened_at, c.case_id
     LIMIT $4`,
    [playbook, since ?? null, until ?? null, limit],
  );
  return rows.map((r) => ({
    caseId: r.case_id,
    version: r.version,
    planHash: r.plan_hash,
    plan: r.plan,
    openedAt: r.opened_at.toISOString(),
    closedAt: r.closed_at?.toISOString() ?? r.opened_at.toISOString(),
    outcome: r.outcome,
    reason: r.reason,
    histories: r.histories,
  }));
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
}

export async function insertBacktest(db: Queryable, row: { id: string; playbook: string; planHash: string; startedBy: string }): Promise<void> {
  await db.query(`INSERT INTO backtests (id, playbook, plan_hash, started_by) VALUES ($1, $2, $3, $4)`, [row.id, row.playbook, row.planHash, row.startedBy]);
}

export async function recordBacktestProgress(db: Queryable, id: string, done: number, total: number): Promise<void> {
  await db.query(`UPDATE backtests SET done = $2, total = $3 WHERE id = $1 AND status = 'running'`, [id, done, total]);
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
  const { rows } = await db.query(`SELECT * FROM backtests WHERE id = $1`, [id]);
  return rows[0] ? toRow(rows[0]) : undefined;
}

/** The most recently started backtests, newest first, without their reports. */
export async function recentBacktests(db: Queryable, limit: number): Promise<BacktestRow[]> {
  const { rows } = await db.query(
    `SELECT id, playbook, plan_hash, started_by, status, total, done, NULL AS report, problem, started_at, finished_at
     FROM backtests ORDER BY started_at DESC, id LIMIT $1`,
    [limit],
  );
  return rows.map(toRow);
}

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
  };
}
