/**
 * Clocks that pause: a playbook's SLA over several steps (`clocks:`), which counts from the case's
 * opening or an event's arrival, stops counting while the case is at a step it names (waiting for the
 * buyer), resumes with the time it had left, and is breached (escalated, once) when that time runs out
 * while it counts. It stops for good at the steps that end it, or when the case closes. Pure.
 */
import type { Severity } from './plan.js';

export interface ClockSpec {
  withinMs: number;
  /** `case.opened`, or the event whose arrival starts the clock. */
  starts: string;
  /** Steps at which the clock does not count. */
  pausedWhile: string[];
  /** Steps at which the clock stops for good: what it measures is done. */
  stopsAt: string[];
  breach: { queue: string; severity: Severity; reason: string };
}

/** A clock of one case: carried in the case's state (and over continue-as-new). */
export interface ClockState {
  startedAt: number | null;
  /** When the current pause began; null while counting. */
  pausedAt: number | null;
  /** Paused time before the current pause. */
  pausedMs: number;
  breached: boolean;
  stoppedAt: number | null;
}

export const newClock = (): ClockState => ({ startedAt: null, pausedAt: null, pausedMs: 0, breached: false, stoppedAt: null });

/** When the clock runs out, counting from now; null while it is not counting (not started, paused, stopped or breached). */
export function runsOutAt(spec: ClockSpec, clock: ClockState): number | null {
  if (clock.startedAt === null || clock.pausedAt !== null || clock.stoppedAt !== null || clock.breached) return null;
  return clock.startedAt + spec.withinMs + clock.pausedMs;
}

/** Time left at `now` (never negative); null before the clock starts. */
export function timeLeft(spec: ClockSpec, clock: ClockState, now: number): number | null {
  if (clock.startedAt === null) return null;
  const at = clock.stoppedAt ?? clock.pausedAt ?? now;
  return Math.max(0, clock.startedAt + spec.withinMs + clock.pausedMs - at);
}

export type ClockChange =
  | { change: 'started'; at: number }
  | { change: 'paused'; at: number }
  | { change: 'resumed'; at: number; pausedMs: number }
  | { change: 'stopped'; at: number };

/**
 * What entering `stepId` at `now` does to a clock, given whether its starting event has arrived (and
 * when): started, paused, resumed or stopped, or nothing. Mutates `clock`.
 */
export function enterStep(spec: ClockSpec, clock: ClockState, stepId: string, now: number, startedBy: number | undefined): ClockChange[] {
  const changes: ClockChange[] = [];
  if (clock.stoppedAt !== null) return changes;
  if (clock.startedAt === null) {
    if (startedBy === undefined) return changes;
    clock.startedAt = startedBy;
    changes.push({ change: 'started', at: startedBy });
  }
  if (spec.stopsAt.includes(stepId)) {
    if (clock.pausedAt !== null) {
      clock.pausedMs += now - clock.pausedAt;
      clock.pausedAt = null;
    }
    clock.stoppedAt = now;
    changes.push({ change: 'stopped', at: now });
  } else if (spec.pausedWhile.includes(stepId)) {
    if (clock.pausedAt === null) {
      clock.pausedAt = now;
      changes.push({ change: 'paused', at: now });
    }
  } else if (clock.pausedAt !== null) {
    const pausedMs = now - clock.pausedAt;
    clock.pausedMs += pausedMs;
    clock.pausedAt = null;
    changes.push({ change: 'resumed', at: now, pausedMs });
  }
  return changes;
}
