/**
 * The figures an ops lead reads (docs/figures.md defines each one): one query per figure over a date
 * range `[from, to)` of whole days in the shop's time zone, optionally narrowed to one playbook and to
 * the cases of one shop (the `shop.name` of the playbook version a case runs; case data names no shop).
 */
import type { Queryable } from './transaction.js';

export interface FigureFilter {
  /** First day, `YYYY-MM-DD`, from its start in `timeZone`. */
  from: string;
  /** The day after the last, `YYYY-MM-DD`: the range ends at its start. */
  to: string;
  /** An IANA time zone Postgres knows, e.g. `Asia/Shanghai`. */
  timeZone: string;
  playbook: string | null;
  shop: string | null;
}

/** A refund is on time when paid at most this long after the warehouse receipt. */
const REFUND_WITHIN_SECONDS = 24 * 60 * 60;

// Every query takes the filter as $1..$5, in this order.
const params = (filter: FigureFilter) => [filter.from, filter.to, filter.timeZone, filter.playbook, filter.shop];
const FROM = `($1::date::timestamp AT TIME ZONE $3)`;
const TO = `($2::date::timestamp AT TIME ZONE $3)`;
const inRange = (instant: string) => `${instant} >= ${FROM} AND ${instant} < ${TO}`;
/** The case `c` is of the playbook and the shop asked for (either may be absent). */
const IN_SCOPE = `($4::text IS NULL OR c.playbook = $4)
  AND ($5::text IS NULL OR EXISTS (
    SELECT 1 FROM playbook_versions v WHERE v.name = c.playbook AND v.version = c.version AND v.plan->'shop'->>'name' = $5))`;
/**
 * The case `c` of each row of `alias`, when in scope. A lateral lookup by key (LIMIT 1 keeps the
 * planner from hashing the whole cases table to join a week of rows).
 */
const caseOf = (alias: string) =>
  `JOIN LATERAL (SELECT c.case_id, c.playbook, c.order_id FROM cases c WHERE c.case_id = ${alias}.case_id AND ${IN_SCOPE} LIMIT 1) c ON true`;

/** A share of a whole, to four decimals; null when the whole is empty. */
const share = (part: string, whole: string) => `CASE WHEN ${whole} > 0 THEN round(${part}::numeric / ${whole}, 4)::float8 END`;

export interface ReasonCount {
  reason: string;
  returns: number;
  exchanges: number;
  count: number;
  share: number;
  topThree: boolean;
}

/**
 * Returns and exchanges opened in the range by the buyer's real reason (`reason` of a return,
 * `exchange_reason` of an exchange), most frequent first; the first three are the top three.
 */
export async function returnAndExchangeReasons(db: Queryable, filter: FigureFilter): Promise<{ total: number; reasons: ReasonCount[] }> {
  const { rows } = await db.query<ReasonCount>(
    `WITH opened AS (
       SELECT c.case_type, COALESCE(CASE c.case_type WHEN 'return' THEN c.data->>'reason' ELSE c.data->>'exchange_reason' END, 'not_recorded') AS reason
       FROM cases c
       WHERE c.case_type IN ('return', 'exchange') AND ${inRange('c.opened_at')} AND ${IN_SCOPE}
     )
     SELECT reason,
       (count(*) FILTER (WHERE case_type = 'return'))::int AS returns,
       (count(*) FILTER (WHERE case_type = 'exchange'))::int AS exchanges,
       count(*)::int AS count,
       ${share('count(*)', 'sum(count(*)) OVER ()')} AS share,
       row_number() OVER (ORDER BY count(*) DESC, reason) <= 3 AS "topThree"
     FROM opened GROUP BY reason ORDER BY count(*) DESC, reason`,
    params(filter),
  );
  return { total: rows.reduce((sum, row) => sum + row.count, 0), reasons: rows };
}

export interface LateRefund {
  caseId: string;
  orderId: string | null;
  receivedAt: string;
  /** `paid` more than 24 hours after the receipt, or still `unpaid` more than 24 hours after it. */
  status: 'paid' | 'unpaid';
  paidAt: string | null;
  /** Paid − received; when unpaid, the receipt's age: now − received. */
  delaySeconds: number;
  /** The refund paid; when unpaid, the one requested or declined, if any. */
  amount: number | null;
  currency: string | null;
}

