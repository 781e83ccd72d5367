import { formatSpan, spanOf, type BusinessDuration, type Span } from '../duration.js';
import { readableDuration } from '../evidence.js';
import type { CaseEvent } from '../case.js';
import type { EventSpec, StepBase } from '../plan.js';
import type { StepKind, StepRuntime } from './kind.js';
import { iso } from './time.js';

export interface TaskStep extends StepBase {
  kind: 'task';
  role: string;
  title: string;
  slaMs?: number;
  /** The SLA in business time, instead of `slaMs`. */
  slaBusiness?: BusinessDuration;
  /** Outcome name → next step; a task is completed by the event `task.completed` with `outcome`. */
  outcomes: Record<string, string>;
  onSlaBreach: string;
}

export interface RawTask {
  role: string;
  title: string;
  sla: string;
  outcomes: Record<string, string>;
  on_sla_breach: string;
}

/** The event that completes a human task; every playbook with a task declares it implicitly. */
export const TASK_COMPLETED = 'task.completed';

export const TASK_COMPLETED_EVENT: EventSpec = {
  description: 'An agent finished a human task.',
  early: false,
  payload: { task: { type: 'string', required: true }, outcome: { type: 'string', required: true } },
};

const completes = (step: TaskStep) => (event: CaseEvent) =>
  event.payload.task === step.id && typeof event.payload.outcome === 'string' && event.payload.outcome in step.outcomes;

export const task: StepKind<TaskStep, RawTask> = {
  kind: 'task',
  schema: '#/$defs/step/properties/task',
  waits: true,
  shape: 'box',
  compile(raw, c) {
    const outcomes = Object.fromEntries(Object.entries(raw.outcomes).map(([outcome, target]) => [outcome, c.ref(target, [...c.path, 'outcomes', outcome])]));
    return {
      kind: 'task', role: raw.role, title: raw.title, ...slaOf(c.span(raw.sla, [...c.path, 'sla']) ?? 0), outcomes,
      onSlaBreach: c.ref(raw.on_sla_breach, [...c.path, 'on_sla_breach']),
    };
  },
  edges: (step) => [...Object.entries(step.outcomes).map(([outcome, next]) => ({ to: next, label: outcome })), { to: step.onSlaBreach, label: 'SLA breached' }],
  describe: (step) => `task for ${step.role}, SLA ${formatSpan(taskSla(step))}`,
  awaits: () => [TASK_COMPLETED],
  refuses(step, event) {
    if (event.type !== TASK_COMPLETED || completes(step)(event)) return undefined;
    return `the open task is '${step.id}' with outcomes ${Object.keys(step.outcomes).join(', ')}`;
  },
  run: runTask,
};

const slaOf = (span: Span) => (typeof span === 'number' ? { slaMs: span } : { slaBusiness: span });

/** The task's SLA as written: milliseconds or business time. */
export const taskSla = (step: TaskStep): Span => spanOf(step.slaMs, step.slaBusiness) ?? 0;

/** Opens the task for a person and waits for its completion or the end of its SLA. */
async function runTask(step: TaskStep, rt: StepRuntime, key: string): Promise<string> {
  const dueAt = rt.after(Date.now(), taskSla(step));
  await rt.activities.openTask({
    key, caseId: rt.caseId, stepId: step.id, role: step.role, title: step.title, outcomes: Object.keys(step.outcomes), dueAt: iso(dueAt),
  });
  const takes = completes(step);
  for (;;) {
    const match = rt.take([TASK_COMPLETED], takes);
    if (match) {
      const outcome = match.payload.outcome as string;
      await rt.activities.closeTask({ key, outcome, breached: false });
      const now = Date.now();
      rt.record(step, {
        outcome, eventId: match.id, goto: step.outcomes[outcome], by: match.by ?? null, role: step.role, slaDue: iso(dueAt),
        ...(now <= dueAt ? { sla: 'met', margin: readableDuration(dueAt - now) } : { sla: 'breached', lateBy: readableDuration(now - dueAt) }),
      });
      return step.outcomes[outcome]!;
    }
    if (Date.now() >= dueAt) {
      await rt.activities.closeTask({ key, outcome: null, breached: true });
      rt.record(step, { slaBreached: iso(dueAt), goto: step.onSlaBreach, role: step.role, slaDue: iso(dueAt), sla: 'breached', lateBy: readableDuration(Date.now() - dueAt) });
      return step.onSlaBreach;
    }
    await rt.waitFor(step.id, [TASK_COMPLETED], [{ kind: 'task-sla', step: step.id, at: iso(dueAt) }], dueAt, () => rt.has([TASK_COMPLETED], takes));
  }
}
