import pg from 'pg';

// BIGINT columns (money in minor units, counters) come back as JS numbers; every amount Casebook
// stores is far below 2^53, and a check constraint in the schema keeps it so.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function createPool(databaseUrl: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max });
  // An idle connection dropped by the server (restart, failover) is replaced on next use; without a
  // listener, pg would turn it into an uncaught exception.
  pool.on('error', () => {});
  return pool;
}

export type { Pool, PoolClient } from 'pg';
