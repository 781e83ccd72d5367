import { runner } from 'node-pg-migrate';
import { fileURLToPath } from 'node:url';

const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Applies every pending migration in `migrations/` (or the first `count`); safe to run at every start. */
export async function migrate(databaseUrl: string, count = Infinity): Promise<void> {
  await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'schema_migrations',
    count,
    singleTransaction: true,
    checkOrder: true,
    log: () => {},
  });
}
