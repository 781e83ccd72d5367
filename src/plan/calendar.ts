/**
 * Business time: a calendar's working hours as instants, and durations counted in them. Pure and
 * deterministic (Intl only, as local-time.ts), so the workflow computes its timers from the pinned plan.
 *
 * A local day's working time is its dated exception when it has one (a holiday: no intervals; a
 * special day: its own), else its weekday's intervals. Intervals are `HH:MM-HH:MM` in the calendar's
 * zone, sorted and disjoint within a day, and `24:00` may end one.
 */
import type { BusinessDuration, Span } from './duration.js';
import { instantOfLocal, localClockMs, localDate } from './local-time.js';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface Calendar {
  /** Set for a shared calendar file (calendars/<name>.yaml), with the version the plan embeds. */
  name?: string;
  version?: number;
  timezone: string;
  week: Record<Weekday, string[]>;
  /** `YYYY-MM-DD` (one date) or `MM-DD` (every year) → that day's intervals instead of its weekday's; `[]` is a holiday. */
  exceptions: Record<string, string[]>;
}

/** The horizon over which worst cases are computed, from the moment a playbook is checked. */
export const WORST_CASE_HORIZON_MS = 400 * 86_400_000;

/** How far a search for working time goes before it gives up on the calendar. */
const MAX_SEARCH_DAYS = 800;

const INTERVAL = /^([01][0-9]|2[0-3]):([0-5][0-9])-(?:([01][0-9]|2[0-3]):([0-5][0-9])|(24):(00))$/;

/** `09:00-18:00` → minutes from local midnight [540, 1080]; undefined when malformed or empty. */
export function parseInterval(text: string): [number, number] | undefined {
  const m = INTERVAL.exec(text);
  if (!m) return undefined;
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = m[5] ? 24 * 60 : Number(m[3]) * 60 + Number(m[4]);
  return start < end ? [start, end] : undefined;
}

type Instants = [number, number];

interface LocalDay {
  year: number;
  month: number;
  day: number;
}

