/** `tasks`: human tasks with an SLA, opened and closed by the case, claimed, completed and annotated by agents. */
import type { TaskClosure, TaskRequest } from '../plan/activities.js';
import type { Actor } from '../plan/case.js';
import { insertReturningId } from './insert-once.js';
import { decodeCursor, encodeCursor } from './keyset-cursor.js';
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
  await db.query(`UPDATE tasks SET status = $2, outcome = $3, completed_at = now() WHERE idempotency_key = $1 AND status = 'open'`, [
    closure.key,
    closure.breached ? 'breached' : 'done',
    closure.outcome,
  ]);
}

export type TaskStatus = 'open' | 'done' | 'breached';

export interface TaskListFilter {
  /** The task's queue: the role the playbook's task step names. */
  queue?: string;
  status?: TaskStatus;
  /** `me`: held by `keyId`; `unclaimed`: held by nobody; `any` (or absent): either. */
  claimed?: 'me' | 'unclaimed' | 'any';
  limit?: string;
  cursor?: string;
}

/** A task as the queue shows it, with its case. */
export interface Task {
  id: number;
  caseId: string;
  playbook: string | null;
  orderId: string | null;
  step: string;
  title: string;
  queue: string;
  outcomes: string[];
  status: TaskStatus;
  outcome: string | null;
  dueAt: string;
  createdAt: string;
  completedAt: string | null;
  claimed: { by: Actor; at: string } | null;
  completedBy: Actor | null;
  noteCount: number;
}

export interface TaskNote {
  id: number;
  text: string;
  by: Actor;
  at: string;
}

const TASK_COLUMNS = `t.id, t.case_id, c.playbook, c.order_id, t.step_id, t.title, t.role, t.outcomes, t.status, t.outcome, t.due_at,
  t.due_at::text AS due_at_exact, t.created_at, t.completed_at, t.claimed_by_key_id, t.claimed_by_name, t.claimed_at,
  t.completed_by_key_id, t.completed_by_name, (SELECT count(*) FROM task_notes n WHERE n.task_id = t.id)::int AS note_count
  FROM tasks t LEFT JOIN cases c ON c.case_id = t.case_id`;

const iso = (value: Date | null): string | null => value?.toISOString() ?? null;

// biome-ignore lint/suspicious/noExplicitAny: a pg row, typed by the query that read it
function taskOf(row: Record<string, any>): Task {
  return {
    id: Number(row.id),
    caseId: row.case_id,
    playbook: row.playbook,
    orderId: row.order_id,
    step: row.step_id,
    title: row.title,
    queue: row.role,
    outcomes: row.outcomes,
    status: row.status,
    outcome: row.outcome,
    dueAt: row.due_at.toISOString(),
    createdAt: row.created_at.toISOString(),
    completedAt: iso(row.completed_at),
    claimed: row.claimed_at ? { by: { keyId: row.claimed_by_key_id, name: row.claimed_by_name }, at: row.claimed_at.toISOString() } : null,
    completedBy: row.completed_by_name === null ? null : { keyId: row.completed_by_key_id, name: row.completed_by_name },
    noteCount: row.note_count,
  };
}

/** Tasks by due time, soonest first, paged by (due_at, id); `undefined` when the cursor is not one we issued. */
export async function listTasks(db: Queryable, filter: TaskListFilter, keyId: string): Promise<{ tasks: Task[]; nextCursor: string | null } | undefined> {
  const limit = filter.limit ? Number(filter.limit) : 50;
  const cursor = filter.cursor ? decodeCursor(filter.cursor, 'id') : undefined;
  if (filter.cursor && !cursor) return undefined;
  const claimed = filter.claimed ?? 'any';
  const { rows } = await db.query(
    `SELECT ${TASK_COLUMNS}
     WHERE ($1::text IS NULL OR t.role = $1) AND ($2::text IS NULL OR t.status = $2)
       AND ($3 = 'any' OR ($3 = 'me' AND t.claimed_by_key_id = $4) OR ($3 = 'unclaimed' AND t.claimed_at IS NULL))
       AND ($5::timestamptz IS NULL OR (t.due_at, t.id) > ($5::timestamptz, $6::bigint))
     ORDER BY t.due_at, t.id LIMIT $7`,
    [filter.queue ?? null, filter.status ?? null, claimed, keyId, cursor?.at ?? null, cursor?.key ?? null, limit + 1],
  );
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return { tasks: shown.map(taskOf), nextCursor: rows.length > limit && last ? encodeCursor({ at: last.due_at_exact, key: Number(last.id) }) : null };
}

export async function findTask(db: Queryable, id: number): Promise<Task | undefined> {
  const { rows } = await db.query(`SELECT ${TASK_COLUMNS} WHERE t.id = $1`, [id]);
  return rows[0] && taskOf(rows[0]);
}

