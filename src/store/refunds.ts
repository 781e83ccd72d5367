/**
 * `refunds`: Casebook's ledger of refunds, counted per order. A refund is reserved (`requested`) before
 * the payment provider is asked, then settled `issued` or `declined`; triggers keep the requested and
 * issued refunds of each kind within the order's cap, and those naming a line within the line's. `provider_refunds` is the local provider's record.
 */
import type { RefundRequest } from '../plan/activities.js';
import type { Queryable } from './transaction.js';

export type RefundStatus = 'requested' | 'issued' | 'declined';

export interface LedgerRefund {
  id: number;
  status: RefundStatus;
  providerReference: string | null;
  declineReason: string | null;
  lateAt: string | null;
}

/** The ledger row for an idempotency key, or undefined. */
export async function findRefund(db: Queryable, key: string): Promise<LedgerRefund | undefined> {
  const { rows } = await db.query<RefundRow>(`SELECT ${REFUND_COLUMNS} FROM refunds WHERE idempotency_key = $1`, [key]);
  return rows[0] && ledgerRefundOf(rows[0]);
}

const REFUND_COLUMNS = 'id, status, provider_reference, decline_reason, late_at';

interface RefundRow {
  id: number;
  status: RefundStatus;
  provider_reference: string | null;
  decline_reason: string | null;
  late_at: Date | null;
}

const ledgerRefundOf = (row: RefundRow): LedgerRefund => ({
  id: row.id,
  status: row.status,
  providerReference: row.provider_reference,
  declineReason: row.decline_reason,
  lateAt: row.late_at?.toISOString() ?? null,
});

/**
 * Reserves the refund against its order's cap, once per key: a key already in the ledger keeps its row.
 * When the ledger refuses (past the cap, another currency, no recorded payment), the refund is recorded
 * declined with the ledger's reason. Answers the row as it now is.
 */
export async function reserveRefund(db: Queryable, request: RefundRequest): Promise<LedgerRefund> {
  const existing = await findRefund(db, request.key);
  if (existing) return existing;
  let inserted: LedgerRefund | undefined;
  try {
    inserted = await insertRefund(db, request, 'requested', null);
  } catch (error) {
    if ((error as { code?: string }).code !== '23514') throw error;
    inserted = await insertRefund(db, request, 'declined', (error as Error).message);
  }
  // Not inserted: a reservation under the same key running at the same time wrote it first.
  return inserted ?? (await findRefund(db, request.key))!;
}

/** The row inserted, or undefined when the key was taken meanwhile. */
async function insertRefund(db: Queryable, request: RefundRequest, status: RefundStatus, declineReason: string | null): Promise<LedgerRefund | undefined> {
  const { rows } = await db.query<RefundRow>(
    `INSERT INTO refunds (idempotency_key, case_id, step_id, order_id, amount, currency, reason, covers, status, decline_reason, deadline_at, line_id, answered_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, CASE WHEN $9 = 'declined' THEN now() END)
     ON CONFLICT (idempotency_key) DO NOTHING
     RETURNING ${REFUND_COLUMNS}`,
    [
      request.key,
      request.caseId,
      request.stepId,
      request.orderId,
      request.amount,
      request.currency,
      request.reason,
      request.covers,
      status,
      declineReason,
      request.deadlineAt,
      request.lineId ?? null,
    ],
  );
  return rows[0] && ledgerRefundOf(rows[0]);
}

/** Records the provider's answer on a requested refund; a settled refund keeps its first answer. */
export async function settleRefund(db: Queryable, key: string, answer: { providerReference: string } | { declineReason: string }): Promise<void> {
  await db.query(
    `UPDATE refunds SET status = $2, provider_reference = $3, decline_reason = $4, answered_at = now()
     WHERE idempotency_key = $1 AND status = 'requested'`,
    'providerReference' in answer ? [key, 'issued', answer.providerReference, null] : [key, 'declined', null, answer.declineReason],
  );
}

/** Notes that the refund's deadline passed before it was paid (the first time only). */
export async function markRefundLate(db: Queryable, key: string): Promise<void> {
  await db.query(`UPDATE refunds SET late_at = now() WHERE idempotency_key = $1 AND late_at IS NULL AND status <> 'declined'`, [key]);
}

/** The local provider pays once per key and answers with its reference, the first one on a retry. */
export async function recordProviderRefund(db: Queryable, request: RefundRequest, reference: string): Promise<string> {
  const { rows: paid } = await db.query<{ reference: string }>(
    `INSERT INTO provider_refunds (idempotency_key, amount, currency, reference) VALUES ($1, $2, $3, $4) ON CONFLICT (idempotency_key) DO NOTHING RETURNING reference`,
    [request.key, request.amount, request.currency, reference],
  );
  if (paid[0]) return paid[0].reference;
  const { rows } = await db.query<{ reference: string }>(`SELECT reference FROM provider_refunds WHERE idempotency_key = $1`, [request.key]);
  return rows[0]!.reference;
}
