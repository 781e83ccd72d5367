/** `orders` and `order_refund_caps`: one ledger per order, what was paid and the cap of each kind of refund. */
import type { RefundKind } from '../plan/activities.js';
import type { Queryable } from './transaction.js';

export interface OrderPayment {
  orderId: string;
  amount: number;
  currency: string;
}

/**
 * Records what was paid for an order, once: the first case of an order sets it. Answers what the
 * ledger holds, so a case that says otherwise can be refused.
 */
export async function recordOrderPayment(db: Queryable, payment: OrderPayment, caseId: string): Promise<OrderPayment> {
  await db.query(
    `INSERT INTO orders (order_id, currency, paid_amount, recorded_by_case) VALUES ($1, $2, $3, $4) ON CONFLICT (order_id) DO NOTHING`,
    [payment.orderId, payment.currency, payment.amount, caseId],
  );
  const { rows } = await db.query<{ currency: string; paid_amount: number }>(`SELECT currency, paid_amount FROM orders WHERE order_id = $1`, [payment.orderId]);
  return { orderId: payment.orderId, currency: rows[0]!.currency, amount: rows[0]!.paid_amount };
}

/** Raises the order's cap of a kind of refund to `cap` (a cap is never lowered by a later case). */
export async function raiseRefundCap(db: Queryable, orderId: string, kind: Exclude<RefundKind, 'payment'>, cap: number): Promise<void> {
  await db.query(
    `INSERT INTO order_refund_caps (order_id, kind, cap) VALUES ($1, $2, $3)
     ON CONFLICT (order_id, kind) DO UPDATE SET cap = GREATEST(order_refund_caps.cap, EXCLUDED.cap)`,
    [orderId, kind, cap],
  );
}

export interface OrderLedger {
  orderId: string;
  currency: string;
  paid: number;
  /** Per kind: the cap, and what issued and requested refunds already take of it. */
  kinds: { kind: RefundKind; cap: number; refunded: number; requested: number }[];
}

/** What was paid for an order and what each kind of refund has taken of its cap. */
export async function orderLedger(db: Queryable, orderId: string): Promise<OrderLedger | undefined> {
  const order = await db.query<{ currency: string; paid_amount: number }>(`SELECT currency, paid_amount FROM orders WHERE order_id = $1`, [orderId]);
  if (!order.rows[0]) return undefined;
  const { rows } = await db.query<{ kind: RefundKind; cap: number; refunded: number; requested: number }>(
    `SELECT k.kind, COALESCE(c.cap, CASE WHEN k.kind = 'payment' THEN o.paid_amount ELSE 0 END) AS cap,
            COALESCE(sum(r.amount) FILTER (WHERE r.status = 'issued'), 0)::bigint AS refunded,
            COALESCE(sum(r.amount) FILTER (WHERE r.status = 'requested'), 0)::bigint AS requested
     FROM orders o
     CROSS JOIN unnest(ARRAY['payment', 'return_shipping', 'price_difference', 'goodwill']) AS k(kind)
     LEFT JOIN order_refund_caps c ON c.order_id = o.order_id AND c.kind = k.kind
     LEFT JOIN refunds r ON r.order_id = o.order_id AND r.covers = k.kind
     WHERE o.order_id = $1
     GROUP BY k.kind, c.cap, o.paid_amount
     ORDER BY array_position(ARRAY['payment', 'return_shipping', 'price_difference', 'goodwill'], k.kind)`,
    [orderId],
  );
  return { orderId, currency: order.rows[0].currency, paid: order.rows[0].paid_amount, kinds: rows };
}

export interface OrderRefund {
  caseId: string;
  stepId: string;
  covers: RefundKind;
  amount: number;
  reason: string;
  status: 'requested' | 'late' | 'issued' | 'declined';
  deadlineAt: string | null;
  answeredAt: string | null;
  key: string;
}

/** Every refund of an order, from all its cases, in the order they were asked for. */
export async function orderRefunds(db: Queryable, orderId: string): Promise<OrderRefund[]> {
  const { rows } = await db.query(
    `SELECT case_id, step_id, covers, amount, reason, status, late_at, deadline_at, answered_at, idempotency_key FROM refunds WHERE order_id = $1 ORDER BY id`,
    [orderId],
  );
  return rows.map((r) => ({
    caseId: r.case_id, stepId: r.step_id, covers: r.covers, amount: r.amount, reason: r.reason,
    status: r.status === 'requested' && r.late_at ? 'late' : r.status,
    deadlineAt: r.deadline_at?.toISOString() ?? null, answeredAt: r.answered_at?.toISOString() ?? null, key: r.idempotency_key,
  }));
}
