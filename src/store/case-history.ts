/** Reading what happened to one case, across the side-effect tables, in the order things happened. */
import type { Actor, CaseStatus } from '../plan/case.js';
import { actorOfColumns } from './audit-chain.js';
import type { Queryable } from './transaction.js';

export interface CaseHistory {
  caseId: string;
  workflowId: string;
  playbook: { name: string; version: number; hash: string };
  status: CaseStatus;
  outcome: { outcome: string; reason: string } | null;
  /** Who opened the case and when; null for cases opened before openings were recorded. */
  opened: { at: string; by: Actor } | null;
  /** The workflow's records, in order, each with its actor (`casebook` unless an event or a repair names one). */
  steps: { seq: number; at: string; kind: string; step: string | null; detail: Record<string, unknown>; by: Actor }[];
  /** The events the case accepted, each with who delivered it (null: accepted before deliverers were recorded). */
  events: { id: string; type: string; payload: Record<string, unknown>; receivedAt: string; by: Actor | null }[];
  /** Status: `requested` (reserved, the provider not yet answered), `late` (requested past its deadline), `issued`, `declined`. */
  refunds: {
    amount: number;
    currency: string;
    covers: string;
    /** The order line it gives back for; null: the order as a whole. */
    lineId: string | null;
    reason: string;
    status: string;
    orderId: string | null;
    deadlineAt: string | null;
    lateAt: string | null;
    answeredAt: string | null;
    key: string;
    at: string;
  }[];
  escalations: { queue: string; severity: string; reason: string; at: string }[];
  /** `subject` and `language` when the message had them (an e-mail from a template that gives them). */
  messages: { template: string; channel: string; recipient: string; body: string; subject?: string; language?: string; status: string; at: string }[];
}

/** The audit view of one case, from the projection tables; undefined when there is no such case. */
export async function caseHistory(db: Queryable, caseId: string): Promise<CaseHistory | undefined> {
  const found = await db.query(`SELECT * FROM cases WHERE case_id = $1`, [caseId]);
  const row = found.rows[0];
  if (!row) return undefined;
  const [opened, steps, events, refunds, escalations, messages] = await Promise.all([
    db.query(`SELECT at, actor_key_id, actor_name FROM audit_events WHERE case_id = $1 AND kind = 'opened' AND seq IS NULL ORDER BY position LIMIT 1`, [
      caseId,
    ]),
    db.query(`SELECT seq, at, kind, step_id, detail, actor_key_id, actor_name FROM audit_trail WHERE case_id = $1 AND seq IS NOT NULL ORDER BY at, id`, [
      caseId,
    ]),
    db.query(`SELECT event_id, type, payload, received_at, actor_key_id, actor_name FROM case_events WHERE case_id = $1 ORDER BY received_at`, [caseId]),
    db.query(`SELECT * FROM refunds WHERE case_id = $1 ORDER BY id`, [caseId]),
    db.query(`SELECT * FROM escalations WHERE case_id = $1 ORDER BY id`, [caseId]),
    db.query(`SELECT * FROM outbox_messages WHERE case_id = $1 ORDER BY id`, [caseId]),
  ]);
  return {
    caseId,
    workflowId: row.workflow_id,
    playbook: { name: row.playbook, version: row.version, hash: row.plan_hash },
    status: row.status,
    outcome: row.outcome ? { outcome: row.outcome, reason: row.reason } : null,
    opened: opened.rows[0] ? { at: opened.rows[0].at.toISOString(), by: { keyId: opened.rows[0].actor_key_id, name: opened.rows[0].actor_name } } : null,
    steps: steps.rows.map((r) => ({
      seq: r.seq,
      at: r.at.toISOString(),
      kind: r.kind,
      step: r.step_id,
      detail: r.detail,
      by: { keyId: r.actor_key_id, name: r.actor_name },
    })),
    events: events.rows.map((r) => ({
      id: r.event_id,
      type: r.type,
      payload: r.payload,
      receivedAt: r.received_at.toISOString(),
      by: actorOfColumns(r.actor_key_id, r.actor_name),
    })),
    refunds: refunds.rows.map((r) => ({
      amount: r.amount,
      currency: r.currency,
      covers: r.covers,
      lineId: r.line_id,
      reason: r.reason,
      status: r.status === 'requested' && r.late_at ? 'late' : r.status,
      orderId: r.order_id,
      deadlineAt: r.deadline_at?.toISOString() ?? null,
      lateAt: r.late_at?.toISOString() ?? null,
      answeredAt: r.answered_at?.toISOString() ?? null,
      key: r.idempotency_key,
      at: r.created_at.toISOString(),
    })),
    escalations: escalations.rows.map((r) => ({ queue: r.queue, severity: r.severity, reason: r.reason, at: r.created_at.toISOString() })),
    messages: messages.rows.map((r) => ({
      template: r.template,
      channel: r.channel,
      recipient: r.recipient ?? r.recipient_kind,
      body: r.body,
      ...(r.subject !== null ? { subject: r.subject } : {}),
      ...(r.language !== null ? { language: r.language } : {}),
      status: r.status,
      at: r.created_at.toISOString(),
    })),
  };
}

/** What a case caused, each list in the order it happened: what a playbook scenario checks. */
export interface CaseSideEffects {
  /** Templates of the messages sent. */
  messages: string[];
  /** Amounts of the refunds issued (declined ones are not refunds). */
  refunds: number[];
  /** Reasons of the escalations opened. */
  escalations: string[];
  /** Integration calls, as `integration.operation`. */
  calls: string[];
}

/**
 * What the case did; with `children`, what the child cases its `playbook` steps opened did too (and
 * theirs), all in the order it happened.
 */
export async function caseSideEffects(db: Queryable, caseId: string, options: { children?: boolean } = {}): Promise<CaseSideEffects> {
  const cases = options.children
    ? `(WITH RECURSIVE family(case_id) AS (SELECT $1::text UNION SELECT c.case_id FROM cases c JOIN family f ON c.parent_case_id = f.case_id) SELECT case_id FROM family)`
    : '($1)';
  const column = async <T>(sql: string) => (await db.query<{ value: T }>(sql, [caseId])).rows.map((row) => row.value);
  const [messages, refunds, escalations, calls] = await Promise.all([
    column<string>(`SELECT template AS value FROM outbox_messages WHERE case_id IN ${cases} ORDER BY id`),
    column<number>(`SELECT amount AS value FROM refunds WHERE case_id IN ${cases} AND status = 'issued' ORDER BY id`),
    column<string>(`SELECT reason AS value FROM escalations WHERE case_id IN ${cases} ORDER BY id`),
    column<string>(`SELECT integration || '.' || operation AS value FROM integration_calls WHERE case_id IN ${cases} ORDER BY id`),
  ]);
  return { messages, refunds, escalations, calls };
}