const dayKey = (d: LocalDay) => `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;

function shiftDay(d: LocalDay, days: number): LocalDay {
  const date = new Date(Date.UTC(d.year, d.month - 1, d.day + days));
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

function writtenHours(calendar: Calendar, d: LocalDay): string[] {
  const date = dayKey(d);
  return (
    calendar.exceptions[date] ?? calendar.exceptions[date.slice(5)] ?? calendar.week[WEEKDAYS[new Date(Date.UTC(d.year, d.month - 1, d.day)).getUTCDay()]!]
  );
}

/** A calendar's working intervals per local day, each day computed once (worst cases revisit days many times). */
class WorkingDays {
  private readonly days = new Map<string, Instants[]>();

  constructor(readonly calendar: Calendar) {}

  of(d: LocalDay): Instants[] {
    const key = dayKey(d);
    let intervals = this.days.get(key);
    if (!intervals) {
      intervals = dayIntervals(this.calendar, d);
      this.days.set(key, intervals);
    }
    return intervals;
  }
}

/** The working intervals of one local day, as instants. */
function dayIntervals(calendar: Calendar, d: LocalDay): Instants[] {
  const out: Instants[] = [];
  for (const text of writtenHours(calendar, d)) {
    const minutes = parseInterval(text);
    if (!minutes) continue;
    const start = instantOfLocal(d.year, d.month, d.day, minutes[0], calendar.timezone);
    const end = instantOfLocal(d.year, d.month, d.day, minutes[1], calendar.timezone);
    // A daylight-saving jump can swallow an interval written inside it.
    if (start < end) out.push([start, end]);
  }
  return out;
}

/** Working intervals ending after `instant`, in order. */
function* intervalsAfter(days: WorkingDays, instant: number): Generator<Instants> {
  const first = localDate(instant, days.calendar.timezone);
  for (let i = 0; i < MAX_SEARCH_DAYS; i++) {
    for (const interval of days.of(shiftDay(first, i))) if (interval[1] > instant) yield interval;
  }
  throw new Error(
    `calendar${days.calendar.name ? ` ${days.calendar.name}` : ''} has no working time within ${MAX_SEARCH_DAYS} days after ${new Date(instant).toISOString()}`,
  );
}

/** Working intervals starting before `instant`, latest first. */
function* intervalsBefore(days: WorkingDays, instant: number): Generator<Instants> {
  const first = localDate(instant, days.calendar.timezone);
  for (let i = 0; i < MAX_SEARCH_DAYS; i++) {
    for (const interval of [...days.of(shiftDay(first, -i))].reverse()) if (interval[0] < instant) yield interval;
  }
  throw new Error(`calendar has no working time within ${MAX_SEARCH_DAYS} days before ${new Date(instant).toISOString()}`);
}

export function isWorking(calendar: Calendar, instant: number): boolean {
  return dayIntervals(calendar, localDate(instant, calendar.timezone)).some(([s, e]) => s <= instant && instant < e);
}

/** `instant` when it is working time, else the next opening. */
export function nextWorking(calendar: Calendar, instant: number): number {
  return openingFrom(new WorkingDays(calendar), instant);
}

function openingFrom(days: WorkingDays, instant: number): number {
  for (const [start] of intervalsAfter(days, instant)) return Math.max(start, instant);
  throw new Error('unreachable');
}

/** The instant after `ms` of working time from `from`; it may be the exact end of an interval, never a closed moment. */
export function addBusinessMs(calendar: Calendar, from: number, ms: number): number {
  return addMs(new WorkingDays(calendar), from, ms);
}

function addMs(days: WorkingDays, from: number, ms: number): number {
  let left = ms;
  for (const [start, end] of intervalsAfter(days, from)) {
    const begin = Math.max(start, from);
    if (left <= end - begin) return begin + left;
    left -= end - begin;
  }
  throw new Error('unreachable');
}

/** The latest instant from which `ms` of working time ends at `to`. */
export function subtractBusinessMs(calendar: Calendar, to: number, ms: number): number {
  return subtractMs(new WorkingDays(calendar), to, ms);
}

function subtractMs(days: WorkingDays, to: number, ms: number): number {
  let left = ms;
  for (const [start, end] of intervalsBefore(days, to)) {
    const finish = Math.min(end, to);
    if (left <= finish - start) return finish - left;
    left -= finish - start;
  }
  throw new Error('unreachable');
}

/** The working time between two instants (0 when `to` is not after `from`). */
export function businessMsBetween(calendar: Calendar, from: number, to: number): number {
  if (to <= from) return 0;
  let total = 0;
  for (const [start, end] of intervalsAfter(new WorkingDays(calendar), from)) {
    if (start >= to) break;
    total += Math.min(end, to) - Math.max(start, from);
  }
  return total;
}

/**
 * N business days: the same local clock time N working days later (a working day is a day with
 * working hours), as helpdesks count day-long SLAs. A start outside working hours counts from the next
 * opening; on a target day that does not work at that clock time, the result is its next opening that
 * day, or its closing when the clock time is after it.
 */
export function addBusinessDays(calendar: Calendar, from: number, days: number): number {
  return addDays(new WorkingDays(calendar), from, days);
}

function addDays(workingDays: WorkingDays, from: number, days: number): number {
  const { timezone } = workingDays.calendar;
  const begin = openingFrom(workingDays, from);
  const date = localDate(begin, timezone);
  const clockMs = localClockMs(begin, timezone);
  let counted = 0;
  for (let i = 1; i <= MAX_SEARCH_DAYS; i++) {
    const day = shiftDay(date, i);
    const intervals = workingDays.of(day);
    if (intervals.length === 0 || ++counted < days) continue;
    const target = instantOfLocal(day.year, day.month, day.day, Math.floor(clockMs / 60_000), timezone) + (clockMs % 60_000);
    for (const [start, end] of intervals) {
      if (target < start) return start;
      if (target < end) return target;
    }
    return intervals[intervals.length - 1]![1];
  }
  throw new Error(`calendar has no ${days} working days within ${MAX_SEARCH_DAYS} days`);
}

const UNIT_MS = { minutes: 60_000, hours: 3_600_000 } as const;

/** The instant a business duration started at `from` ends. */
export function addBusiness(calendar: Calendar, from: number, duration: BusinessDuration): number {
  return add(new WorkingDays(calendar), from, duration);
}

function add(days: WorkingDays, from: number, duration: BusinessDuration): number {
  if (duration.business === 'days') return addDays(days, from, duration.amount);
  return addMs(days, from, duration.amount * UNIT_MS[duration.business]);
}

/**
 * The longest wall-clock time a business duration can take over the calendar, from any start within
 * the next 400 days after `fromMs` (for checking a playbook against a marketplace's deadlines). The
 * longest spans start at a closing time or end just after an opening, so those starts are tried.
 */
export function worstCaseSpanMs(calendar: Calendar, duration: BusinessDuration, fromMs: number): number {
  const horizon = fromMs + WORST_CASE_HORIZON_MS;
  const days = new WorkingDays(calendar);
  const span = (start: number) => add(days, start, duration) - start;
  let worst = span(fromMs);
  for (const [start, end] of intervalsAfter(days, fromMs)) {
    if (start >= horizon) break;
    if (end < horizon) worst = Math.max(worst, span(end));
    if (duration.business === 'days') {
      if (start >= fromMs) worst = Math.max(worst, span(start));
      continue;
    }
    const ms = duration.amount * UNIT_MS[duration.business];
    const latestStart = subtractMs(days, start, ms);
    // Started at latestStart + ε, the duration ends at start + ε: the supremum is start − latestStart.
    if (latestStart >= fromMs && latestStart < horizon) worst = Math.max(worst, start - latestStart);
  }
  return worst;
}

/** The instant a span started at `from` ends; a business span needs the plan's calendar (the compiler makes sure it has one). */
export function instantAfter(calendar: Calendar | undefined, from: number, span: Span): number {
  if (typeof span === 'number') return from + span;
  if (!calendar) throw new Error(`${span.amount} business ${span.business} without a calendar`);
  return addBusiness(calendar, from, span);
}
