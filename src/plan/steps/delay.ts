import { formatBusinessDuration, formatDuration, type BusinessDuration } from '../duration.js';
import type { Expr, StepBase } from '../plan.js';
import { TIMESTAMP, type StepDeadline, type StepKind } from './kind.js';

/** When a delay ends: a span from its start, the next local time of day, or an instant from the case's data. */
type DelayEnd =
  | { ms: number }
  | { business: BusinessDuration } // working time of the plan's calendar
  | { untilLocalTime: string; timezone: string; after?: Expr } // HH:MM: the next one after now, or after `after`
  | { instant: Expr }; // a timestamp expression, e.g. data.signed_at + policy.call_after

export type DelayStep = StepBase & {
  kind: 'delay';
  next: string /** Events that end the delay early, and where each leads. */;
  unless?: Record<string, string>;
} & DelayEnd;

export type RawDelay =
  | string
  | {
      for?: string;
      until?: string;
      timezone?: string;
      after?: string;
      at?: string;
      unless?: Record<string, string>;
    };

/** The longest a delay until a time of day can last: from just after that time to the next day's. */
const LONGEST_TIME_OF_DAY_DELAY_MS = 86_400_000;

export const delay: StepKind<DelayStep, RawDelay> = {
  kind: 'delay',
  schema: '#/$defs/step/properties/delay',
  waits: true,
  shape: 'wait',
  compile(raw, c) {
    const spanEnd = (text: string, path: typeof c.path): DelayEnd => {
      const span = c.span(text, path) ?? 0;
      return typeof span === 'number' ? { ms: span } : { business: span };
    };
    if (typeof raw === 'string') return { kind: 'delay', ...spanEnd(raw, c.path), next: c.next() };
    const unless: Record<string, string> = {};
    for (const [event, goto] of Object.entries(raw.unless ?? {})) {
      if (!c.declarations.events[event]) {
        c.error('PB111', `event '${event}' is not declared`, [...c.path, 'unless', event], {
          key: true,
          hint: c.hint(event, Object.keys(c.declarations.events), 'declare it under events'),
        });
      }
      unless[event] = c.ref(goto, [...c.path, 'unless', event]);
    }
    const end: DelayEnd =
      raw.at !== undefined
        ? { instant: c.expression(raw.at, [...c.path, 'at'], TIMESTAMP) }
        : raw.for !== undefined
          ? spanEnd(raw.for, [...c.path, 'for'])
          : {
              untilLocalTime: raw.until!,
              timezone: c.timezone(raw.timezone ?? c.declarations.timezone, [...c.path, 'timezone']),
              ...(raw.after !== undefined ? { after: c.expression(raw.after, [...c.path, 'after'], TIMESTAMP) } : {}),
            };
    return { kind: 'delay', ...end, ...(Object.keys(unless).length > 0 ? { unless } : {}), next: c.next() };
  },
  edges: (step) => [{ to: step.next }, ...Object.entries(step.unless ?? {}).map(([event, to]) => ({ to, label: event }))],
  describe: (step) => {
    const end =
      'ms' in step
        ? `delay ${formatDuration(step.ms)}`
        : 'business' in step
          ? `delay ${formatBusinessDuration(step.business)}`
          : 'instant' in step
            ? `until ${step.instant.cel}`
            : `until ${step.untilLocalTime} ${step.timezone}${step.after ? ` after ${step.after.cel}` : ''}`;
    return step.unless ? `${end} unless ${Object.keys(step.unless).join(' / ')}` : end;
  },
  awaits: (step) => Object.keys(step.unless ?? {}),
  deadline(step) {
    const deadline = (lasts: StepDeadline['lasts']): StepDeadline => ({ what: 'the delay', key: ['delay'], lasts });
    // A time of day after an instant from the case, or such an instant itself, has no bound the plan knows.
    if ('instant' in step || ('untilLocalTime' in step && step.after)) return deadline('unbounded');
    if ('untilLocalTime' in step) return deadline({ ms: LONGEST_TIME_OF_DAY_DELAY_MS });
    return deadline({ span: 'business' in step ? step.business : step.ms });
  },
};
