/**
 * A scenario's event due on the instant of one of the case's timers. On the time-skipping server a
 * timer that fires while the workflow task taking the event runs strands the case when that task
 * cancels the timer (temporalio/sdk-java#3088): the server refuses the completion and never sends the
 * task again. Here the task is slow on purpose (its message takes 300 ms to send), so without the
 * runner's guard the reminder due on the event's instant fires during it every time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { FaultScript } from '../../src/scenarios/faults.js';
import { readScenarioFile } from '../../src/scenarios/read.js';
import { runScenario } from '../../src/scenarios/run.js';
import { deliveryInstant, TIMER_GUARD_MS } from '../../src/scenarios/timer-guard.js';
import { compileSmallPlaybook } from '../support/small-playbooks.js';
import { channelThrough, useRuntime } from '../support/runtime.js';

const SLOW_SEND_MS = 300;

const runtime = useRuntime(async () => {}, {
  wrap: channelThrough(async (message, next) => {
    await sleep(SLOW_SEND_MS);
    return next(message);
  }),
});

const PARCEL = compileSmallPlaybook(
  'parcel-reminded',
  `events:
  parcel.received: { payload: {} }
  parcel.inspected: { payload: {} }
templates:
  nudge: { channel: chat, text: "Please send order {{ data.order_id }} back" }
  thanks: { channel: chat, text: "We received order {{ data.order_id }}" }
steps:
  - id: wait_parcel
    wait:
      events: [{ event: parcel.received }]
      timeout: 1d
      on_timeout: expired
      remind: { every: 1h, times: 3, template: nudge }
  - id: thank
    send: { to: buyer, template: thanks }
  # Still open after the task that takes the parcel: a task that also ended the case would be failed
  # and sent again by the server (a new event came with a completing command), not stranded.
  - id: wait_inspection
    wait: { events: [{ event: parcel.inspected }], timeout: 1d, on_timeout: done }
  - id: done
    end: { outcome: resolved, reason: received }
  - id: expired
    end: { outcome: expired, reason: not_received }
`,
);

const scenarioAt = (at: string) => {
  const { scenarioFile, diagnostics } = readScenarioFile(
    `playbook: parcel-reminded.yaml
scenarios:
  - name: the parcel arrives on the instant the first reminder is due
    data: { paid: { amount: 1000, currency: CNY }, order_id: P-1 }
    timeline:
      - { at: ${at}, event: parcel.received, payload: {} }
    expect: { outcome: resolved, reason: received, messages: [thanks] }
`,
    'parcel-reminded.test.yaml',
  );
  expect(diagnostics).toEqual([]);
  return scenarioFile!.scenarios[0]!;
};

describe('casebook test: an event on the instant of a timer', () => {
  it('is taken before the timer, and the case does not strand on the test server', async () => {
    const { env, db, service, inbox } = runtime;
    const result = await runScenario({ env, pool: db.pool, service, inbox, faults: new FaultScript() }, PARCEL, scenarioAt('1h'));
    expect(result.failures).toEqual([]);
  }, 60_000);
});

describe('deliveryInstant', () => {
  const HOUR = 3_600_000;
  it('delivers an event when it is due when no timer is due within the guard after it', () => {
    expect(deliveryInstant(HOUR, [], 0)).toBe(HOUR);
    expect(deliveryInstant(HOUR, [HOUR + TIMER_GUARD_MS, HOUR - 1], 0)).toBe(HOUR);
  });
  it('delivers it the guard before a timer due on its instant or just after', () => {
    expect(deliveryInstant(HOUR, [HOUR], 0)).toBe(HOUR - TIMER_GUARD_MS);
    expect(deliveryInstant(HOUR, [5 * HOUR, HOUR + 20, HOUR + 5_000], 0)).toBe(HOUR + 20 - TIMER_GUARD_MS);
  });
  it('never before a timer due ahead of the event, nor before the server clock', () => {
    expect(deliveryInstant(HOUR, [HOUR - 3_000, HOUR + 20], 0)).toBe(HOUR - 3_000 + 1);
    expect(deliveryInstant(HOUR, [HOUR + 20], HOUR - 1_000)).toBe(HOUR - 1_000);
    expect(deliveryInstant(HOUR, [], HOUR + 1)).toBe(HOUR + 1);
  });
});
