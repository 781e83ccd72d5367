import { formatSpan, spanOf, type BusinessDuration, type Span } from '../duration.js';
import type { CaseEvent } from '../case.js';
import type { EventSpec, StepBase } from '../plan.js';
import type { StepKind } from './kind.js';

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

/** The id of the `task.completed` event a task's completion is delivered as (src/cases/agent-work.ts). */
export const completionEventId = (taskId: number): string => `task-${taskId}-completed`;

/**
 * Whether an event completes the task: it names the task's step and one of its outcomes, and, when it
 * was delivered by completing a task row (its id says which, `completionEventId`), that row is this
 * one (`taskId`): two tasks of one step open at once (loop items) each take their own completion.
 */
export const taskCompletes =
  (step: TaskStep, taskId?: number) =>
  (event: CaseEvent): boolean =>
    event.payload.task === step.id &&
    typeof event.payload.outcome === 'string' &&
    event.payload.outcome in step.outcomes &&
    (taskId === undefined || !/^task-\d+-completed$/.test(event.id) || event.id === completionEventId(taskId));

export const task: StepKind<TaskStep, RawTask> = {
  kind: 'task',
  schema: '#/$defs/step/properties/task',
  waits: true,
  shape: 'box',
  compile(raw, c) {
    const outcomes = Object.fromEntries(Object.entries(raw.outcomes).map(([outcome, target]) => [outcome, c.ref(target, [...c.path, 'outcomes', outcome])]));
    return {
      kind: 'task',
      role: raw.role,
      title: raw.title,
      ...slaOf(c.span(raw.sla, [...c.path, 'sla']) ?? 0),
      outcomes,
      onSlaBreach: c.ref(raw.on_sla_breach, [...c.path, 'on_sla_breach']),
    };
  },
  edges: (step) => [...Object.entries(step.outcomes).map(([outcome, next]) => ({ to: next, label: outcome })), { to: step.onSlaBreach, label: 'SLA breached' }],
  describe: (step) => `task for ${step.role}, SLA ${formatSpan(taskSla(step))}`,
  declares: { [TASK_COMPLETED]: TASK_COMPLETED_EVENT },
  awaits: () => [TASK_COMPLETED],
  deadline: (step) => ({ what: 'the task SLA', key: ['task', 'sla'], lasts: { span: taskSla(step) } }),
  scenario: { list: 'tasks', entry: (record) => `${record.step}: ${typeof record.detail.outcome === 'string' ? record.detail.outcome : 'sla breached'}` },
  refuses(step, event) {
    if (event.type !== TASK_COMPLETED || taskCompletes(step)(event)) return undefined;
    return `the open task is '${step.id}' with outcomes ${Object.keys(step.outcomes).join(', ')}`;
  },
};

const slaOf = (span: Span) => (typeof span === 'number' ? { slaMs: span } : { slaBusiness: span });

/** The task's SLA as written: milliseconds or business time. */
export const taskSla = (step: TaskStep): Span => spanOf(step.slaMs, step.slaBusiness) ?? 0;
