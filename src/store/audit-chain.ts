/**
 * The hash-chained audit trail (migrations/308_audit_chain.sql): the rows written outside the workflow
 * (a case opened, a playbook published, a run's history archived), who did each, and the verification
 * that walks the chain and the archived histories (`casebook audit verify`).
 *
 * The chain itself is kept by the database: a trigger sets each new row's `position`, `prev_hash` and
 * `hash` = sha256(prev_hash || audit_event_content(row)). Verification recomputes every hash with the
 * same SQL function, so there is one rendering of a row's content.
 */
import { createHash } from 'node:crypto';
import { CASEBOOK_ACTOR, type Actor } from '../plan/case.js';
import type { Queryable } from './transaction.js';

/** What the first row's prev_hash is: 32 zero bytes. */
const GENESIS = '00'.repeat(32);

/**
 * The actor an audit record names in `detail.by`: an Actor ({ keyId, name }), or a name as the
 * workflow recorded it before actors were objects, `name (key <id>)` naming the key; else `casebook`.
 */
export function actorOfDetail(detail: Record<string, unknown> | undefined): Actor {
  const by = detail?.by;
  if (by && typeof by === 'object' && typeof (by as Actor).name === 'string') {
    const keyId = (by as Actor).keyId;
    return { keyId: typeof keyId === 'string' ? keyId : null, name: (by as Actor).name };
  }
  if (typeof by === 'string' && by.length > 0) {
    const named = /^(.*) \(key ([A-Za-z0-9]+)\)$/.exec(by);
    return named ? { keyId: named[2]!, name: named[1]! } : { keyId: null, name: by };
  }
  return CASEBOOK_ACTOR;
}

/** An actor from its columns; null when none was recorded (events accepted before actors were). */
export function actorOfColumns(keyId: string | null, name: string | null): Actor | null {
  return name === null ? null : { keyId, name };
}

/** The `opened` row of a case, in the transaction that inserts the case: who opened it and with what. */
export async function recordOpened(
  db: Queryable,
  opened: {
    caseId: string;
    by: Actor;
    data: Record<string, unknown>;
    playbook: { name: string; version: number; hash: string };
    /** A child case: the case and step that opened it. */
    parent?: { caseId: string; step: string };
  },
): Promise<void> {
  await db.query(
    `INSERT INTO audit_events (idempotency_key, case_id, at, kind, detail, actor_key_id, actor_name)
     VALUES ($1 || '/opened', $1, now(), 'opened', $2, $3, $4)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [
      opened.caseId,
      JSON.stringify({ data: opened.data, playbook: opened.playbook, ...(opened.parent ? { parent: opened.parent } : {}) }),
      opened.by.keyId,
      opened.by.name,
    ],
  );
}

/** The `published` row of a playbook version (no case): who published which content. */
export async function recordPublished(db: Queryable, published: { name: string; version: number; hash: string; by: Actor }): Promise<void> {
  await recordPlaybookRow(db, `playbook/${published.name}/${published.version}/published`, 'published', published.by, {
    name: published.name,
    version: published.version,
    hash: published.hash,
  });
}

/**
 * The `made-current` row of a change of a playbook's current version (no case): who made which
 * version current instead of which, and why; `change` is its `playbook_current_changes` id.
 */
export async function recordMadeCurrent(
  db: Queryable,
  made: { change: string; name: string; from: number | null; to: number; reason: string; by: Actor },
): Promise<void> {
  await recordPlaybookRow(db, `playbook/${made.name}/current/${made.change}`, 'made-current', made.by, {
    name: made.name,
    change: made.change,
    from: made.from,
    to: made.to,
    reason: made.reason,
  });
}

/**
 * The `version-approved` row of an approval of a playbook version (no case): who approved which
 * version and why; `approval` is its `playbook_version_approvals` id.
 */
export async function recordApproved(db: Queryable, approved: { approval: string; name: string; version: number; reason: string; by: Actor }): Promise<void> {
  await recordPlaybookRow(db, `playbook/${approved.name}/approval/${approved.approval}`, 'version-approved', approved.by, {
    name: approved.name,
    approval: approved.approval,
    version: approved.version,
    reason: approved.reason,
  });
}

/**
 * The `approval-setting-changed` row of a change of whether a playbook's versions need an approval
 * (no case): who set it which way, and why; `setting` is its `playbook_settings` id.
 */
export async function recordApprovalSetting(
  db: Queryable,
  changed: { setting: string; name: string; approvalRequired: boolean; reason: string; by: Actor },
): Promise<void> {
  await recordPlaybookRow(db, `playbook/${changed.name}/setting/${changed.setting}`, 'approval-setting-changed', changed.by, {
    name: changed.name,
    setting: changed.setting,
    approvalRequired: changed.approvalRequired,
    reason: changed.reason,
  });
}

/**
 * The `bulk-escalated` row of an escalation a bulk job opened for a case (outside its workflow): who
 * asked, the escalation, its queue and reason, and the job; once per escalation.
 */
export async function recordBulkEscalated(
  db: Queryable,
  escalated: { caseId: string; escalation: number; queue: string; severity: string; reason: string; job: string; by: Actor },
): Promise<void> {
  const { caseId, escalation, queue, severity, reason, job, by } = escalated;
  await db.query(
    `INSERT INTO audit_events (idempotency_key, case_id, at, kind, detail, actor_key_id, actor_name)
     VALUES ($1, $2, now(), 'bulk-escalated', $3, $4, $5)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [`${caseId}/bulk-escalated/${escalation}`, caseId, JSON.stringify({ escalation, queue, severity, reason, job }), by.keyId, by.name],
  );
}

