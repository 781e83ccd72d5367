/** `outbox_messages`: every message to a buyer, agent or group; the channel adapter delivers pending rows. */
import type { MessageRequest } from '../plan/activities.js';
import { insertReturningId } from './insert-once.js';
import type { Queryable } from './transaction.js';

/** Writes the message once and returns its id; the same key again returns the first row's id. */
export async function insertOutboxMessage(db: Queryable, message: MessageRequest): Promise<number> {
  return insertReturningId(
    db,
    `INSERT INTO outbox_messages (idempotency_key, case_id, step_id, recipient_kind, recipient, channel, template, body, subject, language)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      message.key,
      message.caseId,
      message.stepId,
      message.recipient.kind,
      message.recipient.name ?? null,
      message.channel,
      message.template,
      message.body,
      message.subject ?? null,
      message.language ?? null,
    ],
  );
}

/** Marks a pending message sent; a message already sent keeps its first `sent_at`. */
export async function markMessageSent(db: Queryable, messageId: number): Promise<void> {
  await db.query(`UPDATE outbox_messages SET status = 'sent', sent_at = now() WHERE id = $1 AND status = 'pending'`, [messageId]);
}
