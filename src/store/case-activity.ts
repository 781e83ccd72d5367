/** What people did or are asked to do on one case: its tasks and its order remarks, oldest first. */
import type { Queryable } from './transaction.js';

export interface CaseActivity {
  tasks: {
    stepId: string;
    role: string;
    title: string;
    outcomes: string[];
    dueAt: string;
    status: string;
    outcome: string | null;
    createdAt: string;
    completedAt: string | null;
  }[];
  remarks: { stepId: string; orderId: string | null; remark: string | null; flag: string | null; at: string }[];
}

/** Undefined when there is no such case. */
export async function caseActivity(db: Queryable, caseId: string): Promise<CaseActivity | undefined> {
  const { rows } = await db.query(
    `SELECT
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
          'stepId', step_id, 'role', role, 'title', title, 'outcomes', outcomes, 'dueAt', due_at, 'status', status, 'outcome', outcome,
          'createdAt', created_at, 'completedAt', completed_at) ORDER BY id), '[]') FROM tasks WHERE case_id = c.case_id) AS tasks,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
          'stepId', split_part(idempotency_key, '/', 2), 'orderId', order_id, 'remark', remark, 'flag', flag, 'at', created_at) ORDER BY id), '[]')
        FROM order_notes WHERE case_id = c.case_id) AS remarks
     FROM cases c WHERE c.case_id = $1`,
    [caseId],
  );
  const row = rows[0];
  if (!row) return undefined;
  const instant = (value: string | null) => (value === null ? null : new Date(value).toISOString());
  return {
    tasks: (row.tasks as CaseActivity['tasks']).map((task) => ({
      ...task,
      dueAt: instant(task.dueAt)!,
      createdAt: instant(task.createdAt)!,
      completedAt: instant(task.completedAt),
    })),
    remarks: (row.remarks as CaseActivity['remarks']).map((remark) => ({ ...remark, at: instant(remark.at)! })),
  };
}
