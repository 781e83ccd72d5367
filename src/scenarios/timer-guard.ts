/**
 * When a scenario's event is delivered relative to the case's timers. On the time-skipping server the
 * clock runs at real pace between skips, and a timer that fires while the workflow task taking an
 * event still runs strands the case when that task cancels the timer: the server refuses the
 * completion and never sends the task again (temporalio/sdk-java#3088, #2606). An event written on the
 * instant of a timer (a receipt on the day a reminder is due) then races it. So an event due less than
 * TIMER_GUARD_MS before a timer of the case is delivered that long before the timer instead: it is
 * taken first, as when the scenario is read, and its task has the guard's time to finish.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import proto from '@temporalio/proto';

type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;
const { EventType } = proto.temporal.api.enums.v1;

/** Longer than a workflow task takes on a loaded machine; far shorter than the waits playbooks make. */
export const TIMER_GUARD_MS = 10_000;

/** A workflow task the case has not finished in this long (real time) has been stranded. */
const SETTLE_TIMEOUT_MS = 60_000;

/**
 * Moves the server's clock to the instant an event due at `due` is delivered, stopping just after
 * each timer that fires on the way so that the timers it starts count too, and letting the case
 * finish its workflow task before each look at its timers.
 */
export async function untilDeliveryInstant(env: TestWorkflowEnvironment, handle: WorkflowHandle, due: number): Promise<void> {
  for (;;) {
    const timers = pendingTimersDue(await untilSettled(handle));
    const now = await env.currentTimeMs();
    const at = deliveryInstant(due, timers, now);
    if (at <= now) return;
    const onTheWay = timers.filter((timer) => timer > now && timer < at);
    await env.sleep((onTheWay.length === 0 ? at : Math.min(...onTheWay) + 1) - now);
  }
}

/** The case's history once it has no workflow task outstanding; throws when one is never finished. */
export async function untilSettled(handle: WorkflowHandle): Promise<HistoryEvent[]> {
  const giveUpAt = Date.now() + SETTLE_TIMEOUT_MS;
  for (;;) {
    const events = (await handle.fetchHistory()).events ?? [];
    if (!workflowTaskOutstanding(events)) return events;
    if (Date.now() > giveUpAt) {
      throw new Error(
        `the case has not finished a workflow task in ${SETTLE_TIMEOUT_MS / 1000} s (the test server may have stranded it: temporalio/sdk-java#3088)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function workflowTaskOutstanding(events: readonly HistoryEvent[]): boolean {
  let outstanding = false;
  for (const { eventType } of events) {
    if (eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) outstanding = true;
    else if (WORKFLOW_TASK_ENDED.has(eventType ?? EventType.EVENT_TYPE_UNSPECIFIED)) outstanding = false;
  }
  return outstanding;
}

const WORKFLOW_TASK_ENDED: ReadonlySet<proto.temporal.api.enums.v1.EventType> = new Set([
  EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
]);

/** When each timer the history started and that has not fired or been cancelled is due, in ms since the epoch. */
export function pendingTimersDue(events: readonly HistoryEvent[]): number[] {
  const pending = new Map<string, number>();
  for (const event of events) {
    const started = event.timerStartedEventAttributes;
    if (started?.timerId) pending.set(started.timerId, protoMs(event.eventTime) + protoMs(started.startToFireTimeout));
    const ended = event.timerFiredEventAttributes ?? event.timerCanceledEventAttributes;
    if (ended?.timerId) pending.delete(ended.timerId);
  }
  return [...pending.values()];
}

/**
 * The instant to deliver an event due at `due`, given the case's pending timers and the server's `now`:
 * `due`, or TIMER_GUARD_MS before the first timer due within the guard after it, but never before a
 * timer due earlier than the event (that one still fires first) nor before `now`.
 */
export function deliveryInstant(due: number, timers: readonly number[], now: number): number {
  const clashing = timers.filter((at) => at >= due && at < due + TIMER_GUARD_MS);
  if (clashing.length === 0) return Math.max(due, now);
  const firesBefore = timers.filter((at) => at < due);
  const notBefore = firesBefore.length === 0 ? now : Math.max(now, Math.max(...firesBefore) + 1);
  return Math.max(Math.min(...clashing) - TIMER_GUARD_MS, notBefore);
}

/** A protobuf timestamp (since the epoch) or duration, in milliseconds. */
function protoMs(value: { seconds?: { toString(): string } | null; nanos?: number | null } | null | undefined): number {
  return Number(value?.seconds?.toString() ?? 0) * 1000 + Math.floor((value?.nanos ?? 0) / 1e6);
}
