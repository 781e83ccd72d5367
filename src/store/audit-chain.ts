/**
 * The hash-chained audit trail (migrations/308_audit_chain.sql): the rows written outside the workflow
 * (a case opened, a playbook published, a run's history archived), who did each, and the verification
 * that walks the chain and the archived histories (`casebook audit verify`).
 *
 * The chain itself is kept by the database: a trigger sets each new row's `position`, `prev_hash` and
 * `hash` = sha256(prev_hash || audit_event_content(row)). Verification recomputes every hash with the
 * same SQL function, so there is one rendering of a row's content.
 */
import { CASEBOOK_ACTOR, type Actor } from '../plan/case.js';
import type { Queryable } from './transaction.js';

/** What the first row's prev_hash is: 32 zero bytes. */
const GENESIS = '00'.repeat(32);

/**
 * The actor an audit record names in `detail.by`: an Actor ({ keyId, name }), or a name as the
 * workflow recorded it before actors were objects, `name (key <id>)` naming the key; else `casebook`.
 */
export function actorOfDetail(detail: Record<string, unknown> | undefined): Actor {
  const by = detail?.['by'];
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
  opened: { caseId: string; by: Actor; data: Record<string, unknown>; playbook: { name: string; version: number; hash: string } },
): Promise<void> {
  await db.query(
    `INSERT INTO audit_events (idempotency_key, case_id, at, kind, detail, actor_key_id, actor_name)
     VALUES ($1 || '/opened', $1, now(), 'opened', $2, $3, $4)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [opened.caseId, JSON.stringify({ data: opened.data, playbook: opened.playbook }), opened.by.keyId, opened.by.name],
  );
}

/** The `published` row of a playbook version (no case): who published which content. */
export async function recordPublished(db: Queryable, published: { name: string; version: number; hash: string; by: Actor }): Promise<void> {
  await db.query(
    `INSERT INTO audit_events (idempotency_key, at, kind, detail, actor_key_id, actor_name)
     VALUES ('playbook/' || $1 || '/' || $2 || '/published', now(), 'published', $3, $4, $5)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [published.name, published.version, JSON.stringify({ name: published.name, version: published.version, hash: published.hash }), published.by.keyId, published.by.name],
  );
}

/**
 * The `archived` row of a closed run's history (written by the archiver with the `case_histories`
 * row): the digest of the history (hex), which `verifyAuditTrail` compares with the archive. Once per run.
 */
