/** `event_inbox`: every inbound event, written before it is routed, with where it went (or why it did not). */
import type { Actor, CaseEvent, CaseStatus } from '../plan/case.js';
import type { Plan } from '../plan/plan.js';
import type { Queryable } from './transaction.js';

/** `inbound:<source>`: a signed event from a configured source (POST /v1/inbound/{source}). */
export type InboxSource = 'api' | 'warehouse' | `inbound:${string}`;
export type InboxStatus = 'received' | 'routed' | 'duplicate' | 'unrouted' | 'refused';
export const INBOX_STATUSES: readonly InboxStatus[] = ['received', 'routed', 'duplicate', 'unrouted', 'refused'];

/** What a sender delivered: the event and the hints that say which case it is for. */
export interface InboundEvent {
  source: InboxSource;
  eventId: string;
  type: string;
  payload: Record<string, unknown>;
  targetCaseId?: string;
  orderId?: string;
  returnTracking?: string;
  /** Who sent it (the calling API key). */
  by?: Actor;
}

export interface InboxEntry extends Omit<InboundEvent, 'by'> {
  id: number;
  /** Who sent it; null on rows written before senders were kept. */
  by: Actor | null;
  receivedAt: string;
  status: InboxStatus;
  routedCaseId: string | null;
  reason: string | null;
  updatedAt: string;
}

/** Statuses after which the event is in a case: a replay of the delivery changes nothing. */
const DELIVERED = `('routed', 'duplicate')`;

const COLUMNS = `id, source, event_id, type, payload, target_case_id, order_id, return_tracking, received_at, status, routed_case_id, reason, updated_at,
  actor_key_id, actor_name`;

interface InboxRow {
  id: string;
  source: InboxSource;
  event_id: string;
  type: string;
  payload: Record<string, unknown>;
  target_case_id: string | null;
  order_id: string | null;
  return_tracking: string | null;
  received_at: Date;
  status: InboxStatus;
  routed_case_id: string | null;
  reason: string | null;
  updated_at: Date;
  actor_key_id: string | null;
  actor_name: string | null;
}

