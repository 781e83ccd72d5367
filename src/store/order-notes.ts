/** `order_notes`: order remarks and flags, as the local order-system adapter keeps them. */
import type { OrderNoteRequest } from '../plan/activities.js';
import type { Queryable } from './transaction.js';

/** Writes the note once. */
export async function writeOrderNote(db: Queryable, note: OrderNoteRequest): Promise<void> {
  await db.query(
    `INSERT INTO order_notes (idempotency_key, case_id, order_id, remark, flag) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [note.key, note.caseId, note.orderId, note.remark, note.flag ?? null],
  );
}
