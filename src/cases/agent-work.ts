/**
 * An agent completes a human task: the completion is the case's `task.completed` event, delivered
 * through the event inbox exactly as `POST /v1/cases/{caseId}/events` delivers it, attributed to the
 * agent, with an event id derived from the task so that a retry is a duplicate, never a second event.
 * The workflow closes the task row with its outcome (its `closeTask` activity); the agent who
 * completed it is recorded beside it here, before delivery, so two agents cannot both complete it.
 * Only this way in: the events route and the inbox refuse `task.completed` (`reservedEventReason`),
 * so a task is completed by the one who holds it (or, unclaimed, by the one completing it), never
 * around the claim.
 */
import type { Actor } from '../plan/case.js';
import { completionEventId, TASK_COMPLETED } from '../plan/steps/task.js';
import type { Pool } from '../store/pool.js';
import { addTaskNote, findTask, markTaskCompleter, unmarkTaskCompleter, type Task } from '../store/tasks.js';
import type { DeliveryResult, EventInbox } from './inbox.js';
import type { CaseDescription, CaseService } from './service.js';

export interface TaskCompletionRequest {
  taskId: number;
  outcome: string;
  /** Written as a note on the task when the case takes the completion. */
  note?: string;
  by: Actor;
}

export type TaskCompletion =
  | { kind: 'unknown-task' }
  | { kind: 'unknown-outcome'; task: Task }
  /** Done, breached, or being completed by someone else. */
  | { kind: 'not-open'; task: Task }
  | { kind: 'claimed-by-other'; task: Task }
  /** The case took the completion (`accepted`), or had already taken it (`duplicate`); the task and case as they are now. */
  | { kind: 'completed'; status: 'accepted' | 'duplicate'; task: Task; case: CaseDescription | null }
  /** The case refused it (it does not wait for this task, or has closed); the task stays open and unclaimed by the attempt. */
  | { kind: 'refused'; caseId: string; result: DeliveryResult };

/**
 * Why an event of this type may not be sent to a case directly (the events route, an inbox delivery),
 * or undefined when it may: a task's completion goes through the task, whose claim decides who may.
 */
export function reservedEventReason(type: string): string | undefined {
  return type === TASK_COMPLETED ? `${TASK_COMPLETED} is delivered by completing the task: POST /v1/tasks/{id}/complete, by the key that holds it` : undefined;
}

/** The id of the `task.completed` event a task's completion is delivered as: the case's task step reads it. */
export { completionEventId };

export async function completeTask(deps: { pool: Pool; inbox: EventInbox; cases: CaseService }, request: TaskCompletionRequest): Promise<TaskCompletion> {
  const task = await findTask(deps.pool, request.taskId);
  if (!task) return { kind: 'unknown-task' };
  if (!task.outcomes.includes(request.outcome)) return { kind: 'unknown-outcome', task };
  // One's own completion again (its answer was lost, or the case closed the task since): answered as the case answers it, duplicate.
  const retry = task.status === 'done' && task.outcome === request.outcome && task.completedBy?.keyId === request.by.keyId;
  if (task.status !== 'open' && !retry) return { kind: 'not-open', task };
  if (!retry && !(await markTaskCompleter(deps.pool, task.id, request.by))) {
    const now = (await findTask(deps.pool, task.id))!;
    const heldByOther = now.status === 'open' && now.completedBy === null && now.claimed !== null && now.claimed.by.keyId !== request.by.keyId;
    return heldByOther ? { kind: 'claimed-by-other', task: now } : { kind: 'not-open', task: now };
  }
  const result = await deps.inbox.deliverEvent(task.caseId, {
    type: TASK_COMPLETED,
    id: completionEventId(task.id),
    payload: { task: task.step, outcome: request.outcome },
    by: request.by,
  });
  if (result.status !== 'accepted' && result.status !== 'duplicate') {
    if (!retry) await unmarkTaskCompleter(deps.pool, task.id, request.by);
    return { kind: 'refused', caseId: task.caseId, result };
  }
  if (result.status === 'accepted' && request.note !== undefined) await addTaskNote(deps.pool, task.id, request.by, request.note);
  const moved = await caseMovedOn(deps.cases, task);
  return { kind: 'completed', status: result.status, task: (await findTask(deps.pool, task.id))!, case: moved };
}

/** How long a completion waits for its case to report the step after the task. */
export const MOVED_ON_DEADLINE_MS = 5_000;

/**
 * The case once it reports having left the task's step (or closed). The case takes the event at
 * once, but reports where it went only at its next wait, after the activities on the way (closing
 * the task, opening the next one) ran; past MOVED_ON_DEADLINE_MS, the case as it is then.
 */
async function caseMovedOn(cases: CaseService, task: Task): Promise<CaseDescription | null> {
  const deadline = Date.now() + MOVED_ON_DEADLINE_MS;
  for (;;) {
    const now = await cases.describe(task.caseId);
    if (!now || now.status === 'closed' || now.step !== task.step || Date.now() >= deadline) return now;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
