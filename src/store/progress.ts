/**
 * A case's progress report, written as one statement (atomic, one round trip): the `cases` projection
 * and the `audit_events` not yet written, one row per interpreter decision, numbered from 1. A repeated
 * report (a retried local activity) writes each audit event once and the same projection again.
 * Each row names its actor: the one its record's `detail.by` names (an event's deliverer, an admin's
 * repair), else `casebook`. The audit trigger chains the rows (migrations/308_audit_chain.sql).
 */
import type { ProgressReport } from '../plan/case.js';
import { actorOfDetail } from './audit-chain.js';
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
     INSERT INTO audit_events (idempotency_key, case_id, seq, at, kind, step_id, detail, actor_key_id, actor_name)
     SELECT $1 || '/audit/' || e.seq, $1, e.seq, e.at, e.kind, e.step, e.detail, e.actor_key_id, e.actor_name
     FROM jsonb_to_recordset($10::jsonb) AS e(seq integer, at timestamptz, kind text, step text, detail jsonb, actor_key_id text, actor_name text)
     ORDER BY e.seq
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [
      progress.caseId,
      progress.status,
      progress.step,
      JSON.stringify(progress.waitingFor),
      JSON.stringify(progress.deadlines),
      JSON.stringify(progress.data),
      progress.outcome?.outcome ?? null,
      progress.outcome?.reason ?? null,
      progress.returnTracking,
      JSON.stringify(
        audit.map(({ seq, record }) => {
          const by = actorOfDetail(record.detail);
          return { seq, at: record.at, kind: record.kind, step: record.step, detail: record.detail ?? {}, actor_key_id: by.keyId, actor_name: by.name };
        }),
      ),
    ],
  );
}
