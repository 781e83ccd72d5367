/** `tasks`: human tasks with an SLA, opened and closed by the case. */
import type { TaskClosure, TaskRequest } from '../plan/activities.js';
import { insertReturningId } from './insert-once.js';
import type { Queryable } from './transaction.js';

/** Opens the task once and returns its id; the same key again returns the first row's id. */
export async function openTask(db: Queryable, task: TaskRequest): Promise<number> {
  return insertReturningId(
    db,
    `INSERT INTO tasks (idempotency_key, case_id, step_id, role, title, outcomes, due_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [task.key, task.caseId, task.stepId, task.role, task.title, JSON.stringify(task.outcomes), task.dueAt],
  );
}

/** Closes an open task as done (with its outcome) or breached; a closed task stays as it was closed. */
export async function closeTask(db: Queryable, closure: TaskClosure): Promise<void> {
  await db.query(
    `UPDATE tasks SET status = $2, outcome = $3, completed_at = now() WHERE idempotency_key = $1 AND status = 'open'`,
    [closure.key, closure.breached ? 'breached' : 'done', closure.outcome],
  );
}
