import { nextLocalTime } from '../../plan/local-time.js';
import type { DelayStep } from '../../plan/steps/index.js';
import { instantOf, iso } from '../time.js';
import type { StepInterpreter, StepRuntime } from './runtime.js';

/**
 * Waits until the delay ends, or until one of its `unless` events arrives. A case moved to another
 * version meanwhile (src/workflows/migration.ts) reads its step again: the end from the same start.
 */
export const delay: StepInterpreter<DelayStep> = {
  async run(first, rt) {
    const since = Date.now();
    let step = first;
    for (;;) {
      const until = delayEnd(step, rt, since);
      const events = Object.keys(step.unless ?? {});
      const any = () => true;
      const woken =
        events.length === 0
          ? await rt.waitFor(step.id, [], [{ kind: 'delay', step: step.id, at: iso(until) }], until)
          : await rt.waitFor(step.id, events, [{ kind: 'delay', step: step.id, at: iso(until) }], until, () => rt.has(events, any));
      if (woken === 'migrated') {
        step = rt.plan.steps[rt.state.current] as DelayStep;
        continue;
      }
      const ended = events.length > 0 ? rt.take(events, any) : undefined;
      if (ended) {
        const goto = step.unless![ended.type]!;
        rt.record(step, { until: iso(until), since: iso(since), endedBy: ended.type, eventId: ended.id, arrived: ended.at, by: ended.by ?? null, goto });
        return goto;
      }
      rt.record(step, { until: iso(until), since: iso(since), ...('instant' in step ? { at: step.instant.cel } : {}) });
      return step.next;
    }
  },
};

/** When a delay that started at `since` ends, in the plan `rt` evaluates with. */
export function delayEnd(step: DelayStep, rt: Pick<StepRuntime, 'evaluate' | 'after'>, since: number): number {
  if ('ms' in step) return since + step.ms;
  if ('business' in step) return rt.after(since, step.business);
  if ('instant' in step) return instantOf(rt.evaluate(step.instant), step.instant);
  const from = step.after ? instantOf(rt.evaluate(step.after), step.after) : since;
  return nextLocalTime(from, step.untilLocalTime, step.timezone);
}
