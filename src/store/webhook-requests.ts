/**
 * `webhook_requests`: what each outbound webhook delivery sends, kept once per webhook id when its
 * first attempt starts, so that an admin can deliver it again byte for byte (migration 319); and the
 * record of such a redelivery: its attempt, numbered after the others with who asked, and its row in
 * the audit trail, written together.
 */
import type { Actor } from '../plan/case.js';
import type { Pool } from './pool.js';
import { withTransaction, type Queryable } from './transaction.js';
import { type AttemptOutcome, type AttemptStart, beginAttempt } from './webhook-attempts.js';

export interface KeptRequest {
  webhookId: string;
  destination: string;
  type: string;
  caseId: string | null;
  stepId: string | null;
  /** The envelope's `data` as it was serialized for the first attempt. */
  data: string;
}

/** Keeps what a delivery sends; the first kept for a webhook id stays (every attempt sends the same). */
export async function keepRequest(db: Queryable, request: KeptRequest): Promise<void> {
  await db.query(
    `INSERT INTO webhook_requests (webhook_id, destination, type, case_id, step_id, data) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (webhook_id) DO NOTHING`,
    [request.webhookId, request.destination, request.type, request.caseId, request.stepId, request.data],
  );
}

/** A delivery as a redelivery sees it: what it sent (undefined when not kept), its latest attempt and whether any was delivered. */
export interface DeliveryState {
  webhookId: string;
  destination: string;
  type: string;
  caseId: string | null;
  request: KeptRequest | undefined;
  latestOutcome: AttemptOutcome | null;
  latestStartedAt: string;
  attempts: number;
  delivered: boolean;
}

/** Undefined when no attempt was ever made under this webhook id. */
export async function deliveryState(db: Queryable, webhookId: string): Promise<DeliveryState | undefined> {
  const { rows } = await db.query<{
    destination: string;
    type: string;
    case_id: string | null;
    outcome: AttemptOutcome | null;
    attempt: number;
    started_at: Date;
    delivered: boolean;
    kept_destination: string | null;
    kept_type: string | null;
    kept_case_id: string | null;
    kept_step_id: string | null;
    kept_data: string | null;
  }>(
    `SELECT a.destination, a.type, a.case_id, a.outcome, a.attempt, a.started_at,
       EXISTS (SELECT 1 FROM webhook_attempts d WHERE d.webhook_id = a.webhook_id AND d.outcome = 'delivered') AS delivered,
       r.destination AS kept_destination, r.type AS kept_type, r.case_id AS kept_case_id, r.step_id AS kept_step_id, r.data AS kept_data
     FROM webhook_attempts a LEFT JOIN webhook_requests r ON r.webhook_id = a.webhook_id
     WHERE a.webhook_id = $1 ORDER BY a.attempt DESC LIMIT 1`,
    [webhookId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    webhookId,
    destination: row.destination,
    type: row.type,
    caseId: row.case_id,
    request:
      row.kept_data === null
        ? undefined
        : { webhookId, destination: row.kept_destination!, type: row.kept_type!, caseId: row.kept_case_id, stepId: row.kept_step_id, data: row.kept_data },
    latestOutcome: row.outcome,
    latestStartedAt: row.started_at.toISOString(),
    attempts: row.attempt,
    delivered: row.delivered,
  };
}

/**
 * Begins an admin's redelivery: its attempt (numbered after the others, with who asked) and the
 * `delivery-redelivered` row of the audit trail (the case, the step, the webhook id, the attempt,
 * by whom), in one transaction: no redelivery leaves without its record.
 */
export async function beginRedelivery(pool: Pool, start: Omit<AttemptStart, 'requestedBy'>, by: Actor): Promise<{ id: number; attempt: number }> {
  return withTransaction(pool, async (client) => {
    const begun = await beginAttempt(client, { ...start, requestedBy: by });
    await client.query(
      `INSERT INTO audit_events (idempotency_key, case_id, at, kind, step_id, detail, actor_key_id, actor_name)
       VALUES ('delivery/' || $1 || '/' || $2 || '/redelivered', $3, now(), 'delivery-redelivered', $4, $5, $6, $7)`,
      [
        start.webhookId,
        begun.attempt,
        start.caseId,
        start.stepId,
        JSON.stringify({ webhookId: start.webhookId, attempt: begun.attempt, type: start.type, destination: start.destination }),
        by.keyId,
        by.name,
      ],
    );
    return begun;
  });
}
