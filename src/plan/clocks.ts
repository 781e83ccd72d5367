/**
 * Clocks that pause: a playbook's SLA over several steps (`clocks:`), which counts from the case's
 * opening or an event's arrival, stops counting while the case is at a step it names (waiting for the
 * buyer), resumes with the time it had left, and is breached (escalated, once) when that time runs out
 * while it counts. It stops for good at the steps that end it, or when the case closes. It counts wall
 * time, or business minutes or hours of the plan's calendar. Pure.
 */
import { addBusinessMs, businessMsBetween, type Calendar } from './calendar.js';
import type { BusinessDuration } from './duration.js';
import type { Severity } from './plan.js';

export interface ClockSpec {
  /** Wall time; or business time (`within`), counted in the plan's calendar. */
  withinMs: number;
  business?: BusinessDuration;
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
  /** Since when it counts; null while paused (or not started, stopped). */
  countingSince: number | null;
  /** Time counted before `countingSince` (business time for a business clock). */
  usedMs: number;
  /** When the current pause began. */
  pausedAt: number | null;
  breached: boolean;
  stoppedAt: number | null;
}

export const newClock = (): ClockState => ({ startedAt: null, countingSince: null, usedMs: 0, pausedAt: null, breached: false, stoppedAt: null });

/** How much time a clock counts over [from, to): wall time, or the calendar's working time. */
export class ClockTime {
  constructor(private readonly calendar: Calendar | undefined) {}

  counted(spec: ClockSpec, from: number, to: number): number {
    return spec.business && this.calendar ? businessMsBetween(this.calendar, from, to) : Math.max(0, to - from);
  }

  /** When `ms` of counted time, starting at `from`, is used up. */
  after(spec: ClockSpec, from: number, ms: number): number {
    return spec.business && this.calendar ? addBusinessMs(this.calendar, from, ms) : from + ms;
  }

  /** When the clock runs out, counting from now; null while it is not counting (not started, paused, stopped or breached). */
  runsOutAt(spec: ClockSpec, clock: ClockState): number | null {
    if (clock.countingSince === null || clock.breached) return null;
    return this.after(spec, clock.countingSince, Math.max(0, spec.withinMs - clock.usedMs));
  }

  /** Time left at `now` (never negative); null before the clock starts. */
  left(spec: ClockSpec, clock: ClockState, now: number): number | null {
    if (clock.startedAt === null) return null;
    const running = clock.countingSince === null ? 0 : this.counted(spec, clock.countingSince, now);
    return Math.max(0, spec.withinMs - clock.usedMs - running);
  }

  /**
   * What entering `stepId` at `now` does to a clock, given when its starting event arrived (if it has):
   * started, paused, resumed or stopped, or nothing. Mutates `clock`.
   */
  enterStep(spec: ClockSpec, clock: ClockState, stepId: string, now: number, startedBy: number | undefined): ClockChange[] {
    const changes: ClockChange[] = [];
    if (clock.stoppedAt !== null) return changes;
    if (clock.startedAt === null) {
      if (startedBy === undefined) return changes;
      clock.startedAt = startedBy;
      clock.countingSince = startedBy;
      changes.push({ change: 'started', at: startedBy });
    }
    const stopCounting = () => {
      if (clock.countingSince === null) return;
      clock.usedMs += this.counted(spec, clock.countingSince, now);
      clock.countingSince = null;
    };
    if (spec.stopsAt.includes(stepId)) {
      stopCounting();
      clock.pausedAt = null;
      clock.stoppedAt = now;
      changes.push({ change: 'stopped', at: now });
    } else if (spec.pausedWhile.includes(stepId)) {
      if (clock.pausedAt === null) {
        stopCounting();
        clock.pausedAt = now;
        changes.push({ change: 'paused', at: now });
      }
    } else if (clock.pausedAt !== null) {
      const pausedMs = now - clock.pausedAt;
      clock.pausedAt = null;
      clock.countingSince = now;
      changes.push({ change: 'resumed', at: now, pausedMs });
    }
    return changes;
  }
}

export type ClockChange =
  | { change: 'started'; at: number }
  | { change: 'paused'; at: number }
  | { change: 'resumed'; at: number; pausedMs: number }
  | { change: 'stopped'; at: number };
