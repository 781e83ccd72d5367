/**
 * Published playbook versions: immutable rows, one per distinct content of a playbook; and which
 * version is current (what new cases take), changed only by an explicit, audited act.
 */
import type { Actor } from '../plan/case.js';
import type { HashedPlan, Plan } from '../plan/plan.js';
import { recordApprovalSetting, recordApproved, recordMadeCurrent, recordPublished } from './audit-chain.js';
import type { Pool } from './pool.js';
import { withTransaction, type Queryable } from './transaction.js';

export interface PlaybookVersion {
  name: string;
  version: number;
  hash: string;
  publishedAt: string;
  /** The API key's name and id, or the tool that published it; null for versions from before it was recorded. */
  publishedBy: string | null;
}

export interface StoredPlaybook extends PlaybookVersion {
  sourceYaml: string;
  plan: Plan;
}

interface Row {
  name: string;
  version: number;
  hash: string;
  published_at: Date;
  published_by: string | null;
  source_yaml?: string;
  plan?: Plan;
}

const toVersion = (row: Row): PlaybookVersion => ({
  name: row.name,
  version: row.version,
  hash: row.hash,
  publishedAt: row.published_at.toISOString(),
  publishedBy: row.published_by,
});

/** A change of a playbook's current version: from which version (none for the first) to which, by whom, when and why. */
export interface CurrentChange {
  id: string;
  from: number | null;
  to: number;
  reason: string;
  at: string;
  by: Actor;
}

/** Why a version published with `makeCurrent` became current when no reason is given. */
export const PUBLISHED_CURRENT_REASON = 'published and made current in one step';
/** Why a playbook's first version became current. */
export const FIRST_VERSION_REASON = 'the first version published';

/**
 * Publishes a compiled playbook. The same content again returns the version it already has;
 * new content gets the next version number. Versions are never changed afterwards.
 * `publishedBy` says who published it (an API key's name and id, or the tool that did); a new version's
 * `published` audit row names `by` (the API key; by default the tool, as `publishedBy` names it).
 * A playbook's first version becomes current; a later one only with `makeCurrent` (an explicit act,
 * audited as making it current), so publishing never changes what new cases run by itself.
 */
export async function publishPlaybook(
  pool: Pool,
  sourceYaml: string,
  compiled: HashedPlan,
  publishedBy: string | null,
  by: Actor = { keyId: null, name: publishedBy ?? 'casebook' },
  makeCurrent?: { reason?: string },
): Promise<{ version: PlaybookVersion; created: boolean; current: number; madeCurrent: CurrentChange | undefined }> {
  const name = compiled.plan.name;
  return withTransaction(pool, async (client) => {
    // One publisher per playbook name at a time, so version numbers never collide.
    await lockPlaybook(client, name);
    const existing = await client.query<Row>(`SELECT name, version, hash, published_at, published_by FROM playbook_versions WHERE name = $1 AND hash = $2`, [
      name,
      compiled.hash,
    ]);
    let version: PlaybookVersion;
    const created = !existing.rows[0];
    if (existing.rows[0]) {
      version = toVersion(existing.rows[0]);
    } else {
      const inserted = await client.query<Row>(
        `INSERT INTO playbook_versions (name, version, hash, source_yaml, plan, published_by)
         VALUES ($1, COALESCE((SELECT max(version) FROM playbook_versions WHERE name = $1), 0) + 1, $2, $3, $4, $5)
         RETURNING name, version, hash, published_at, published_by`,
        [name, compiled.hash, sourceYaml, JSON.stringify(compiled.plan), publishedBy],
      );
      version = toVersion(inserted.rows[0]!);
    }
    const current = await currentVersion(client, name);
    // A playbook that requires approval takes a later version only once it is approved (POST .../current).
    const allowed = current === undefined || !(await approvalRequired(client, name)) || (await approvals(client, name, version.version)).length > 0;
    const reason = current === undefined ? FIRST_VERSION_REASON : makeCurrent && allowed ? (makeCurrent.reason ?? PUBLISHED_CURRENT_REASON) : undefined;
    const madeCurrent =
      reason !== undefined && current !== version.version ? await insertChange(client, name, current ?? null, version.version, reason, by) : undefined;
    // Last in the transaction: the audit chain's lock is held from here to the commit.
    if (created) await recordPublished(client, { name, version: version.version, hash: version.hash, by });
    if (madeCurrent)
      await recordMadeCurrent(client, { change: madeCurrent.id, name, from: madeCurrent.from, to: madeCurrent.to, reason: madeCurrent.reason, by });
    return { version, created, current: madeCurrent?.to ?? current!, madeCurrent };
  });
}

const lockPlaybook = (db: Queryable, name: string) => db.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`playbook:${name}`]);

interface ChangeRow {
  id: string;
  from_version: number | null;
  to_version: number;
  reason: string;
  changed_at: Date;
  changed_by_key_id: string | null;
  changed_by_name: string;
}

const CHANGE_COLUMNS = 'id::text, from_version, to_version, reason, changed_at, changed_by_key_id, changed_by_name';

