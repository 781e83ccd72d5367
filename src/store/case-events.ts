/** `case_events`: every event a case accepted, by the sender's id, so a repeat is a duplicate even after the case closed. */
import type { CaseEvent } from '../plan/case.js';
import type { Queryable } from './transaction.js';

export async function hasCaseEvent(db: Queryable, caseId: string, eventId: string): Promise<boolean> {
  const { rowCount } = await db.query(`SELECT 1 FROM case_events WHERE case_id = $1 AND event_id = $2`, [caseId, eventId]);
  return (rowCount ?? 0) > 0;
}

/** Logs an accepted event once. */
export async function logCaseEvent(db: Queryable, caseId: string, event: CaseEvent): Promise<void> {
  await db.query(
    `INSERT INTO case_events (case_id, event_id, type, payload) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
    [caseId, event.id, event.type, JSON.stringify(event.payload)],
  );
}
