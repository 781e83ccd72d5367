/** The ops lead's figures over a range of days (docs/figures.md). */
import {
  casesPerDay,
  escalationCounts,
  refundsAfterReceipt,
  returnAndExchangeReasons,
  reviewRecovery,
  slaBreaches,
  unpaidOrderReminders,
  type FigureFilter,
} from '../store/figures.js';
import type { Pool } from '../store/pool.js';

export type { FigureFilter };

/** Every figure over the filter's range, as of `now`. */
export async function readFigures(pool: Pool, filter: FigureFilter, now: Date) {
  const [reasons, refunds, reminders, reviews, breaches, escalations, perDay] = await Promise.all([
    returnAndExchangeReasons(pool, filter),
    refundsAfterReceipt(pool, filter, now),
    unpaidOrderReminders(pool, filter),
    reviewRecovery(pool, filter),
    slaBreaches(pool, filter),
    escalationCounts(pool, filter),
    casesPerDay(pool, filter),
  ]);
  return {
    range: { from: filter.from, to: filter.to, timeZone: filter.timeZone, playbook: filter.playbook, shop: filter.shop },
    reasons,
    refundsAfterReceipt: refunds,
    unpaidReminders: reminders,
    reviews,
    sla: { breaches, escalations },
    casesPerDay: perDay,
  };
}
