/** The plan as a graph: which steps follow which, from each kind's edges. Pure; used by the compiler and the workflow. */
import type { Plan } from './plan.js';
import { kindOf, type Body, type Step } from './steps/index.js';

/** The steps a step goes to: its ways out, and the first step of each body it runs (a body's end, BODY_END, is none). */
export function successors(step: Step): string[] {
  return [...exits(step), ...bodiesOf(step).map(({ body }) => body.start)];
}

/** Where a step goes when it is done: its ways out, without its bodies. */
export function exits(step: Step): string[] {
  return kindOf(step)
    .edges(step)
    .map((edge) => edge.to);
}

/** The bodies a step runs (parallel branches and cleanups, a loop's iteration), labelled. */
export function bodiesOf(step: Step): { label: string; body: Body }[] {
  return kindOf(step).bodies?.(step) ?? [];
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
