import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import { dropDatabase, ensureDatabase } from '../../src/store/databases.js';
import { migrate } from '../../src/store/migrate.js';
import { createPool, type Pool } from '../../src/store/pool.js';
import { applicationUrl, ensureApplicationRole } from '../../src/store/postgres-roles.js';

export interface TestDatabase {
  /** As the application's role (`casebook_app`), as Casebook runs; the owner's after a partial migration. */
  url: string;
  /** As the owner, which ran the migrations. */
  ownerUrl: string;
  /** On `url`. */
  pool: Pool;
  drop(): Promise<void>;
}

/**
 * A fresh, migrated database in the run's Postgres server, private to the calling test file, used as
 * Casebook uses it: as the application's role, so that a missing grant fails the tests.
 * `migrations`: apply only the first n migrations, to test a later one on data from before it; the
 * application's grants come with migration 305, so such a database is used as its owner.
 */
export async function createTestDatabase(options: { migrations?: number } = {}): Promise<TestDatabase> {
  const adminUrl = inject('postgresAdminUrl');
  const name = `test_${randomBytes(6).toString('hex')}`;
  await ensureApplicationRole(adminUrl);
  const ownerUrl = await ensureDatabase(adminUrl, name);
  await migrate(ownerUrl, options.migrations);
  const url = options.migrations === undefined ? applicationUrl(ownerUrl) : ownerUrl;
  const pool = createPool(url);
  return {
    url,
    ownerUrl,
    pool,
    async drop() {
      await pool.end();
      await dropDatabase(adminUrl, name);
    },
  };
}
