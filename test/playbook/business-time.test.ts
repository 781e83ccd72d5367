/** Calendars and business durations at compile time: diagnostics with positions, and plans embedding the calendar. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hashPlan, loadCalendars, validatePlaybook, type Diagnostic } from '../../src/playbook/index.js';
import { isWorking, type Calendar } from '../../src/plan/calendar.js';

const shopFile = { file: 'calendars/shop.yaml', source: readFileSync('calendars/shop.yaml') };
const { calendars, diagnostics: shopDiagnostics } = loadCalendars([shopFile]);

const playbook = (head: string, steps: string) => `playbook: business
case_type: review
currency: CNY
timezone: Asia/Shanghai
${head}fields:
  order_id: { type: string }
events:
  buyer.replied: { payload: {} }
policy:
  reply_within: 4 business hours
  plain: 2h
templates:
  nudge: { channel: sms, text: "Please reply" }
steps:
${steps}  - id: done
    end: { outcome: resolved, reason: replied }
  - id: late
    end: { outcome: expired, reason: no_reply }
`;

const WAIT = `  - id: wait_reply
    wait:
      events: [{ event: buyer.replied, goto: done }]
      timeout: 4 business hours
      on_timeout: late
      remind: { every: 30 business minutes, times: 2, template: nudge }
`;

const codes = (diagnostics: Diagnostic[]) => diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`);

describe('calendar files', () => {
  it('calendars/shop.yaml is valid: Shanghai hours on weekdays, Double 11 every year, holidays expanded', () => {
    expect(shopDiagnostics).toEqual([]);
    const shop = calendars.shop!;
    expect(shop).toMatchObject({ name: 'shop', version: 2, timezone: 'Asia/Shanghai', week: { mon: ['09:00-18:00'], sat: [], sun: [] } });
    expect(shop.exceptions['11-11']).toEqual(['08:00-24:00']);
    expect(['2027-02-06', '2027-02-12', '10-01', '10-07', '05-01', '01-01'].map((d) => shop.exceptions[d])).toEqual([[], [], [], [], [], []]);
    expect(shop.exceptions['2027-02-13']).toBeUndefined();
    // A yearly day counts in any year: Double 11 2031 is a Tuesday with the special hours.
    expect(isWorking(shop, Date.parse('2031-11-11T15:00:00Z'))).toBe(true);
    expect(isWorking(shop, Date.parse('2031-11-12T15:00:00Z'))).toBe(false);
    expect(isWorking(shop, Date.parse('2033-10-03T03:00:00Z'))).toBe(false);
  });

  it('a yearly range must be yearly at both ends, and a yearly date must exist in some year', () => {
    const source = `calendar: odd\nversion: 1\ntimezone: UTC\nhours: { mon: ["09:00-18:00"] }\nholidays:\n  - { date: "12-24", until: "2026-12-26" }\n  - { date: "02-30" }\nspecial_days:\n  - { date: "02-29", hours: ["10:00-12:00"] }\n`;
    const { diagnostics } = loadCalendars([{ file: 'calendars/odd.yaml', source }]);
    expect(diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`)).toEqual([
      '6:29 PB134 the holiday runs from 12-24 to 2026-12-26: both are dates (YYYY-MM-DD) or both days of every year (MM-DD)',
      '7:13 PB134 02-30 is not a date',
    ]);
  });

  it('a bad calendar file is reported at its lines with codes', () => {
    const source = `calendar: shop
version: 1
timezone: Asia/Shangai
hours:
  mon: ["09:00-18:00", "17:00-20:00"]
  tue: ["18:00-09:00"]
holidays:
  - { date: "2026-02-30" }
  - { date: "2026-10-07", until: "2026-10-01" }
special_days:
  - { date: "2026-11-11", hours: ["08:00-24:00"] }
  - { date: "2026-11-11", hours: ["09:00-12:00"] }
`;
    const loaded = loadCalendars([{ file: 'calendars/store.yaml', source }]);
    expect(codes(loaded.diagnostics)).toEqual(['1:11 PB135', '3:11 PB020', '5:24 PB132', '6:9 PB132', '8:13 PB134', '9:34 PB134', '12:13 PB136']);
    expect(loaded.calendars).toEqual({});
  });

  it('a calendar file failing its schema gets schema diagnostics', () => {
    const loaded = loadCalendars([{ file: 'calendars/x.yaml', source: 'calendar: x\nversion: 1\ntimezone: UTC\nhours: { mon: ["9-18"] }\n' }]);
    expect(loaded.diagnostics.map((d) => [d.line, d.code])).toEqual([[4, 'SCHEMA005']]);
  });
});

describe('calendars closed too long (PB137)', () => {
  const file = (holidays: string) =>
    loadCalendars([
      {
        file: 'calendars/c.yaml',
        source: `calendar: c\nversion: 1\ntimezone: UTC\nhours: { mon: ["09:00-18:00"], fri: ["09:00-18:00"] }\nholidays:\n${holidays}`,
      },
    ]).diagnostics;
  const found = (diagnostics: Diagnostic[]) => diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`);

  it('a year of holidays with the weekends around it is allowed; three back to back are not', () => {
    expect(file('  - { date: "2027-01-01", until: "2027-12-31" }\n')).toEqual([]);
    expect(
      found(
        file(
          '  - { date: "2027-01-01", until: "2027-12-31" }\n  - { date: "2028-01-01", until: "2028-12-31" }\n  - { date: "2029-01-01", until: "2029-12-31" }\n',
        ),
      ),
    ).toEqual(['5:1 PB137 the calendar has no working time from 2026-12-29 to 2030-01-03: 1102 days in a row; it may be closed at most 400 days in a row']);
  });

  it('yearly holidays covering the whole year close it for ever', () => {
    expect(found(file('  - { date: "01-01", until: "06-30" }\n  - { date: "07-01", until: "12-31" }\n'))).toEqual([
      '5:1 PB137 the calendar has no working time on any day of the year; it may be closed at most 400 days in a row',
    ]);
  });

  it('a special day with hours in the middle of the holidays breaks the run', () => {
    // 2027-07-01 is a Thursday, closed by the week: only its special hours open it.
    const holidays = '  - { date: "2027-01-01", until: "2027-06-30" }\n  - { date: "2027-07-02", until: "2028-06-30" }\n';
    expect(found(file(holidays)).map((d) => d.split(' ')[1])).toEqual(['PB137']);
    expect(file(`${holidays}special_days:\n  - { date: "2027-07-01", hours: ["10:00-12:00"] }\n`)).toEqual([]);
  });
});

describe('business durations', () => {
  it('need a calendar: each one is reported where it is written', () => {
    const result = validatePlaybook(playbook('', WAIT), 'business.yaml');
    expect(codes(result.diagnostics)).toEqual(['18:16 PB130', '20:24 PB130']);
    expect(result.plan).toBeUndefined();
  });

  it('a policy value holding a business duration needs one too', () => {
    const result = validatePlaybook(
      playbook('', WAIT.replace('timeout: 4 business hours', 'timeout: policy.reply_within').replace('every: 30 business minutes', 'every: policy.plain')),
      'business.yaml',
    );
    expect(codes(result.diagnostics)).toEqual(['18:16 PB130']);
  });

  it('an unknown calendar name is reported at `calendar`, with a hint', () => {
    const result = validatePlaybook(playbook('calendar: shops\n', WAIT), 'business.yaml', { calendars });
    expect(codes(result.diagnostics)).toEqual(['5:11 PB131']);
    expect(result.diagnostics[0]!.hint).toContain("'shop'");
  });

  it('a bad inline calendar is reported inside the playbook', () => {
    const head = 'calendar:\n  timezone: Mars/Olympus\n  hours: { mon: ["10:00-09:00"] }\n  holidays: [{ date: "2026-13-01" }]\n';
    const result = validatePlaybook(playbook(head, WAIT), 'business.yaml');
    expect(codes(result.diagnostics)).toEqual(['6:13 PB020', '7:18 PB132', '8:22 PB134']);
  });

  it('a calendar with no working day is refused', () => {
    const result = validatePlaybook(playbook('calendar: { hours: { sun: [] } }\n', WAIT), 'business.yaml');
    expect(codes(result.diagnostics)).toEqual(['5:13 PB133']);
  });

  it('compile into tagged business durations next to the plain ones, and the plan embeds the named calendar', () => {
    const result = validatePlaybook(
      playbook(
        'calendar: shop\n',
        `${WAIT.replace('goto: done', 'goto: call_buyer')}  - id: call_buyer
    task: { role: agent, title: Call, sla: 2 business days, outcomes: { done: pause }, on_sla_breach: late }
  - id: pause
    delay: 1 business hour
    next: done
`,
      ),
      'business.yaml',
      { calendars },
    );
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const { plan } = result.plan!;
    expect(plan.calendar).toEqual(calendars.shop);
    expect(plan.steps.wait_reply).toMatchObject({
      timeoutMs: null,
      timeoutBusiness: { business: 'hours', amount: 4 },
      remind: { everyBusiness: { business: 'minutes', amount: 30 }, max: 2 },
    });
    expect(plan.steps.call_buyer).toMatchObject({ slaBusiness: { business: 'days', amount: 2 } });
    expect(plan.steps.call_buyer).not.toHaveProperty('slaMs');
    expect(plan.steps.pause).toMatchObject({ business: { business: 'hours', amount: 1 } });
  });

  it('the plan hash covers the calendar: a new calendar version is a new plan', () => {
    const source = playbook('calendar: shop\n', WAIT);
    const before = validatePlaybook(source, 'business.yaml', { calendars }).plan!;
    const changed: Calendar = { ...calendars.shop!, version: 2, exceptions: { ...calendars.shop!.exceptions, '2026-12-24': [] } };
    const after = validatePlaybook(source, 'business.yaml', { calendars: { shop: changed } }).plan!;
    expect(after.hash).not.toBe(before.hash);
    expect(before.hash).toBe(hashPlan(before.plan));
  });

  it('an inline calendar is in the playbook time zone unless it names one', () => {
    const result = validatePlaybook(
      playbook('calendar: { hours: { mon: ["09:00-18:00"] }, special_days: [{ date: "2026-11-11", hours: ["08:00-24:00"] }] }\n', WAIT),
      'business.yaml',
    );
    expect(result.plan!.plan.calendar).toMatchObject({
      timezone: 'Asia/Shanghai',
      week: { mon: ['09:00-18:00'], tue: [] },
      exceptions: { '2026-11-11': ['08:00-24:00'] },
    });
  });

  it('plain durations compile as before', () => {
    const result = validatePlaybook(playbook('', WAIT.replace('4 business hours', '4h').replace('30 business minutes', '30m')), 'business.yaml');
    expect(result.plan!.plan.steps.wait_reply).toMatchObject({ timeoutMs: 4 * 3_600_000, remind: { everyMs: 30 * 60_000 } });
    expect(result.plan!.plan.steps.wait_reply).not.toHaveProperty('timeoutBusiness');
    expect(result.plan!.plan).not.toHaveProperty('calendar');
  });

  it('a malformed business duration is a schema error', () => {
    const result = validatePlaybook(playbook('calendar: shop\n', WAIT.replace('4 business hours', '4 business weeks')), 'business.yaml', { calendars });
    expect(codes(result.diagnostics)).toEqual(['19:16 SCHEMA005']);
  });
});

describe('docs/playbook-language.md, Calendars and business time', () => {
  const section = readFileSync('docs/playbook-language.md', 'utf8')
    .split(/^## /m)
    .find((part) => part.startsWith('Calendars and business time'))!;
  const [example, inline] = [...section.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it('the example playbook validates clean with calendars/shop.yaml', () => {
    const result = validatePlaybook(example!, 'review-chase.yaml', { calendars });
    expect(result.diagnostics).toEqual([]);
    expect(result.plan!.plan.calendar).toEqual(calendars.shop);
  });

  it('the inline calendar validates in its place', () => {
    const source = example!.replace(/^calendar: shop.*\n/m, inline!);
    const result = validatePlaybook(source, 'review-chase.yaml');
    expect(result.diagnostics).toEqual([]);
    expect(result.plan!.plan.calendar).toMatchObject({ timezone: 'Asia/Shanghai', week: { mon: ['09:00-12:00', '13:00-18:00'] } });
  });
});

describe('a wait that ends at an instant from the case', () => {
  const TIMED = `  - id: wait_reply
    wait:
      events: [{ event: buyer.replied, goto: done }]
      timeout_at: opened_at + policy.plain
      on_timeout: late
`;

  it('compiles timeout_at into the plan, with its edge', () => {
    const result = validatePlaybook(playbook('', TIMED), 'timed.yaml');
    expect(result.diagnostics).toEqual([]);
    expect(result.plan!.plan.steps.wait_reply).toMatchObject({ timeoutMs: null, timeoutAt: { cel: 'opened_at + policy.plain' }, onTimeout: 'late' });
  });

  it('refuses both a timeout and a timeout_at, and a timeout_at that is not a timestamp, at their lines', () => {
    const both = validatePlaybook(playbook('', TIMED.replace('      timeout_at:', '      timeout: 2h\n      timeout_at:')), 'timed.yaml');
    expect(codes(both.diagnostics)).toEqual(['19:7 PB144']);
    const notInstant = validatePlaybook(playbook('', TIMED.replace('opened_at + policy.plain', 'policy.plain')), 'timed.yaml');
    expect(notInstant.diagnostics.map((d) => d.line)).toEqual([18]);
    expect(notInstant.plan).toBeUndefined();
  });
});