/** A playbook's audit row (no case), once per idempotency key. */
async function recordPlaybookRow(db: Queryable, key: string, kind: string, by: Actor, detail: Record<string, unknown>): Promise<void> {
  await db.query(
    `INSERT INTO audit_events (idempotency_key, at, kind, detail, actor_key_id, actor_name)
     VALUES ($1, now(), $2, $3, $4, $5)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [key, kind, JSON.stringify(detail), by.keyId, by.name],
  );
}

/**
 * The `archived` rows of closed runs' histories (written by the archiver with their `case_histories`
 * rows), in the order given, in one statement: the digest of each history (hex), which
 * `verifyAuditTrail` compares with the archive. Once per run.
 */
export async function recordArchived(db: Queryable, ...archived: { caseId: string; runId: string; sha256Hex: string; events: number }[]): Promise<void> {
  if (archived.length === 0) return;
  await db.query(
    `INSERT INTO audit_events (idempotency_key, case_id, at, kind, detail)
     SELECT r.case_id || '/archived/' || r.run_id, r.case_id, now(), 'archived', r.detail
     FROM unnest($1::text[], $2::text[], $3::jsonb[]) WITH ORDINALITY AS r (case_id, run_id, detail, n) ORDER BY r.n
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [
      archived.map((run) => run.caseId),
      archived.map((run) => run.runId),
      archived.map((run) => JSON.stringify({ runId: run.runId, sha256: run.sha256Hex, events: run.events })),
    ],
  );
}

/** What is wrong, naming the row (its chain position, id, case and kind) or the case and run. */
export interface AuditProblem {
  /**
   * altered: a row's hash is not that of its content; link: its prev_hash is not the hash of the row
   * before it; gap: positions are missing before it (rows removed); seq: a case's workflow rows are not
   * numbered 1, 2, 3...; archive-altered / archive-unrecorded / archive-missing: an archived history
   * differs from its digests, has no `archived` row, or the `archived` row's history is gone;
   * unnumbered: a row without seq that no writer of unnumbered rows could have written (forged);
   * refund-altered: a refund in the ledger is not the one its `refund` row recorded (or is gone);
   * voided: a row taken out of the trail by anything but a later `voided` row of its case naming it;
   * truncated / rewritten / refunds-altered / checkpoint-invalid: see `AnchorProblem`.
   */
  problem:
    | 'altered'
    | 'link'
    | 'gap'
    | 'seq'
    | 'archive-altered'
    | 'archive-unrecorded'
    | 'archive-missing'
    | 'unnumbered'
    | 'refund-altered'
    | 'voided'
    | AnchorProblem;
  message: string;
  position?: number;
  id?: string;
  caseId?: string | null;
  kind?: string;
  runId?: string;
}

export interface AuditVerification {
  intact: boolean;
  /** The audit rows checked (of the case, with `caseId`). */
  rows: number;
  /** The archived histories checked. */
  archives: number;
  /** The hash of the chain's last row (hex), the value an auditor keeps; null when the trail is empty. */
  head: string | null;
  /** Every problem found, chain problems first in chain order. */
  problems: AuditProblem[];
}

/**
 * What the trail is checked against from outside the database (src/cases/audit-checkpoint.ts): the
 * chain's last position and head, and a digest of the refunds ledger, as a signed checkpoint recorded them.
 * truncated: rows a checkpoint anchored are gone; rewritten: the row at a checkpoint's position no
 * longer has the hash it signed; refunds-altered: the ledger's refunds up to the checkpoint's `through`
 * are not the ones it digested; checkpoint-invalid: a checkpoint does not verify (not used as an anchor).
 */
