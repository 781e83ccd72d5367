/**
 * API keys: `cb_<id>_<secret>`. The id finds the row; only the secret's sha256 is stored, and it is
 * compared in constant time. Unknown, revoked and malformed keys are all simply "no key".
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Pool } from './pool.js';
import { type Queryable, withTransaction } from './transaction.js';

export const ROLES = ['ops-lead', 'agent', 'warehouse', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface ApiKey {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

const KEY = /^cb_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest();

export async function createApiKey(pool: Queryable, role: Role, name: string): Promise<{ key: string; apiKey: ApiKey }> {
  const id = randomBytes(9)
    .toString('base64url')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '0')
    .slice(0, 12);
  const secret = randomBytes(32).toString('base64url');
  const { rows } = await pool.query(`INSERT INTO api_keys (id, name, role, secret_sha256) VALUES ($1, $2, $3, $4) RETURNING *`, [
    id,
    name,
    role,
    sha256(secret).toString('hex'),
  ]);
  return { key: `cb_${id}_${secret}`, apiKey: toApiKey(rows[0]) };
}

/** How stale a key's `last_used_at` may be. */
export const LAST_USED_PRECISION_MS = 60_000;

/** The active key a bearer token stands for, or undefined. */
export async function authenticate(pool: Pool, token: string): Promise<ApiKey | undefined> {
  const match = KEY.exec(token);
  if (!match) return undefined;
  const [, id, secret] = match;
  const { rows } = await pool.query(`SELECT * FROM api_keys WHERE id = $1`, [id]);
  const row = rows[0];
  if (!row || row.revoked_at) return undefined;
  const expected = Buffer.from(row.secret_sha256, 'hex');
  if (!timingSafeEqual(expected, sha256(secret!))) return undefined;
  // To the minute: a key in use is not written on every request (a row lock and a WAL record each).
  if (!row.last_used_at || Date.now() - row.last_used_at.getTime() >= LAST_USED_PRECISION_MS) {
    await pool.query(`UPDATE api_keys SET last_used_at = now() WHERE id = $1`, [id]);
  }
  return toApiKey(row);
}

export async function listApiKeys(pool: Pool): Promise<ApiKey[]> {
  const { rows } = await pool.query(`SELECT * FROM api_keys ORDER BY created_at, id`);
  return rows.map(toApiKey);
}

export async function revokeApiKey(pool: Pool, id: string): Promise<boolean> {
  const { rowCount } = await pool.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id]);
  return rowCount === 1;
}

/**
 * Revokes a key unless it is the last active admin key: `last-admin` then, and nothing changes.
 * The active admin rows are locked first, so two admins revoking each other cannot both succeed.
 */
export async function revokeApiKeyKeepingAnAdmin(pool: Pool, id: string): Promise<'revoked' | 'unknown' | 'last-admin'> {
  return withTransaction(pool, async (client) => {
    const admins = await client.query<{ id: string }>(`SELECT id FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL FOR UPDATE`);
    if (admins.rows.length === 1 && admins.rows[0]!.id === id) return 'last-admin';
    const { rowCount } = await client.query(`UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL`, [id]);
    return rowCount === 1 ? 'revoked' : 'unknown';
  });
}

export async function countActiveApiKeys(pool: Queryable): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM api_keys WHERE revoked_at IS NULL`);
  return rows[0]!.n;
}

/** An admin key when no active key exists, made once however many processes start at the same moment; else undefined. */
export function createFirstAdminKey(pool: Pool, name: string): Promise<{ key: string; apiKey: ApiKey } | undefined> {
  return withTransaction(pool, async (client) => {
    await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('casebook:first-admin-key', 0))`);
    return (await countActiveApiKeys(client)) > 0 ? undefined : createApiKey(client, 'admin', name);
  });
}

function toApiKey(row: { id: string; name: string; role: Role; created_at: Date; revoked_at: Date | null; last_used_at: Date | null }): ApiKey {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    createdAt: row.created_at.toISOString(),
    revokedAt: row.revoked_at?.toISOString() ?? null,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
  };
}
