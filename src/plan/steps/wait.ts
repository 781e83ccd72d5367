import { formatDuration } from '../duration.js';
import { boundedJson, readableDuration } from '../evidence.js';
import type { Channel, Expr, Recipient, StepBase } from '../plan.js';
import type { CaseEvent, Deadline } from '../case.js';
import type { RawRecipient, StepKind, StepRuntime } from './kind.js';
import { iso } from './time.js';

export interface WaitStep extends StepBase {
  kind: 'wait';
  /** Event name → next step when that event arrives (and `where`, if any, holds). */
  on: Record<string, { next: string; where?: Expr }>;
  timeoutMs: number | null;
  onTimeout?: string;
  remind?: { everyMs: number; max: number; template: string; channel: Channel; to: Recipient };
}

export interface RawWait {
  events: { event: string; where?: string; goto?: string }[];
  timeout?: string;
  on_timeout?: string;
  remind?: { every: string; times: number | string; template: string; to?: RawRecipient; channel?: Channel };
}

export const wait: StepKind<WaitStep, RawWait> = {
  kind: 'wait',
  schema: '#/$defs/step/properties/wait',
  waits: true,
  shape: 'wait',
  compile(raw, c) {
    const { events } = c.declarations;
    const on: WaitStep['on'] = {};
    raw.events.forEach((awaited, i) => {
      const path = [...c.path, 'events', i];
      const spec = events[awaited.event];
      if (!spec) c.error('PB111', `event '${awaited.event}' is not declared`, [...path, 'event'], { hint: c.hint(awaited.event, Object.keys(events), 'declare it under events') });
      if (on[awaited.event]) c.error('PB122', `the wait lists event '${awaited.event}' twice`, [...path, 'event']);
      const where = awaited.where !== undefined && spec ? c.expression(awaited.where, [...path, 'where'], 'bool', spec) : undefined;
      on[awaited.event] = { next: c.next(awaited.goto, [...path, 'goto']), ...(where ? { where } : {}) };
    });
    const timeoutMs = raw.timeout !== undefined ? c.duration(raw.timeout, [...c.path, 'timeout']) : null;
    if (raw.timeout !== undefined && raw.on_timeout === undefined) c.error('PB120', 'a wait with a timeout needs on_timeout: the step to take when it passes', [...c.path, 'timeout'], { key: true });
    if (raw.timeout === undefined && raw.on_timeout !== undefined) c.error('PB121', 'on_timeout without a timeout is never taken', [...c.path, 'on_timeout'], { key: true, hint: 'add timeout: <duration>' });
    if (raw.timeout === undefined) c.warning('PB123', `step '${c.stepId}' waits without a timeout: a case can stay open for ever`, c.path, 'add timeout and on_timeout');
    return {
      kind: 'wait', on, timeoutMs: timeoutMs ?? null,
      ...(raw.on_timeout !== undefined ? { onTimeout: c.ref(raw.on_timeout, [...c.path, 'on_timeout']) } : {}),
      ...(raw.remind ? { remind: compileReminder(raw.remind, c) } : {}),
    };
  },
  edges: (step) => [
    ...Object.entries(step.on).map(([event, taken]) => ({ to: taken.next, label: event })),
    ...(step.onTimeout && step.timeoutMs !== null ? [{ to: step.onTimeout, label: `timeout ${formatDuration(step.timeoutMs)}` }] : []),
  ],
  describe: (step) => `wait ${Object.keys(step.on).join(' / ')}`,
  awaits: (step) => Object.keys(step.on),
  run: runWait,
};

function compileReminder(raw: NonNullable<RawWait['remind']>, c: Parameters<typeof wait.compile>[1]): NonNullable<WaitStep['remind']> {
  const path = [...c.path, 'remind'];
  const template = c.template(raw.template, [...path, 'template']);
  const everyMs = c.duration(raw.every, [...path, 'every']);
  const max = c.count(raw.times, [...path, 'times']);
  return { everyMs: everyMs ?? 0, max: max ?? 0, template: raw.template, channel: raw.channel ?? template?.channel ?? 'chat', to: c.recipient(raw.to ?? 'buyer') };
}

/** Waits for the first listed event whose condition holds, sending reminders on the way, until the timeout. */
async function runWait(step: WaitStep, rt: StepRuntime, key: string): Promise<string> {
  const started = Date.now();
  const timeoutAt = step.timeoutMs === null ? null : started + step.timeoutMs;
  const events = Object.keys(step.on);
  const takes = (event: CaseEvent) => {
    const where = step.on[event.type]!.where;
    return !where || rt.matches(where, event);
  };
  let reminders = 0;
  for (;;) {
    const match = rt.take(events, takes);
    if (match) {
      rt.record(step, {
        since: iso(started), event: match.type, eventId: match.id, goto: step.on[match.type]!.next,
        arrived: match.at, payload: boundedJson(match.payload), by: match.by ?? null, waited: readableDuration(Date.now() - started),
      });
      return step.on[match.type]!.next;
    }
    const now = Date.now();
    if (timeoutAt !== null && now >= timeoutAt) {
      rt.record(step, { since: iso(started), timeout: iso(timeoutAt), goto: step.onTimeout, waited: readableDuration(timeoutAt - started), reminders });
      return step.onTimeout!;
    }
    const remind = step.remind && reminders < step.remind.max ? step.remind : undefined;
    const nextReminderAt = remind ? started + (reminders + 1) * remind.everyMs : null;
    if (remind && nextReminderAt !== null && now >= nextReminderAt) {
      reminders += 1;
      const template = rt.plan.templates[remind.template]!;
      await rt.activities.sendMessage({
        key: `${key}/reminder-${reminders}`, caseId: rt.caseId, stepId: step.id, recipient: rt.recipient(remind.to),
        channel: remind.channel, template: remind.template, body: rt.render(template.text, template.placeholders),
      });
      rt.record(step, { reminder: reminders, due: iso(nextReminderAt), of: remind.max, template: remind.template, since: iso(started) }, 'reminder');
      continue;
    }
    const wakeAt = Math.min(timeoutAt ?? Infinity, nextReminderAt ?? Infinity);
    const deadlines: Deadline[] = [
      ...(timeoutAt !== null ? [{ kind: 'timeout' as const, step: step.id, at: iso(timeoutAt) }] : []),
      ...(nextReminderAt !== null ? [{ kind: 'reminder' as const, step: step.id, at: iso(nextReminderAt) }] : []),
    ];
    await rt.waitFor(step.id, events, deadlines, wakeAt === Infinity ? undefined : wakeAt, () => rt.has(events, takes));
  }
}
