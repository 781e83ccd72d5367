import pg from 'pg';

// BIGINT columns (money in minor units, counters) come back as JS numbers; every amount Casebook
// stores is far below 2^53, and a check constraint in the schema keeps it so.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function createPool(databaseUrl: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max });
  // A connection dropped by the server (restart, failover, outage) fails its query and is replaced on
  // next use. pg emits the drop as an 'error' event, which without a listener is an uncaught exception:
  // the pool listens while a connection is idle, each connection itself while it is checked out.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

export type { Pool, PoolClient } from 'pg';
