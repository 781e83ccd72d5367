/**
 * A case's progress report, written as one statement (atomic, one round trip): the `cases` projection
 * and the `audit_events` not yet written, one row per interpreter decision, numbered from 1. A repeated
 * report (a retried local activity) writes each audit event once and the same projection again.
 */
import type { ProgressReport } from '../plan/case.js';
import type { Queryable } from './transaction.js';

export async function recordProgress(db: Queryable, { audit, ...progress }: ProgressReport): Promise<void> {
  await db.query(
    `WITH projection AS (
       UPDATE cases SET status = $2, current_step = $3, waiting_for = $4, deadlines = $5, data = $6,
         outcome = $7, reason = $8, updated_at = now(),
         closed_at = CASE WHEN $2 = 'closed' THEN COALESCE(closed_at, now()) ELSE NULL END,
         return_tracking = COALESCE($9, return_tracking)
       WHERE case_id = $1
     )
     INSERT INTO audit_events (idempotency_key, case_id, seq, at, kind, step_id, detail)
     SELECT $1 || '/audit/' || e.seq, $1, e.seq, e.at, e.kind, e.step, e.detail
     FROM jsonb_to_recordset($10::jsonb) AS e(seq integer, at timestamptz, kind text, step text, detail jsonb)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [
      progress.caseId, progress.status, progress.step, JSON.stringify(progress.waitingFor), JSON.stringify(progress.deadlines),
      JSON.stringify(progress.data), progress.outcome?.outcome ?? null, progress.outcome?.reason ?? null, progress.returnTracking,
      JSON.stringify(audit.map(({ seq, record }) => ({ seq, at: record.at, kind: record.kind, step: record.step, detail: record.detail ?? {} }))),
    ],
  );
}
