/** `inbound_events`: signed events other systems posted, one row per sender's `webhook-id`, with what each came to. */
import type { Plan } from '../plan/plan.js';
import type { Queryable } from './transaction.js';

export interface InboundEventRow {
  id: number;
  source: string;
  webhookId: string;
  type: string;
  data: Record<string, unknown>;
  sentAt: string;
  receivedAt: string;
  /** What the event came to; null while it is handled (or after a crash in between). */
  answer: unknown;
}

interface Row {
  id: string;
  source: string;
  webhook_id: string;
  type: string;
  data: Record<string, unknown>;
  sent_at: Date;
  received_at: Date;
  answer: unknown;
}

const COLUMNS = 'id, source, webhook_id, type, data, sent_at, received_at, answer';

const rowOf = (row: Row): InboundEventRow => ({
  id: Number(row.id),
  source: row.source,
  webhookId: row.webhook_id,
  type: row.type,
  data: row.data,
  sentAt: row.sent_at.toISOString(),
  receivedAt: row.received_at.toISOString(),
  answer: row.answer,
});

/**
 * Writes a verified event, or finds the row its `webhook-id` already has (then nothing is written:
 * the first content stands). `created` says which.
 */
export async function receiveSignedEvent(
  db: Queryable,
  event: { source: string; webhookId: string; type: string; data: Record<string, unknown>; sentAt: string },
): Promise<{ row: InboundEventRow; created: boolean }> {
  const { rows } = await db.query<Row>(
    `INSERT INTO inbound_events (source, webhook_id, type, data, sent_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (source, webhook_id) DO NOTHING RETURNING ${COLUMNS}`,
    [event.source, event.webhookId, event.type, JSON.stringify(event.data), event.sentAt],
  );
  if (rows[0]) return { row: rowOf(rows[0]), created: true };
  const { rows: existing } = await db.query<Row>(`SELECT ${COLUMNS} FROM inbound_events WHERE source = $1 AND webhook_id = $2`, [
    event.source,
    event.webhookId,
  ]);
  return { row: rowOf(existing[0]!), created: false };
}

/** Records what the event came to, unless an answer is there already; answers the one that stands. */
export async function answerSignedEvent(db: Queryable, id: number, answer: unknown): Promise<unknown> {
  const { rows } = await db.query<{ answer: unknown }>(
    `UPDATE inbound_events SET answer = $2, answered_at = now() WHERE id = $1 AND answer IS NULL RETURNING answer`,
    [id, JSON.stringify(answer)],
  );
  if (rows[0]) return rows[0].answer;
  const { rows: existing } = await db.query<{ answer: unknown }>(`SELECT answer FROM inbound_events WHERE id = $1`, [id]);
  return existing[0]!.answer;
}

/** Events still unanswered `olderThanMs` after they arrived (a crash while they were handled), oldest first. */
export async function unansweredSignedEvents(db: Queryable, olderThanMs: number, limit: number): Promise<InboundEventRow[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM inbound_events WHERE answer IS NULL AND received_at < now() - $1 * interval '1 millisecond' ORDER BY id LIMIT $2`,
    [olderThanMs, limit],
  );
  return rows.map(rowOf);
}

/** A published playbook's current version whose plan opens a case on the event. */
export interface OpeningPlaybook {
  name: string;
  version: number;
  plan: Plan;
}

/** The playbooks whose current (highest) version opens a case on `type` from `source`, by name. */
export async function playbooksOpeningOn(db: Queryable, source: string, type: string): Promise<OpeningPlaybook[]> {
  const { rows } = await db.query<OpeningPlaybook>(
    `SELECT name, version, plan FROM (
       SELECT DISTINCT ON (name) name, version, plan FROM playbook_versions ORDER BY name, version DESC
     ) latest
     WHERE plan -> 'opensOn' ->> 'source' = $1 AND plan -> 'opensOn' ->> 'event' = $2
     ORDER BY name`,
    [source, type],
  );
  return rows;
}
