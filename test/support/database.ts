import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import { dropDatabase, ensureDatabase } from '../../src/store/databases.js';
import { migrate } from '../../src/store/migrate.js';
import { createPool, type Pool } from '../../src/store/pool.js';

export interface TestDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database in the run's Postgres server, private to the calling test file.
 * `migrations`: apply only the first n migrations, to test a later one on data from before it.
 */
export async function createTestDatabase(options: { migrations?: number } = {}): Promise<TestDatabase> {
  const adminUrl = inject('postgresAdminUrl');
  const name = `test_${randomBytes(6).toString('hex')}`;
  const url = await ensureDatabase(adminUrl, name);
  await migrate(url, options.migrations);
  const pool = createPool(url);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      await dropDatabase(adminUrl, name);
    },
  };
}
