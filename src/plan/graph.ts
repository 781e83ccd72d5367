/** The plan as a graph: which steps follow which, from each kind's edges. Pure; used by the compiler and the workflow. */
import type { Plan } from './plan.js';
import { kindOf, type Step } from './steps/index.js';

export function successors(step: Step): string[] {
  return kindOf(step)
    .edges(step)
    .map((edge) => edge.to);
}

/** Every step reachable from `from`, itself included. */
export function reachableSteps(steps: Plan['steps'], from: string): Set<string> {
  const reached = new Set<string>([from]);
  const queue = [from];
  while (queue.length > 0) {
    const step = steps[queue.shift()!];
    if (!step) continue;
    for (const next of successors(step)) {
      if (!reached.has(next)) {
        reached.add(next);
        queue.push(next);
      }
    }
  }
  return reached;
}

/** Event types some step reachable from `from` takes: the events the case may still take. */
export function eventsAwaitedFrom(steps: Plan['steps'], from: string): Set<string> {
  const events = new Set<string>();
  for (const id of reachableSteps(steps, from)) {
    const step = steps[id];
    if (step) for (const event of kindOf(step).awaits?.(step) ?? []) events.add(event);
  }
  return events;
}
