/**
 * Instants as requests and cursors write them: a day (`2026-11-01`, from its start, UTC) or an RFC 3339
 * date-time (`2026-11-01T08:00:00+08:00`; Postgres' `timestamptz::text` is one too). Only those the
 * database and JavaScript both hold are read: a real day and time in the years 0001 to 9999, an offset
 * within ±15:59 (Postgres refuses wider ones) and no leap second (neither counts them). RFC 3339 allows
 * year 0000, offsets to ±23:59 and 23:59:60; the schemas' formats take them, so routes read them here.
 */

export type InstantReading = { at: Date; text: string } | { problem: string };

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt\s](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?))?$/;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The instant, with a text Postgres reads as the same instant, or why it is not one. */
export function readInstant(text: string): InstantReading {
  const m = INSTANT.exec(text);
  if (!m) return { problem: 'must be a day (2026-11-01) or an RFC 3339 date-time with an offset (2026-11-01T08:00:00Z)' };
  const [year, month, day, hour = 0, minute = 0, second = 0] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((part) => Number(part ?? 0)) as number[];
  if (year === 0) return { problem: 'has year 0000, which does not exist (1 BC is followed by AD 1)' };
  if (day! < 1 || day! > daysIn(year!, month!)) return { problem: `names a day that does not exist (${m[1]}-${m[2]}-${m[3]})` };
  if (second === 60) return { problem: 'is a leap second (:60), which the database does not count: use :59 or the next minute' };
  if (hour! > 23 || minute! > 59 || second! > 59) return { problem: 'names a time of day that does not exist' };
  const sign = m[9] === '-' ? -1 : 1;
  const [offsetHours, offsetMinutes] = [Number(m[10] ?? 0), Number(m[11] ?? 0)];
  if (offsetMinutes > 59) return { problem: 'has an offset with more than 59 minutes' };
  if (offsetHours > 15) return { problem: 'has an offset beyond ±15:59, which the database does not hold (no time zone is wider than ±14:00)' };
  const fraction = m[7] ?? '';
  const at = new Date(0);
  at.setUTCFullYear(year!, month! - 1, day!);
  at.setUTCHours(hour!, minute!, second!, Math.floor(Number(`0${fraction || '.0'}`) * 1000));
  at.setTime(at.getTime() - sign * (offsetHours * 60 + offsetMinutes) * 60_000);
  const offset = m[9] ? `${m[9]}${pad(offsetHours)}:${pad(offsetMinutes)}` : 'Z';
  // Postgres keeps microseconds: the fraction goes to it as written (it rounds past six digits).
  return { at, text: `${pad(year!, 4)}-${pad(month!)}-${pad(day!)}T${pad(hour!)}:${pad(minute!)}:${pad(second!)}${fraction}${offset}` };
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month === 2 && leap ? 29 : (DAYS[month - 1] ?? 0);
}
