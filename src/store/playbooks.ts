/** Published playbook versions: immutable rows, one per distinct content of a playbook. */
import type { Actor } from '../plan/case.js';
import type { HashedPlan, Plan } from '../plan/plan.js';
import { recordPublished } from './audit-chain.js';
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

/**
 * Publishes a compiled playbook. The same content again returns the version it already has;
 * new content gets the next version number. Versions are never changed afterwards.
 * `publishedBy` says who published it (an API key's name and id, or the tool that did); a new version's
 * `published` audit row names `by` (the API key; by default the tool, as `publishedBy` names it).
 */
export async function publishPlaybook(
  pool: Pool,
  sourceYaml: string,
  compiled: HashedPlan,
  publishedBy: string | null,
  by: Actor = { keyId: null, name: publishedBy ?? 'casebook' },
): Promise<{ version: PlaybookVersion; created: boolean }> {
  const name = compiled.plan.name;
  return withTransaction(pool, async (client) => {
    // One publisher per playbook name at a time, so version numbers never collide.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`playbook:${name}`]);
    const existing = await client.query<Row>(`SELECT name, version, hash, published_at, published_by FROM playbook_versions WHERE name = $1 AND hash = $2`, [
      name,
      compiled.hash,
    ]);
    if (existing.rows[0]) return { version: toVersion(existing.rows[0]), created: false };
    const inserted = await client.query<Row>(
      `INSERT INTO playbook_versions (name, version, hash, source_yaml, plan, published_by)
       VALUES ($1, COALESCE((SELECT max(version) FROM playbook_versions WHERE name = $1), 0) + 1, $2, $3, $4, $5)
       RETURNING name, version, hash, published_at, published_by`,
      [name, compiled.hash, sourceYaml, JSON.stringify(compiled.plan), publishedBy],
    );
    const version = toVersion(inserted.rows[0]!);
    // Last in the transaction: the audit chain's lock is held from here to the commit.
    await recordPublished(client, { name, version: version.version, hash: version.hash, by });
    return { version, created: true };
  });
}

export async function listPlaybooks(db: Queryable): Promise<(PlaybookVersion & { versions: number })[]> {
  const { rows } = await db.query<Row & { versions: number }>(
    `SELECT DISTINCT ON (name) name, version, hash, published_at, published_by, count(*) OVER (PARTITION BY name)::int AS versions
     FROM playbook_versions ORDER BY name, version DESC`,
  );
  return rows.map((row) => ({ ...toVersion(row), versions: row.versions }));
}

export async function listVersions(db: Queryable, name: string): Promise<PlaybookVersion[]> {
  const { rows } = await db.query<Row>(`SELECT name, version, hash, published_at, published_by FROM playbook_versions WHERE name = $1 ORDER BY version`, [
    name,
  ]);
  return rows.map(toVersion);
}

/** A given version, or the latest when `version` is undefined. */
export async function getPlaybook(db: Queryable, name: string, version?: number): Promise<StoredPlaybook | undefined> {
  const { rows } = await db.query<Row>(
    version === undefined
      ? `SELECT * FROM playbook_versions WHERE name = $1 ORDER BY version DESC LIMIT 1`
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
