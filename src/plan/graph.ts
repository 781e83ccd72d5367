/** The plan as a graph: which steps follow which. Pure; used by the compiler and the workflow. */
import type { Plan, Step } from './plan.js';

export function successors(step: Step): string[] {
  switch (step.kind) {
    case 'wait':
      return [...Object.values(step.on).map((o) => o.next), ...(step.onTimeout ? [step.onTimeout] : [])];
    case 'branch':
      return [...step.cases.map((c) => c.next), step.otherwise];
    case 'refund':
      return [step.next, step.onBreach, step.onDeclined];
    case 'task':
      return [...Object.values(step.outcomes), step.onSlaBreach];
    case 'call':
      return [step.next, ...(step.onError ? [step.onError] : [])];
    case 'end':
      return [];
    default:
      return [step.next];
  }
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

/** Event types some wait reachable from `from` listens for: the events the case may still take. */
export function eventsAwaitedFrom(steps: Plan['steps'], from: string): Set<string> {
  const events = new Set<string>();
  for (const id of reachableSteps(steps, from)) {
    const step = steps[id];
    if (step?.kind === 'wait') for (const event of Object.keys(step.on)) events.add(event);
    if (step?.kind === 'task') events.add('task.completed');
  }
  return events;
}
