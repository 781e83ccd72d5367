/** An order's ledger: what was paid and advanced for it, and every refund of its cases. */
import { orderLedger, orderRefunds, recordOrderAdvance } from '../store/orders.js';
import type { Pool } from '../store/pool.js';

/** The ledger with its refunds; undefined when no case has recorded a payment for the order. */
export async function ledgerOf(pool: Pool, orderId: string) {
  const ledger = await orderLedger(pool, orderId);
  return ledger ? { ...ledger, refunds: await orderRefunds(pool, orderId) } : undefined;
}

/** Records what the buyer advanced (once per evidence); on success, the ledger as it now is. */
export async function recordAdvance(pool: Pool, orderId: string, advance: Parameters<typeof recordOrderAdvance>[2], recordedBy: string) {
  const recorded = await recordOrderAdvance(pool, orderId, advance, recordedBy);
  if (recorded.kind !== 'recorded') return recorded;
  return { ...recorded, ledger: (await ledgerOf(pool, orderId))! };
}
