/** `escalations`: cases handed to a queue or role, with severity and reason; acknowledged and resolved by people. */
import type { EscalationRequest } from '../plan/activities.js';
import type { Actor } from '../plan/case.js';
import { recordBulkEscalated } from './audit-chain.js';
import { insertReturningId } from './insert-once.js';
import { decodeCursor, encodeCursor } from './keyset-cursor.js';
import type { Pool } from './pool.js';
import { withTransaction, type Queryable } from './transaction.js';

/** Opens the escalation once and returns its id; the same key again returns the first row's id. */
export async function openEscalation(db: Queryable, escalation: EscalationRequest): Promise<number> {
  return insertReturningId(
    db,
    `INSERT INTO escalations (idempotency_key, case_id, step_id, queue, severity, reason, note)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [escalation.key, escalation.caseId, escalation.stepId, escalation.queue, escalation.severity, escalation.reason, escalation.note ?? null],
  );
}

/** A bulk job's escalation of a case: the escalation and its `bulk-escalated` audit row, in one transaction. */
export async function openBulkEscalation(pool: Pool, escalation: EscalationRequest, job: { id: string; by: Actor }): Promise<number> {
  return withTransaction(pool, async (client) => {
    const id = await openEscalation(client, escalation);
    await recordBulkEscalated(client, {
      caseId: escalation.caseId,
      escalation: id,
      queue: escalation.queue,
      severity: escalation.severity,
      reason: escalation.reason,
      job: job.id,
      by: job.by,
    });
    return id;
  });
}

export type EscalationStatus = 'open' | 'acknowledged' | 'resolved';

export interface EscalationListFilter {
  queue?: string;
  status?: EscalationStatus;
  limit?: string;
  cursor?: string;
}

/** An escalation as the queue shows it, with its case and who acknowledged and resolved it, when. */
export interface Escalation {
  id: number;
  caseId: string;
  playbook: string | null;
  orderId: string | null;
  step: string;
  queue: string;
  severity: string;
  reason: string;
  note: string | null;
  status: EscalationStatus;
  createdAt: string;
  acknowledged: { by: Actor; at: string } | null;
  resolved: { by: Actor; at: string; resolution: string } | null;
}

const ESCALATION_COLUMNS = `e.*, e.created_at::text AS created_at_exact, c.playbook, c.order_id
  FROM escalations e LEFT JOIN cases c ON c.case_id = e.case_id`;

// biome-ignore lint/suspicious/noExplicitAny: a pg row, typed by the query that read it
function escalationOf(row: Record<string, any>): Escalation {
  return {
    id: Number(row.id),
    caseId: row.case_id,
    playbook: row.playbook,
    orderId: row.order_id,
    step: row.step_id,
    queue: row.queue,
    severity: row.severity,
    reason: row.reason,
    note: row.note,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    acknowledged: row.acknowledged_at
      ? { by: { keyId: row.acknowledged_by_key_id, name: row.acknowledged_by_name }, at: row.acknowledged_at.toISOString() }
      : null,
    resolved: row.resolved_at
      ? { by: { keyId: row.resolved_by_key_id, name: row.resolved_by_name }, at: row.resolved_at.toISOString(), resolution: row.resolution }
      : null,
  };
}

/** Escalations, newest first, paged by (created_at, id); `undefined` when the cursor is not one we issued. */
export async function listEscalations(
  db: Queryable,
  filter: EscalationListFilter,
): Promise<{ escalations: Escalation[]; nextCursor: string | null } | undefined> {
  const limit = filter.limit ? Number(filter.limit) : 50;
  const cursor = filter.cursor ? decodeCursor(filter.cursor, 'id') : undefined;
  if (filter.cursor && !cursor) return undefined;
  const { rows } = await db.query(
    `SELECT ${ESCALATION_COLUMNS}
     WHERE ($1::text IS NULL OR e.queue = $1) AND ($2::text IS NULL OR e.status = $2)
       AND ($3::timestamptz IS NULL OR (e.created_at, e.id) < ($3::timestamptz, $4::bigint))
     ORDER BY e.created_at DESC, e.id DESC LIMIT $5`,
    [filter.queue ?? null, filter.status ?? null, cursor?.at ?? null, cursor?.key ?? null, limit + 1],
  );
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return {
    escalations: shown.map(escalationOf),
    nextCursor: rows.length > limit && last ? encodeCursor({ at: last.created_at_exact, key: Number(last.id) }) : null,
  };
}

export async function findEscalation(db: Queryable, id: number): Promise<Escalation | undefined> {
  const { rows } = await db.query(`SELECT ${ESCALATION_COLUMNS} WHERE e.id = $1`, [id]);
  return rows[0] && escalationOf(rows[0]);
}

/** Acknowledges an open escalation as `by`, now; answers whether it did (false: not open). */
export async function acknowledgeEscalation(db: Queryable, id: number, by: Actor): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE escalations SET status = 'acknowledged', acknowledged_by_key_id = $2, acknowledged_by_name = $3, acknowledged_at = now()
     WHERE id = $1 AND status = 'open'`,
    [id, by.keyId, by.name],
  );
  return rowCount === 1;
}

/** Resolves an open or acknowledged escalation as `by`, now, with the resolution; answers whether it did (false: already resolved). */
export async function resolveEscalation(db: Queryable, id: number, by: Actor, resolution: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE escalations SET status = 'resolved', resolved_by_key_id = $2, resolved_by_name = $3, resolved_at = now(), resolution = $4
     WHERE id = $1 AND status IN ('open', 'acknowledged')`,
    [id, by.keyId, by.name, resolution],
  );
  return rowCount === 1;
}
