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
   OR EXISTS (SELECT 1 FROM audit_events a WHERE a.case_id = cases.case_id AND a.kind = 'clock' AND a.detail ? 'breached'))`;

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

/** Newest first; `undefined` when the cursor is not one we issued. */
export async function listCases(db: Queryable, filter: CaseListFilter): Promise<{ cases: CaseSummary[]; nextCursor: string | null } | undefined> {
  const limit = filter.limit ? Number(filter.limit) : 50;
  const cursor = filter.cursor ? decodeCursor(filter.cursor, 'text') : undefined;
  if (filter.cursor && !cursor) return undefined;
  const { rows } = await db.query(
    `SELECT case_id, playbook, version, status, current_step, order_id, outcome, opened_at, opened_at::text AS opened_at_exact, updated_at FROM cases
     WHERE ($1::text IS NULL OR playbook = $1) AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR order_id = $3)
       AND ($4::timestamptz IS NULL OR (opened_at, case_id) < ($4::timestamptz, $5::text))
       AND ($7::text IS NULL OR outcome = $7) AND ($8::text IS NULL OR reason = $8)
       AND ($9::timestamptz IS NULL OR opened_at >= $9) AND ($10::timestamptz IS NULL OR opened_at < $10)
       AND ($11::boolean IS NULL OR ${BREACHED} = $11)
     ORDER BY opened_at DESC, case_id DESC LIMIT $6`,
    [
      filter.playbook ?? null,
      filter.status ?? null,
      filter.orderId ?? null,
      cursor?.at ?? null,
      cursor?.key ?? null,
      limit + 1,
      filter.outcome ?? null,
      filter.reason ?? null,
      filter.openedFrom ?? null,
      filter.openedTo ?? null,
      filter.breached === undefined ? null : filter.breached === 'true',
    ],
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
