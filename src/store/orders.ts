/**
 * `orders`, `order_lines`, `case_lines` and `order_refund_caps`: one ledger per order, what was paid (in
 * all and per line), the lines each case concerns, and the cap of each kind of refund.
 */
import type { RefundKind } from '../plan/activities.js';
import type { OrderLine } from '../plan/order-lines.js';
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

/** A line of an order as the ledger recorded it. */
export interface RecordedLine {
  lineId: string;
  item: string;
  quantity: number;
  paid: number;
  position: number;
}

/** Where a case's stated lines disagree with those recorded for its order: the stated line's index (absent: the list), member and why. */
export interface LineDisagreement {
  index?: number;
  member?: 'id' | 'item' | 'quantity' | 'paid';
  message: string;
}

/** The order's lines disagree with what the case states: nothing of the case is recorded. */
export class OrderLinesConflict extends Error {
  constructor(
    readonly orderId: string,
    readonly disagreements: LineDisagreement[],
  ) {
    super(`the lines of order ${orderId} were recorded otherwise: ${disagreements.map((d) => d.message).join('; ')}`);
  }
}

/** The lines recorded for an order, in the order they were stated; empty when none are. */
export async function orderLines(db: Queryable, orderId: string): Promise<RecordedLine[]> {
  const { rows } = await db.query<{ line_id: string; item: string; quantity: number; paid_amount: number; position: number }>(
    `SELECT line_id, item, quantity, paid_amount, position FROM order_lines WHERE order_id = $1 ORDER BY position, line_id`,
    [orderId],
  );
  return rows.map((row) => ({ lineId: row.line_id, item: row.item, quantity: row.quantity, paid: row.paid_amount, position: row.position }));
}

/**
 * Records an order's lines, once: the first case that states them does, when none are recorded (their
 * sum must be what the order was paid: the database checks it). A case stating lines of an order that
 * has them (`recorded`, as orderLines answered) must state the same lines; else OrderLinesConflict.
 */
export async function recordOrderLines(db: Queryable, orderId: string, lines: OrderLine[], caseId: string, recorded: RecordedLine[]): Promise<void> {
  if (recorded.length > 0) {
    const disagreements = linesDisagreements(recorded, lines);
    if (disagreements.length > 0) throw new OrderLinesConflict(orderId, disagreements);
    return;
  }
  try {
    await db.query(
      `INSERT INTO order_lines (order_id, line_id, item, quantity, paid_amount, position, recorded_by_case)
       SELECT $1, line_id, item, quantity, paid_amount, position - 1, $6
       FROM unnest($2::text[], $3::text[], $4::int[], $5::bigint[]) WITH ORDINALITY AS l(line_id, item, quantity, paid_amount, position)`,
      [orderId, lines.map((l) => l.id), lines.map((l) => l.item), lines.map((l) => l.quantity), lines.map((l) => l.paid.amount), caseId],
    );
    // The sum is checked at commit; here, so that a disagreement is this case's answer and not the commit's.
    await db.query(`SET CONSTRAINTS order_lines_sum_to_paid IMMEDIATE`);
  } catch (error) {
    if ((error as { code?: string }).code !== '23514') throw error;
    throw new OrderLinesConflict(orderId, [{ message: (error as Error).message }]);
  }
}

