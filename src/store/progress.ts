/**
 * A case's progress report, written in one call (atomic, one round trip): the `cases` projection and
 * the audit rows from `from` on, one per interpreter decision, numbered from 1. A repeated report (a
 * retried local activity) writes each row once and the same projection again; rows in the trail from
 * `from` on that the report does not state (written by a workflow task that did not commit) are voided;
 * a report from a workflow task older than the last that reported writes nothing and answers false
 * (migrations/329_audit_voided.sql). Each row names its actor: the one its record's `detail.by` names
 * (an event's deliverer, an admin's repair), else `casebook`. The audit trigger chains the rows
 * (migrations/308_audit_chain.sql).
 */
import type { ProgressReport } from '../plan/case.js';
import { actorOfDetail } from './audit-chain.js';
import type { Queryable } from './transaction.js';

export async function recordProgress(db: Queryable, { audit, decidedIn, from, ...progress }: ProgressReport): Promise<boolean> {
  const { rows } = await db.query<{ written: boolean }>('SELECT record_case_progress($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) AS written', [
    progress.caseId,
    progress.status,
    progress.step,
    JSON.stringify(progress.waitingFor),
    JSON.stringify(progress.deadlines),
    JSON.stringify(progress.data),
    progress.outcome?.outcome ?? null,
    progress.outcome?.reason ?? null,
    progress.returnTracking,
    decidedIn?.at ?? null,
    decidedIn?.runStartedAt ?? null,
    decidedIn?.task ?? null,
    from ?? null,
    JSON.stringify(
      audit.map(({ seq, record }) => {
        const by = actorOfDetail(record.detail);
        return { seq, at: record.at, kind: record.kind, step: record.step, detail: record.detail ?? {}, actor_key_id: by.keyId, actor_name: by.name };
      }),
    ),
  ]);
  return rows[0]?.written ?? false;
}
