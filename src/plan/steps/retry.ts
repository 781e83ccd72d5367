/**
 * A call's retries as a playbook writes them (`retry: { attempts: 3, timeout: 30s, backoff: 10s }`),
 * bounded at publish. Only what is written goes into the plan: a call without `retry` compiles to the
 * plan (and hash) it always had, and the interpreter fills in today's values for what is left out.
 */
import { formatDuration } from '../duration.js';
import type { JsonPath, StepCompiler } from './kind.js';

/** The retries a call step states; each property only when written. */
export interface StepRetry {
  /** Attempts in all, the first included. */
  attempts?: number;
  /** The longest one attempt may take before it counts as failed. */
  timeoutMs?: number;
  /** The wait before the second attempt; each next wait doubles, up to a minute (or the backoff, when longer). */
  backoffMs?: number;
}

export interface RawRetry {
  attempts?: number;
  timeout?: string;
  backoff?: string;
}

/** What a call gets without `retry`: five attempts, a minute each, waits from 1 s doubling to 1 min. */
export const CALL_RETRY = { attempts: 5, timeoutMs: 60_000, backoffMs: 1_000, maxBackoffMs: 60_000 } as const;

/** The bounds publishing holds `retry` to. */
export const RETRY_BOUNDS = {
  attempts: { min: 1, max: 20 },
  timeoutMs: { min: 1_000, max: 10 * 60_000 },
  backoffMs: { min: 1_000, max: 60 * 60_000 },
} as const;

/** The retry a step writes, checked against the bounds (PB190-PB192); undefined when it writes none. */
export function compileRetry(raw: RawRetry | undefined, c: StepCompiler): StepRetry | undefined {
  if (raw === undefined) return undefined;
  const path: JsonPath = [...c.path, 'retry'];
  const { attempts: a, timeoutMs: t, backoffMs: b } = RETRY_BOUNDS;
  if (raw.attempts !== undefined && (raw.attempts < a.min || raw.attempts > a.max))
    c.error('PB190', `a call is attempted ${a.min} to ${a.max} times, not ${raw.attempts}`, [...path, 'attempts'], {
      hint: `the default is ${CALL_RETRY.attempts}; on_error is taken after the last attempt`,
    });
  const timeoutMs = raw.timeout === undefined ? undefined : c.duration(raw.timeout, [...path, 'timeout']);
  if (timeoutMs !== undefined && (timeoutMs < t.min || timeoutMs > t.max))
    c.error('PB191', `an attempt's timeout is from 1s to 10m, not ${raw.timeout}`, [...path, 'timeout'], {
      hint: 'the default is 1m; a longer task waits for an event (wait) instead of a call',
    });
  const backoffMs = raw.backoff === undefined ? undefined : c.duration(raw.backoff, [...path, 'backoff']);
  if (backoffMs !== undefined && (backoffMs < b.min || backoffMs > b.max))
    c.error('PB192', `the backoff between attempts is from 1s to 1h, not ${raw.backoff}`, [...path, 'backoff'], {
      hint: 'the default is 1s, doubling after each failed attempt up to 1m',
    });
  return {
    ...(raw.attempts !== undefined ? { attempts: raw.attempts } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(backoffMs !== undefined ? { backoffMs } : {}),
  };
}

/** The retries a call runs with: what the step states, today's values for the rest. */
export function callRetry(retry: StepRetry | undefined): { attempts: number; timeoutMs: number; backoffMs: number; maxBackoffMs: number } {
  const backoffMs = retry?.backoffMs ?? CALL_RETRY.backoffMs;
  return {
    attempts: retry?.attempts ?? CALL_RETRY.attempts,
    timeoutMs: retry?.timeoutMs ?? CALL_RETRY.timeoutMs,
    backoffMs,
    maxBackoffMs: Math.max(backoffMs, CALL_RETRY.maxBackoffMs),
  };
}

/** What a step states, for diagrams: `2 attempts, 30s each, backoff 10s`. */
export function retryText(retry: StepRetry): string {
  return [
    retry.attempts !== undefined ? `${retry.attempts} attempt${retry.attempts === 1 ? '' : 's'}` : undefined,
    retry.timeoutMs !== undefined ? `${formatDuration(retry.timeoutMs)} each` : undefined,
    retry.backoffMs !== undefined ? `backoff ${formatDuration(retry.backoffMs)}` : undefined,
  ]
    .filter((part) => part !== undefined)
    .join(', ');
}
