/** Flow checks over the compiled steps: every step reachable, no loop without a wait, every path ends. */
import { reachableSteps, successors } from '../plan/graph.js';
import { kindOf, type Step } from '../plan/steps/index.js';
import type { Reporter } from './diagnostics.js';
import type { RawStep } from './raw.js';

export function checkFlow(steps: Record<string, Step>, raw: RawStep[], report: Reporter): void {
  const reached = reachableSteps(steps, raw[0]!.id);
  raw.forEach((step, index) => {
    if (reached.has(step.id)) return;
    if (raw[index - 1]?.end)
      report.error('PB104', `step '${step.id}' comes after an end step and nothing goes to it`, ['steps', index, 'id'], {
        hint: 'remove it, or point a goto/next at it',
      });
    else report.error('PB103', `step '${step.id}' can never be reached`, ['steps', index, 'id'], { hint: 'remove it, or point a goto/next at it' });
  });
  checkLoopsWait(steps, raw, report);
  const canEnd = stepsThatCanEnd(steps);
  raw.forEach((step, index) => {
    if (reached.has(step.id) && !canEnd.has(step.id))
      report.error('PB108', `no path from step '${step.id}' ever ends the case`, ['steps', index, 'id'], { hint: 'every path must reach an end step' });
  });
}

/** A cycle must pass through a step that waits (wait, delay, task); otherwise it spins for ever. */
function checkLoopsWait(steps: Record<string, Step>, raw: RawStep[], report: Reporter): void {
  const instant = (id: string) => {
    const step = steps[id];
    return step !== undefined && !kindOf(step).waits;
  };
  const state = new Map<string, 'visiting' | 'done'>();
  const reported = new Set<string>();
  const visit = (id: string, trail: string[]) => {
    state.set(id, 'visiting');
    for (const next of successors(steps[id]!)) {
      if (!instant(next)) continue;
      if (state.get(next) === 'visiting' && !reported.has(next)) {
        reported.add(next);
        const cycle = [...trail.slice(trail.indexOf(next)), next];
        const index = raw.findIndex((r) => r.id === next);
        report.error('PB105', `steps ${cycle.join(' → ')} loop without a wait or a delay`, ['steps', index, 'id'], {
          hint: 'a loop must wait for an event or a duration',
        });
      } else if (!state.has(next)) visit(next, [...trail, next]);
    }
    state.set(id, 'done');
  };
  for (const id of Object.keys(steps)) if (instant(id) && !state.has(id)) visit(id, [id]);
}

function stepsThatCanEnd(steps: Record<string, Step>): Set<string> {
  const canEnd = new Set(
    Object.values(steps)
      .filter((s) => kindOf(s).ends)
      .map((s) => s.id),
  );
  let grew = true;
  while (grew) {
    grew = false;
    for (const step of Object.values(steps)) {
      if (!canEnd.has(step.id) && successors(step).some((s) => canEnd.has(s))) {
        canEnd.add(step.id);
        grew = true;
      }
    }
  }
  return canEnd;
}
