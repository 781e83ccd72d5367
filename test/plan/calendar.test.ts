import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addBusiness,
  addBusinessDays,
  addBusinessMs,
  businessMsBetween,
  isWorking,
  nextWorking,
  subtractBusinessMs,
  worstCaseSpanMs,
  type Calendar,
} from '../../src/plan/calendar.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;

const weekdays = (hours: string[], sat: string[] = [], sun: string[] = []) => ({ mon: hours, tue: hours, wed: hours, thu: hours, fri: hours, sat, sun });

const shop: Calendar = {
  timezone: 'Asia/Shanghai',
  week: weekdays(['09:00-18:00'], ['10:00-16:00']),
  exceptions: { '2026-11-11': ['08:00-24:00'], '2026-12-31': [], '2027-01-01': [], '2027-02-08': [] },
};

const newYork: Calendar = {
  timezone: 'America/New_York',
  // Split days and a shift across the 02:00 DST jumps.
  week: weekdays(['00:30-03:30', '08:00-12:00', '13:00-17:00'], ['01:00-04:00'], ['22:00-24:00']),
  exceptions: { '2026-03-09': [], '2026-11-02': ['01:00-02:30'] },
};

const berlin: Calendar = {
  timezone: 'Europe/Berlin',
  week: weekdays(['00:00-24:00'], ['02:00-03:30'], ['00:00-24:00']),
  // The spring-forward Sunday works only from 02:00, which does not exist that day, to 03:30.
  exceptions: { '2026-03-29': ['02:00-03:30'], '2026-12-24': ['09:00-12:00'], '2026-12-25': [], '2026-12-26': [] },
};

const CALENDARS = { shop, newYork, berlin };

/** Instants around the DST changes of 2026 (US: Mar 8, Nov 1; EU: Mar 29, Oct 25) and the year end. */
const around = (iso: string, days: number) => fc.integer({ min: Date.parse(iso) - days * 86_400_000, max: Date.parse(iso) + days * 86_400_000 });
const instant = fc.oneof(
  around('2026-03-08T07:00:00Z', 5),
  around('2026-11-01T06:00:00Z', 5),
  around('2026-03-29T01:00:00Z', 5),
  around('2026-10-25T01:00:00Z', 5),
  around('2026-12-31T23:00:00Z', 6),
  around('2026-11-11T00:00:00Z', 4),
);
const calendar = fc.constantFrom(...Object.values(CALENDARS));
const amount = fc.integer({ min: 1, max: 60 * HOUR });

/** Working time, or the exact end of an interval (the last instant counted). */
const workingOrClosing = (cal: Calendar, t: number) => isWorking(cal, t) || isWorking(cal, t - 1);

describe('business minutes and hours', () => {
  it('never land outside working hours', () => {
    fc.assert(
      fc.property(calendar, instant, amount, (cal, from, ms) => workingOrClosing(cal, addBusinessMs(cal, from, ms))),
      { numRuns: 300 },
    );
  });

  it('are monotonic in the start and in the amount', () => {
    fc.assert(
      fc.property(calendar, instant, instant, amount, amount, (cal, a, b, x, y) => {
        const [early, late] = a <= b ? [a, b] : [b, a];
        const [less, more] = x <= y ? [x, y] : [y, x];
        expect(addBusinessMs(cal, early, less)).toBeLessThanOrEqual(addBusinessMs(cal, late, less));
        expect(addBusinessMs(cal, early, less)).toBeLessThanOrEqual(addBusinessMs(cal, early, more));
      }),
      { numRuns: 200 },
    );
  });

  it('adding a then b is adding a + b', () => {
    fc.assert(
      fc.property(calendar, instant, amount, amount, (cal, from, a, b) => {
        expect(addBusinessMs(cal, addBusinessMs(cal, from, a), b)).toBe(addBusinessMs(cal, from, a + b));
      }),
      { numRuns: 200 },
    );
  });

  it('the business time between the start and the result is the amount', () => {
    fc.assert(
      fc.property(calendar, instant, amount, (cal, from, ms) => {
        expect(businessMsBetween(cal, from, addBusinessMs(cal, from, ms))).toBe(ms);
      }),
      { numRuns: 300 },
    );
  });

  it('subtracting undoes adding, from the latest possible start', () => {
    fc.assert(
      fc.property(calendar, instant, amount, (cal, from, ms) => {
        const end = addBusinessMs(cal, from, ms);
        const start = subtractBusinessMs(cal, end, ms);
        expect(businessMsBetween(cal, start, end)).toBe(ms);
        expect(start).toBeGreaterThanOrEqual(from);
      }),
      { numRuns: 200 },
    );
  });
});

