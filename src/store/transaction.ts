/** The one way Casebook runs several statements as a unit: every multi-statement write goes through it. */
import type { Pool, PoolClient } from './pool.js';

/** What a store function runs its statements on: the pool, or a transaction's client. */
export type Queryable = Pool | PoolClient;

/** Runs `fn` in a transaction on one connection: committed when it resolves, rolled back when it throws. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }
}