/** How stated lines differ from the recorded ones, by stated line and member. */
function linesDisagreements(recorded: RecordedLine[], stated: OrderLine[]): LineDisagreement[] {
  const byId = new Map(recorded.map((line) => [line.lineId, line]));
  const out: LineDisagreement[] = [];
  stated.forEach((line, index) => {
    const known = byId.get(line.id);
    if (!known) {
      out.push({ index, member: 'id', message: `the order has no line '${line.id}'; its lines are ${recorded.map((l) => l.lineId).join(', ')}` });
      return;
    }
    if (known.item !== line.item) out.push({ index, member: 'item', message: `line '${line.id}' was recorded as item '${known.item}', not '${line.item}'` });
    if (known.quantity !== line.quantity)
      out.push({ index, member: 'quantity', message: `line '${line.id}' was recorded with quantity ${known.quantity}, not ${line.quantity}` });
    if (known.paid !== line.paid.amount)
      out.push({ index, member: 'paid', message: `line '${line.id}' was recorded as paid ${known.paid}, not ${line.paid.amount}` });
  });
  const statedIds = new Set(stated.map((line) => line.id));
  const missing = recorded.filter((line) => !statedIds.has(line.lineId)).map((line) => line.lineId);
  if (missing.length > 0) out.push({ message: `the order also has line${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, which this case leaves out` });
  return out;
}

/** Records the lines a case concerns (lines of its own order, recorded already). */
export async function recordCaseLines(db: Queryable, caseId: string, orderId: string, lineIds: string[]): Promise<void> {
  if (lineIds.length === 0) return;
  await db.query(`INSERT INTO case_lines (case_id, order_id, line_id) SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING`, [caseId, orderId, lineIds]);
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
  /**
   * The order's lines, when a case stated them: what each was paid, what payment refunds naming it
   * gave back (issued) and hold (requested), what is left to refund of it, and the cases concerning it.
   */
  lines: LedgerLine[];
}

export interface LedgerLine {
  lineId: string;
  item: string;
  quantity: number;
  paid: number;
  refunded: number;
  requested: number;
  left: number;
  cases: string[];
}

async function ledgerLines(db: Queryable, orderId: string): Promise<LedgerLine[]> {
  const { rows } = await db.query<{
    line_id: string;
    item: string;
    quantity: number;
    paid_amount: number;
    refunded: number;
    requested: number;
    cases: string[];
  }>(
    `SELECT l.line_id, l.item, l.quantity, l.paid_amount,
            (SELECT COALESCE(sum(r.amount) FILTER (WHERE r.status = 'issued'), 0) FROM refunds r
              WHERE r.order_id = l.order_id AND r.line_id = l.line_id AND r.covers = 'payment')::bigint AS refunded,
            (SELECT COALESCE(sum(r.amount) FILTER (WHERE r.status = 'requested'), 0) FROM refunds r
              WHERE r.order_id = l.order_id AND r.line_id = l.line_id AND r.covers = 'payment')::bigint AS requested,
            ARRAY(SELECT c.case_id FROM case_lines c WHERE c.order_id = l.order_id AND c.line_id = l.line_id ORDER BY c.recorded_at, c.case_id) AS cases
     FROM order_lines l WHERE l.order_id = $1 ORDER BY l.position, l.line_id`,
    [orderId],
  );
  return rows.map((row) => ({
    lineId: row.line_id,
    item: row.item,
    quantity: row.quantity,
    paid: row.paid_amount,
    refunded: row.refunded,
    requested: row.requested,
    left: row.paid_amount - row.refunded - row.requested,
    cases: row.cases,
  }));
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
    lines: await ledgerLines(db, orderId),
  };
}

export interface OrderRefund {
  caseId: string;
  stepId: string;
  covers: RefundKind;
  /** The order line it gives back for; null: the order as a whole. */
  lineId: string | null;
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
    `SELECT case_id, step_id, covers, line_id, amount, reason, status, late_at, deadline_at, answered_at, idempotency_key FROM refunds WHERE order_id = $1 ORDER BY id`,
    [orderId],
  );
  return rows.map((r) => ({
    caseId: r.case_id,
    stepId: r.step_id,
    covers: r.covers,
    lineId: r.line_id,
    amount: r.amount,
    reason: r.reason,
    status: r.status === 'requested' && r.late_at ? 'late' : r.status,
    deadlineAt: r.deadline_at?.toISOString() ?? null,
    answeredAt: r.answered_at?.toISOString() ?? null,
    key: r.idempotency_key,
  }));
}
