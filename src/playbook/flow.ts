/**
 * Flow checks over the compiled steps: every step reachable, no loop without a wait, every path ends;
 * inside bodies (parallel branches, loops) too, where a path may also end by leaving the body.
 */
import { loopSteps } from '../plan/cost.js';
import { bodiesOf, exits, reachableSteps } from '../plan/graph.js';
import { MAX_LOOP_STEPS } from '../plan/steps/for-each.js';
import { BODY_END, kindOf, type Step } from '../plan/steps/index.js';
import type { Reporter } from './diagnostics.js';
import type { RawStep } from './raw.js';
import { writtenSteps } from './steps.js';

export function checkFlow(steps: Record<string, Step>, raw: RawStep[], report: Reporter): void {
  const written = writtenSteps(raw);
  const pathOf = new Map(written.map((w) => [w.raw.id, w.path] as const));
  const reached = reachableSteps(steps, raw[0]!.id);
  for (const { raw: step, path, previous } of written) {
    if (reached.has(step.id)) continue;
    if (previous?.end)
      report.error('PB104', `step '${step.id}' comes after an end step and nothing goes to it`, [...path, 'id'], {
        hint: 'remove it, or point a goto/next at it',
      });
    else report.error('PB103', `step '${step.id}' can never be reached`, [...path, 'id'], { hint: 'remove it, or point a goto/next at it' });
  }
  checkLoopsWait(steps, pathOf, report);
  const canEnd = stepsThatCanEnd(steps);
  for (const { raw: step, path, nested } of written) {
    if (reached.has(step.id) && !canEnd.has(step.id))
      report.error('PB108', `no path from step '${step.id}' ever ends the case${nested ? ' or its body' : ''}`, [...path, 'id'], {
        hint: nested ? 'every path in a body must reach its last step or an end step' : 'every path must reach an end step',
      });
  }
  checkBlocks(steps, pathOf, report);
}

/** Whether a step waits, or runs a body in which a step waits. */
function waits(steps: Record<string, Step>, step: Step, depth = 0): boolean {
  if (kindOf(step).waits) return true;
  if (depth > 32) return false;
  return bodiesOf(step).some(({ body }) => body.steps.some((id) => steps[id] !== undefined && waits(steps, steps[id]!, depth + 1)));
}

/** A cycle must pass through a step that waits (wait, delay, task); otherwise it spins for ever. */
function checkLoopsWait(steps: Record<string, Step>, pathOf: ReadonlyMap<string, (string | number)[]>, report: Reporter): void {
  const instant = (id: string) => {
    const step = steps[id];
    return step !== undefined && !waits(steps, step);
  };
  const state = new Map<string, 'visiting' | 'done'>();
  const reported = new Set<string>();
  const visit = (id: string, trail: string[]) => {
    state.set(id, 'visiting');
    for (const next of exits(steps[id]!)) {
      if (!instant(next)) continue;
      if (state.get(next) === 'visiting' && !reported.has(next)) {
        reported.add(next);
        const cycle = [...trail.slice(trail.indexOf(next)), next];
        report.error('PB105', `steps ${cycle.join(' → ')} loop without a wait or a delay`, [...(pathOf.get(next) ?? ['steps']), 'id'], {
          hint: 'a loop must wait for an event or a duration',
        });
      } else if (!state.has(next)) visit(next, [...trail, next]);
    }
    state.set(id, 'done');
  };
  for (const id of Object.keys(steps)) if (instant(id) && !state.has(id)) visit(id, [id]);
}

/** Steps from which a path ends the case, or (in a body) leaves the body; a block goes on by its own exits only. */
function stepsThatCanEnd(steps: Record<string, Step>): Set<string> {
  const canEnd = new Set([
    BODY_END,
    ...Object.values(steps)
      .filter((s) => kindOf(s).ends)
      .map((s) => s.id),
  ]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const step of Object.values(steps)) {
      if (!canEnd.has(step.id) && exits(step).some((s) => canEnd.has(s))) {
        canEnd.add(step.id);
        grew = true;
      }
    }
  }
  return canEnd;
}

/** What blocks may not hold: an end in a cleanup, waits there (warned), a loop running more steps than a history holds. */
function checkBlocks(steps: Record<string, Step>, pathOf: ReadonlyMap<string, (string | number)[]>, report: Reporter): void {
  const at = (id: string) => [...(pathOf.get(id) ?? ['steps']), 'id'];
  for (const step of Object.values(steps)) {
    if (step.kind === 'parallel') {
      for (const branch of step.branches) {
        for (const id of branch.cleanup?.steps ?? []) {
          const inCleanup = steps[id];
          if (inCleanup?.kind === 'end')
            report.error('PB314', `step '${id}' ends the case from a cleanup`, at(id), {
              hint: 'a cleanup runs while its branch is being cancelled: undo what the branch did, and let the block go on',
            });
          if (inCleanup && kindOf(inCleanup).waits)
            report.warning(
              'PB316',
              `step '${id}' waits in a cleanup, which is not cancellable`,
              at(id),
              'cleanups should only undo: send, remark, call, escalate',
            );
        }
      }
      if (step.join !== 'all')
        for (const branch of step.branches)
          if (!branch.body.steps.some((id) => steps[id] !== undefined && waits(steps, steps[id]!)))
            report.warning(
              'PB317',
              `branch '${branch.id}' of '${step.id}' never waits: with join ${step.join} it wins at once`,
              at(step.id),
              'race branches that wait for something (an event, a time, a person)',
            );
    }
    if (step.kind === 'for_each') {
      const count = loopSteps(steps, step);
      if (count > MAX_LOOP_STEPS)
        report.error(
          'PB315',
          `loop '${step.id}' may run ${count} steps (its body's steps times max ${step.max}); a case runs at most ${MAX_LOOP_STEPS}`,
          at(step.id),
          {
            hint: 'lower max, or move the body into a sub-playbook (kind playbook): each item then runs as a case of its own',
          },
        );
    }
  }
}
