/** `escalations`: cases handed to a queue or role, with severity and reason. */
import type { EscalationRequest } from '../plan/activities.js';
import { insertReturningId } from './insert-once.js';
import type { Queryable } from './transaction.js';

/** Opens the escalation once and returns its id; the same key again returns the first row's id. */
export async function openEscalation(db: Queryable, escalation: EscalationRequest): Promise<number> {
  return insertReturningId(
    db,
    `INSERT INTO escalations (idempotency_key, case_id, step_id, queue, severity, reason, note)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [escalation.key, escalation.caseId, escalation.stepId, escalation.queue, escalation.severity, escalation.reason, escalation.note ?? null],
  );
}
