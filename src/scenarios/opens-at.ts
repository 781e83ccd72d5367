/**
 * When a scenario's case opens (`opens_at`), in the playbook's time zone, as the first instant after the
 * test server's clock that matches: `23:30` (the next 23:30), `Fri 23:30` (the next Friday at 23:30),
 * `11-11 10:00` (the next 11 November at 10:00), `2027-11-11 10:00` (that instant, which must be ahead:
 * the time-skipping server's clock only moves forward). A weekday is taken in an ordinary week: one
 * whose days, a week either side, `unusual` (the calendar's holidays and special days) says nothing of,
 * so that a scenario about Friday evening and Monday morning is not run over a holiday. Pure.
 */
import { formatLocal, nextLocalTime } from '../plan/local-time.js';

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

/** The forms `opens_at` takes (schemas/scenario.schema.json has the same pattern). */
export const OPENS_AT = /^(?:(?<weekday>Mon|Tue|Wed|Thu|Fri|Sat|Sun) |(?:(?<year>\d{4})-)?(?<month>\d{2})-(?<day>\d{2}) )?(?<time>(?:[01]\d|2[0-3]):[0-5]\d)$/;

/** Enough days to reach any month-day, leap days included. */
const SEARCH_DAYS = 366 * 4 + 1;

/** The local date an instant falls on, `YYYY-MM-DD`. */
const localDate = (instant: number, timeZone: string) => formatLocal(instant, timeZone).slice(0, 10);

/** A week either side of a weekday opening is kept free of unusual days. */
const ORDINARY_WEEK_DAYS = 7;

export function opensAtInstant(
  spec: string,
  nowMs: number,
  timeZone: string,
  unusual: (date: string) => boolean = () => false,
): { at: number } | { problem: string } {
  const match = OPENS_AT.exec(spec);
  if (!match?.groups) return { problem: `opens_at '${spec}' is not HH:MM, '<weekday> HH:MM', 'MM-DD HH:MM' or 'YYYY-MM-DD HH:MM'` };
  const { weekday, year, month, day, time } = match.groups;
  const matches = (instant: number): boolean => {
    const date = localDate(instant, timeZone);
    if (weekday) return WEEKDAYS[new Date(`${date}T00:00:00Z`).getUTCDay()] === weekday && ordinaryWeekAround(date);
    if (month) return date.slice(5) === `${month}-${day}` && (!year || date.slice(0, 4) === year);
    return true;
  };
  const ordinaryWeekAround = (date: string) => {
    const middle = Date.parse(`${date}T00:00:00Z`);
    for (let d = -ORDINARY_WEEK_DAYS; d <= ORDINARY_WEEK_DAYS; d++) {
      if (unusual(new Date(middle + d * 86_400_000).toISOString().slice(0, 10))) return false;
    }
    return true;
  };
  const target = `${year}-${month}-${day}`;
  let candidate = nextLocalTime(nowMs, time!, timeZone);
  for (let days = 0; days < SEARCH_DAYS * (year ? 3 : 1); days++) {
    if (matches(candidate)) return { at: candidate };
    if (year && localDate(candidate, timeZone) > target) break;
    candidate = nextLocalTime(candidate, time!, timeZone);
  }
  return year
    ? {
        problem: `opens_at ${spec} (${timeZone}) has passed: the test server's clock is at ${formatLocal(nowMs, timeZone)} and only moves forward; use a later date, or 'MM-DD HH:MM' for the next one`,
      }
    : { problem: `opens_at ${spec} (${timeZone}) does not come within four years of ${formatLocal(nowMs, timeZone)}` };
}
