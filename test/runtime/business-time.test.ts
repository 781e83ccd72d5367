/**
 * Business time on the time-skipping server: a wait timing out in working hours of the playbook's
 * calendar, and reminders held through quiet hours and closed days. The server's clock only moves
 * forward, so each test first sleeps to the local time it needs.
 */
import { describe, expect, it } from 'vitest';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import { nextLocalTime } from '../../src/plan/local-time.js';
import { useRuntime } from '../support/runtime.js';
import { compileSmallPlaybook, openSmallCase } from '../support/small-playbooks.js';
import { caseRecords } from '../support/records.js';

const runtime = useRuntime();
const HOUR = 3_600_000;
const SHANGHAI = 8 * HOUR;

const result = async (caseId: string): Promise<CaseResult> => ({
  ...((await runtime.env.client.workflow.getHandle(workflowIdFor(caseId)).result()) as CaseResult),
  steps: await caseRecords(runtime.db.pool, caseId),
});
const messages = async (caseId: string) =>
  (await runtime.db.pool.query('SELECT channel, status FROM outbox_messages WHERE case_id = $1 ORDER BY id', [caseId])).rows;

/** Sleeps the server's clock to the next `hhmm` in `zone` falling on `weekday` (0 Sunday … 6 Saturday, as seen in the zone). */
async function sleepUntil(hhmm: string, zone: string, offsetMs: number, weekday?: number): Promise<number> {
  const now = await runtime.env.currentTimeMs();
  let at = nextLocalTime(now, hhmm, zone);
  while (weekday !== undefined && new Date(at + offsetMs).getUTCDay() !== weekday) at = nextLocalTime(at, hhmm, zone);
  await runtime.env.sleep(at - now);
  return at;
}

const REMIND = ', remind: { every: 1h, times: 1, template: nudge }';

const WEEKDAYS_IN_SHANGHAI = `calendar:
  timezone: Asia/Shanghai
  hours: { mon: ["09:00-18:00"], tue: ["09:00-18:00"], wed: ["09:00-18:00"], thu: ["09:00-18:00"], fri: ["09:00-18:00"] }
`;

const waitWith = (timeout: string, remind = '') => `events:
  buyer.replied: { payload: {} }
templates:
  nudge: { channel: sms, text: "Please reply about {{ data.order_id }}" }
steps:
  - id: wait_reply
    wait: { events: [{ event: buyer.replied }], timeout: ${timeout}, on_timeout: no_reply${remind} }
  - id: replied
    end: { outcome: resolved, reason: replied }
  - id: no_reply
    end: { outcome: expired, reason: no_reply }
`;