export interface RefundsAfterReceipt {
  /** When the figure was read: receipts not refunded are pending or late as of then. */
  asOf: string;
  /** Receipts in the range owed a refund of the item's price (docs/figures.md): the whole. */
  receipts: number;
  /** Paid within 24 hours of the receipt. */
  within24h: number;
  /** Paid more than 24 hours after the receipt. */
  latePaid: number;
  /** Not paid, and the receipt more than 24 hours old. */
  lateUnpaid: number;
  /** Not paid yet, the receipt at most 24 hours old: neither on time nor late. */
  pending: number;
  /** within24h / (receipts − pending). */
  shareWithin24h: number | null;
  /** Paid (within24h + latePaid): the delays the median and the 95th percentile are over. */
  refunded: number;
  medianDelaySeconds: number | null;
  p95DelaySeconds: number | null;
  /** The late ones: unpaid first, then paid, each longest delay first. */
  late: LateRefund[];
}

/** The refunds of the item's price: a return's refund of the payment, an exchange's price difference. */
const ITEM_REFUND = `f.covers IN ('payment', 'price_difference')`;

/**
 * Warehouse receipts in the range (a case's first `warehouse.received` event, by when Casebook took
 * it) owed a refund of the item's price, and the first such refund the case was paid after it, as
 * things stood at `now` (receipts taken and refunds paid by then): paid within 24 hours, paid later, not paid and older than 24 hours, not paid yet; the
 * median and 95th percentile delay of those paid; the late ones.
 *
 * Owed a refund: a receipt whose case was paid one; otherwise a return, or an exchange whose wanted
 * item is cheaper than the one sent back (its price difference), unless the case closed `refused` or
 * `cancelled` (a damaged item refused, a case called off: a decision not to refund).
 */
