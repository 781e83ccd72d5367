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
  await db.query(`INSERT INTO orders (order_id, currency, paid_amount, recorded_by_case) VALUES ($1, $2, $3, $4) ON CONFLICT (order_id) DO NOTHING`, [
    payment.orderId,
    payment.currency,
    payment.amount,
    caseId,
  ]);
  const { rows } = await db.query<{ currency: string; paid_amount: number }>(`SELECT currency, paid_amount FROM orders WHERE order_id = $1`, [payment.orderId]);
  return { orderId: payment.orderId, currency: rows[0]!.currency, amount: rows[0]!.paid_amount };
}

/**
 * Raises the order's policy cap of a kind of refund to `cap` (a cap is never lowered by a later case);
 * null: no policy bound, only the order's facts bound the kind.
 */
export async function raiseRefundCap(db: Queryable, orderId: string, kind: Exclude<RefundKind, 'payment'>, cap: number | null): Promise<void> {
  await db.query(
    `INSERT INTO order_refund_caps (order_id, kind, cap) VALUES ($1, $2, $3)
     ON CONFLICT (order_id, kind) DO UPDATE
     SET cap = CASE WHEN order_refund_caps.cap IS NULL OR EXCLUDED.cap IS NULL THEN NULL ELSE GREATEST(order_refund_caps.cap, EXCLUDED.cap) END`,
    [orderId, kind, cap],
  );
}

export interface OrderAdvance {
  kind: 'return_shipping';
  amount: number;
  evidence: string;
  recordedBy: string;
  recordedAt: string;
}

export type AdvanceResult = { kind: 'recorded'; advance: OrderAdvance; created: boolean } | { kind: 'unknown-order' } | { kind: 'refused'; message: string };

/**
 * Records what the buyer advanced for an order, with its evidence, once per evidence: the same evidence
 * again answers the advance first recorded with it. The database refuses another currency.
 */
export async function recordOrderAdvance(
  db: Queryable,
  orderId: string,
  advance: { kind: 'return_shipping'; amount: number; currency: string; evidence: string },
  recordedBy: string,
): Promise<AdvanceResult> {
  const order = await db.query(`SELECT 1 FROM orders WHERE order_id = $1`, [orderId]);
  if (order.rowCount === 0) return { kind: 'unknown-order' };
  try {
    const inserted = await db.query(
      `INSERT INTO order_advances (order_id, kind, amount, currency, evidence, recorded_by) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (order_id, kind, evidence) DO NOTHING`,
      [orderId, advance.kind, advance.amount, advance.currency, advance.evidence, recordedBy],
    );
    const { rows } = await db.query<AdvanceRow>(
      `SELECT kind, amount, evidence, recorded_by, recorded_at FROM order_advances WHERE order_id = $1 AND kind = $2 AND evidence = $3`,
      [orderId, advance.kind, advance.evidence],
    );
    return { kind: 'recorded', advance: toAdvance(rows[0]!), created: inserted.rowCount === 1 };
  } catch (error) {
    if ((error as { code?: string }).code !== '23514') throw error;
    return { kind: 'refused', message: (error as Error).message };
  }
}

interface AdvanceRow {
  kind: 'return_shipping';
  amount: number;
  evidence: string;
  recorded_by: string;
  recorded_at: Date;
}
const toAdvance = (row: AdvanceRow): OrderAdvance => ({
  kind: row.kind,
  amount: row.amount,
  evidence: row.evidence,
  recordedBy: row.recorded_by,
  recordedAt: row.recorded_at.toISOString(),
});

export interface OrderLedger {
  orderId: string;
  currency: string;
  paid: number;
  /** What the buyer advanced and is owed back, recorded with its evidence. */
  advanced: number;
  /** What all the order's refunds together may give back: paid plus advanced. */
  canOwe: number;
  /** What issued and requested refunds of every kind take of it. */
  givenBack: number;
  /**
   * Per kind: the cap in force (the order's fact for the kind, lowered by the policy cap), the policy
   * cap (null: none), and what issued and requested refunds already take of it.
   */
  kinds: { kind: RefundKind; cap: number; policyCap: number | null; refunded: number; requested: number }[];
  advances: OrderAdvance[];
}

/** What was paid for an order and advanced by its buyer, and what each kind of refund has taken of its cap. */
export async function orderLedger(db: Queryable, orderId: string): Promise<OrderLedger | undefined> {
  const order = await db.query<{ currency: string; paid_amount: number }>(`SELECT currency, paid_amount FROM orders WHERE order_id = $1`, [orderId]);
  if (!order.rows[0]) return undefined;
  const advances = (
    await db.query<AdvanceRow>(`SELECT kind, amount, evidence, recorded_by, recorded_at FROM order_advances WHERE order_id = $1 ORDER BY id`, [orderId])
  ).rows.map(toAdvance);
  const { rows } = await db.query<{ kind: RefundKind; cap: number; policy_cap: number | null; refunded: number; requested: number }>(
    `WITH facts AS (
       SELECT o.order_id, o.paid_amount AS paid,
              (SELECT COALESCE(sum(a.amount), 0) FROM order_advances a WHERE a.order_id = o.order_id AND a.kind = 'return_shipping')::bigint AS advanced
       FROM orders o WHERE o.order_id = $1
     )
     SELECT k.kind, c.cap AS policy_cap,
            CASE WHEN k.kind = 'payment' THEN f.paid
                 WHEN c.kind IS NULL THEN 0
                 ELSE LEAST(CASE WHEN k.kind = 'return_shipping' THEN f.advanced ELSE f.paid END, COALESCE(c.cap, f.paid + f.advanced))
            END::bigint AS cap,
            COALESCE(sum(r.amount) FILTER (WHERE r.status = 'issued'), 0)::bigint AS refunded,
            COALESCE(sum(r.amount) FILTER (WHERE r.status = 'requested'), 0)::bigint AS requested
     FROM facts f
     CROSS JOIN unnest(ARRAY['payment', 'return_shipping', 'price_difference', 'goodwill']) AS k(kind)
     LEFT JOIN order_refund_caps c ON c.order_id = f.order_id AND c.kind = k.kind
     LEFT JOIN refunds r ON r.order_id = f.order_id AND r.covers = k.kind
     GROUP BY k.kind, c.kind, c.cap, f.paid, f.advanced
     ORDER BY array_position(ARRAY['payment', 'return_shipping', 'price_difference', 'goodwill'], k.kind)`,
    [orderId],
  );
  const paid = order.rows[0].paid_amount;
  const advanced = advances.reduce((sum, advance) => sum + advance.amount, 0);
  return {
    orderId,
    currency: order.rows[0].currency,
    paid,
    advanced,
    canOwe: paid + advanced,
    givenBack: rows.reduce((sum, row) => sum + row.refunded + row.requested, 0),
    kinds: rows.map((row) => ({ kind: row.kind, cap: row.cap, policyCap: row.policy_cap, refunded: row.refunded, requested: row.requested })),
    advances,
  };
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
    caseId: r.case_id,
    stepId: r.step_id,
    covers: r.covers,
    amount: r.amount,
    reason: r.reason,
    status: r.status === 'requested' && r.late_at ? 'late' : r.status,
    deadlineAt: r.deadline_at?.toISOString() ?? null,
    answeredAt: r.answered_at?.toISOString() ?? null,
    key: r.idempotency_key,
  }));
}
