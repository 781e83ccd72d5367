/** `idempotency_keys`: the answers to requests sent with an Idempotency-Key, per API key. */
import type { Queryable } from './transaction.js';

export type IdempotentRequest = { kind: 'new' } | { kind: 'answered'; status: number; body: unknown } | { kind: 'in-progress' } | { kind: 'other-request' };

/** Claims the key for this request, or says what it already stands for. */
export async function claimIdempotencyKey(db: Queryable, apiKeyId: string, key: string, requestSha256: string): Promise<IdempotentRequest> {
  const claimed = await db.query(`INSERT INTO idempotency_keys (api_key_id, idempotency_key, request_sha256) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [
    apiKeyId,
    key,
    requestSha256,
  ]);
  if (claimed.rowCount === 1) return { kind: 'new' };
  const { rows } = await db.query<{ request_sha256: string; response_status: number | null; response_body: unknown }>(
    `SELECT request_sha256, response_status, response_body FROM idempotency_keys WHERE api_key_id = $1 AND idempotency_key = $2`,
    [apiKeyId, key],
  );
  const row = rows[0]!;
  if (row.request_sha256 !== requestSha256) return { kind: 'other-request' };
  return row.response_status === null ? { kind: 'in-progress' } : { kind: 'answered', status: row.response_status, body: row.response_body };
}

export async function recordIdempotentAnswer(db: Queryable, apiKeyId: string, key: string, status: number, body: unknown): Promise<void> {
  await db.query(`UPDATE idempotency_keys SET response_status = $3, response_body = $4 WHERE api_key_id = $1 AND idempotency_key = $2`, [
    apiKeyId,
    key,
    status,
    JSON.stringify(body),
  ]);
}

/** Frees a key whose request failed on our side, so that a retry runs it again. */
export async function releaseIdempotencyKey(db: Queryable, apiKeyId: string, key: string): Promise<void> {
  await db.query(`DELETE FROM idempotency_keys WHERE api_key_id = $1 AND idempotency_key = $2 AND response_status IS NULL`, [apiKeyId, key]);
}
