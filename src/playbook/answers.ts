/** Where a step reads a call's answer: warned when a path reaches it on which the call has not answered. */
import { kindOf, type Step } from '../plan/steps/index.js';
import type { TemplateSpec } from '../plan/plan.js';
import type { Reporter } from './diagnostics.js';
import type { RawStep } from './raw.js';

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
  raw.forEach((rawStep, index) => {
    const step = steps[rawStep.id];
    if (!step) return;
    for (const call of readsOf(step, templates, answerReads)) {
      const answering = steps[call];
      if (answering?.kind !== 'call' || !reachedWithoutAnswer(steps, start, answering, step.id)) continue;
      report.warning(
        'PB146',
        `step '${step.id}' reads steps.${call}.result, but a path reaches it on which '${call}' has not answered (not run yet, or gone to on_error): the case would fail there`,
        ['steps', index, 'id'],
        `read it only on steps after '${call}' that its on_error path does not reach`,
      );
    }
  });
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

/** Whether `target` is reached from `start` when `call` never takes its `next` (the edge on which it answered). */
function reachedWithoutAnswer(steps: Record<string, Step>, start: string, call: Step & { kind: 'call' }, target: string): boolean {
  const seen = new Set<string>([start]);
  const queue = [start];
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (id === target) return true;
    const step = steps[id];
    if (!step) continue;
    for (const edge of kindOf(step).edges(step)) {
      if (step === call && edge.label === undefined) continue;
      if (!seen.has(edge.to)) {
        seen.add(edge.to);
        queue.push(edge.to);
      }
    }
  }
  return false;
}