function entryOf(row: InboxRow): InboxEntry {
  return {
    id: Number(row.id),
    source: row.source,
    eventId: row.event_id,
    type: row.type,
    payload: row.payload,
    by: row.actor_name === null ? null : { keyId: row.actor_key_id, name: row.actor_name },
    ...(row.target_case_id !== null ? { targetCaseId: row.target_case_id } : {}),
    ...(row.order_id !== null ? { orderId: row.order_id } : {}),
    ...(row.return_tracking !== null ? { returnTracking: row.return_tracking } : {}),
    receivedAt: row.received_at.toISOString(),
    status: row.status,
    routedCaseId: row.routed_case_id,
    reason: row.reason,
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Writes an event into the inbox, or updates the row of an earlier delivery not yet delivered; returns no row for one delivered. */
const RECEIVE = `INSERT INTO event_inbox (source, event_id, type, payload, target_case_id, order_id, return_tracking, actor_key_id, actor_name)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
  ON CONFLICT (source, event_id, (COALESCE(target_case_id, ''))) DO UPDATE
    SET type = EXCLUDED.type, payload = EXCLUDED.payload, order_id = EXCLUDED.order_id,
        return_tracking = EXCLUDED.return_tracking, actor_key_id = EXCLUDED.actor_key_id, actor_name = EXCLUDED.actor_name, updated_at = now()
    WHERE event_inbox.status NOT IN ${DELIVERED}
  RETURNING ${COLUMNS}`;

const receiveParameters = (event: InboundEvent) => [
  event.source,
  event.eventId,
  event.type,
  JSON.stringify(event.payload),
  event.targetCaseId ?? null,
  event.orderId ?? null,
  event.returnTracking ?? null,
  event.by?.keyId ?? null,
  event.by?.name ?? null,
];

/**
 * Writes the delivery, or finds the row of an earlier delivery with the same source, event id (and
 * named case). A row not yet in a case takes the content sent now (the sender's latest word).
 */
export async function receiveInboundEvent(db: Queryable, event: InboundEvent): Promise<InboxEntry> {
  const { rows } = await db.query<InboxRow>(RECEIVE, receiveParameters(event));
  if (rows[0]) return entryOf(rows[0]);
  const { rows: existing } = await db.query<InboxRow>(
    `SELECT ${COLUMNS} FROM event_inbox WHERE source = $1 AND event_id = $2 AND COALESCE(target_case_id, '') = $3`,
    [event.source, event.eventId, event.targetCaseId ?? ''],
  );
  return entryOf(existing[0]!);
}

/** What Casebook knows of the case an event names, read with the event's arrival: its status, and whether it took the event already. */
export interface CaseBeforeEvent {
  status: CaseStatus;
  seen: boolean;
}

/**
 * An event for a named case, recorded as `receiveInboundEvent` records it and read with its case in the
 * same statement (one round trip): undefined when the inbox had it delivered already; `known` undefined
 * when there is no such case.
 */
export async function receiveCaseEvent(
  db: Queryable,
  event: InboundEvent & { targetCaseId: string },
): Promise<{ entry: InboxEntry; known: CaseBeforeEvent | undefined } | undefined> {
  const { rows } = await db.query<InboxRow & { case_status: CaseStatus | null; case_seen: boolean }>(
    `WITH received AS (${RECEIVE})
     SELECT received.*, c.status AS case_status,
            EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = $5 AND e.event_id = $2) AS case_seen
     FROM received LEFT JOIN cases c ON c.case_id = $5`,
    receiveParameters(event),
  );
  const row = rows[0];
  if (!row) return undefined;
  return { entry: entryOf(row), known: row.case_status === null ? undefined : { status: row.case_status, seen: row.case_seen } };
}

/**
 * A case took the event: logged in `case_events` once (with who delivered it, and when Casebook took
 * it) and its inbox entry marked routed to the case, in one statement.
 */
export async function recordAcceptedEvent(db: Queryable, inboxId: number, caseId: string, event: CaseEvent, receivedAt: string): Promise<void> {
  await db.query(
    `WITH logged AS (
       INSERT INTO case_events (case_id, event_id, type, payload, actor_key_id, actor_name, received_at)
       VALUES ($2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING
     )
     UPDATE event_inbox SET status = 'routed', routed_case_id = $2, reason = NULL, updated_at = now() WHERE id = $1`,
    [inboxId, caseId, event.id, event.type, JSON.stringify(event.payload), event.by?.keyId ?? null, event.by?.name ?? null, receivedAt],
  );
}

export async function findInboxEntry(db: Queryable, id: number): Promise<InboxEntry | undefined> {
  const { rows } = await db.query<InboxRow>(`SELECT ${COLUMNS} FROM event_inbox WHERE id = $1`, [id]);
  return rows[0] ? entryOf(rows[0]) : undefined;
}

/**
 * Records the case an event is about to be delivered to, before it is: a crash after the case took it
 * leaves a row that names the case, so the replay goes to that case (which answers duplicate) instead
 * of being routed anew among cases that no longer wait for it.
 */
export async function assignInboxEntry(db: Queryable, id: number, caseId: string): Promise<void> {
  await db.query(`UPDATE event_inbox SET routed_case_id = $2, updated_at = now() WHERE id = $1 AND status NOT IN ${DELIVERED}`, [id, caseId]);
}

/**
 * Records where the event went. `routed` always wins (the case took it); any other outcome never
 * overwrites a delivered row, so concurrent replays of one delivery leave it routed.
 */
export async function markInboxEntry(
  db: Queryable,
  id: number,
  outcome: { status: Exclude<InboxStatus, 'received'>; caseId?: string; reason?: string },
): Promise<void> {
  await db.query(
    `UPDATE event_inbox SET status = $2, routed_case_id = $3, reason = $4, updated_at = now()
     WHERE id = $1 AND ($2 = 'routed' OR status NOT IN ${DELIVERED})`,
    [id, outcome.status, outcome.caseId ?? null, outcome.reason ?? null],
  );
}

/**
 * Deliveries a crash may have interrupted: events still `received` `olderThanMs` after they were last
 * written (a delivery records where it went as soon as the case answers), oldest first.
 */
export async function interruptedInboxEntries(db: Queryable, olderThanMs: number, limit: number): Promise<InboxEntry[]> {
  const { rows } = await db.query<InboxRow>(
    `SELECT ${COLUMNS} FROM event_inbox WHERE status = 'received' AND updated_at < now() - $1 * interval '1 millisecond' ORDER BY id LIMIT $2`,
    [olderThanMs, limit],
  );
  return rows.map(entryOf);
}

export interface InboxListFilter {
  status?: InboxStatus;
  orderId?: string;
  limit?: string;
  cursor?: string;
}

const encode = (id: number) => Buffer.from(JSON.stringify(['inbox', id])).toString('base64url');

function decode(text: string): number | undefined {
  try {
    const [tag, id] = JSON.parse(Buffer.from(text, 'base64url').toString()) as unknown[];
    return tag === 'inbox' && Number.isSafeInteger(id) && (id as number) > 0 ? (id as number) : undefined;
  } catch {
    return undefined;
  }
}

/** Newest first, by keyset on the id; `undefined` when the cursor is not one we issued. */
export async function listInbox(db: Queryable, filter: InboxListFilter): Promise<{ events: InboxEntry[]; nextCursor: string | null } | undefined> {
  const limit = filter.limit ? Number(filter.limit) : 50;
  const before = filter.cursor ? decode(filter.cursor) : undefined;
  if (filter.cursor && before === undefined) return undefined;
  const { rows } = await db.query<InboxRow>(
    `SELECT ${COLUMNS} FROM event_inbox
     WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR order_id = $2) AND ($3::bigint IS NULL OR id < $3)
     ORDER BY id DESC LIMIT $4`,
    [filter.status ?? null, filter.orderId ?? null, before ?? null, limit + 1],
  );
  const events = rows.slice(0, limit).map(entryOf);
  const last = events[events.length - 1];
  return { events, nextCursor: rows.length > limit && last ? encode(last.id) : null };
}

/** A case a receipt names, with where its projection says it is and its published plan. */
export interface ReceiptCase {
  caseId: string;
  playbook: string;
  status: CaseStatus;
  step: string | null;
  waitingFor: string[];
  plan: Plan;
}

/** The cases whose order id or return tracking number a receipt names, oldest first. */
export async function casesForReceipt(db: Queryable, receipt: { orderId?: string; returnTracking?: string }): Promise<ReceiptCase[]> {
  const { rows } = await db.query<{ case_id: string; playbook: string; status: CaseStatus; current_step: string | null; waiting_for: string[]; plan: Plan }>(
    `SELECT c.case_id, c.playbook, c.status, c.current_step, c.waiting_for, p.plan
     FROM cases c JOIN playbook_versions p ON p.name = c.playbook AND p.version = c.version
     WHERE ($1::text IS NOT NULL AND c.order_id = $1) OR ($2::text IS NOT NULL AND c.return_tracking = $2)
     ORDER BY c.opened_at, c.case_id LIMIT 100`,
    [receipt.orderId ?? null, receipt.returnTracking ?? null],
  );
  return rows.map((row) => ({
    caseId: row.case_id,
    playbook: row.playbook,
    status: row.status,
    step: row.current_step,
    waitingFor: row.waiting_for,
    plan: row.plan,
  }));
}