/**
 * Claims an open task for `by`, unless someone else holds it or is completing it; claiming one's own
 * task again keeps the first claim. Answers whether `by` holds it now.
 */
export async function claimTask(db: Queryable, id: number, by: Actor): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE tasks SET claimed_by_key_id = $2, claimed_by_name = $3, claimed_at = COALESCE(claimed_at, now())
     WHERE id = $1 AND status = 'open' AND completed_by_name IS NULL AND (claimed_at IS NULL OR claimed_by_key_id = $2)`,
    [id, by.keyId, by.name],
  );
  return rowCount === 1;
}

/**
 * Moves the claim on an open task someone else holds to `by` (an ops lead or admin taking it over),
 * and writes the takeover to the audit trail in the same statement: the task, its step, whom it was
 * taken from. Answers whom it was taken from; undefined when nobody else holds it, or it is closed or
 * being completed.
 */
export async function takeOverTask(db: Queryable, id: number, by: Actor): Promise<Actor | undefined> {
  const { rows } = await db.query<{ from: Actor }>(
    `WITH held AS (
       SELECT id, case_id, step_id, claimed_by_key_id, claimed_by_name FROM tasks
       WHERE id = $1 AND status = 'open' AND completed_by_name IS NULL AND claimed_at IS NOT NULL AND claimed_by_key_id IS DISTINCT FROM $2
       FOR UPDATE
     ), moved AS (
       UPDATE tasks t SET claimed_by_key_id = $2, claimed_by_name = $3, claimed_at = now() FROM held WHERE t.id = held.id RETURNING t.id
     )
     INSERT INTO audit_events (idempotency_key, case_id, at, kind, step_id, detail, actor_key_id, actor_name)
     SELECT 'task/' || held.id || '/taken-over/' || (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, held.case_id, now(), 'task-taken-over',
       held.step_id, jsonb_build_object('task', held.id, 'from', jsonb_build_object('keyId', held.claimed_by_key_id, 'name', held.claimed_by_name)), $2, $3
     FROM held JOIN moved ON moved.id = held.id
     RETURNING detail->'from' AS from`,
    [id, by.keyId, by.name],
  );
  return rows[0]?.from;
}

/** Releases an open task's claim: `holder`'s own, or anyone's when `holder` is null. Answers whether it was released. */
export async function releaseTask(db: Queryable, id: number, holder: string | null): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE tasks SET claimed_by_key_id = NULL, claimed_by_name = NULL, claimed_at = NULL
     WHERE id = $1 AND status = 'open' AND completed_by_name IS NULL AND claimed_at IS NOT NULL AND ($2::text IS NULL OR claimed_by_key_id = $2)`,
    [id, holder],
  );
  return rowCount === 1;
}

/**
 * Records `by` as the one completing the open task, before its event is delivered, so that two agents
 * completing it at once do not both believe they did. Answers whether `by` is (now, or already) its completer.
 */
export async function markTaskCompleter(db: Queryable, id: number, by: Actor): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE tasks SET completed_by_key_id = $2, completed_by_name = $3
     WHERE id = $1 AND status = 'open' AND (claimed_at IS NULL OR claimed_by_key_id = $2)
       AND (completed_by_name IS NULL OR completed_by_key_id = $2)`,
    [id, by.keyId, by.name],
  );
  return rowCount === 1;
}

/** Forgets `by` as the completer of a task that is still open: the case refused the completion. */
export async function unmarkTaskCompleter(db: Queryable, id: number, by: Actor): Promise<void> {
  await db.query(`UPDATE tasks SET completed_by_key_id = NULL, completed_by_name = NULL WHERE id = $1 AND status = 'open' AND completed_by_key_id = $2`, [
    id,
    by.keyId,
  ]);
}

export async function addTaskNote(db: Queryable, taskId: number, by: Actor, text: string): Promise<TaskNote> {
  const { rows } = await db.query(`INSERT INTO task_notes (task_id, author_key_id, author_name, text) VALUES ($1, $2, $3, $4) RETURNING *`, [
    taskId,
    by.keyId,
    by.name,
    text,
  ]);
  return noteOf(rows[0]);
}

/** A task's notes, oldest first. */
export async function listTaskNotes(db: Queryable, taskId: number): Promise<TaskNote[]> {
  const { rows } = await db.query(`SELECT * FROM task_notes WHERE task_id = $1 ORDER BY id`, [taskId]);
  return rows.map(noteOf);
}

// biome-ignore lint/suspicious/noExplicitAny: a pg row, typed by the query that read it
const noteOf = (row: Record<string, any>): TaskNote => ({
  id: Number(row.id),
  text: row.text,
  by: { keyId: row.author_key_id, name: row.author_name },
  at: row.created_at.toISOString(),
});