export type AnchorProblem = 'truncated' | 'rewritten' | 'refunds-altered' | 'checkpoint-invalid';

export interface ChainAnchor {
  /** The chain's last position (0 when empty) and its hash (hex; null when empty). */
  position: number;
  head: string | null;
  /** The refunds with id <= through (those created a minute or more before): how many, and sha256 of their fixed columns. */
  refunds: { through: number; count: number; sha256: string };
}

/** A checkpoint whose signature verified: its number, when it was taken, and what it anchored. */
export interface Anchor extends ChainAnchor {
  checkpoint: number;
  at: string;
}

/**
 * The kinds of rows written without a workflow seq (recordOpened, recordPublished, recordArchived,
 * takeOverTask in tasks.ts, record_case_progress in migrations/329_audit_voided.sql). A row without seq
 * of another kind, a second `opened` of a case, an `opened` of no case, a `published` of no published version, a second `archived` of one run or a takeover of no
 * task of its case and step was not written by Casebook: verify names it.
 * A writer of a new kind of unnumbered row adds it here and to `unnumberedRows` below.
 */
export const UNNUMBERED_KINDS = [
  'opened',
  'published',
  'made-current',
  'version-approved',
  'approval-setting-changed',
  'archived',
  'task-taken-over',
  'delivery-redelivered',
  'bulk-escalated',
  'voided',
] as const;

interface ChainRow {
  id: string;
  position: number;
  case_id: string | null;
  kind: string;
  prev_hash: string;
  hash: string;
  computed: string;
}

const rowName = (row: { position: number; id: string; case_id: string | null; kind: string }): string =>
  `row ${row.position} (id ${row.id}, ${row.case_id === null ? 'no case' : `case ${row.case_id}`}, kind ${row.kind})`;
const rowFields = (row: { position: number; id: string; case_id: string | null; kind: string }) => ({
  position: row.position,
  id: row.id,
  caseId: row.case_id,
  kind: row.kind,
});

const CHAIN_COLUMNS = `a.id::text, a.position, a.case_id, a.kind, encode(a.prev_hash, 'hex') AS prev_hash, encode(a.hash, 'hex') AS hash,
  encode(sha256(a.prev_hash || audit_event_content(a.case_id, a.seq, a.at, a.kind, a.step_id, a.actor_key_id, a.actor_name, a.detail)), 'hex') AS computed`;

/** The chain from position `after` on, `limit` rows, each with its hash recomputed. */
async function chainRows(db: Queryable, after: number, limit: number): Promise<ChainRow[]> {
  const { rows } = await db.query<ChainRow>(`SELECT ${CHAIN_COLUMNS} FROM audit_events a WHERE a.position > $1 ORDER BY a.position LIMIT $2`, [after, limit]);
  return rows;
}

/** One case's rows with their hashes recomputed and their neighbours in the chain. */
async function caseChainRows(
  db: Queryable,
  caseId: string,
): Promise<(ChainRow & { before_hash: string | null; after_prev_hash: string | null; last_position: number })[]> {
  const { rows } = await db.query(
    `SELECT ${CHAIN_COLUMNS}, encode(b.hash, 'hex') AS before_hash, encode(n.prev_hash, 'hex') AS after_prev_hash,
       (SELECT max(position) FROM audit_events) AS last_position
     FROM audit_events a
     LEFT JOIN audit_events b ON b.position = a.position - 1
     LEFT JOIN audit_events n ON n.position = a.position + 1
     WHERE a.case_id = $1 ORDER BY a.position`,
    [caseId],
  );
  return rows;
}

async function chainHead(db: Queryable): Promise<string | null> {
  const { rows } = await db.query<{ head: string }>(`SELECT encode(hash, 'hex') AS head FROM audit_events ORDER BY position DESC LIMIT 1`);
  return rows[0]?.head ?? null;
}

/** The rows taken out of the trail (audit_voided) by anything but a later `voided` row of their case naming their seq. */
async function unnamedVoids(db: Queryable, caseId?: string): Promise<{ id: string; position: number; case_id: string; kind: string }[]> {
  const { rows } = await db.query(
    `SELECT o.id::text, o.position, o.case_id, o.kind
     FROM audit_voided x JOIN audit_events o ON o.id = x.audit_id JOIN audit_events v ON v.id = x.voided_by
     WHERE ($1::text IS NULL OR o.case_id = $1)
       AND (v.kind <> 'voided' OR v.seq IS NOT NULL OR v.case_id IS DISTINCT FROM o.case_id OR v.position < o.position
            OR o.seq IS NULL OR NOT COALESCE(v.detail->'seqs' @> to_jsonb(o.seq), false))
     ORDER BY o.position`,
    [caseId ?? null],
  );
  return rows;
}

