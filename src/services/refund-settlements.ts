/**
 * A refund the payment provider settles after answering `pending` to a `refund.request` webhook: its
 * `refund.settled` event (POST /v1/inbound/payments) is recorded in the ledger under the refund's key
 * (the request's `webhook-id`). The case's refund activity, asking again under that key, then finds it
 * settled and goes on without asking the provider.
 */
import type { Pool } from '../store/pool.js';
import { findRefund, type LedgerRefund, settleRefund } from '../store/refunds.js';

export type ProviderSettlement = { key: string; status: 'issued'; reference: string } | { key: string; status: 'declined'; reason: string };

/**
 * `settled`: this settlement was recorded; `unchanged`: the refund was settled already (its first
 * answer stands, so a repeated event changes nothing); `unknown`: no refund has this key.
 */
export type SettlementResult = { result: 'settled' | 'unchanged'; refund: LedgerRefund } | { result: 'unknown' };

export async function settleProviderRefund(pool: Pool, settlement: ProviderSettlement): Promise<SettlementResult> {
  const before = await findRefund(pool, settlement.key);
  if (!before) return { result: 'unknown' };
  if (before.status === 'requested')
    await settleRefund(
      pool,
      settlement.key,
      settlement.status === 'issued' ? { providerReference: settlement.reference } : { declineReason: settlement.reason },
    );
  const after = (await findRefund(pool, settlement.key))!;
  return { result: before.status === 'requested' && after.status !== 'requested' ? 'settled' : 'unchanged', refund: after };
}
