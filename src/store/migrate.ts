import { runner } from 'node-pg-migrate';
import { fileURLToPath } from 'node:url';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Applies every pending migration in `migrations/` (or the first `count`); safe to run at every start, by several processes at once. */
export async function migrate(databaseUrl: string, count = Infinity): Promise<void> {
  await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'schema_migrations',
    count,
    singleTransaction: true,
    checkOrder: true,
    // Processes starting together (an API and its workers) each wait for the one migrating, then find nothing pending.
    advisoryLockMode: 'wait',
    log: () => {},
  });
}
