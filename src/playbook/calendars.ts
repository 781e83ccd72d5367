/**
 * Calendars: a playbook's inline `calendar:` and the shared calendar files (calendars/<name>.yaml), checked
 * with positions and resolved into the plan's form. Pure: the edges (CLI, API) read the files and pass them.
 */
import schema from '../../schemas/calendar.schema.json' with { type: 'json' };
import { parseInterval, WEEKDAYS, type Calendar, type Weekday } from '../plan/calendar.js';
import type { JsonPath } from '../plan/steps/kind.js';
import { checkTimeZone } from './declarations.js';
import { Reporter, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import { hintFor } from './hints.js';
import { shapeChecker } from './schema-check.js';
import { readPlaybook } from './source.js';

export interface RawCalendar {
  timezone?: string;
  hours: Partial<Record<Weekday, string[]>>;
  holidays?: { date: string; until?: string; name?: string }[];
  special_days?: { date: string; hours: string[]; name?: string }[];
}

export interface RawCalendarFile extends RawCalendar {
  calendar: string;
  version: number;
  title?: string;
  timezone: string;
}

/** A calendar file as the edges read it. */
export interface CalendarFile {
  file: string;
  source: string | Uint8Array;
}

export interface LoadedCalendars {
  /** The valid calendars by name. */
  calendars: Record<string, Calendar>;
  diagnostics: Diagnostic[];
}

const DAY_MS = 86_400_000;
const MAX_HOLIDAY_DAYS = 366;

const checkCalendarShape = shapeChecker(schema as Record<string, unknown>);

/** Checks calendar files; the valid ones are returned by name, with the diagnostics of all. */
export function loadCalendars(files: CalendarFile[]): LoadedCalendars {
  const calendars: Record<string, Calendar> = {};
  const diagnostics: Diagnostic[] = [];
  for (const { file, source } of files) {
    const read = readPlaybook(source, file);
    if (!read.source) {
      diagnostics.push(...read.diagnostics);
      continue;
    }
    const shape = checkCalendarShape(read.source);
    if (shape.length > 0) {
      diagnostics.push(...shape);
      continue;
    }
    const raw = read.source.value as RawCalendarFile;
    const report = new Reporter(read.source);
    const expected = /([^/\\]+)\.ya?ml$/.exec(file)?.[1];
    if (expected !== undefined && raw.calendar !== expected)
      report.error('PB135', `the file ${file} holds calendar '${raw.calendar}'`, ['calendar'], {
        hint: `name it '${expected}' or rename the file ${raw.calendar}.yaml`,
      });
    else if (calendars[raw.calendar]) report.error('PB135', `a second calendar named '${raw.calendar}'`, ['calendar']);
    const compiled = compileCalendar(raw, [], raw.timezone, report);
    diagnostics.push(...report.diagnostics);
    if (compiled && !report.diagnostics.some((d) => d.severity === 'error')) {
      calendars[raw.calendar] = { name: raw.calendar, version: raw.version, ...compiled };
    }
  }
  return { calendars, diagnostics: sortDiagnostics(diagnostics) };
}

/** The playbook's `calendar:`: a known calendar file's content by name, or the inline calendar. */
export function resolveCalendar(
  raw: string | RawCalendar | undefined,
  timezone: string,
  known: Record<string, Calendar> | undefined,
  report: Reporter,
): Calendar | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw === 'object') return compileCalendar(raw, ['calendar'], timezone, report);
  const calendar = known?.[raw];
  if (!calendar)
    report.error('PB131', `no calendar named '${raw}'`, ['calendar'], { hint: hintFor(raw, Object.keys(known ?? {}), `add calendars/${raw}.yaml`) });
  return calendar;
}

