import { describe, expect, it } from 'vitest';
import { opensAtInstant } from '../../src/scenarios/opens-at.js';

// Wednesday 25 November 2026, 15:00 in Shanghai.
const NOW = Date.parse('2026-11-25T07:00:00Z');
const at = (spec: string, zone = 'Asia/Shanghai', now = NOW) => {
  const answer = opensAtInstant(spec, now, zone);
  return 'at' in answer ? new Date(answer.at).toISOString() : answer.problem;
};

describe('when a scenario case opens', () => {
  it('at the next time of day', () => {
    expect(at('23:30')).toBe('2026-11-25T15:30:00.000Z');
    expect(at('09:00')).toBe('2026-11-26T01:00:00.000Z');
  });

  it('on the next such weekday, this week or next', () => {
    expect(at('Fri 23:30')).toBe('2026-11-27T15:30:00.000Z');
    expect(at('Wed 16:00')).toBe('2026-11-25T08:00:00.000Z');
    expect(at('Wed 10:00')).toBe('2026-12-02T02:00:00.000Z');
  });

  it('on the next such day of the year (Double 11), or on a given date ahead', () => {
    expect(at('11-11 10:00')).toBe('2027-11-11T02:00:00.000Z');
    expect(at('02-29 12:00')).toBe('2028-02-29T04:00:00.000Z');
    expect(at('2027-02-06 09:00')).toBe('2027-02-06T01:00:00.000Z');
  });

  it("in the playbook's zone, across a daylight-saving change", () => {
    // New York springs forward on 14 March 2027: 09:00 that Sunday is EDT (UTC-4).
    expect(at('Sun 09:00', 'America/New_York', Date.parse('2027-03-10T12:00:00Z'))).toBe('2027-03-14T13:00:00.000Z');
  });

  it('refuses a date the forward-only clock has passed, and a malformed spec', () => {
    expect(at('2026-11-06 23:30')).toBe(
      "opens_at 2026-11-06 23:30 (Asia/Shanghai) has passed: the test server's clock is at 2026-11-25 15:00 (Asia/Shanghai) and only moves forward; use a later date, or 'MM-DD HH:MM' for the next one",
    );
    expect(at('2026-11-25 14:00')).toMatch(/has passed/);
    expect(at('Friday 23:30')).toMatch(/is not HH:MM/);
  });
});

describe('a weekday opening in an ordinary week', () => {
  it('skips a Friday with a holiday or special day within a week of it', () => {
    // National Day 2027 (1-7 October) and Double 11: the Fridays near them are passed over.
    const unusual = (date: string) => (date.slice(5) >= '10-01' && date.slice(5) <= '10-07') || date.slice(5) === '11-11';
    const now = Date.parse('2027-09-20T00:00:00Z');
    const answer = opensAtInstant('Fri 23:30', now, 'Asia/Shanghai', unusual);
    // Fridays 24 Sep, 1 Oct, 8 Oct and 12 Nov... are within a week of those days: 15 Oct is the first clear one.
    expect('at' in answer && new Date(answer.at).toISOString()).toBe('2027-10-15T15:30:00.000Z');
    expect(at('Fri 23:30', 'Asia/Shanghai', now)).toBe('2027-09-24T15:30:00.000Z');
  });
});
