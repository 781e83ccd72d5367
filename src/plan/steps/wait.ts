import { nextWorking } from '../calendar.js';
import { formatSpan, spanOf, type BusinessDuration, type Span } from '../duration.js';
import { endOfQuietHours } from '../local-time.js';
import type { Channel, Expr, Plan, Recipient, StepBase } from '../plan.js';
import { TIMESTAMP, type RawRecipient, type StepKind } from './kind.js';
import { checkMessage } from './send.js';

export interface WaitStep extends StepBase {
  kind: 'wait';
  /** Event name → next step when that event arrives (and `where`, if any, holds). */
  on: Record<string, { next: string; where?: Expr }>;
  /** null without a timeout, and when the timeout is business time (`timeoutBusiness`). */
  timeoutMs: number | null;
  timeoutBusiness?: BusinessDuration;
  /** Instead of a span: a timestamp expression the wait times out at, e.g. opened_at + policy.close_unpaid_after. */
  timeoutAt?: Expr;
  onTimeout?: string;
  remind?: { everyMs?: number; everyBusiness?: BusinessDuration; max: number; template: string; channel: Channel; to: Recipient };
}

export interface RawWait {
  events: { event: string; where?: string; goto?: string }[];
  timeout?: string;
  timeout_at?: string;
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
      if (!spec)
        c.error('PB111', `event '${awaited.event}' is not declared`, [...path, 'event'], {
          hint: c.hint(awaited.event, Object.keys(events), 'declare it under events'),
        });
      if (on[awaited.event]) c.error('PB122', `the wait lists event '${awaited.event}' twice`, [...path, 'event']);
      const where = awaited.where !== undefined && spec ? c.expression(awaited.where, [...path, 'where'], 'bool', spec) : undefined;
      on[awaited.event] = { next: c.next(awaited.goto, [...path, 'goto']), ...(where ? { where } : {}) };
    });
    // 0 when the timeout is refused, so its edge still counts for the flow checks (the plan is not produced).
    const timeout = raw.timeout !== undefined ? (c.span(raw.timeout, [...c.path, 'timeout']) ?? 0) : undefined;
    const timeoutAt = raw.timeout_at !== undefined ? c.expression(raw.timeout_at, [...c.path, 'timeout_at'], TIMESTAMP) : undefined;
    const timed = raw.timeout !== undefined || raw.timeout_at !== undefined;
    if (raw.timeout !== undefined && raw.timeout_at !== undefined)
      c.error('PB144', 'a wait has either a timeout or a timeout_at, not both', [...c.path, 'timeout_at'], { key: true });
    const timeoutKey = raw.timeout_at !== undefined ? 'timeout_at' : 'timeout';
    if (timed && raw.on_timeout === undefined)
      c.error('PB120', 'a wait with a timeout needs on_timeout: the step to take when it passes', [...c.path, timeoutKey], { key: true });
    if (!timed && raw.on_timeout !== undefined)
      c.error('PB121', 'on_timeout without a timeout is never taken', [...c.path, 'on_timeout'], { key: true, hint: 'add timeout: <duration>' });
    if (!timed) c.warning('PB123', `step '${c.stepId}' waits without a timeout: a case can stay open for ever`, c.path, 'add timeout and on_timeout');
    return {
      kind: 'wait',
      on,
      timeoutMs: typeof timeout === 'number' ? timeout : null,
      ...(typeof timeout === 'object' ? { timeoutBusiness: timeout } : {}),
      ...(timeoutAt ? { timeoutAt } : {}),
      ...(raw.on_timeout !== undefined ? { onTimeout: c.ref(raw.on_timeout, [...c.path, 'on_timeout']) } : {}),
      ...(raw.remind ? { remind: compileReminder(raw.remind, c) } : {}),
    };
  },
  edges: (step) => [
    ...Object.entries(step.on).map(([event, taken]) => ({ to: taken.next, label: event })),
    ...(step.onTimeout && waitTimeout(step) !== undefined ? [{ to: step.onTimeout, label: `timeout ${formatSpan(waitTimeout(step)!)}` }] : []),
    ...(step.onTimeout && step.timeoutAt ? [{ to: step.onTimeout, label: `timeout at ${step.timeoutAt.cel}` }] : []),
  ],
  describe: (step) => `wait ${Object.keys(step.on).join(' / ')}`,
  awaits: (step) => Object.keys(step.on),
  deadline(step, plan) {
    const timeout = waitTimeout(step);
    const lasts = step.timeoutAt ? { ms: sinceOpening(step.timeoutAt, plan) } : timeout === undefined ? ('unbounded' as const) : { span: timeout };
    return { what: 'the wait', key: ['wait', 'timeout'], lasts };
  },
};

function compileReminder(raw: NonNullable<RawWait['remind']>, c: Parameters<typeof wait.compile>[1]): NonNullable<WaitStep['remind']> {
  const path = [...c.path, 'remind'];
  const template = c.template(raw.template, [...path, 'template']);
  const every = c.span(raw.every, [...path, 'every']) ?? 0;
  const max = c.count(raw.times, [...path, 'times']);
  const channel = raw.channel ?? template?.channel ?? 'chat';
  const to = c.recipient(raw.to ?? 'buyer');
  checkMessage(c, raw.template, template, channel, to, path);
  return {
    ...(typeof every === 'number' ? { everyMs: every } : { everyBusiness: every }),
    max: max ?? 0,
    template: raw.template,
    channel,
    to,
  };
}

/**
 * How long after the case opened a `timeout_at` ends: `opened_at + policy.<duration>` ends that long after
 * (the case opens when the platform's clock starts: the order, the request); any other instant is unbounded.
 */
function sinceOpening(expr: { cel: string }, plan: Plan): number {
  const name = /^opened_at \+ policy\.([a-z][a-z0-9_]*)$/.exec(expr.cel.trim())?.[1];
  const value = name === undefined ? undefined : plan.policy[name];
  return value?.type === 'duration' ? value.ms : Infinity;
}

/** The wait's timeout as written (milliseconds or business time); undefined without one. */
export const waitTimeout = (step: WaitStep): Span | undefined => spanOf(step.timeoutMs, step.timeoutBusiness);

/** How often the wait reminds, as written. */
export const reminderEvery = (remind: NonNullable<WaitStep['remind']>): Span => spanOf(remind.everyMs, remind.everyBusiness) ?? 0;

/** As for sends: chat and in-site letters wait in the buyer's app; SMS, e-mail and calls interrupt. */
const INTERRUPTING: ReadonlySet<Channel> = new Set(['sms', 'email', 'phone']);

/** The first instant from `instant` at which the reminder may go out: outside quiet hours and, with a calendar, in working hours. */
export function reminderAllowedAt(plan: Plan, remind: NonNullable<WaitStep['remind']>, instant: number): number {
  if (remind.to.kind !== 'buyer' || !INTERRUPTING.has(remind.channel)) return instant;
  let at = instant;
  // Each move may land in the other's closed time (quiet hours ending on a holiday): settle both.
  for (let round = 0; round < 16; round++) {
    const quiet = plan.quietHours;
    const afterQuiet = quiet ? endOfQuietHours(at, quiet.start, quiet.end, quiet.timezone) : at;
    const allowed = plan.calendar ? nextWorking(plan.calendar, afterQuiet) : afterQuiet;
    if (allowed === at) return at;
    at = allowed;
  }
  return at;
}