const toChange = (row: ChangeRow): CurrentChange => ({
  id: row.id,
  from: row.from_version,
  to: row.to_version,
  reason: row.reason,
  at: row.changed_at.toISOString(),
  by: { keyId: row.changed_by_key_id, name: row.changed_by_name },
});

async function insertChange(db: Queryable, name: string, from: number | null, to: number, reason: string, by: Actor): Promise<CurrentChange> {
  const { rows } = await db.query<ChangeRow>(
    `INSERT INTO playbook_current_changes (name, from_version, to_version, reason, changed_by_key_id, changed_by_name)
     VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${CHANGE_COLUMNS}`,
    [name, from, to, reason, by.keyId, by.name],
  );
  return toChange(rows[0]!);
}

/** The version new cases of a playbook take; undefined when none is published. */
export async function currentVersion(db: Queryable, name: string): Promise<number | undefined> {
  const { rows } = await db.query<{ to_version: number }>(`SELECT to_version FROM playbook_current_changes WHERE name = $1 ORDER BY id DESC LIMIT 1`, [name]);
  return rows[0]?.to_version;
}

/** The changes of a playbook's current version, the latest first. */
export async function currentChanges(db: Queryable, name: string): Promise<CurrentChange[]> {
  const { rows } = await db.query<ChangeRow>(`SELECT ${CHANGE_COLUMNS} FROM playbook_current_changes WHERE name = $1 ORDER BY id DESC`, [name]);
  return rows.map(toChange);
}

export type MakeCurrentResult =
  | { kind: 'unknown-version' }
  | { kind: 'unapproved' }
  | { kind: 'unchanged'; current: number }
  | { kind: 'made-current'; change: CurrentChange };

/**
 * Makes a published version the one new cases take (a later or an earlier one alike), with its
 * `made-current` audit row in the same transaction. The version already current changes nothing.
 */
export async function makeCurrent(pool: Pool, request: { name: string; version: number; reason: string; by: Actor }): Promise<MakeCurrentResult> {
  const { name, version, reason, by } = request;
  return withTransaction(pool, async (client) => {
    await lockPlaybook(client, name);
    const exists = await client.query(`SELECT 1 FROM playbook_versions WHERE name = $1 AND version = $2`, [name, version]);
    if (exists.rowCount === 0) return { kind: 'unknown-version' };
    const current = await currentVersion(client, name);
    if (current === version) return { kind: 'unchanged', current };
    if ((await approvalRequired(client, name)) && (await approvals(client, name, version)).length === 0) return { kind: 'unapproved' };
    const change = await insertChange(client, name, current ?? null, version, reason, by);
    await recordMadeCurrent(client, { change: change.id, name, from: change.from, to: version, reason, by });
    return { kind: 'made-current', change };
  });
}

/** Each playbook's latest version, how many it has, and which is current. */
export async function listPlaybooks(db: Queryable): Promise<(PlaybookVersion & { versions: number; current: number })[]> {
  const { rows } = await db.query<Row & { versions: number; current: number }>(
    `SELECT DISTINCT ON (p.name) p.name, p.version, p.hash, p.published_at, p.published_by, count(*) OVER (PARTITION BY p.name)::int AS versions,
       (SELECT to_version FROM playbook_current_changes c WHERE c.name = p.name ORDER BY c.id DESC LIMIT 1) AS current
     FROM playbook_versions p ORDER BY p.name, p.version DESC`,
  );
  return rows.map((row) => ({ ...toVersion(row), versions: row.versions, current: row.current }));
}

export async function listVersions(db: Queryable, name: string): Promise<PlaybookVersion[]> {
  const { rows } = await db.query<Row>(`SELECT name, version, hash, published_at, published_by FROM playbook_versions WHERE name = $1 ORDER BY version`, [
    name,
  ]);
  return rows.map(toVersion);
}

/** A given version, or the current one when `version` is undefined. */
export async function getPlaybook(db: Queryable, name: string, version?: number): Promise<StoredPlaybook | undefined> {
  const { rows } = await db.query<Row>(
    version === undefined
      ? `SELECT p.* FROM playbook_versions p
         JOIN (SELECT to_version FROM playbook_current_changes WHERE name = $1 ORDER BY id DESC LIMIT 1) c ON p.version = c.to_version
         WHERE p.name = $1`
      : `SELECT * FROM playbook_versions WHERE name = $1 AND version = $2`,
    version === undefined ? [name] : [name, version],
  );
  const row = rows[0];
  return row ? { ...toVersion(row), sourceYaml: row.source_yaml!, plan: row.plan! } : undefined;
}

/** Every published version of the named playbooks, with its plan: what a parent's `playbook` steps may run. */
export async function publishedVersionsOf(db: Queryable, names: readonly string[]): Promise<{ name: string; version: number; hash: string; plan: Plan }[]> {
  if (names.length === 0) return [];
  const { rows } = await db.query<{ name: string; version: number; hash: string; plan: Plan }>(
    `SELECT name, version, hash, plan FROM playbook_versions WHERE name = ANY($1::text[]) ORDER BY name, version`,
    [names],
  );
  return rows;
}

