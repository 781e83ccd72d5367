/** `audit_events`: what happened to a case and why, one row per interpreter decision, numbered from 1. */
import type { StepRecord } from '../plan/case.js';
import type { Queryable } from './transaction.js';

/** Writes the case's `seq`-th audit event once: a repeat (a retried report) changes nothing. */
export async function insertAuditEvent(db: Queryable, caseId: string, seq: number, record: StepRecord): Promise<void> {
  await db.query(
    `INSERT INTO audit_events (idempotency_key, case_id, seq, at, kind, step_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [`${caseId}/audit/${seq}`, caseId, seq, record.at, record.kind, record.step, JSON.stringify(record.detail ?? {})],
  );
}
