import type { CaseEvent, Deadline } from '../../plan/case.js';
import { multiplySpan } from '../../plan/duration.js';
import { boundedJson, readableDuration } from '../../plan/evidence.js';
import { reminderAllowedAt, reminderEvery, waitTimeout, type WaitStep } from '../../plan/steps/wait.js';
import { instantOf, iso } from '../time.js';
import { message } from './send.js';
import type { StepInterpreter, StepRuntime } from './runtime.js';

export const wait: StepInterpreter<WaitStep> = { run: runWait };

/** When a wait that started at `started` times out (null: never), in the plan `rt` evaluates with. */
export function waitTimeoutAt(step: WaitStep, rt: Pick<StepRuntime, 'evaluate' | 'after'>, started: number): number | null {
  const timeout = waitTimeout(step);
  return step.timeoutAt ? instantOf(rt.evaluate(step.timeoutAt), step.timeoutAt) : timeout === undefined ? null : rt.after(started, timeout);
}

/**
 * History shape 5: what a wait starting at `started` publishes at once, its events and deadlines, for a
 * side effect before it to carry (run-case.ts `rideAhead`); undefined when it would not wait at once
 * (an event it takes is in the inbox, its timeout or first reminder is due).
 */
export function waitingAt(
  step: WaitStep,
  rt: Pick<StepRuntime, 'evaluate' | 'after' | 'has' | 'matches'>,
  started: number,
): { events: string[]; deadlines: Deadline[] } | undefined {
  const events = Object.keys(step.on);
  if (rt.has(events, (event) => takes(step, rt, event))) return undefined;
  const timeoutAt = waitTimeoutAt(step, rt, started);
  const reminderAt = step.remind && step.remind.max > 0 ? rt.after(started, multiplySpan(reminderEvery(step.remind), 1)) : null;
  if ((timeoutAt !== null && started >= timeoutAt) || (reminderAt !== null && started >= reminderAt)) return undefined;
  return { events, deadlines: waitDeadlines(step.id, timeoutAt, reminderAt) };
}

const takes = (step: WaitStep, rt: Pick<StepRuntime, 'matches'>, event: CaseEvent): boolean => {
  const where = step.on[event.type]!.where;
  return !where || rt.matches(where, event);
};

const waitDeadlines = (stepId: string, timeoutAt: number | null, reminderAt: number | null): Deadline[] => [
  ...(timeoutAt !== null ? [{ kind: 'timeout' as const, step: stepId, at: iso(timeoutAt) }] : []),
  ...(reminderAt !== null ? [{ kind: 'reminder' as const, step: stepId, at: iso(reminderAt) }] : []),
];

/**
 * Waits for the first listed event whose condition holds, sending reminders on the way, until the timeout.
 * A case moved to another version while it waits (src/workflows/migration.ts) reads its step again from
 * the new plan: the timeout from the same start, the reminders sent so far counted, the new events.
 */
async function runWait(first: WaitStep, rt: StepRuntime, key: string): Promise<string> {
  const started = rt.decidedAt();
  let step = first;
  let timeoutAt = waitTimeoutAt(step, rt, started);
  let events = Object.keys(step.on);
  const taken = (event: CaseEvent) => takes(step, rt, event);
  let reminders = 0;
  let holding = false;
  // Reminders are due every `every` from the wait's start; after one held (quiet hours, closed), from when it went out.
  let anchor = started;
  let sentBeforeAnchor = 0;
  for (;;) {
    const match = rt.take(events, taken);
    if (match) {
      rt.record(step, {
        since: iso(started),
        event: match.type,
        eventId: match.id,
        goto: step.on[match.type]!.next,
        arrived: match.at,
        payload: boundedJson(match.payload),
        by: match.by ?? null,
        waited: readableDuration(Date.now() - started),
      });
      return step.on[match.type]!.next;
    }
    const now = Date.now();
    if (timeoutAt !== null && now >= timeoutAt) {
      rt.record(step, { since: iso(started), timeout: iso(timeoutAt), goto: step.onTimeout, waited: readableDuration(timeoutAt - started), reminders });
      return step.onTimeout!;
    }
    const remind = step.remind && reminders < step.remind.max ? step.remind : undefined;
    const nextReminderAt = remind ? rt.after(anchor, multiplySpan(reminderEvery(remind), reminders + 1 - sentBeforeAnchor)) : null;
    const heldUntil = remind && nextReminderAt !== null && now >= nextReminderAt ? reminderAllowedAt(rt.plan, remind, now) : null;
    const held = heldUntil !== null && heldUntil > now && rt.versions.has('reminders-respect-quiet-hours');
    if (held) holding = true;
    if (remind && nextReminderAt !== null && now >= nextReminderAt && !held) {
      reminders += 1;
      await rt.activities.sendMessage(message(rt, `${key}/reminder-${reminders}`, step.id, remind.template, remind.channel, remind.to));
      rt.record(
        step,
        {
          reminder: reminders,
          due: iso(nextReminderAt),
          of: remind.max,
          template: remind.template,
          since: iso(started),
          ...(holding ? { sent: iso(now) } : {}),
        },
        'reminder',
      );
      if (holding) {
        anchor = now;
        sentBeforeAnchor = reminders;
      }
      holding = false;
      continue;
    }
    const reminderAt = held ? heldUntil : nextReminderAt;
    const wakeAt = Math.min(timeoutAt ?? Infinity, reminderAt ?? Infinity);
    const woke = await rt.waitFor(step.id, events, waitDeadlines(step.id, timeoutAt, reminderAt), wakeAt === Infinity ? undefined : wakeAt, () =>
      rt.has(events, taken),
    );
    if (woke === 'migrated') {
      step = rt.plan.steps[rt.state.current] as WaitStep;
      timeoutAt = waitTimeoutAt(step, rt, started);
      events = Object.keys(step.on);
    }
  }
}
