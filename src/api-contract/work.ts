/** What the agent-work routes answer: tasks with their notes (`/v1/tasks`) and escalations (`/v1/escalations`). */
import { Actor, CaseView } from './cases.js';
import { exact, integer, list, nullable, nullableString, oneOf, string, type Static } from './schema.js';

export const TaskStatus = oneOf('open', 'done', 'breached');
export type TaskStatus = Static<typeof TaskStatus>;

const TASK = {
  id: integer,
  caseId: string,
  playbook: nullableString,
  orderId: nullableString,
  step: string,
  title: string,
  queue: string,
  outcomes: list(string),
  status: TaskStatus,
  outcome: nullableString,
  dueAt: string,
  /** The time left on its SLA when answered (negative when overdue; null once the task is closed). */
  timeLeftMs: nullable(integer),
  createdAt: string,
  completedAt: nullableString,
  claimed: nullable(exact({ by: Actor, at: string })),
  completedBy: nullable(Actor),
  noteCount: integer,
};

export const Task = exact(TASK);
export type Task = Static<typeof Task>;

export const TaskNote = exact({ id: integer, text: string, by: Actor, at: string });
export type TaskNote = Static<typeof TaskNote>;

export const TaskWithNotes = exact({ ...TASK, notes: list(TaskNote) });
export type TaskWithNotes = Static<typeof TaskWithNotes>;

export const TaskPage = exact({ tasks: list(Task), nextCursor: nullableString, asOf: string });
export type TaskPage = Static<typeof TaskPage>;

/** A task completed: the task, and its case as it is now. */
export const TaskCompletion = exact({ status: oneOf('accepted', 'duplicate'), task: Task, case: nullable(CaseView) });
export type TaskCompletion = Static<typeof TaskCompletion>;

export const EscalationStatus = oneOf('open', 'acknowledged', 'resolved');
export type EscalationStatus = Static<typeof EscalationStatus>;

export const Escalation = exact({
  id: integer,
  caseId: string,
  playbook: nullableString,
  orderId: nullableString,
  step: string,
  queue: string,
  severity: string,
  reason: string,
  note: nullableString,
  status: EscalationStatus,
  createdAt: string,
  acknowledged: nullable(exact({ by: Actor, at: string })),
  resolved: nullable(exact({ by: Actor, at: string, resolution: string })),
});
export type Escalation = Static<typeof Escalation>;

export const EscalationPage = exact({ escalations: list(Escalation), nextCursor: nullableString });
export type EscalationPage = Static<typeof EscalationPage>;
