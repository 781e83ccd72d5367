/** A case's clocks at run time (src/plan/clocks.ts): what each step does to them, when one runs out, what the case view shows. */
import type { CaseState, Deadline, StepRecord } from '../plan/case.js';
import { ClockTime, newClock, type ClockSpec } from '../plan/clocks.js';
import { readableDuration } from '../plan/evidence.js';
import type { Plan } from '../plan/plan.js';
import { CASE_OPENED } from '../plan/steps/index.js';
import { iso } from './time.js';

export class CaseClocks {
  private readonly specs: [string, ClockSpec][];
  private readonly time: ClockTime;

  constructor(
    plan: Plan,
    private readonly state: CaseState,
  ) {
    this.specs = Object.entries(plan.clocks ?? {});
    this.time = new ClockTime(plan.calendar);
    // Each clock of the plan has its state; a version a case moved to may declare clocks its old one had not.
    if (this.specs.length > 0) {
      state.clocks ??= {};
      for (const [name] of this.specs) state.clocks[name] ??= newClock();
    }
  }

  /** What entering `stepId` at `now` did to each clock, as history records. */
  enter(stepId: string, now: number): StepRecord[] {
    return this.specs.flatMap(([name, spec]) => {
      const clock = this.state.clocks![name]!;
      const startedBy = spec.starts === CASE_OPENED ? this.state.openedAt : this.state.received[spec.starts]?.at;
      return this.time.enterStep(spec, clock, stepId, now, startedBy === undefined ? undefined : Date.parse(startedBy)).map(
        (change): StepRecord => ({
          step: stepId,
          kind: 'clock',
          at: iso(now),
          detail: {
            clock: name,
            [change.change]: iso(change.at),
            ...(change.change === 'paused' ? { reason: `waiting at ${stepId}` } : {}),
            ...(change.change === 'resumed' ? { pausedFor: readableDuration(change.pausedMs) } : {}),
            left: readableDuration(this.time.left(spec, clock, now) ?? spec.withinMs),
          },
        }),
      );
    });
  }

  /** The next instant a counting clock runs out; undefined when none counts. */
  nextRunOut(): number | undefined {
    const times = this.specs.map(([name, spec]) => this.time.runsOutAt(spec, this.state.clocks![name]!)).filter((at): at is number => at !== null);
    return times.length > 0 ? Math.min(...times) : undefined;
  }

  /** The clocks that have run out by `now`, each marked breached (so escalated once). */
  breachedBy(now: number): { name: string; spec: ClockSpec; at: number }[] {
    return this.specs.flatMap(([name, spec]) => {
      const clock = this.state.clocks![name]!;
      const at = this.time.runsOutAt(spec, clock);
      if (at === null || at > now) return [];
      clock.breached = true;
      return [{ name, spec, at }];
    });
  }

  /**
   * The clocks still running or paused, for the case view: when each runs out, and the time it has left.
   * A clock whose end cannot be computed (its calendar has no working time ahead) is left out: the view
   * is reported on the way to failing the case too, and must not fail itself.
   */
  deadlines(now: number): Deadline[] {
    return this.specs.flatMap(([name, spec]): Deadline[] => {
      const clock = this.state.clocks![name]!;
      try {
        const left = this.time.left(spec, clock, now);
        if (left === null || clock.stoppedAt !== null || clock.breached) return [];
        const paused = clock.pausedAt !== null;
        const at = paused ? this.time.after(spec, now, left) : this.time.runsOutAt(spec, clock)!;
        return [{ kind: 'clock', step: name, at: iso(at), left: readableDuration(left), ...(paused ? { paused } : {}) }];
      } catch {
        return [];
      }
    });
  }
}