export async function recordArchived(db: Queryable, archived: { caseId: string; runId: string; sha256Hex: string; events: number }): Promise<void> {
  await db.query(
    `INSERT INTO audit_events (idempotency_key, case_id, at, kind, detail)
     VALUES ($1 || '/archived/' || $2, $1, now(), 'archived', $3)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [archived.caseId, archived.runId, JSON.stringify({ runId: archived.runId, sha256: archived.sha256Hex, events: archived.events })],
  );
}

/** What is wrong, naming the row (its chain position, id, case and kind) or the case and run. */
export interface AuditProblem {
  /**
   * altered: a row's hash is not that of its content; link: its prev_hash is not the hash of the row
   * before it; gap: positions are missing before it (rows removed); seq: a case's workflow rows are not
   * numbered 1, 2, 3...; archive-altered / archive-unrecorded / archive-missing: an archived history
   * differs from its digests, has no `archived` row, or the `archived` row's history is gone.
   */
  problem: 'altered' | 'link' | 'gap' | 'seq' | 'archive-altered' | 'archive-unrecorded' | 'archive-missing';
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
const rowFields = (row: ChainRow) => ({ position: row.position, id: row.id, caseId: row.case_id, kind: row.kind });

const CHAIN_COLUMNS = `a.id::text, a.position, a.case_id, a.kind, encode(a.prev_hash, 'hex') AS prev_hash, encode(a.hash, 'hex') AS hash,
  encode(sha256(a.prev_hash || audit_event_content(a.case_id, a.seq, a.at, a.kind, a.step_id, a.actor_key_id, a.actor_name, a.detail)), 'hex') AS computed`;

/** The chain from position `after` on, `limit` rows, each with its hash recomputed. */
async function chainRows(db: Queryable, after: number, limit: number): Promise<ChainRow[]> {
  const { rows } = await db.query<ChainRow>(`SELECT ${CHAIN_COLUMNS} FROM audit_events a WHERE a.position > $1 ORDER BY a.position LIMIT $2`, [after, limit]);
  return rows;
}

/** One case's rows with their hashes recomputed and their neighbours in the chain. */
async function caseChainRows(db: Queryable, caseId: string): Promise<(ChainRow & { before_hash: string | null; after_prev_hash: string | null; last_position: number })[]> {
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

/** The first workflow row of each case whose seq is not its rank (1, 2, 3...): a seq missing before it, or repeated. */
async function seqBreaks(db: Queryable, caseId?: string): Promise<{ case_id: string; id: string; position: number; kind: string; seq: number; n: number }[]> {
  const { rows } = await db.query(
    `SELECT DISTINCT ON (case_id) case_id, id::text, position, kind, seq, n::int
     FROM (SELECT case_id, id, position, kind, seq, row_number() OVER (PARTITION BY case_id ORDER BY seq, position) AS n
           FROM audit_events WHERE seq IS NOT NULL AND ($1::text IS NULL OR case_id = $1)) ranked
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

const BATCH = 5_000;

/**
 * Walks the audit trail: (a) recomputes each row's hash, (b) checks that each prev_hash is the hash of
 * the row before and that positions have no gap, (c) that each case's workflow rows are numbered 1, 2,
 * 3..., and (d) that each archived history's sha256 is its `sha256` column and the digest its
 * `archived` row recorded. With `caseId`, only that case's rows (their hashes and both links) and archives.
 */
export async function verifyAuditTrail(db: Queryable, { caseId }: { caseId?: string } = {}): Promise<AuditVerification> {
  const problems: AuditProblem[] = [];
  let rows = 0;
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
  } else {
    for (const row of await caseChainRows(db, caseId)) {
      rows += 1;
      const before = row.position === 1 ? GENESIS : row.before_hash;
      if (before === null) {
        problems.push({ problem: 'gap', ...rowFields(row), message: `${rowName(row)}: row ${row.position - 1} before it is missing (removed)` });
      } else if (row.prev_hash !== before) {
        problems.push({ problem: 'link', ...rowFields(row), message: `${rowName(row)}: its prev_hash is not the hash of row ${row.position - 1} (a row before it was altered, inserted or removed)` });
      }
      checkHash(problems, row);
      if (row.position < row.last_position && row.after_prev_hash === null) {
        problems.push({ problem: 'gap', ...rowFields(row), message: `${rowName(row)}: row ${row.position + 1} after it is missing (removed)` });
      } else if (row.after_prev_hash !== null && row.after_prev_hash !== row.hash) {
        problems.push({ problem: 'link', ...rowFields(row), message: `${rowName(row)}: row ${row.position + 1} after it does not chain onto it (altered, inserted or removed)` });
      }
    }
  }
  for (const row of await seqBreaks(db, caseId)) {
    const what = row.seq > row.n ? `workflow seq ${row.n} is missing before it (removed)` : `workflow seq ${row.seq} appears again where ${row.n} was expected (inserted)`;
    problems.push({ problem: 'seq', position: row.position, id: row.id, caseId: row.case_id, kind: row.kind, message: `${rowName(row)}: ${what}` });
  }
  const archives = await archiveRows(db, caseId);
  for (const archive of archives) checkArchive(problems, archive);
  return { intact: problems.length === 0, rows, archives: archives.filter((a) => a.archived).length, head: await chainHead(db), problems };
}

function checkLink(problems: AuditProblem[], row: ChainRow, previous: ChainRow | undefined, expected: number, linked: boolean): void {
  if (row.position !== expected) {
    const missing = row.position === expected + 1 ? `row ${expected} is missing` : `rows ${expected} to ${row.position - 1} are missing`;
    problems.push({ problem: 'gap', ...rowFields(row), message: `${rowName(row)}: ${missing} before it (removed)${linked ? '' : '; its prev_hash is not the hash of the row before it'}` });
  } else if (!linked) {
    const before = previous ? `row ${previous.position}` : 'the start of the chain';
    problems.push({ problem: 'link', ...rowFields(row), message: `${rowName(row)}: its prev_hash is not the hash of ${before} (a row was altered, inserted or removed here)` });
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
    problems.push({ problem: 'archive-missing', ...fields, message: `${named}: the history that row ${archive.position} (id ${archive.audit_id}) recorded as archived is missing (removed)` });
  } else if (archive.audit_id === null) {
    problems.push({ problem: 'archive-unrecorded', ...fields, message: `${named}: an archived history no \`archived\` audit row recorded (inserted)` });
  } else if (archive.computed !== archive.stored || archive.computed !== archive.recorded) {
    const which = archive.computed !== archive.stored ? 'its sha256 column' : `the digest row ${archive.position} (id ${archive.audit_id}) recorded`;
    problems.push({ problem: 'archive-altered', ...fields, message: `${named}: the archived history's sha256 is not ${which} (altered)` });
  }
}
