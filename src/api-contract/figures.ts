/** What the figures route answers (`GET /v1/figures`, docs/figures.md), as JSON. */
import { boolean, exact, integer, list, nullable, nullableString, number, oneOf, recordOf, string, type Static } from './schema.js';

/** A fraction (docs/figures.md); null when nothing was counted to divide by. */
const share = nullable(number);

/** The figures over the days [from, to) in the shop's time zone. */
export const Figures = exact({
  range: exact({ from: string, to: string, timeZone: string, playbook: nullableString, shop: nullableString }),
  reasons: exact({
    total: integer,
    reasons: list(exact({ reason: string, returns: integer, exchanges: integer, count: integer, share: number, topThree: boolean })),
  }),
  refundsAfterReceipt: exact({
    asOf: string,
    receipts: integer,
    within24h: integer,
    latePaid: integer,
    lateUnpaid: integer,
    pending: integer,
    shareWithin24h: share,
    refunded: integer,
    medianDelaySeconds: nullable(integer),
    p95DelaySeconds: nullable(integer),
    late: list(
      exact({
        caseId: string,
        orderId: nullableString,
        receivedAt: string,
        status: oneOf('paid', 'unpaid'),
        paidAt: nullableString,
        delaySeconds: integer,
        amount: nullable(integer),
        currency: nullableString,
      }),
    ),
  }),
  unpaidReminders: exact({
    orders: integer,
    paidBeforeReminder: integer,
    reminded: integer,
    recovered: integer,
    closedUnpaid: integer,
    stillUnpaid: integer,
    shareRecovered: share,
    byReminder: list(exact({ reminders: integer, recovered: integer, share: number })),
  }),
  reviews: exact({
    reviews: integer,
    medium: integer,
    negative: integer,
    open: integer,
    handled: integer,
    askedToAmend: integer,
    amended: integer,
    amendedShare: share,
    escalated: integer,
    byOutcome: list(exact({ outcome: string, reason: string, count: integer })),
  }),
  sla: exact({
    breaches: list(exact({ kind: oneOf('task-sla', 'clock', 'refund'), playbook: string, step: string, queue: nullableString, count: integer })),
    escalations: list(exact({ playbook: string, step: string, queue: string, reason: string, count: integer, open: integer })),
  }),
  casesPerDay: exact({
    outcomes: list(string),
    days: list(exact({ date: string, opened: integer, closed: recordOf(integer) })),
  }),
});

export type Figures = Static<typeof Figures>;
