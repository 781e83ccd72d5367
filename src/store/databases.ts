/** Databases on a Postgres server: made and dropped through its maintenance database, and checked. */
import pg from 'pg';
import type { Queryable } from './transaction.js';

const NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The URL of database `name` on the server whose maintenance database is at `adminUrl`. */
export const databaseUrl = (adminUrl: string, name: string): string => adminUrl.replace(/\/postgres$/, `/${name}`);

/** Runs `fn` on a connection of its own to `url`, closed afterwards. */
export async function withConnection<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  // A server going away mid-query fails the query; without a listener it would also crash the process.
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Runs `fn` on a connection to the maintenance database, with `name` checked and quoted. */
async function onServer(adminUrl: string, name: string, fn: (admin: pg.Client, quoted: string) => Promise<void>): Promise<void> {
  // Database names cannot be query parameters; only plain lower-case names are accepted.
  if (!NAME.test(name)) throw new Error(`not a database name Casebook uses: ${JSON.stringify(name)}`);
  await withConnection(adminUrl, (admin) => fn(admin, `"${name}"`));
}

/** Creates database `name` unless it exists; returns its URL. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  await onServer(adminUrl, name, async (admin, quoted) => {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await admin.query(`CREATE DATABASE ${quoted}`);
  });
  return databaseUrl(adminUrl, name);
}

/** Drops database `name`, disconnecting whoever is still connected to it. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await onServer(adminUrl, name, (admin, quoted) => admin.query(`DROP DATABASE IF EXISTS ${quoted} WITH (FORCE)`).then(() => undefined));
}

/** Whether the database answers a trivial query. */
export async function pingDatabase(db: Queryable): Promise<boolean> {
  return db.query('SELECT 1').then(
    () => true,
    () => false,
  );
}
