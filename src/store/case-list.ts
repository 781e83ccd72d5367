/** Reading the cases projection: filtered lists with keyset pagination. */
import type { CaseStatus } from '../plan/case.js';
import { decodeCursor, encodeCursor } from './keyset-cursor.js';
import type { Queryable } from './transaction.js';

export interface CaseListFilter {
  playbook?: string;
  status?: CaseStatus;
  orderId?: string;
  outcome?: string;
  reason?: string;
  /** Opened at or after: a date (from its start, UTC) or an instant. */
  openedFrom?: string;
  /** Opened before: a date (from its start, UTC) or an instant. */
  openedTo?: string;
  /** 'true': cases that breached a deadline (see BREACHED); 'false': the others. */
  breached?: 'true' | 'false';
  limit?: string;
  cursor?: string;
}

/**
 * A case breached when one of its tasks passed its SLA, one of its refunds passed its deadline unpaid
 * (it is marked late in the ledger), or one of its clocks ran out (the workflow records the breach).
 */
const BREACHED = `(EXISTS (SELECT 1 FROM tasks t WHERE t.case_id = cases.case_id AND t.status = 'breached')
   OR EXISTS (SELECT 1 FROM refunds r WHERE r.case_id = cases.case_id AND r.late_at IS NOT NULL)
   OR EXISTS (SELECT 1 FROM audit_trail a WHERE a.case_id = cases.case_id AND a.kind = 'clock' AND a.detail ? 'breached'))`;

export interface CaseSummary {
  caseId: string;
  playbook: string;
  version: number;
  status: CaseStatus;
  step: string | null;
  orderId: string | null;
  outcome: string | null;
  openedAt: string;
  updatedAt: string;
}

/** The filters of the case list, as SQL over `cases` with $1..$8, and their values (a backtest selects its closed cases with them too). */
export function filterSql(filter: CaseFilter): { where: string; values: unknown[] } {
  return {
    where: `($1::text IS NULL OR playbook = $1) AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR order_id = $3)
       AND ($4::text IS NULL OR outcome = $4) AND ($5::text IS NULL OR reason = $5)
       AND ($6::timestamptz IS NULL OR opened_at >= $6) AND ($7::timestamptz IS NULL OR opened_at < $7)
       AND ($8::boolean IS NULL OR ${BREACHED} = $8)`,
    values: [
      filter.playbook ?? null,
      filter.status ?? null,
      filter.orderId ?? null,
      filter.outcome ?? null,
      filter.reason ?? null,
      filter.openedFrom ?? null,
      filter.openedTo ?? null,
      filter.breached === undefined ? null : filter.breached === 'true',
    ],
  };
}

/** What the case list filters by (a bulk operation selects its cases with the same, see selectCases). */
export type CaseFilter = Omit<CaseListFilter, 'limit' | 'cursor'>;

/** A bulk operation's selection: the case list's filters, and a playbook version and a current step. */
export type CaseSelection = CaseFilter & { version?: number; step?: string };

/** How many cases the selection matches, and the ids of the first `max` (oldest first, so a job runs in opening order). */
export async function selectCases(db: Queryable, selection: CaseSelection, max: number): Promise<{ count: number; caseIds: string[] }> {
  const { where, values } = filterSql(selection);
  const { rows } = await db.query<{ case_id: string; count: string }>(
    `SELECT case_id, count(*) OVER () AS count FROM cases
     WHERE ${where} AND ($9::integer IS NULL OR version = $9) AND ($10::text IS NULL OR current_step = $10)
     ORDER BY opened_at, case_id LIMIT $11`,
    [...values, selection.version ?? null, selection.step ?? null, max],
  );
  return { count: rows[0] ? Number(rows[0].count) : 0, caseIds: rows.map((row) => row.case_id) };
}

/** Newest first; `undefined` when the cursor is not one we issued. */
export async function listCases(db: Queryable, filter: CaseListFilter): Promise<{ cases: CaseSummary[]; nextCursor: string | null } | undefined> {
  const limit = filter.limit ? Number(filter.limit) : 50;
  const cursor = filter.cursor ? decodeCursor(filter.cursor, 'text') : undefined;
  if (filter.cursor && !cursor) return undefined;
  const { where, values } = filterSql(filter);
  const { rows } = await db.query(
    `SELECT case_id, playbook, version, status, current_step, order_id, outcome, opened_at, opened_at::text AS opened_at_exact, updated_at FROM cases
     WHERE ${where} AND ($9::timestamptz IS NULL OR (opened_at, case_id) < ($9::timestamptz, $10::text))
     ORDER BY opened_at DESC, case_id DESC LIMIT $11`,
    [...values, cursor?.at ?? null, cursor?.key ?? null, limit + 1],
  );
  const shown = rows.slice(0, limit);
  const page = shown.map(
    (row): CaseSummary => ({
      caseId: row.case_id,
      playbook: row.playbook,
      version: row.version,
      status: row.status,
      step: row.current_step,
      orderId: row.order_id,
      outcome: row.outcome,
      openedAt: row.opened_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    }),
  );
  // The cursor keeps Postgres' microseconds, so no case is skipped or repeated between pages.
  const last = shown[shown.length - 1];
  return { cases: page, nextCursor: rows.length > limit && last ? encodeCursor({ at: last.opened_at_exact, key: last.case_id }) : null };
}
