/** `case_events`: every event a case accepted, by the sender's id, so a repeat is a duplicate even after the case closed. */
import type { CaseEvent, CaseStatus } from '../plan/case.js';
import type { Queryable } from './transaction.js';

/** The case's status and whether it already accepted an event with this id; undefined when there is no such case. */
export async function caseBeforeEvent(db: Queryable, caseId: string, eventId: string): Promise<{ status: CaseStatus; seen: boolean } | undefined> {
  const { rows } = await db.query<{ status: CaseStatus; seen: boolean }>(
    `SELECT status, EXISTS (SELECT 1 FROM case_events WHERE case_id = $1 AND event_id = $2) AS seen FROM cases WHERE case_id = $1`,
    [caseId, eventId],
  );
  return rows[0];
}

/**
 * Logs an accepted event once, with who delivered it (`event.by`; none recorded when absent) and when
 * Casebook took it (its inbox entry's time: the case may act on it, e.g. refund, before this row is written).
 */
export async function logCaseEvent(db: Queryable, caseId: string, event: CaseEvent, receivedAt: string): Promise<void> {
  await db.query(
    `INSERT INTO case_events (case_id, event_id, type, payload, actor_key_id, actor_name, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
    [caseId, event.id, event.type, JSON.stringify(event.payload), event.by?.keyId ?? null, event.by?.name ?? null, receivedAt],
  );
}
