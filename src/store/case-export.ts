/** What an auditor's export of a case reads: its row, its pinned plan, its audit rows with their chain links. */
import type { Queryable } from './transaction.js';

export interface ExportedCase {
  caseId: string;
  workflowId: string;
  playbook: { name: string; version: number; hash: string };
  status: string;
  outcome: { outcome: string; reason: string } | null;
  openedAt: string;
  closedAt: string | null;
  /** Whether its history is archived: `archived`, `lost`, or null while it runs (or is not archived yet). */
  historyArchive: 'archived' | 'lost' | null;
}

export interface ExportedAuditRow {
  position: number;
  seq: number | null;
  at: string;
  kind: string;
  step: string | null;
  actor: { keyId: string | null; name: string };
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
  /** The position of the `voided` row that took it out of the trail (migrations/329_audit_voided.sql), else null. */
  voidedBy: number | null;
}

// biome-ignore lint/suspicious/noExplicitAny: a pg row, typed by the query that read it
const caseOf = (r: Record<string, any>): ExportedCase => ({
  caseId: r.case_id,
  workflowId: r.workflow_id,
  playbook: { name: r.playbook, version: r.version, hash: r.plan_hash },
  status: r.status,
  outcome: r.outcome ? { outcome: r.outcome, reason: r.reason } : null,
  openedAt: r.opened_at.toISOString(),
  closedAt: r.closed_at?.toISOString() ?? null,
  historyArchive: r.history_archive,
});

const CASE_COLUMNS = 'case_id, workflow_id, playbook, version, plan_hash, status, outcome, reason, opened_at, closed_at, history_archive';

export async function exportedCase(db: Queryable, caseId: string): Promise<ExportedCase | undefined> {
  const { rows } = await db.query(`SELECT ${CASE_COLUMNS} FROM cases WHERE case_id = $1`, [caseId]);
  return rows[0] && caseOf(rows[0]);
}

/** Cases closed in [from, to), oldest close first, a page of `limit` after the case `after` (closed_at, case_id). */
export async function casesClosedBetween(
  db: Queryable,
  from: Date,
  to: Date,
  limit: number,
  after?: { closedAt: string; caseId: string },
): Promise<ExportedCase[]> {
  const { rows } = await db.query(
    `SELECT ${CASE_COLUMNS} FROM cases
     WHERE status = 'closed' AND closed_at >= $1 AND closed_at < $2 AND ($3::timestamptz IS NULL OR (closed_at, case_id) > ($3, $4))
     ORDER BY closed_at, case_id LIMIT $5`,
    [from, to, after?.closedAt ?? null, after?.caseId ?? '', limit],
  );
  return rows.map(caseOf);
}

/** The plan a case runs on, as published (it is pinned by its hash). */
export async function planOf(db: Queryable, playbook: { name: string; hash: string }): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.query(`SELECT plan FROM playbook_versions WHERE name = $1 AND hash = $2`, [playbook.name, playbook.hash]);
  return rows[0]?.plan;
}

/** A case's audit rows in chain order, with their links. */
export async function auditRowsOf(db: Queryable, caseId: string): Promise<ExportedAuditRow[]> {
  const { rows } = await db.query(
    `SELECT a.position, a.seq, a.at, a.kind, a.step_id, a.actor_key_id, a.actor_name, a.detail, encode(a.prev_hash, 'hex') AS prev_hash,
       encode(a.hash, 'hex') AS hash, v.position AS voided_by
     FROM audit_events a LEFT JOIN audit_voided x ON x.audit_id = a.id LEFT JOIN audit_events v ON v.id = x.voided_by
     WHERE a.case_id = $1 ORDER BY a.position`,
    [caseId],
  );
  return rows.map((r) => ({
    position: r.position,
    seq: r.seq,
    at: r.at.toISOString(),
    kind: r.kind,
    step: r.step_id,
    actor: { keyId: r.actor_key_id, name: r.actor_name },
    detail: r.detail,
    prevHash: r.prev_hash,
    hash: r.hash,
    voidedBy: r.voided_by,
  }));
}