/**
 * The published plan with this hash, whichever playbook published it (the hash is of the plan's
 * content, so every row with it holds the same plan): what a history that names its plan by hash runs.
 */
export async function publishedPlanByHash(db: Queryable, hash: string): Promise<Plan | undefined> {
  const { rows } = await db.query<{ plan: Plan }>(`SELECT plan FROM playbook_versions WHERE hash = $1 LIMIT 1`, [hash]);
  return rows[0]?.plan;
}

/** Whether a playbook's versions need an approval before they become current: its last setting, none by default. */
export async function approvalRequired(db: Queryable, name: string): Promise<boolean> {
  const { rows } = await db.query<{ approval_required: boolean }>(`SELECT approval_required FROM playbook_settings WHERE name = $1 ORDER BY id DESC LIMIT 1`, [
    name,
  ]);
  return rows[0]?.approval_required ?? false;
}

/**
 * Sets whether a playbook's versions need an approval: a new settings row, with who and why, and its
 * `approval-setting-changed` audit row in the same transaction.
 */
export async function setApprovalRequired(pool: Pool, request: { name: string; required: boolean; reason: string; by: Actor }): Promise<void> {
  const { name, required, reason, by } = request;
  await withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `INSERT INTO playbook_settings (name, approval_required, reason, changed_by_key_id, changed_by_name) VALUES ($1, $2, $3, $4, $5) RETURNING id::text`,
      [name, required, reason, by.keyId, by.name],
    );
    await recordApprovalSetting(client, { setting: rows[0]!.id, name, approvalRequired: required, reason, by });
  });
}

/** An approval of a playbook version by an ops lead or admin. */
export interface Approval {
  id: string;
  version: number;
  reason: string;
  at: string;
  by: Actor;
}

interface ApprovalRow {
  id: string;
  version: number;
  reason: string;
  approved_at: Date;
  approved_by_key_id: string;
  approved_by_name: string;
}

const APPROVAL_COLUMNS = 'id::text, version, reason, approved_at, approved_by_key_id, approved_by_name';

const toApproval = (row: ApprovalRow): Approval => ({
  id: row.id,
  version: row.version,
  reason: row.reason,
  at: row.approved_at.toISOString(),
  by: { keyId: row.approved_by_key_id, name: row.approved_by_name },
});

/** The approvals of a playbook's versions (of one version when given), the earliest first. */
export async function approvals(db: Queryable, name: string, version?: number): Promise<Approval[]> {
  const { rows } = await db.query<ApprovalRow>(
    `SELECT ${APPROVAL_COLUMNS} FROM playbook_version_approvals WHERE name = $1 AND ($2::int IS NULL OR version = $2) ORDER BY id`,
    [name, version ?? null],
  );
  return rows.map(toApproval);
}

export type ApproveResult = { kind: 'unknown-version' } | { kind: 'own-version' } | { kind: 'approved'; approval: Approval; created: boolean };

/**
 * Approves a published version, with its `version-approved` audit row in the same transaction. The
 * key that published it (its `published` audit row's key) cannot; the same key again changes nothing.
 */
export async function approveVersion(
  pool: Pool,
  request: { name: string; version: number; reason: string; by: Actor & { keyId: string } },
): Promise<ApproveResult> {
  const { name, version, reason, by } = request;
  return withTransaction(pool, async (client) => {
    await lockPlaybook(client, name);
    const exists = await client.query(`SELECT 1 FROM playbook_versions WHERE name = $1 AND version = $2`, [name, version]);
    if (exists.rowCount === 0) return { kind: 'unknown-version' };
    const publisher = await client.query<{ actor_key_id: string | null }>(
      `SELECT actor_key_id FROM audit_events WHERE kind = 'published' AND seq IS NULL AND detail->>'name' = $1 AND detail->>'version' = $2::text`,
      [name, version],
    );
    if (publisher.rows.some((row) => row.actor_key_id === by.keyId)) return { kind: 'own-version' };
    const given = await client.query<ApprovalRow>(
      `SELECT ${APPROVAL_COLUMNS} FROM playbook_version_approvals WHERE name = $1 AND version = $2 AND approved_by_key_id = $3`,
      [name, version, by.keyId],
    );
    if (given.rows[0]) return { kind: 'approved', approval: toApproval(given.rows[0]), created: false };
    const { rows } = await client.query<ApprovalRow>(
      `INSERT INTO playbook_version_approvals (name, version, reason, approved_by_key_id, approved_by_name) VALUES ($1, $2, $3, $4, $5)
       RETURNING ${APPROVAL_COLUMNS}`,
      [name, version, reason, by.keyId, by.name],
    );
    const approval = toApproval(rows[0]!);
    await recordApproved(client, { approval: approval.id, name, version, reason, by });
    return { kind: 'approved', approval, created: true };
  });
}