/** The first workflow row of each case whose seq is not its rank (1, 2, 3...): a seq missing before it, or repeated. */
async function seqBreaks(db: Queryable, caseId?: string): Promise<{ case_id: string; id: string; position: number; kind: string; seq: number; n: number }[]> {
  const { rows } = await db.query(
    `SELECT DISTINCT ON (case_id) case_id, id::text, position, kind, seq, n::int
     FROM (SELECT case_id, id, position, kind, seq, row_number() OVER (PARTITION BY case_id ORDER BY seq, position) AS n
           FROM audit_trail WHERE seq IS NOT NULL AND ($1::text IS NULL OR case_id = $1)) ranked
     WHERE seq <> n ORDER BY case_id, n`,
    [caseId ?? null],
  );
  return rows;
}

interface ArchiveRow {
  run_id: string | null;
  case_id: string;
  archived: boolean;
  stored: string | null;
  computed: string | null;
  audit_id: string | null;
  position: number | null;
  recorded_run: string | null;
  recorded: string | null;
}

/** Every archived history beside the `archived` audit row for its run (either may be missing). */
async function archiveRows(db: Queryable, caseId?: string): Promise<ArchiveRow[]> {
  const { rows } = await db.query<ArchiveRow>(
    `SELECT h.run_id, COALESCE(h.case_id, a.case_id) AS case_id, h.run_id IS NOT NULL AS archived,
       encode(h.sha256, 'hex') AS stored, encode(sha256(convert_to(h.history, 'UTF8')), 'hex') AS computed,
       a.id::text AS audit_id, a.position, a.detail->>'runId' AS recorded_run, a.detail->>'sha256' AS recorded
     FROM case_histories h
     FULL JOIN (SELECT * FROM audit_events WHERE kind = 'archived') a ON a.case_id = h.case_id AND a.detail->>'runId' = h.run_id
     WHERE $1::text IS NULL OR COALESCE(h.case_id, a.case_id) = $1
     ORDER BY a.position NULLS LAST, h.run_id`,
    [caseId ?? null],
  );
  return rows;
}

interface UnnumberedRow {
  id: string;
  position: number;
  case_id: string | null;
  kind: string;
  why: 'kind' | 'no-case' | 'no-version' | 'no-change' | 'no-approval' | 'no-setting' | 'no-task' | 'no-redelivery' | 'no-escalation' | 'no-void' | 'again';
}

