import { formatBusinessDuration, formatDuration, type BusinessDuration } from '../duration.js';
import { nextLocalTime } from '../local-time.js';
import type { StepBase } from '../plan.js';
import type { StepKind } from './kind.js';
import { iso } from './time.js';

export type DelayStep = StepBase & { kind: 'delay'; next: string } & (
    | { ms: number }
    | { business: BusinessDuration } // working time of the plan's calendar
    | { untilLocalTime: string; timezone: string } // HH:MM; the next occurrence, today or tomorrow
  );

export type RawDelay = string | { until: string; timezone?: string };

export const delay: StepKind<DelayStep, RawDelay> = {
  kind: 'delay',
  schema: '#/$defs/step/properties/delay',
  waits: true,
  shape: 'wait',
  compile(raw, c) {
    if (typeof raw === 'string') {
      const span = c.span(raw, c.path) ?? 0;
      return typeof span === 'number' ? { kind: 'delay', ms: span, next: c.next() } : { kind: 'delay', business: span, next: c.next() };
    }
    const timezone = c.timezone(raw.timezone ?? c.declarations.timezone, [...c.path, 'timezone']);
    return { kind: 'delay', untilLocalTime: raw.until, timezone, next: c.next() };
  },
  edges: (step) => [{ to: step.next }],
  describe: (step) => ('ms' in step ? `delay ${formatDuration(step.ms)}` : 'business' in step ? `delay ${formatBusinessDuration(step.business)}` : `until ${step.untilLocalTime} ${step.timezone}`),
  async run(step, rt) {
    const since = Date.now();
    const until = 'ms' in step ? since + step.ms : 'business' in step ? rt.after(since, step.business) : nextLocalTime(since, step.untilLocalTime, step.timezone);
    await rt.waitFor(step.id, [], [{ kind: 'delay', step: step.id, at: iso(until) }], until);
    rt.record(step, { until: iso(until), since: iso(since) });
    return step.next;
  },
};
