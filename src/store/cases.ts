/** Reading the cases projection: filtered lists with keyset pagination. */
import type { Pool } from './pool.js';

export interface CaseListFilter {
  playbook?: string;
  status?: string;
  orderId?: string;
  limit?: string;
  cursor?: string;
}

export interface CaseSummary {
  caseId: string;
  playbook: string;
  version: number;
  status: string;
  step: string | null;
  orderId: string | null;
  outcome: string | null;
  openedAt: string;
  updatedAt: string;
}

interface Cursor {
  openedAt: string;
  caseId: string;
}

const POSTGRES_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)$/;

const encode = (cursor: Cursor) => Buffer.from(JSON.stringify([cursor.openedAt, cursor.caseId])).toString('base64url');

function decode(text: string): Cursor | undefined {
  try {
    const [openedAt, caseId] = JSON.parse(Buffer.from(text, 'base64url').toString()) as unknown[];
    if (typeof openedAt !== 'string' || typeof caseId !== 'string' || !POSTGRES_TIMESTAMP.test(openedAt)) return undefined;
    return { openedAt, caseId };
  } catch {
    return undefined;
  }
}

/** Newest first; `undefined` when the cursor is not one we issued. */
export async function listCases(pool: Pool, filter: CaseListFilter): Promise<{ cases: CaseSummary[]; nextCursor: string | null } | undefined> {
  const limit = filter.limit ? Number(filter.limit) : 50;
  const cursor = filter.cursor ? decode(filter.cursor) : undefined;
  if (filter.cursor && !cursor) return undefined;
  const { rows } = await pool.query(
    `SELECT case_id, playbook, version, status, current_step, order_id, outcome, opened_at, opened_at::text AS opened_at_exact, updated_at FROM cases
     WHERE ($1::text IS NULL OR playbook = $1) AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR order_id = $3)
       AND ($4::timestamptz IS NULL OR (opened_at, case_id) < ($4::timestamptz, $5::text))
     ORDER BY opened_at DESC, case_id DESC LIMIT $6`,
    [filter.playbook ?? null, filter.status ?? null, filter.orderId ?? null, cursor?.openedAt ?? null, cursor?.caseId ?? null, limit + 1],
  );
  const shown = rows.slice(0, limit);
  const page = shown.map((row): CaseSummary => ({
    caseId: row.case_id, playbook: row.playbook, version: row.version, status: row.status, step: row.current_step,
    orderId: row.order_id, outcome: row.outcome, openedAt: row.opened_at.toISOString(), updatedAt: row.updated_at.toISOString(),
  }));
  // The cursor keeps Postgres' microseconds, so no case is skipped or repeated between pages.
  const last = shown[shown.length - 1];
  return { cases: page, nextCursor: rows.length > limit && last ? encode({ openedAt: last.opened_at_exact, caseId: last.case_id }) : null };
}

export interface CaseHistory {
  caseId: string;
  workflowId: string;
  playbook: { name: string; version: number; hash: string };
  status: string;
  outcome: { outcome: string; reason: string } | null;
  steps: { seq: number; at: string; kind: string; step: string | null; detail: Record<string, unknown> }[];
  events: { id: string; type: string; payload: Record<string, unknown>; receivedAt: string }[];
  refunds: { amount: number; currency: string; covers: string; reason: string; status: string; deadlineAt: string | null; key: string; at: string }[];
  escalations: { queue: string; severity: string; reason: string; at: string }[];
  messages: { template: string; channel: string; recipient: string; body: string; status: string; at: string }[];
}

/** The audit view of one case, from the projection tables, in the order things happened. */
export async function caseHistory(pool: Pool, caseId: string): Promise<CaseHistory | undefined> {
  const found = await pool.query(`SELECT * FROM cases WHERE case_id = $1`, [caseId]);
  const row = found.rows[0];
  if (!row) return undefined;
  const [steps, events, refunds, escalations, messages] = await Promise.all([
    pool.query(`SELECT idempotency_key, at, kind, step_id, detail FROM audit_events WHERE case_id = $1 ORDER BY at, id`, [caseId]),
    pool.query(`SELECT event_id, type, payload, received_at FROM case_events WHERE case_id = $1 ORDER BY received_at`, [caseId]),
    pool.query(`SELECT * FROM refunds WHERE case_id = $1 ORDER BY id`, [caseId]),
    pool.query(`SELECT * FROM escalations WHERE case_id = $1 ORDER BY id`, [caseId]),
    pool.query(`SELECT * FROM outbox_messages WHERE case_id = $1 ORDER BY id`, [caseId]),
  ]);
  return {
    caseId, workflowId: row.workflow_id,
    playbook: { name: row.playbook, version: row.version, hash: row.plan_hash },
    status: row.status,
    outcome: row.outcome ? { outcome: row.outcome, reason: row.reason } : null,
    steps: steps.rows.map((r) => ({ seq: Number(String(r.idempotency_key).split('/').pop()), at: r.at.toISOString(), kind: r.kind, step: r.step_id, detail: r.detail })),
    events: events.rows.map((r) => ({ id: r.event_id, type: r.type, payload: r.payload, receivedAt: r.received_at.toISOString() })),
    refunds: refunds.rows.map((r) => ({
      amount: r.amount, currency: r.currency, covers: r.covers, reason: r.reason, status: r.status,
      deadlineAt: r.deadline_at?.toISOString() ?? null, key: r.idempotency_key, at: r.created_at.toISOString(),
    })),
    escalations: escalations.rows.map((r) => ({ queue: r.queue, severity: r.severity, reason: r.reason, at: r.created_at.toISOString() })),
    messages: messages.rows.map((r) => ({ template: r.template, channel: r.channel, recipient: r.recipient ?? r.recipient_kind, body: r.body, status: r.status, at: r.created_at.toISOString() })),
  };
}