/** The rows without seq that Casebook's writers of unnumbered rows could not have written (see UNNUMBERED_KINDS). */
async function unnumberedRows(db: Queryable, caseId?: string): Promise<UnnumberedRow[]> {
  const { rows } = await db.query<UnnumberedRow>(
    `SELECT id::text, position, case_id, kind, why FROM (
       SELECT a.id, a.position, a.case_id, a.kind, CASE
         WHEN a.kind <> ALL ($2::text[]) THEN 'kind'
         WHEN a.kind IN ('opened', 'archived') AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.case_id = a.case_id) THEN 'no-case'
         WHEN a.kind = 'opened' AND EXISTS (
           SELECT 1 FROM audit_events o WHERE o.case_id = a.case_id AND o.kind = 'opened' AND o.seq IS NULL AND o.position < a.position) THEN 'again'
         WHEN a.kind = 'published' AND (a.case_id IS NOT NULL OR NOT EXISTS (
           SELECT 1 FROM playbook_versions p WHERE p.name = a.detail->>'name' AND p.version::text = a.detail->>'version' AND p.hash = a.detail->>'hash')) THEN 'no-version'
         WHEN a.kind = 'published' AND EXISTS (
           SELECT 1 FROM audit_events o WHERE o.kind = 'published' AND o.seq IS NULL AND o.detail->>'name' = a.detail->>'name'
             AND o.detail->>'version' = a.detail->>'version' AND o.position < a.position) THEN 'again'
         WHEN a.kind = 'made-current' AND (a.case_id IS NOT NULL OR NOT EXISTS (
           SELECT 1 FROM playbook_current_changes c WHERE c.id::text = a.detail->>'change' AND c.name = a.detail->>'name'
             AND c.to_version::text = a.detail->>'to')) THEN 'no-change'
         WHEN a.kind = 'version-approved' AND (a.case_id IS NOT NULL OR NOT EXISTS (
           SELECT 1 FROM playbook_version_approvals v WHERE v.id::text = a.detail->>'approval' AND v.name = a.detail->>'name'
             AND v.version::text = a.detail->>'version' AND v.approved_by_key_id IS NOT DISTINCT FROM a.actor_key_id)) THEN 'no-approval'
         WHEN a.kind = 'approval-setting-changed' AND (a.case_id IS NOT NULL OR NOT EXISTS (
           SELECT 1 FROM playbook_settings p WHERE p.id::text = a.detail->>'setting' AND p.name = a.detail->>'name'
             AND p.approval_required::text = a.detail->>'approvalRequired' AND p.changed_by_name = a.actor_name)) THEN 'no-setting'
         WHEN a.kind = 'task-taken-over' AND NOT EXISTS (
           SELECT 1 FROM tasks t WHERE t.id::text = a.detail->>'task' AND t.case_id = a.case_id AND t.step_id = a.step_id) THEN 'no-task'
         WHEN a.kind = 'delivery-redelivered' AND NOT EXISTS (
           SELECT 1 FROM webhook_attempts w WHERE w.webhook_id = a.detail->>'webhookId' AND w.attempt::text = a.detail->>'attempt'
             AND w.case_id IS NOT DISTINCT FROM a.case_id AND w.requested_by_name = a.actor_name) THEN 'no-redelivery'
         WHEN a.kind = 'bulk-escalated' AND NOT EXISTS (
           SELECT 1 FROM escalations e WHERE e.id::text = a.detail->>'escalation' AND e.case_id = a.case_id
             AND e.queue = a.detail->>'queue' AND e.reason = a.detail->>'reason') THEN 'no-escalation'
         WHEN a.kind = 'voided' AND NOT EXISTS (
           SELECT 1 FROM audit_voided v JOIN audit_events o ON o.id = v.audit_id
           WHERE v.voided_by = a.id AND o.case_id = a.case_id AND o.seq IS NOT NULL AND o.position < a.position) THEN 'no-void'
         WHEN a.kind = 'archived' AND EXISTS (
           SELECT 1 FROM audit_events o WHERE o.kind = 'archived' AND o.case_id = a.case_id AND o.detail->>'runId' = a.detail->>'runId'
             AND o.position < a.position) THEN 'again'
       END AS why
       FROM audit_events a WHERE a.seq IS NULL AND ($1::text IS NULL OR a.case_id = $1)) unnumbered
     WHERE why IS NOT NULL ORDER BY position`,
    [caseId ?? null, UNNUMBERED_KINDS],
  );
  return rows;
}

interface RefundMismatch {
  id: string;
  position: number;
  case_id: string | null;
  kind: string;
  refund_id: string;
  amount: string | null;
  currency: string | null;
  ledger_amount: string | null;
  ledger_currency: string | null;
  ledger_case: string | null;
}

/** Each paid refund's `refund` row (detail.refundId) whose ledger row is gone, or has another amount, currency or case. */
async function refundMismatches(db: Queryable, caseId?: string): Promise<RefundMismatch[]> {
  const { rows } = await db.query<RefundMismatch>(
    `SELECT a.id::text, a.position, a.case_id, a.kind, a.detail->>'refundId' AS refund_id, a.detail->>'amount' AS amount,
       a.detail->>'currency' AS currency, r.amount::text AS ledger_amount, r.currency::text AS ledger_currency, r.case_id AS ledger_case
     FROM audit_events a
     LEFT JOIN refunds r ON r.id = CASE WHEN a.detail->>'refundId' ~ '^[0-9]{1,18}$' THEN (a.detail->>'refundId')::bigint END
     WHERE a.kind = 'refund' AND a.seq IS NOT NULL AND a.detail ? 'refundId' AND ($1::text IS NULL OR a.case_id = $1)
       AND (r.id IS NULL OR r.amount::text IS DISTINCT FROM a.detail->>'amount' OR r.currency::text IS DISTINCT FROM a.detail->>'currency'
            OR r.case_id IS DISTINCT FROM a.case_id)
     ORDER BY a.position`,
    [caseId ?? null],
  );
  return rows;
}

/** Refunds created this long before a checkpoint are in its digest: a refund is inserted by one statement, committed at once. */
const REFUNDS_SETTLED_AFTER = '60 seconds';