/** A calendar as written (at `path`), checked: hours, dates, ranges; undefined when it has errors. */
export function compileCalendar(raw: RawCalendar, path: JsonPath, defaultTimezone: string, report: Reporter): Calendar | undefined {
  const before = report.diagnostics.length;
  const timezone = raw.timezone !== undefined ? checkTimeZone(raw.timezone, [...path, 'timezone'], report) : defaultTimezone;
  const week = Object.fromEntries(WEEKDAYS.map((day) => [day, checkIntervals(raw.hours[day] ?? [], [...path, 'hours', day], report)])) as Record<
    Weekday,
    string[]
  >;
  if (WEEKDAYS.every((day) => week[day].length === 0))
    report.error('PB133', 'the calendar has no working hours on any weekday', [...path, 'hours'], { key: true, hint: 'e.g. hours: { mon: ["09:00-18:00"] }' });
  const exceptions: Record<string, string[]> = {};
  const setDay = (date: string, hours: string[], at: JsonPath) => {
    if (exceptions[date]) report.error('PB136', `${date} is given twice`, at);
    exceptions[date] = hours;
  };
  (raw.holidays ?? []).forEach((holiday, i) => {
    const at = [...path, 'holidays', i];
    const yearly = isYearly(holiday.date);
    if (holiday.until !== undefined && isYearly(holiday.until) !== yearly) {
      report.error('PB134', `the holiday runs from ${holiday.date} to ${holiday.until}: both are dates (YYYY-MM-DD) or both days of every year (MM-DD)`, [
        ...at,
        'until',
      ]);
      return;
    }
    const first = dayNumber(holiday.date, [...at, 'date'], report);
    const last = holiday.until !== undefined ? dayNumber(holiday.until, [...at, 'until'], report) : first;
    if (first === undefined || last === undefined) return;
    if (last < first || last - first >= MAX_HOLIDAY_DAYS) {
      report.error(
        'PB134',
        `the holiday runs from ${holiday.date} to ${holiday.until}: the end must not be before the start, and a range is at most ${MAX_HOLIDAY_DAYS} days`,
        [...at, 'until'],
      );
      return;
    }
    for (let day = first; day <= last; day++) {
      const date = new Date(day * DAY_MS).toISOString().slice(0, 10);
      setDay(yearly ? date.slice(5) : date, [], [...at, 'date']);
    }
  });
  (raw.special_days ?? []).forEach((special, i) => {
    const at = [...path, 'special_days', i];
    if (dayNumber(special.date, [...at, 'date'], report) === undefined) return;
    setDay(special.date, checkIntervals(special.hours, [...at, 'hours'], report), [...at, 'date']);
  });
  if (report.diagnostics.slice(before).some((d) => d.severity === 'error')) return undefined;
  const closure = longClosure(week, exceptions);
  if (closure) {
    const [from, to] = [closure.first, closure.last].map((day) => new Date(day * DAY_MS).toISOString().slice(0, 10));
    const when = closure.forever
      ? 'on any day of the year'
      : closure.everyYear
        ? `from ${from!.slice(5)} to ${to!.slice(5)} every year`
        : `from ${from} to ${to}`;
    report.error(
      'PB137',
      `the calendar has no working time ${when}${closure.forever ? '' : `: ${closure.last - closure.first + 1} days in a row`}; it may be closed at most ${MAX_CLOSED_DAYS} days in a row`,
      [...path, 'holidays'],
      {
        key: true,
        hint: 'a business-time deadline must reach working time: shorten the holidays or add special_days with hours',
      },
    );
  }
  return { timezone, week, exceptions };
}

/**
 * The most days in a row a calendar may have no working time: a year of holidays and the weekends
 * around it, within the worst-case horizon (400 days); at run time a search for working time looks 800 days ahead.
 */
const MAX_CLOSED_DAYS = 400;

/**
 * A run of more than MAX_CLOSED_DAYS days without working time, if the calendar has one. The weekly
 * hours and the yearly holidays are tried over 28 years (every alignment of weekdays and leap years);
 * dated holidays can only lengthen a run around themselves, so the days around each are tried too.
 */
