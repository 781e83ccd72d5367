/**
 * Clocks that pause, on the time-skipping server: a 4-hour handling clock stops counting while the case
 * waits for the buyer, resumes with the time it had left, and escalates once when it runs out.
 */
import { describe, expect, it } from 'vitest';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import { useRuntime } from '../support/runtime.js';
import { compileSmallPlaybook, openSmallCase } from '../support/small-playbooks.js';

const runtime = useRuntime();
const HOUR = 3_600_000;

/** A 4-hour handling clock, paused while waiting for the buyer, over `steps` (which end at `done`). */
const withHandlingClock = (name: string, steps: string) =>
  compileSmallPlaybook(
    name,
    `events:
  buyer.replied: { payload: {} }
clocks:
  handling:
    within: 4h
    paused_while: [wait_buyer]
    stops_at: [done]
    on_breach: { escalate: cs-supervisor, reason: handling_overdue }
steps:
${steps}  - id: done
    end: { outcome: resolved, reason: handled }
`,
  );

const HANDLING = withHandlingClock(
  'handling',
  `  - id: look_into_it
    delay: 1h
  - id: wait_buyer
    wait: { events: [{ event: buyer.replied }], timeout: 10d, on_timeout: done }
  - id: fix_it
    delay: 2h
  - id: follow_up
    delay: 2h
`,
);

const projection = async (caseId: string) =>
  (await runtime.db.pool.query(`SELECT status, current_step, deadlines FROM cases WHERE case_id = $1`, [caseId])).rows[0];
const clockRecords = async (caseId: string) =>
  (await runtime.db.pool.query(`SELECT step_id, detail FROM audit_trail WHERE case_id = $1 AND kind = 'clock' ORDER BY seq`, [caseId])).rows;

describe('a clock that pauses while the case waits for the buyer', () => {
  it('shows its time left while paused, resumes with it, and escalates once when it runs out', async () => {
    const openedAt = await runtime.env.currentTimeMs();
    await openSmallCase(runtime.service, runtime.db.pool, HANDLING, 'clock-1');
    // The test server's clock moves while the test sleeps on it: past the first hour's delay.
    await runtime.env.sleep(HOUR + 60_000);
    await expect.poll(async () => (await projection('clock-1'))?.current_step, { timeout: 20_000 }).toBe('wait_buyer');
    // Paused one hour in: three hours left, shown in the case view.
    const paused = await projection('clock-1');
    // (Three hours less the time between the workflow's start and its first step: a few seconds on a busy machine.)
    expect(paused.deadlines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'clock', step: 'handling', paused: true, left: expect.stringMatching(/^(3h|2h 59m [0-5]?\ds)$/) }),
      ]),
    );

    await runtime.env.sleep(2 * 24 * HOUR);
    await runtime.inbox.deliverEvent('clock-1', { type: 'buyer.replied', id: 'reply-1', payload: {} });
    const outcome = (await runtime.env.client.workflow.getHandle(workflowIdFor('clock-1')).result()) as CaseResult;
    expect(outcome).toMatchObject({ outcome: 'resolved', reason: 'handled' });

    const records = await clockRecords('clock-1');
    expect(records.map((r) => [r.step_id, Object.keys(r.detail).find((k) => ['started', 'paused', 'resumed', 'breached', 'stopped'].includes(k))])).toEqual([
      ['look_into_it', 'started'],
      ['wait_buyer', 'paused'],
      ['fix_it', 'resumed'],
      ['follow_up', 'breached'],
      ['done', 'stopped'],
    ]);
    const [started, pausedAt, resumed, breached, stopped] = records.map((r) => r.detail);
    // Done after the breach: how late it was done shows as the time left, none.
    expect(stopped).toMatchObject({ clock: 'handling', left: '0s' });
    expect(started).toMatchObject({ clock: 'handling', left: '4h' });
    expect(pausedAt).toMatchObject({ clock: 'handling', reason: 'waiting at wait_buyer', left: expect.stringMatching(/^(3h|2h 59m [0-5]?\ds)$/) });
    expect(resumed).toMatchObject({ clock: 'handling', left: pausedAt.left });
    expect(resumed.pausedFor).toMatch(/^2d/);
    // Counting again for 2 hours (fix_it) and 1 more hour (into follow_up): out at 4 counted hours.
    const pausedMs = Date.parse(resumed.resumed) - Date.parse(pausedAt.paused);
    expect(Date.parse(breached.breached)).toBe(openedAt + 4 * HOUR + pausedMs + (Date.parse(started.started) - openedAt));
    expect(breached).toMatchObject({ clock: 'handling', queue: 'cs-supervisor', reason: 'handling_overdue', escalationId: expect.any(Number) });

    const escalations = (await runtime.db.pool.query(`SELECT queue, severity, reason FROM escalations WHERE case_id = 'clock-1'`)).rows;
    expect(escalations).toEqual([{ queue: 'cs-supervisor', severity: 'high', reason: 'handling_overdue' }]);
  }, 60_000);

  it('stops for good at its last step: a case handled in time is never escalated', async () => {
    const quick = withHandlingClock(
      'quick-handling',
      `  - id: wait_buyer
    wait: { events: [{ event: buyer.replied }], timeout: 10d, on_timeout: done }
  - id: fix_it
    delay: 3h
`,
    );
    await openSmallCase(runtime.service, runtime.db.pool, quick, 'clock-2');
    await expect.poll(async () => (await projection('clock-2'))?.current_step, { timeout: 20_000 }).toBe('wait_buyer');
    await runtime.env.sleep(5 * 24 * HOUR);
    await runtime.inbox.deliverEvent('clock-2', { type: 'buyer.replied', id: 'reply-2', payload: {} });
    await runtime.env.client.workflow.getHandle(workflowIdFor('clock-2')).result();
    expect(
      (await clockRecords('clock-2')).map((r) => Object.keys(r.detail).filter((k) => ['started', 'paused', 'resumed', 'stopped', 'breached'].includes(k))),
    ).toEqual([['started'], ['paused'], ['resumed'], ['stopped']]);
    expect((await runtime.db.pool.query(`SELECT count(*)::int AS n FROM escalations WHERE case_id = 'clock-2'`)).rows[0].n).toBe(0);
  }, 60_000);
});

describe('clocks as written', () => {
  it('name steps and events that exist, with positions', async () => {
    const { validatePlaybook } = await import('../../src/playbook/index.js');
    const source = `playbook: bad-clocks\ncase_type: return\ncurrency: CNY\nfields: { order_id: { type: string } }\nclocks:\n  handling:\n    within: 4h\n    starts: buyer.replied\n    paused_while: [wait_buyr]\n    stops_at: [done, done2]\n    on_breach: { escalate: cs-supervisor, reason: late }\nsteps:\n  - id: wait_buyer\n    delay: 1h\n  - id: done\n    end: { outcome: resolved, reason: handled }\n`;
    const diagnostics = validatePlaybook(source, 'bad-clocks.yaml').diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.message}`);
    expect(diagnostics).toEqual([
      "8:13 PB141 clock 'handling' starts at 'buyer.replied', which is neither a declared event nor case.opened",
      "9:20 PB140 clock 'handling' names step 'wait_buyr', which the playbook does not have",
      "10:22 PB140 clock 'handling' names step 'done2', which the playbook does not have",
    ]);
  });
});