/** One refund's fixed columns (those never updated), as the digest renders them. */
const REFUND_TEXT = 'jsonb_build_array(r.id, r.idempotency_key, r.case_id, r.step_id, r.order_id, r.amount, r.currency, r.covers)::text';
/** How many refunds, and sha256 of their texts joined with newlines in id order. */
const REFUNDS_DIGEST = `count(r.id)::int AS count,
  encode(sha256(convert_to(COALESCE(string_agg(${REFUND_TEXT}, E'\\n' ORDER BY r.id), ''), 'UTF8')), 'hex') AS sha256`;

/**
 * What a checkpoint signs: the chain's last position and head, and the digest of the refunds created a
 * minute or more ago (a later checkpoint covers the newer ones).
 */
export async function chainAnchor(db: Queryable): Promise<ChainAnchor> {
  const {
    rows: [anchor],
  } = await db.query<{ position: number; head: string | null; through: number; count: number; sha256: string }>(
    `WITH last AS (SELECT position, hash FROM audit_events ORDER BY position DESC LIMIT 1),
          through AS (SELECT COALESCE(max(id), 0) AS id FROM refunds WHERE created_at < now() - $1::interval)
     SELECT COALESCE((SELECT position FROM last), 0) AS position, (SELECT encode(hash, 'hex') FROM last) AS head,
       (SELECT id FROM through) AS through, ${REFUNDS_DIGEST}
     FROM refunds r WHERE r.id <= (SELECT id FROM through)`,
    [REFUNDS_SETTLED_AFTER],
  );
  return { position: anchor!.position, head: anchor!.head, refunds: { through: anchor!.through, count: anchor!.count, sha256: anchor!.sha256 } };
}

/**
 * The refunds digest (as `chainAnchor` computes it) up to each of `throughs`, in one pass over the
 * ledger in id order: the running sha256 is copied at each bound. Answers through → { count, sha256 }.
 */
async function refundsDigests(db: Queryable, throughs: number[]): Promise<Map<number, { count: number; sha256: string }>> {
  const bounds = [...new Set(throughs)].sort((a, b) => a - b);
  const digests = new Map<number, { count: number; sha256: string }>();
  const running = createHash('sha256');
  let count = 0;
  let after = 0;
  let next = 0;
  const passBoundsBelow = (id: number) => {
    while (next < bounds.length && bounds[next]! < id) {
      digests.set(bounds[next]!, { count, sha256: running.copy().digest('hex') });
      next += 1;
    }
  };
  const last = bounds.at(-1) ?? 0;
  for (;;) {
    const { rows } = await db.query<{ id: number; text: string }>(
      `SELECT r.id, ${REFUND_TEXT} AS text FROM refunds r WHERE r.id > $1 AND r.id <= $2 ORDER BY r.id LIMIT $3`,
      [after, last, BATCH],
    );
    for (const row of rows) {
      passBoundsBelow(row.id);
      running.update(count === 0 ? row.text : `\n${row.text}`, 'utf8');
      count += 1;
    }
    if (rows.length < BATCH) break;
    after = rows.at(-1)!.id;
  }
  passBoundsBelow(Number.POSITIVE_INFINITY);
  return digests;
}

/** The hash (hex) of the rows at these positions; a position with no row is absent from the map. */
async function hashesAt(db: Queryable, positions: number[]): Promise<Map<number, string>> {
  const hashes = new Map<number, string>();
  for (let i = 0; i < positions.length; i += BATCH) {
    const { rows } = await db.query<{ position: number; hash: string }>(
      `SELECT position, encode(hash, 'hex') AS hash FROM audit_events WHERE position = ANY ($1::bigint[])`,
      [positions.slice(i, i + BATCH)],
    );
    for (const row of rows) hashes.set(row.position, row.hash);
  }
  return hashes;
}

const BATCH = 5_000;

/**
 * Walks the audit trail: (a) recomputes each row's hash, (b) checks that each prev_hash is the hash of
 * the row before and that positions have no gap, (c) that each case's workflow rows are numbered 1, 2,
 * 3..., and (d) that each archived history's sha256 is its `sha256` column and the digest its
 * `archived` row recorded. With `caseId`, only that case's rows (their hashes and both links) and archives.
 */