export async function refundsAfterReceipt(db: Queryable, filter: FigureFilter, now: Date): Promise<RefundsAfterReceipt> {
  const { rows } = await db.query(
    `WITH receipts AS (
       SELECT e.case_id, min(e.received_at) AS received_at FROM case_events e
       WHERE e.type = 'warehouse.received' AND ${inRange('e.received_at')} AND e.received_at <= $6::timestamptz
       GROUP BY e.case_id
     ), owed AS (
       SELECT c.case_id, c.order_id, r.received_at, paid.answered_at AS paid_at,
         COALESCE(paid.amount, unpaid.amount) AS amount, COALESCE(paid.currency, unpaid.currency) AS currency,
         round(extract(epoch FROM COALESCE(paid.answered_at, $6::timestamptz) - r.received_at))::bigint AS delay,
         COALESCE(paid.answered_at, $6::timestamptz) - r.received_at <= make_interval(secs => ${REFUND_WITHIN_SECONDS}) AS within
       FROM receipts r
       JOIN LATERAL (
         SELECT c.case_id, c.order_id, c.case_type, c.status, c.outcome, c.data FROM cases c WHERE c.case_id = r.case_id AND ${IN_SCOPE} LIMIT 1
       ) c ON true
       LEFT JOIN LATERAL (
         SELECT f.answered_at, f.amount, f.currency FROM refunds f
         WHERE f.case_id = r.case_id AND f.status = 'issued' AND ${ITEM_REFUND} AND f.created_at >= r.received_at AND f.answered_at <= $6::timestamptz
         ORDER BY f.answered_at LIMIT 1
       ) paid ON true
       LEFT JOIN LATERAL (
         SELECT f.amount, f.currency FROM refunds f
         WHERE paid.answered_at IS NULL AND f.case_id = r.case_id AND f.status <> 'issued' AND ${ITEM_REFUND} AND f.created_at >= r.received_at
         ORDER BY f.created_at DESC LIMIT 1
       ) unpaid ON true
       WHERE paid.answered_at IS NOT NULL
         OR (NOT (c.status = 'closed' AND c.outcome IN ('refused', 'cancelled'))
             AND (c.case_type = 'return'
                  OR (c.case_type = 'exchange' AND jsonb_typeof(c.data->'wanted_price'->'amount') = 'number'
                      AND jsonb_typeof(c.data->'original_price'->'amount') = 'number'
                      AND c.data->'wanted_price'->'amount' < c.data->'original_price'->'amount')))
     ), classified AS (
       SELECT owed.*, paid_at IS NOT NULL AS paid, paid_at IS NOT NULL AND within AS on_time, NOT within AS late FROM owed
     )
     SELECT count(*)::int AS receipts,
       (count(*) FILTER (WHERE on_time))::int AS within,
       (count(*) FILTER (WHERE paid AND late))::int AS late_paid,
       (count(*) FILTER (WHERE NOT paid AND late))::int AS late_unpaid,
       (count(*) FILTER (WHERE NOT paid AND NOT late))::int AS pending,
       (count(*) FILTER (WHERE paid))::int AS refunded,
       ${share('count(*) FILTER (WHERE on_time)', 'count(*) FILTER (WHERE paid OR late)')} AS share,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY delay) FILTER (WHERE paid))::bigint AS median,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY delay) FILTER (WHERE paid))::bigint AS p95,
       COALESCE(jsonb_agg(jsonb_build_object(
         'caseId', case_id, 'orderId', order_id, 'receivedAt', received_at, 'status', CASE WHEN paid THEN 'paid' ELSE 'unpaid' END, 'paidAt', paid_at,
         'delaySeconds', delay, 'amount', amount, 'currency', currency
       ) ORDER BY paid, delay DESC, case_id) FILTER (WHERE late), '[]') AS late
     FROM classified`,
    [...params(filter), now],
  );
  const row = rows[0]!;
  type Late = Omit<LateRefund, 'amount'> & { amount: number | string | null };
  return {
    asOf: now.toISOString(),
    receipts: row.receipts,
    within24h: row.within,
    latePaid: row.late_paid,
    lateUnpaid: row.late_unpaid,
    pending: row.pending,
    shareWithin24h: row.share,
    refunded: row.refunded,
    medianDelaySeconds: row.median === null ? null : Number(row.median),
    p95DelaySeconds: row.p95 === null ? null : Number(row.p95),
    late: (row.late as Late[]).map((late) => ({
      ...late,
      receivedAt: new Date(late.receivedAt).toISOString(),
      paidAt: late.paidAt === null ? null : new Date(late.paidAt).toISOString(),
      amount: late.amount === null ? null : Number(late.amount),
    })),
  };
}

export interface UnpaidOrderReminders {
  /** Online-payment orders (presale cases) opened in the range. */
  orders: number;
  paidBeforeReminder: number;
  /** Orders that were sent at least one reminder before paying (or without paying). */
  reminded: number;
  recovered: number;
  closedUnpaid: number;
  stillUnpaid: number;
  shareRecovered: number | null;
  /** Recovered orders by how many reminders had gone out before the payment. */
  byReminder: { reminders: number; recovered: number; share: number }[];
}

/**
 * Presale cases of orders paid online, opened in the range: a reminder is any message the case sent
 * the buyer before Casebook took the `order.paid` event (before the case closed, when none came).
 */