describe('the shop calendar (Asia/Shanghai)', () => {
  const at = (local: string) => Date.parse(`${local}+08:00`);

  it('4 business hours from Friday 17:00 end Monday 12:00', () => {
    expect(addBusiness(shop, at('2026-11-06T17:00:00'), { business: 'hours', amount: 4 })).toBe(at('2026-11-07T13:00:00'));
    const noSaturday: Calendar = { ...shop, week: { ...shop.week, sat: [] } };
    expect(addBusiness(noSaturday, at('2026-11-06T17:00:00'), { business: 'hours', amount: 4 })).toBe(at('2026-11-09T12:00:00'));
  });

  it('a review at 23:30 on Friday counts from Saturday 10:00, not at night', () => {
    expect(addBusiness(shop, at('2026-11-06T23:30:00'), { business: 'hours', amount: 2 })).toBe(at('2026-11-07T12:00:00'));
  });

  it('the exact end of the day is the result, not the next opening', () => {
    expect(addBusinessMs(shop, at('2026-11-09T17:00:00'), HOUR)).toBe(at('2026-11-09T18:00:00'));
    expect(addBusinessMs(shop, at('2026-11-09T17:00:00'), HOUR + MINUTE)).toBe(at('2026-11-10T09:01:00'));
  });

  it('Double 11 has its own long hours, and holidays are closed across the year end', () => {
    expect(isWorking(shop, at('2026-11-11T23:00:00'))).toBe(true);
    expect(addBusinessMs(shop, at('2026-11-11T22:00:00'), 3 * HOUR)).toBe(at('2026-11-12T10:00:00'));
    expect(nextWorking(shop, at('2026-12-30T18:30:00'))).toBe(at('2027-01-02T10:00:00'));
  });

  it('business days keep the clock time on working days', () => {
    expect(addBusinessDays(shop, at('2026-11-06T11:00:00'), 1)).toBe(at('2026-11-07T11:00:00'));
    expect(addBusinessDays(shop, at('2026-11-06T17:00:00'), 1)).toBe(at('2026-11-07T16:00:00'));
    expect(addBusinessDays(shop, at('2026-11-06T17:00:00'), 2)).toBe(at('2026-11-09T17:00:00'));
    expect(addBusinessDays(shop, at('2026-11-06T19:00:00'), 1)).toBe(at('2026-11-09T10:00:00'));
    expect(addBusinessDays(shop, at('2026-12-30T10:00:00'), 1)).toBe(at('2027-01-02T10:00:00'));
  });

  it('business days never land outside working hours and grow with the amount', () => {
    fc.assert(
      fc.property(calendar, instant, fc.integer({ min: 1, max: 20 }), (cal, from, days) => {
        const end = addBusinessDays(cal, from, days);
        expect(workingOrClosing(cal, end)).toBe(true);
        expect(end).toBeGreaterThan(from);
        expect(addBusinessDays(cal, from, days + 1)).toBeGreaterThan(end);
      }),
      { numRuns: 150 },
    );
  });
});

describe('DST zones', () => {
  it('an hour across the spring-forward jump in New York counts real elapsed time', () => {
    // 2026-03-08 is a Sunday: 22:00-24:00; Monday 2026-03-09 is closed; Tuesday opens 00:30 EDT.
    const from = Date.parse('2026-03-08T23:30:00-04:00');
    expect(addBusinessMs(newYork, from, HOUR)).toBe(Date.parse('2026-03-10T01:00:00-04:00'));
  });

  it('the 25-hour autumn day in Berlin has 25 working hours', () => {
    const start = Date.parse('2026-10-25T00:00:00+02:00');
    const end = Date.parse('2026-10-26T00:00:00+01:00');
    expect(businessMsBetween(berlin, start, end)).toBe(25 * HOUR);
  });

  it('an interval opening inside the spring-forward gap in Berlin is shortened, not lost', () => {
    const day = Date.parse('2026-03-29T00:00:00+01:00');
    expect(businessMsBetween(berlin, day, day + 86_400_000)).toBeGreaterThan(0);
    expect(businessMsBetween(berlin, day, day + 86_400_000)).toBeLessThanOrEqual(90 * MINUTE);
    expect(isWorking(berlin, Date.parse('2026-03-29T03:15:00+02:00'))).toBe(true);
  });
});

describe('worstCaseSpanMs', () => {
  it('is the longest span from any start: Friday just before closing to after the weekend', () => {
    const weekdaysOnly: Calendar = { timezone: 'Asia/Shanghai', week: weekdays(['09:00-18:00']), exceptions: {} };
    const from = Date.parse('2026-11-25T00:00:00Z');
    // 1 business hour started at Friday 17:00+ε ends Monday 09:00+ε: 64 hours.
    expect(worstCaseSpanMs(weekdaysOnly, { business: 'hours', amount: 1 }, from)).toBe(64 * HOUR);
  });

  it('counts holidays inside the horizon (Spring Festival)', () => {
    const closedWeek: Calendar = { ...shop, exceptions: Object.fromEntries(['06', '07', '08', '09', '10', '11', '12'].map((d) => [`2027-02-${d}`, []])) };
    const from = Date.parse('2026-11-25T00:00:00Z');
    const worst = worstCaseSpanMs(closedWeek, { business: 'hours', amount: 4 }, from);
    // Friday 2027-02-05 14:00+ε → Saturday 2027-02-13 10:00+ε (the 13th is a Saturday).
    expect(worst).toBe(Date.parse('2027-02-13T10:00:00+08:00') - Date.parse('2027-02-05T14:00:00+08:00'));
  });

  it('for business days, is at least the span from every sampled start, found at a closing before holidays', () => {
    const from = Date.parse('2026-11-25T00:00:00Z');
    const duration = { business: 'days', amount: 1 } as const;
    const worst = worstCaseSpanMs(shop, duration, from);
    fc.assert(
      fc.property(fc.integer({ min: from, max: from + 120 * 86_400_000 }), (start) => addBusiness(shop, start, duration) - start <= worst),
      { numRuns: 200 },
    );
    // Closing on Wednesday 2026-12-30, closed on the 31st and New Year's Day: the day counts from Saturday's opening.
    expect(worst).toBe(Date.parse('2027-01-04T10:00:00+08:00') - Date.parse('2026-12-30T18:00:00+08:00'));
  });

  it('is at least the span from every sampled start', () => {
    const from = Date.parse('2026-11-25T00:00:00Z');
    const duration = { business: 'hours', amount: 5 } as const;
    const worst = worstCaseSpanMs(shop, duration, from);
    fc.assert(
      fc.property(fc.integer({ min: from, max: from + 120 * 86_400_000 }), (start) => addBusiness(shop, start, duration) - start <= worst),
      { numRuns: 200 },
    );
  });
});