export async function verifyAuditTrail(db: Queryable, { caseId, anchors }: { caseId?: string; anchors?: Anchor[] } = {}): Promise<AuditVerification> {
  const problems: AuditProblem[] = [];
  let rows = 0;
  let last = 0;
  if (caseId === undefined) {
    let expected = 1;
    let previous: ChainRow | undefined;
    for (let batch = await chainRows(db, 0, BATCH); batch.length > 0; batch = await chainRows(db, batch.at(-1)!.position, BATCH)) {
      for (const row of batch) {
        rows += 1;
        checkLink(problems, row, previous, expected, row.prev_hash === (previous?.hash ?? GENESIS));
        checkHash(problems, row);
        previous = row;
        expected = row.position + 1;
      }
    }
    last = previous?.position ?? 0;
  } else {
    for (const row of await caseChainRows(db, caseId)) {
      rows += 1;
      const before = row.position === 1 ? GENESIS : row.before_hash;
      if (before === null) {
        problems.push({ problem: 'gap', ...rowFields(row), message: `${rowName(row)}: row ${row.position - 1} before it is missing (removed)` });
      } else if (row.prev_hash !== before) {
        problems.push({
          problem: 'link',
          ...rowFields(row),
          message: `${rowName(row)}: its prev_hash is not the hash of row ${row.position - 1} (a row before it was altered, inserted or removed)`,
        });
      }
      checkHash(problems, row);
      if (row.position < row.last_position && row.after_prev_hash === null) {
        problems.push({ problem: 'gap', ...rowFields(row), message: `${rowName(row)}: row ${row.position + 1} after it is missing (removed)` });
      } else if (row.after_prev_hash !== null && row.after_prev_hash !== row.hash) {
        problems.push({
          problem: 'link',
          ...rowFields(row),
          message: `${rowName(row)}: row ${row.position + 1} after it does not chain onto it (altered, inserted or removed)`,
        });
      }
    }
  }
  for (const row of await seqBreaks(db, caseId)) {
    const what =
      row.seq > row.n ? `workflow seq ${row.n} is missing before it (removed)` : `workflow seq ${row.seq} appears again where ${row.n} was expected (inserted)`;
    problems.push({ problem: 'seq', position: row.position, id: row.id, caseId: row.case_id, kind: row.kind, message: `${rowName(row)}: ${what}` });
  }
  for (const row of await unnamedVoids(db, caseId))
    problems.push({ problem: 'voided', ...rowFields(row), message: `${rowName(row)}: taken out of the trail by a row that does not name it (forged)` });
  for (const row of await unnumberedRows(db, caseId))
    problems.push({ problem: 'unnumbered', ...rowFields(row), message: `${rowName(row)}: ${UNNUMBERED_WHY[row.why]} (forged)` });
  for (const row of await refundMismatches(db, caseId)) {
    const recorded = `${row.amount} ${row.currency}`;
    const what =
      row.ledger_amount === null
        ? `refund ${row.refund_id} it recorded (${recorded}) is not in the refunds ledger (removed)`
        : `refund ${row.refund_id} in the refunds ledger is ${row.ledger_amount} ${row.ledger_currency} of case ${row.ledger_case}, not the ${recorded} it recorded (altered)`;
    problems.push({ problem: 'refund-altered', ...rowFields(row), message: `${rowName(row)}: ${what}` });
  }
  const archives = await archiveRows(db, caseId);
  for (const archive of archives) checkArchive(problems, archive);
  if (caseId === undefined && anchors && anchors.length > 0) await checkAnchors(db, problems, anchors, last);
  return { intact: problems.length === 0, rows, archives: archives.filter((a) => a.archived).length, head: await chainHead(db), problems };
}

const UNNUMBERED_WHY: Record<UnnumberedRow['why'], string> = {
  kind: `a row without a workflow seq can only be ${UNNUMBERED_KINDS.join(', ')}`,
  'no-case': 'there is no such case',
  'no-version': 'no such playbook version was published',
  'no-change': 'no such change of the current playbook version was made',
  'no-approval': 'no such approval of a playbook version was given',
  'no-setting': 'no such change of the approval setting was made',
  'no-task': 'its case has no such task at that step',
  'no-redelivery': 'no attempt of that delivery was asked for by that admin',
  'no-escalation': 'its case has no such escalation',
  'no-void': 'it takes no earlier row of its case out of the trail',
  again: 'it was already recorded by an earlier row',
};

const checkpointName = (anchor: Anchor) => `checkpoint ${anchor.checkpoint} (${anchor.at})`;

/**
 * The chain against the signed checkpoints (in checkpoint order): the rows the newest anchored are all
 * there, the row at each checkpoint's position still has the hash it signed (the earliest that does
 * not is named, after the last that still does), and the refunds the newest digested are unchanged
 * (the first checkpoint that no longer matches bounds the refund's id).
 */