export async function unpaidOrderReminders(db: Queryable, filter: FigureFilter): Promise<UnpaidOrderReminders> {
  const { rows } = await db.query(
    `WITH orders AS (
       SELECT c.case_id, c.status,
         (SELECT min(e.received_at) FROM case_events e WHERE e.case_id = c.case_id AND e.type = 'order.paid') AS paid_at
       FROM cases c
       WHERE c.case_type = 'presale' AND c.data->>'payment_method' = 'online' AND ${inRange('c.opened_at')} AND ${IN_SCOPE}
     ), counted AS (
       SELECT o.*, (SELECT count(*) FROM outbox_messages m
                    WHERE m.case_id = o.case_id AND m.recipient_kind = 'buyer' AND (o.paid_at IS NULL OR m.created_at < o.paid_at))::int AS reminders
       FROM orders o
     ), totals AS (
       SELECT count(*)::int AS orders,
         (count(*) FILTER (WHERE paid_at IS NOT NULL AND reminders = 0))::int AS paid_before,
         (count(*) FILTER (WHERE reminders > 0))::int AS reminded,
         (count(*) FILTER (WHERE paid_at IS NOT NULL AND reminders > 0))::int AS recovered,
         (count(*) FILTER (WHERE paid_at IS NULL AND reminders > 0 AND status = 'closed'))::int AS closed_unpaid,
         (count(*) FILTER (WHERE paid_at IS NULL AND reminders > 0 AND status <> 'closed'))::int AS still_unpaid
       FROM counted
     )
     SELECT totals.*, ${share('totals.recovered', 'totals.reminded')} AS share,
       COALESCE((SELECT jsonb_agg(jsonb_build_object('reminders', reminders, 'recovered', n, 'share', ${share('n', 'totals.reminded')}) ORDER BY reminders)
                 FROM (SELECT reminders, count(*)::int AS n FROM counted WHERE paid_at IS NOT NULL AND reminders > 0 GROUP BY reminders) by_number), '[]') AS by_reminder
     FROM totals`,
    params(filter),
  );
  const row = rows[0]!;
  return {
    orders: row.orders,
    paidBeforeReminder: row.paid_before,
    reminded: row.reminded,
    recovered: row.recovered,
    closedUnpaid: row.closed_unpaid,
    stillUnpaid: row.still_unpaid,
    shareRecovered: row.share,
    byReminder: row.by_reminder,
  };
}

export interface ReviewRecovery {
  /** Medium and negative reviews whose recovery case opened in the range. */
  reviews: number;
  medium: number;
  negative: number;
  open: number;
  /** Closed as resolved: solved with the buyer, or a complaint filed against extortion. */
  handled: number;
  /** Solved, so the buyer was asked to amend the review. */
  askedToAmend: number;
  amended: number;
  amendedShare: number | null;
  escalated: number;
  byOutcome: { outcome: string; reason: string; count: number }[];
}

/** Review-recovery cases opened in the range, by rating and by how they closed. */
export async function reviewRecovery(db: Queryable, filter: FigureFilter): Promise<ReviewRecovery> {
  const { rows } = await db.query(
    `WITH reviews AS (
       SELECT c.status, c.outcome, c.reason, c.data->>'rating' AS rating FROM cases c
       WHERE c.case_type = 'review' AND ${inRange('c.opened_at')} AND ${IN_SCOPE}
     ), totals AS (
       SELECT count(*)::int AS reviews,
         (count(*) FILTER (WHERE rating = 'medium'))::int AS medium,
         (count(*) FILTER (WHERE rating = 'negative'))::int AS negative,
         (count(*) FILTER (WHERE status <> 'closed'))::int AS open,
         (count(*) FILTER (WHERE status = 'closed' AND outcome = 'resolved'))::int AS handled,
         (count(*) FILTER (WHERE status = 'closed' AND reason IN ('review_amended', 'solved_not_amended')))::int AS asked,
         (count(*) FILTER (WHERE status = 'closed' AND reason = 'review_amended'))::int AS amended,
         (count(*) FILTER (WHERE status = 'closed' AND outcome = 'escalated'))::int AS escalated
       FROM reviews
     )
     SELECT totals.*, ${share('totals.amended', 'totals.asked')} AS share,
       COALESCE((SELECT jsonb_agg(jsonb_build_object('outcome', outcome, 'reason', reason, 'count', n) ORDER BY n DESC, outcome, reason)
                 FROM (SELECT outcome, COALESCE(reason, '') AS reason, count(*)::int AS n FROM reviews WHERE status = 'closed' GROUP BY outcome, reason) closed), '[]') AS by_outcome
     FROM totals`,
    params(filter),
  );
  const row = rows[0]!;
  return {
    reviews: row.reviews,
    medium: row.medium,
    negative: row.negative,
    open: row.open,
    handled: row.handled,
    askedToAmend: row.asked,
    amended: row.amended,
    amendedShare: row.share,
    escalated: row.escalated,
    byOutcome: row.by_outcome,
  };
}

export type BreachKind = 'task-sla' | 'clock' | 'refund';

export interface SlaBreach {
  kind: BreachKind;
  playbook: string;
  /** The task's or the refund's step; for a clock, the clock's name. */
  step: string;
  /** The task's queue (role), the queue a clock escalates to; none for a refund. */
  queue: string | null;
  count: number;
}

