/** The idempotent insert the side-effect tables share: each has a unique `idempotency_key`. */
import type { Queryable } from './transaction.js';

/**
 * Runs an `INSERT ... VALUES (...)` into a table with a unique `idempotency_key` and returns the row's
 * id: the new row's, or on a repeat the first row's (the repeat changes nothing else).
 */
export async function insertReturningId(db: Queryable, insert: string, params: unknown[]): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `${insert} ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key RETURNING id`,
    params,
  );
  return rows[0]!.id;
}