async function checkAnchors(db: Queryable, problems: AuditProblem[], anchors: Anchor[], last: number): Promise<void> {
  const furthest = anchors.reduce((a, b) => (b.position >= a.position ? b : a));
  if (furthest.position > last) {
    const missing = furthest.position === last + 1 ? `row ${last + 1}` : `rows ${last + 1} to ${furthest.position}`;
    problems.push({
      problem: 'truncated',
      position: last + 1,
      message: `${missing}, which ${checkpointName(furthest)} anchored, ${furthest.position === last + 1 ? 'is' : 'are'} missing: the newest rows were removed`,
    });
  }
  const hashes = await hashesAt(db, [...new Set(anchors.filter((a) => a.position > 0 && a.position <= last).map((a) => a.position))]);
  let matched: Anchor | undefined;
  for (const anchor of anchors) {
    if (anchor.position === 0 || anchor.position > last) continue;
    const hash = hashes.get(anchor.position);
    if (hash === anchor.head) {
      if (!matched || anchor.position > matched.position) matched = anchor;
      continue;
    }
    if (hash === undefined) continue; // a removed row, named as a gap
    const after = matched
      ? `after row ${matched.position} (where ${checkpointName(matched)} still matches)`
      : `at or before row ${anchor.position} (no earlier checkpoint still matches)`;
    problems.push({
      problem: 'rewritten',
      position: anchor.position,
      message: `row ${anchor.position}: its hash ${hash} is not the head ${anchor.head} that ${checkpointName(anchor)} signed: the chain was rewritten ${after}`,
    });
    break;
  }
  // Every checkpoint, not only the newest: one written after a refund was edited digests the edit.
  const digests = await refundsDigests(
    db,
    anchors.map((a) => a.refunds.through),
  );
  let below = 0;
  for (const anchor of anchors) {
    const digest = digests.get(anchor.refunds.through)!;
    if (digest.sha256 === anchor.refunds.sha256) {
      below = Math.max(below, anchor.refunds.through);
      continue;
    }
    const from = below + 1;
    const which = from === anchor.refunds.through ? `the one with id ${from}` : `one with id from ${from} to ${anchor.refunds.through}`;
    const counted = digest.count === anchor.refunds.count ? '' : `; ${digest.count} refunds where it counted ${anchor.refunds.count}`;
    problems.push({
      problem: 'refunds-altered',
      message: `the refunds with ids up to ${anchor.refunds.through} are not those ${checkpointName(anchor)} digested${counted}: ${which} was altered, inserted or removed`,
    });
    return;
  }
}

function checkLink(problems: AuditProblem[], row: ChainRow, previous: ChainRow | undefined, expected: number, linked: boolean): void {
  if (row.position !== expected) {
    const missing = row.position === expected + 1 ? `row ${expected} is missing` : `rows ${expected} to ${row.position - 1} are missing`;
    problems.push({
      problem: 'gap',
      ...rowFields(row),
      message: `${rowName(row)}: ${missing} before it (removed)${linked ? '' : '; its prev_hash is not the hash of the row before it'}`,
    });
  } else if (!linked) {
    const before = previous ? `row ${previous.position}` : 'the start of the chain';
    problems.push({
      problem: 'link',
      ...rowFields(row),
      message: `${rowName(row)}: its prev_hash is not the hash of ${before} (a row was altered, inserted or removed here)`,
    });
  }
}

function checkHash(problems: AuditProblem[], row: ChainRow): void {
  if (row.computed !== row.hash) {
    problems.push({ problem: 'altered', ...rowFields(row), message: `${rowName(row)}: its content does not match its hash (altered)` });
  }
}

function checkArchive(problems: AuditProblem[], archive: ArchiveRow): void {
  const run = archive.run_id ?? archive.recorded_run ?? '?';
  const named = `case ${archive.case_id} run ${run}`;
  const fields = { caseId: archive.case_id, runId: run, ...(archive.audit_id ? { id: archive.audit_id, position: archive.position!, kind: 'archived' } : {}) };
  if (!archive.archived) {
    problems.push({
      problem: 'archive-missing',
      ...fields,
      message: `${named}: the history that row ${archive.position} (id ${archive.audit_id}) recorded as archived is missing (removed)`,
    });
  } else if (archive.audit_id === null) {
    problems.push({ problem: 'archive-unrecorded', ...fields, message: `${named}: an archived history no \`archived\` audit row recorded (inserted)` });
  } else if (archive.computed !== archive.stored || archive.computed !== archive.recorded) {
    const which = archive.computed !== archive.stored ? 'its sha256 column' : `the digest row ${archive.position} (id ${archive.audit_id}) recorded`;
    problems.push({ problem: 'archive-altered', ...fields, message: `${named}: the archived history's sha256 is not ${which} (altered)` });
  }
}
