/**
 * `webhook_attempts`: every attempt to deliver a side effect to an outbound webhook destination. An
 * attempt is begun (numbered per webhook id) before the request leaves and finished once with what
 * happened; a row never finished was cut short by a crash.
 */
import type { Queryable } from './transaction.js';

export type AttemptOutcome = 'delivered' | 'pending' | 'refused' | 'failed';

export interface AttemptStart {
  destination: string;
  /** The side effect's idempotency key, sent as `webhook-id`. */
  webhookId: string;
  caseId: string | null;
  stepId: string | null;
  type: string;
  /** Who asked for the attempt: undefined for the schedule's own, the admin for a redelivery. */
  requestedBy?: { keyId: string | null; name: string };
}

export interface AttemptEnd {
  latencyMs: number;
  httpStatus: number | null;
  /** Why no usable answer came: timeout, connection, dns, tls, private_address, too_large, status, redirect, unreadable, circuit_open, busy, secret, internal. */
  errorKind: string | null;
  responseExcerpt: string | null;
  outcome: AttemptOutcome;
}

export interface WebhookAttempt extends Omit<AttemptStart, 'requestedBy'>, Omit<AttemptEnd, 'outcome' | 'latencyMs'> {
  id: number;
  /** The admin who asked for this attempt (a redelivery); null for the schedule's. */
  requestedBy: string | null;
  attempt: number;
  startedAt: string;
  latencyMs: number | null;
  /** Null while the attempt is in flight, or when a crash cut it short. */
  outcome: AttemptOutcome | null;
}

/** The most bytes of an answer kept (the column's check allows 4096). */
export const EXCERPT_BYTES = 2048;

/**
 * Numbers and records the attempt; answers its id, its number and how many of the schedule's attempts
 * there are with it (`scheduled`: an admin's redelivery is none of them). Two racing attempts of one
 * key get distinct numbers.
 */
export async function beginAttempt(db: Queryable, start: AttemptStart): Promise<{ id: number; attempt: number; scheduled: number }> {
  for (;;) {
    const { rows } = await db.query<{ id: number; attempt: number; scheduled: number }>(
      `INSERT INTO webhook_attempts (destination, webhook_id, case_id, step_id, type, attempt, requested_by_key_id, requested_by_name)
       SELECT $1, $2, $3, $4, $5, coalesce(max(attempt), 0) + 1, $6, $7 FROM webhook_attempts WHERE webhook_id = $2
       ON CONFLICT (webhook_id, attempt) DO NOTHING
       RETURNING id, attempt,
         (SELECT count(*) FROM webhook_attempts WHERE webhook_id = $2 AND requested_by_name IS NULL)::int + (CASE WHEN $7::text IS NULL THEN 1 ELSE 0 END) AS scheduled`,
      [start.destination, start.webhookId, start.caseId, start.stepId, start.type, start.requestedBy?.keyId ?? null, start.requestedBy?.name ?? null],
    );
    if (rows[0]) return rows[0];
  }
}

/** Records how the attempt ended; an attempt already finished keeps its first ending. */
export async function finishAttempt(db: Queryable, id: number, end: AttemptEnd): Promise<void> {
  await db.query(
    `UPDATE webhook_attempts SET latency_ms = $2, http_status = $3, error_kind = $4, response_excerpt = $5, outcome = $6
     WHERE id = $1 AND outcome IS NULL`,
    [id, Math.max(0, Math.round(end.latencyMs)), end.httpStatus, end.errorKind, end.responseExcerpt, end.outcome],
  );
}

/**
 * A webhook id's latest attempt: how many the schedule made (an admin's redelivery is not one of them,
 * so it never uses up the schedule) and how the latest of all ended; undefined before the first.
 */
export async function latestAttempt(db: Queryable, webhookId: string): Promise<{ attempt: number; outcome: AttemptOutcome | null } | undefined> {
  const { rows } = await db.query<{ attempt: number; outcome: AttemptOutcome | null }>(
    `SELECT count(*) FILTER (WHERE requested_by_name IS NULL)::int AS attempt, (array_agg(outcome ORDER BY attempt DESC))[1] AS outcome
     FROM webhook_attempts WHERE webhook_id = $1 HAVING count(*) > 0`,
    [webhookId],
  );
  return rows[0];
}

type Row = {
  id: number;
  destination: string;
  webhook_id: string;
  case_id: string | null;
  step_id: string | null;
  type: string;
  attempt: number;
  started_at: Date;
  latency_ms: number | null;
  http_status: number | null;
  error_kind: string | null;
  response_excerpt: string | null;
  outcome: AttemptOutcome | null;
  requested_by_name: string | null;
};

const COLUMNS = `id, destination, webhook_id, case_id, step_id, type, attempt, started_at, latency_ms, http_status, error_kind, response_excerpt, outcome, requested_by_name`;

const attemptOf = (row: Row): WebhookAttempt => ({
  id: row.id,
  destination: row.destination,
  webhookId: row.webhook_id,
  caseId: row.case_id,
  stepId: row.step_id,
  type: row.type,
  attempt: row.attempt,
  startedAt: row.started_at.toISOString(),
  latencyMs: row.latency_ms,
  httpStatus: row.http_status,
  errorKind: row.error_kind,
  responseExcerpt: row.response_excerpt,
  outcome: row.outcome,
  requestedBy: row.requested_by_name,
});

/** One webhook id's attempts, in order. */
export async function attemptsOf(db: Queryable, webhookId: string): Promise<WebhookAttempt[]> {
  const { rows } = await db.query<Row>(`SELECT ${COLUMNS} FROM webhook_attempts WHERE webhook_id = $1 ORDER BY attempt`, [webhookId]);
  return rows.map(attemptOf);
}
