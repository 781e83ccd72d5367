/** What people did or are asked to do on one case: its tasks, its order remarks and its webhook deliveries, oldest first. */
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
  /** Every attempt to deliver one of its side effects to a webhook destination (the latest DELIVERIES_SHOWN). */
  deliveries: {
    type: string;
    webhookId: string;
    stepId: string | null;
    destination: string;
    attempt: number;
    startedAt: string;
    latencyMs: number | null;
    httpStatus: number | null;
    errorKind: string | null;
    /** Null while in flight, or when a crash cut the attempt short. */
    outcome: string | null;
    responseExcerpt: string | null;
    /** The admin who asked for this attempt (a redelivery); null for the schedule's own. */
    requestedBy: string | null;
  }[];
}

/** The most delivery attempts a case's activity lists (the latest): a refund asked for days has dozens. */
export const DELIVERIES_SHOWN = 200;

/** Undefined when there is no such case. */
export async function caseActivity(db: Queryable, caseId: string): Promise<CaseActivity | undefined> {
  const { rows } = await db.query(
    `SELECT
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
          'stepId', step_id, 'role', role, 'title', title, 'outcomes', outcomes, 'dueAt', due_at, 'status', status, 'outcome', outcome,
          'createdAt', created_at, 'completedAt', completed_at) ORDER BY id), '[]') FROM tasks WHERE case_id = c.case_id) AS tasks,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
          'stepId', split_part(idempotency_key, '/', 2), 'orderId', order_id, 'remark', remark, 'flag', flag, 'at', created_at) ORDER BY id), '[]')
        FROM order_notes WHERE case_id = c.case_id) AS remarks,
       (SELECT coalesce(jsonb_agg(jsonb_build_object(
          'type', type, 'webhookId', webhook_id, 'stepId', step_id, 'destination', destination, 'attempt', attempt,
          'startedAt', started_at, 'latencyMs', latency_ms, 'httpStatus', http_status, 'errorKind', error_kind, 'outcome', outcome,
          'responseExcerpt', response_excerpt, 'requestedBy', requested_by_name) ORDER BY id), '[]')
        FROM (SELECT * FROM webhook_attempts WHERE case_id = c.case_id ORDER BY id DESC LIMIT $2) latest) AS deliveries
     FROM cases c WHERE c.case_id = $1`,
    [caseId, DELIVERIES_SHOWN],
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
    deliveries: (row.deliveries as CaseActivity['deliveries']).map((delivery) => ({ ...delivery, startedAt: instant(delivery.startedAt)! })),
  };
}