describe('business time in the workflow', () => {
  it('a 4-business-hour wait opened Friday 17:00 shop time times out Monday 12:00', async () => {
    const friday = await sleepUntil('17:00', 'Asia/Shanghai', SHANGHAI, 5);
    const compiled = compileSmallPlaybook('business-wait', waitWith('4 business hours'), WEEKDAYS_IN_SHANGHAI);
    await openSmallCase(runtime.service, runtime.db.pool, compiled, 'business-wait-1');
    const outcome = await result('business-wait-1');
    expect(outcome).toMatchObject({ outcome: 'expired', reason: 'no_reply' });
    const timedOut = outcome.steps.find((s) => s.step === 'wait_reply')!;
    const monday = friday + 3 * 24 * HOUR - 5 * HOUR;
    expect(new Date(monday + SHANGHAI).getUTCDay()).toBe(1);
    const timeout = Date.parse(timedOut.detail!.timeout as string);
    expect(timeout - monday).toBeGreaterThanOrEqual(0);
    expect(timeout - monday).toBeLessThan(60_000);
    expect(Date.parse(timedOut.at) - timeout).toBeLessThan(1_000);
  });

  it('a business delay and a task SLA count in working hours: Friday 17:30 + 1 business hour is Monday 09:30, + 2 more is 11:30', async () => {
    const friday = await sleepUntil('17:30', 'Asia/Shanghai', SHANGHAI, 5);
    const compiled = compileSmallPlaybook(
      'business-delay-task',
      `steps:
  - id: pause
    delay: 1 business hour
  - id: call_buyer
    task: { role: agent, title: Call the buyer, sla: 2 business hours, outcomes: { done: done }, on_sla_breach: late }
  - id: done
    end: { outcome: resolved, reason: called }
  - id: late
    end: { outcome: expired, reason: not_called }
`,
      WEEKDAYS_IN_SHANGHAI,
    );
    await openSmallCase(runtime.service, runtime.db.pool, compiled, 'business-delay-1');
    const outcome = await result('business-delay-1');
    expect(outcome).toMatchObject({ outcome: 'expired', reason: 'not_called' });
    const monday = friday + 3 * 24 * HOUR - 8 * HOUR;
    const until = Date.parse(outcome.steps.find((s) => s.step === 'pause')!.detail!.until as string);
    expect(until - monday).toBeGreaterThanOrEqual(0);
    expect(until - monday).toBeLessThan(60_000);
    const slaDue = Date.parse(outcome.steps.find((s) => s.step === 'call_buyer')!.detail!.slaDue as string);
    expect(slaDue - (monday + 2 * HOUR)).toBeGreaterThanOrEqual(0);
    expect(slaDue - (monday + 2 * HOUR)).toBeLessThan(60_000);
  });

  it('an SMS reminder falling due in quiet hours goes out when they end; the record keeps when it was due', async () => {
    const opened = await sleepUntil('21:30', 'UTC', 0);
    const compiled = compileSmallPlaybook(
      'held-reminder',
      waitWith('12h', ', remind: { every: 1h, times: 1, template: nudge }'),
      'quiet_hours: { start: "22:00", end: "08:00" }\n',
    );
    await openSmallCase(runtime.service, runtime.db.pool, compiled, 'held-reminder-1');
    const outcome = await result('held-reminder-1');
    const reminder = outcome.steps.find((s) => s.kind === 'reminder')!;
    const due = Date.parse(reminder.detail!.due as string);
    expect(due - (opened + HOUR)).toBeLessThan(60_000);
    const quietEnd = nextLocalTime(due, '08:00', 'UTC');
    expect(Date.parse(reminder.detail!.sent as string) - quietEnd).toBeLessThan(1_000);
    expect(Date.parse(reminder.detail!.sent as string)).toBeGreaterThanOrEqual(quietEnd);
    expect(await messages('held-reminder-1')).toEqual([{ channel: 'sms', status: 'sent' }]);
    expect(outcome).toMatchObject({ outcome: 'expired', reason: 'no_reply' });
  });

  it("with a calendar, an SMS reminder due on Saturday waits for Monday's opening, and so does the timeout", async () => {
    const saturday = await sleepUntil('10:00', 'Asia/Shanghai', SHANGHAI, 6);
    const compiled = compileSmallPlaybook('calendar-reminder', waitWith('4 business hours', REMIND), WEEKDAYS_IN_SHANGHAI);
    await openSmallCase(runtime.service, runtime.db.pool, compiled, 'calendar-reminder-1');
    const outcome = await result('calendar-reminder-1');
    const monday = saturday + 2 * 24 * HOUR - HOUR;
    const held = outcome.steps.find((s) => s.kind === 'reminder')!;
    expect(Date.parse(held.detail!.due as string) - (saturday + HOUR)).toBeLessThan(60_000);
    expect(Date.parse(held.detail!.sent as string) - monday).toBeLessThan(1_000);
    expect(Date.parse(outcome.steps.find((s) => s.kind === 'wait')!.detail!.timeout as string)).toBe(monday + 4 * HOUR);
  });

  it('a chat reminder is not held: it goes out when due, even on a closed day', async () => {
    const saturday = await sleepUntil('10:00', 'Asia/Shanghai', SHANGHAI, 6);
    const compiled = compileSmallPlaybook(
      'chat-reminder',
      waitWith('4 business hours', REMIND.replace('template: nudge', 'template: nudge, channel: chat')),
      WEEKDAYS_IN_SHANGHAI,
    );
    await openSmallCase(runtime.service, runtime.db.pool, compiled, 'chat-reminder-1');
    const outcome = await result('chat-reminder-1');
    const direct = outcome.steps.find((s) => s.kind === 'reminder')!;
    expect(direct.detail!.sent).toBeUndefined();
    expect(Date.parse(direct.at) - (saturday + HOUR)).toBeLessThan(60_000);
  });
});