function longClosure(
  week: Record<Weekday, string[]>,
  exceptions: Record<string, string[]>,
): { first: number; last: number; everyYear: boolean; forever: boolean } | undefined {
  const works = WEEKDAYS.map((day) => week[day].length > 0);
  const closed = (day: number, dated: boolean) => {
    const date = new Date(day * DAY_MS).toISOString().slice(0, 10);
    const hours = (dated ? exceptions[date] : undefined) ?? exceptions[date.slice(5)];
    // Day 0, 1970-01-01, was a Thursday.
    return hours ? hours.length === 0 : !works[(((day + 4) % 7) + 7) % 7];
  };
  const longest = (from: number, to: number, dated: boolean) => {
    let best = { first: from, last: from - 1 };
    let first: number | undefined;
    for (let day = from; day <= to; day++) {
      if (!closed(day, dated)) {
        first = undefined;
        continue;
      }
      first ??= day;
      if (day - first > best.last - best.first) best = { first, last: day };
    }
    return best;
  };
  const [cycleStart, cycleEnd] = [Date.UTC(2001, 0, 1) / DAY_MS, Date.UTC(2029, 0, 1) / DAY_MS];
  const yearly = longest(cycleStart, cycleEnd, false);
  if (yearly.last - yearly.first + 1 > MAX_CLOSED_DAYS) return { ...yearly, everyYear: true, forever: yearly.last - yearly.first === cycleEnd - cycleStart };
  const reach = yearly.last - yearly.first + 2;
  const dated = Object.keys(exceptions)
    .filter((date) => date.length === 10 && exceptions[date]!.length === 0)
    .map((date) => Date.parse(date) / DAY_MS)
    .sort((a, b) => a - b);
  let window: [number, number] | undefined;
  for (const day of [...dated, Infinity]) {
    if (window && day - reach <= window[1]) {
      window[1] = day + reach;
      continue;
    }
    if (window) {
      const run = longest(window[0], window[1], true);
      if (run.last - run.first + 1 > MAX_CLOSED_DAYS) return { ...run, everyYear: false, forever: false };
    }
    window = [day - reach, day + reach];
  }
  return undefined;
}

/** Intervals `HH:MM-HH:MM` in order, each ending after it starts and after the previous one ends. */
function checkIntervals(intervals: string[], path: JsonPath, report: Reporter): string[] {
  let previousEnd = -1;
  intervals.forEach((text, i) => {
    const minutes = parseInterval(text);
    if (!minutes)
      report.error('PB132', `'${text}' is not a working interval: the end must be after the start`, [...path, i], {
        hint: 'write HH:MM-HH:MM, e.g. 09:00-18:00 or 08:00-24:00',
      });
    else if (minutes[0] < previousEnd)
      report.error('PB132', `'${text}' starts before the previous interval ends`, [...path, i], { hint: "list a day's intervals in order, without overlaps" });
    if (minutes) previousEnd = minutes[1];
  });
  return intervals;
}

/** A day of every year, `MM-DD` (Double 11 is `11-11`), rather than one date. */
const isYearly = (date: string) => /^[0-9]{2}-[0-9]{2}$/.test(date);

/**
 * Days since 1970-01-01 of a `YYYY-MM-DD` date, or of a yearly `MM-DD` in a leap year (2000, so that
 * 02-29 exists); undefined (reported) when the date does not exist.
 */
function dayNumber(date: string, path: JsonPath, report: Reporter): number | undefined {
  const full = isYearly(date) ? `2000-${date}` : date;
  const [year, month, day] = full.split('-').map(Number) as [number, number, number];
  const ms = Date.UTC(year, month - 1, day);
  if (new Date(ms).toISOString().slice(0, 10) !== full) {
    report.error('PB134', `${date} is not a date`, path, { hint: 'write YYYY-MM-DD for one date or MM-DD for every year, quoted' });
    return undefined;
  }
  return ms / DAY_MS;
}
