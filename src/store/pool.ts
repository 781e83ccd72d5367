import pg from 'pg';

// BIGINT columns (money in minor units, counters) come back as JS numbers; every amount Casebook
// stores is far below 2^53, and a check constraint in the schema keeps it so.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export function createPool(databaseUrl: string, max = 10): pg.Pool {
  return new pg.Pool({ connectionString: databaseUrl, max });
}

export type { Pool, PoolClient } from 'pg';
