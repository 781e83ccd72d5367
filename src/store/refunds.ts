/**
 * `refunds`: the local payment provider's ledger. A trigger keeps the sum of a case's `payment`
 * refunds within what the buyer paid (and in the paid currency); a refused row is a check violation.
 */
import type { RefundRequest } from '../plan/activities.js';
import type { Queryable } from './transaction.js';

/** A ledger row: issued with the provider's reference, or declined with the reason. */
export type LedgerRefund =
  | { id: number; status: 'issued'; providerReference: string }
  | { id: number; status: 'declined'; declineReason: string };

export type RefundDecision = { status: 'issued'; providerReference: string } | { status: 'declined'; declineReason: string };

/** The ledger row for an idempotency key, or undefined. */
export async function findRefund(db: Queryable, key: string): Promise<LedgerRefund | undefined> {
  const { rows } = await db.query<{ id: number; status: 'issued' | 'declined'; provider_reference: string | null; decline_reason: string | null }>(
    `SELECT id, status, provider_reference, decline_reason FROM refunds WHERE idempotency_key = $1`, [key],
  );
  const row = rows[0];
  if (!row) return undefined;
  return row.status === 'issued'
    ? { id: row.id, status: 'issued', providerReference: row.provider_reference! }
    : { id: row.id, status: 'declined', declineReason: row.decline_reason ?? 'declined' };
}

/**
 * Records the refund once (a row with the same key already there is kept). An issued refund the
 * ledger's trigger refuses throws; `isLedgerRefusal` tells that error from others.
 */
export async function recordRefund(db: Queryable, request: RefundRequest, decision: RefundDecision): Promise<void> {
  await db.query(
    `INSERT INTO refunds (idempotency_key, case_id, step_id, amount, currency, reason, covers, status, provider_reference, decline_reason, deadline_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [
      request.key, request.caseId, request.stepId, request.amount, request.currency, request.reason, request.covers, decision.status,
      decision.status === 'issued' ? decision.providerReference : null, decision.status === 'declined' ? decision.declineReason : null,
      request.deadlineAt,
    ],
  );
}

/** Whether an error is the ledger refusing a refund (more than paid, another currency, no paid amount). */
export function isLedgerRefusal(error: unknown): error is Error {
  return error instanceof Error && (error as { code?: string }).code === '23514';
}