/**
 * Deadlines missed in the range, by playbook, step and queue: tasks due in it that were not done by
 * their due time, clocks that ran out in it, refunds whose deadline passed in it before they were paid.
 */
export async function slaBreaches(db: Queryable, filter: FigureFilter): Promise<SlaBreach[]> {
  const { rows } = await db.query<SlaBreach>(
    `SELECT kind, playbook, step, queue, count(*)::int AS count FROM (
       SELECT 'task-sla' AS kind, c.playbook, t.step_id AS step, t.role AS queue FROM tasks t ${caseOf('t')}
       WHERE ${inRange('t.due_at')} AND (t.status = 'breached' OR COALESCE(t.completed_at, now()) > t.due_at)
       UNION ALL
       SELECT 'clock', c.playbook, a.detail->>'clock', a.detail->>'queue' FROM audit_trail a ${caseOf('a')}
       WHERE a.kind = 'clock' AND a.detail ? 'breached' AND ${inRange('a.at')}
       UNION ALL
       SELECT 'refund', c.playbook, f.step_id, NULL FROM refunds f ${caseOf('f')}
       WHERE f.late_at IS NOT NULL AND ${inRange('f.late_at')}
     ) breaches
     GROUP BY kind, playbook, step, queue ORDER BY count(*) DESC, kind, playbook, step, queue`,
    params(filter),
  );
  return rows;
}

export interface EscalationCount {
  playbook: string;
  step: string;
  queue: string;
  reason: string;
  count: number;
  /** Not yet resolved. */
  open: number;
}

/** Escalations opened in the range, by playbook, step, queue and reason. */
export async function escalationCounts(db: Queryable, filter: FigureFilter): Promise<EscalationCount[]> {
  const { rows } = await db.query<EscalationCount>(
    `SELECT c.playbook, s.step_id AS step, s.queue, s.reason, count(*)::int AS count,
       (count(*) FILTER (WHERE s.status NOT IN ('resolved', 'closed')))::int AS open
     FROM escalations s ${caseOf('s')}
     WHERE ${inRange('s.created_at')}
     GROUP BY c.playbook, s.step_id, s.queue, s.reason ORDER BY count(*) DESC, c.playbook, s.step_id, s.queue, s.reason`,
    params(filter),
  );
  return rows;
}

export interface CasesPerDay {
  /** Every outcome a case closed with in the range, alphabetically. */
  outcomes: string[];
  /** Every day of the range, with the cases opened that day and those closed, by outcome. */
  days: { date: string; opened: number; closed: Record<string, number> }[];
}

/** Cases opened and closed on each day of the range (days in the shop's time zone). */
export async function casesPerDay(db: Queryable, filter: FigureFilter): Promise<CasesPerDay> {
  const { rows } = await db.query<{ date: string; opened: number; closed: Record<string, number> }>(
    `WITH days AS (
       SELECT d::date AS day FROM generate_series($1::date::timestamp, ($2::date - 1)::timestamp, interval '1 day') AS d
     ), opened AS (
       SELECT (c.opened_at AT TIME ZONE $3)::date AS day, count(*)::int AS n FROM cases c
       WHERE ${inRange('c.opened_at')} AND ${IN_SCOPE} GROUP BY 1
     ), closed AS (
       SELECT day, jsonb_object_agg(outcome, n) AS outcomes FROM (
         SELECT (c.closed_at AT TIME ZONE $3)::date AS day, COALESCE(c.outcome, 'none') AS outcome, count(*)::int AS n FROM cases c
         WHERE c.status = 'closed' AND ${inRange('c.closed_at')} AND ${IN_SCOPE} GROUP BY 1, 2
       ) by_outcome GROUP BY day
     )
     SELECT to_char(days.day, 'YYYY-MM-DD') AS date, COALESCE(opened.n, 0) AS opened, COALESCE(closed.outcomes, '{}') AS closed
     FROM days LEFT JOIN opened ON opened.day = days.day LEFT JOIN closed ON closed.day = days.day ORDER BY days.day`,
    params(filter),
  );
  const outcomes = [...new Set(rows.flatMap((row) => Object.keys(row.closed)))].sort();
  return { outcomes, days: rows };
}
