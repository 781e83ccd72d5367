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
const caseOf = (alias: string) => `JOIN LATERAL (SELECT c.case_id, c.playbook, c.order_id FROM cases c WHERE c.case_id = ${alias}.case_id AND ${IN_SCOPE} LIMIT 1) c ON true`;

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
  paidAt: string;
  delaySeconds: number;
  amount: number;
  currency: string;
}

export interface RefundsAfterReceipt {
  /** Receipts in the range whose case was paid a refund afterwards. */
  refunded: number;
  within24h: number;
  shareWithin24h: number | null;
  medianDelaySeconds: number | null;
  p95DelaySeconds: number | null;
  /** Paid more than 24 hours after the receipt, latest first. */
  late: LateRefund[];
}

/**
 * Warehouse receipts in the range (a case's first `warehouse.received` event, by when Casebook took
 * it) and the first refund of the item's price (`payment` or `price_difference`) the case was paid
 * after it: how many were paid within 24 hours, the median and 95th percentile delay, the late ones.
 */
export async function refundsAfterReceipt(db: Queryable, filter: FigureFilter): Promise<RefundsAfterReceipt> {
  const { rows } = await db.query(
    `WITH receipts AS (
       SELECT e.case_id, min(e.received_at) AS received_at FROM case_events e
       WHERE e.type = 'warehouse.received' AND ${inRange('e.received_at')}
       GROUP BY e.case_id
     ), paid AS (
       SELECT c.case_id, c.order_id, r.received_at, f.answered_at AS paid_at, f.amount, f.currency,
         round(extract(epoch FROM f.answered_at - r.received_at))::bigint AS delay,
         f.answered_at - r.received_at <= make_interval(secs => ${REFUND_WITHIN_SECONDS}) AS on_time
       FROM receipts r
       ${caseOf('r')}
       JOIN LATERAL (
         SELECT f.answered_at, f.amount, f.currency FROM refunds f
         WHERE f.case_id = r.case_id AND f.status = 'issued' AND f.covers IN ('payment', 'price_difference') AND f.created_at >= r.received_at
         ORDER BY f.answered_at LIMIT 1
       ) f ON true
     )
     SELECT count(*)::int AS refunded,
       (count(*) FILTER (WHERE on_time))::int AS within,
       ${share('count(*) FILTER (WHERE on_time)', 'count(*)')} AS share,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY delay))::bigint AS median,
       round(percentile_cont(0.95) WITHIN GROUP (ORDER BY delay))::bigint AS p95,
       COALESCE(jsonb_agg(jsonb_build_object(
         'caseId', case_id, 'orderId', order_id, 'receivedAt', received_at, 'paidAt', paid_at, 'delaySeconds', delay, 'amount', amount, 'currency', currency
       ) ORDER BY delay DESC, case_id) FILTER (WHERE NOT on_time), '[]') AS late
     FROM paid`,
    params(filter),
  );
  const row = rows[0]!;
  return {
    refunded: row.refunded,
    within24h: row.within,
    shareWithin24h: row.share,
    medianDelaySeconds: row.median === null ? null : Number(row.median),
    p95DelaySeconds: row.p95 === null ? null : Number(row.p95),
    late: (row.late as (Omit<LateRefund, 'receivedAt' | 'paidAt' | 'amount'> & { receivedAt: string; paidAt: string; amount: number | string })[]).map((late) => ({
      ...late, receivedAt: new Date(late.receivedAt).toISOString(), paidAt: new Date(late.paidAt).toISOString(), amount: Number(late.amount),
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
    orders: row.orders, paidBeforeReminder: row.paid_before, reminded: row.reminded, recovered: row.recovered,
    closedUnpaid: row.closed_unpaid, stillUnpaid: row.still_unpaid, shareRecovered: row.share, byReminder: row.by_reminder,
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
    reviews: row.reviews, medium: row.medium, negative: row.negative, open: row.open, handled: row.handled,
    askedToAmend: row.asked, amended: row.amended, amendedShare: row.share, escalated: row.escalated, byOutcome: row.by_outcome,
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
       SELECT 'clock', c.playbook, a.detail->>'clock', a.detail->>'queue' FROM audit_events a ${caseOf('a')}
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
