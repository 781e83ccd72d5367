/** Local-time arithmetic with Intl only: deterministic given the instant, safe in workflow code. */

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of `instant` in `timeZone` (24-hour), with one formatter per zone. */
export function localParts(instant: number, timeZone: string): LocalParts {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  const parts: Record<string, number> = {};
  for (const part of formatter.formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second! };
}

/** Milliseconds the zone is ahead of UTC at `instant`. */
function offsetAt(instant: number, timeZone: string): number {
  const p = localParts(instant, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

/** The first instant strictly after `instant` at which the local clock in `timeZone` reads `hhmm`. */
export function nextLocalTime(instant: number, hhmm: string, timeZone: string): number {
  const p = localParts(instant, timeZone);
  const target = minutesOf(hhmm);
  for (let dayOffset = 0; dayOffset <= 2; dayOffset++) {
    const localAsUtc = Date.UTC(p.year, p.month - 1, p.day + dayOffset, Math.floor(target / 60), target % 60);
    // Two passes settle the offset across a daylight-saving change.
    let candidate = localAsUtc - offsetAt(localAsUtc, timeZone);
    candidate = localAsUtc - offsetAt(candidate, timeZone);
    if (candidate > instant) return candidate;
  }
  throw new Error(`no next ${hhmm} in ${timeZone}`);
}

/** When a quiet window [start, end) that contains `instant` ends; `instant` itself when outside it. */
export function endOfQuietHours(instant: number, start: string, end: string, timeZone: string): number {
  const p = localParts(instant, timeZone);
  const now = p.hour * 60 + p.minute;
  const s = minutesOf(start);
  const e = minutesOf(end);
  const inside = s <= e ? now >= s && now < e : now >= s || now < e;
  return inside ? nextLocalTime(instant, end, timeZone) : instant;
}

/** A human rendering of an instant in a zone, `2026-11-24 15:00 (Asia/Shanghai)`. */
export function formatLocal(instant: number, timeZone: string): string {
  const p = localParts(instant, timeZone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)} ${two(p.hour)}:${two(p.minute)} (${timeZone})`;
}

/** The last millisecond of the local day `days` days after the local day of `instant` (0: that day). */
export function endOfLocalDay(instant: number, days: number, timeZone: string): number {
  const p = localParts(instant, timeZone);
  const startOfFollowingDay = Date.UTC(p.year, p.month - 1, p.day + days + 1);
  // Two passes settle the zone's offset, as for nextLocalTime.
  let start = startOfFollowingDay - offsetAt(startOfFollowingDay, timeZone);
  start = startOfFollowingDay - offsetAt(start, timeZone);
  return start - 1;
}

/** The local calendar date of `instant` in `timeZone`. */
export function localDate(instant: number, timeZone: string): { year: number; month: number; day: number } {
  const p = localParts(instant, timeZone);
  return { year: p.year, month: p.month, day: p.day };
}

/** The instant at which the local clock in `timeZone` reads `minute` minutes after midnight of the date (day may overflow). */
export function instantOfLocal(year: number, month: number, day: number, minute: number, timeZone: string): number {
  const localAsUtc = Date.UTC(year, month - 1, day, 0, minute);
  let instant = localAsUtc - offsetAt(localAsUtc, timeZone);
  instant = localAsUtc - offsetAt(instant, timeZone);
  return instant;
}

/** Milliseconds since local midnight that the clock in `timeZone` shows at `instant`. */
export function localClockMs(instant: number, timeZone: string): number {
  const p = localParts(instant, timeZone);
  return ((p.hour * 60 + p.minute) * 60 + p.second) * 1000 + (((instant % 1000) + 1000) % 1000);
}
