/** Where a step reads a call's answer: warned when a path reaches it on which the call has not answered. */
import { bodiesOf } from '../plan/graph.js';
import { BODY_END, kindOf, type Step } from '../plan/steps/index.js';
import type { TemplateSpec } from '../plan/plan.js';
import type { Reporter } from './diagnostics.js';
import type { RawStep } from './raw.js';
import { writtenSteps } from './steps.js';

/**
 * PB146 (a warning): step S reads `steps.X.result`, but S can be reached from the start without X
 * having answered: X not run yet, or X gone to `on_error`. The case would fail at S.
 */
export function checkAnswersAnswered(
  steps: Record<string, Step>,
  templates: Record<string, TemplateSpec>,
  answerReads: ReadonlyMap<string, ReadonlySet<string>>,
  raw: RawStep[],
  report: Reporter,
): void {
  if (answerReads.size === 0) return;
  const start = raw[0]!.id;
  for (const { raw: rawStep, path } of writtenSteps(raw)) {
    const step = steps[rawStep.id];
    if (!step) continue;
    for (const call of readsOf(step, templates, answerReads)) {
      const answering = steps[call];
      if (answering?.kind !== 'call' || !reachedWithoutAnswer(steps, start, answering, step.id)) continue;
      report.warning(
        'PB146',
        `step '${step.id}' reads steps.${call}.result, but a path reaches it on which '${call}' has not answered (not run yet, or gone to on_error): the case would fail there`,
        [...path, 'id'],
        `read it only on steps after '${call}' that its on_error path does not reach`,
      );
    }
  }
}

/** The call steps whose answers a step's expressions, and the templates it sends, read. */
function readsOf(step: Step, templates: Record<string, TemplateSpec>, answerReads: ReadonlyMap<string, ReadonlySet<string>>): Set<string> {
  const calls = new Set<string>();
  const visit = (value: unknown, depth: number): void => {
    if (depth > 16 || !value || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      for (const item of value) visit(item, depth + 1);
      return;
    }
    for (const [key, child] of Object.entries(value)) {
      if (key === 'cel' && typeof child === 'string') for (const call of answerReads.get(child) ?? []) calls.add(call);
      else if (key === 'template' && typeof child === 'string' && templates[child]) visit(templates[child], depth + 1);
      else visit(child, depth + 1);
    }
  };
  visit(step, 0);
  return calls;
}

/**
 * Whether `target` is reached from `start` when `call` never takes its `next` (the edge on which it
 * answered). A block's bodies are walked too, all of them at once (branches and items run side by
 * side, so a step in one may run before a call in another answered); the steps after a block are
 * reached when it can end without the answer: a `join: all` parallel once every branch can reach its
 * end so, any other block at once (a race's branch may lose, a loop may have no items).
 */
function reachedWithoutAnswer(steps: Record<string, Step>, start: string, call: Step & { kind: 'call' }, target: string): boolean {
  const seen = new Set<string>();
  /** Walks one body (or the top level) from `from`; whether the walk reaches the body's end. */
  const walk = (from: string): boolean => {
    let ends = false;
    const queue = [from];
    while (queue.length > 0) {
      const id = queue.shift()!;
      if (id === BODY_END) ends = true;
      if (seen.has(id) || id === BODY_END) continue;
      seen.add(id);
      const step = steps[id];
      if (!step) continue;
      const ending = new Set(bodiesOf(step).flatMap(({ body }) => (walk(body.start) ? [body] : [])));
      if (step.kind === 'parallel' && step.join === 'all' && !step.branches.every((branch) => ending.has(branch.body))) continue;
      for (const edge of kindOf(step).edges(step)) {
        if (step === call && edge.label === undefined) continue;
        queue.push(edge.to);
      }
    }
    return ends;
  };
  walk(start);
  return seen.has(target);
}
