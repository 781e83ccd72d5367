/**
 * Where subcommands find Casebook's database and Temporal ($DATABASE_URL, $TEMPORAL_ADDRESS, or the
 * embedded ones `casebook start` runs), and how they say they could not use the database.
 */
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../stack/config.js';
import { createPool, type Pool } from '../store/pool.js';

export function databaseUrlOf(env: NodeJS.ProcessEnv = process.env): string {
  const config = loadConfig(env);
  return config.databaseUrl ?? `postgres://casebook:casebook@127.0.0.1:${config.postgresPort}/casebook`;
}

export interface CommandConnections {
  databaseUrl: string;
  temporalAddress: string;
  namespace: string;
}

export function connectionsOf(env: NodeJS.ProcessEnv = process.env): CommandConnections {
  const config = loadConfig(env);
  return { databaseUrl: databaseUrlOf(env), temporalAddress: config.temporalAddress ?? `${config.host}:${config.temporalPort}`, namespace: config.namespace };
}

/** The line a subcommand prints when a database statement failed. */
export function databaseFailure(command: string, error: unknown): string {
  return (error as { code?: string }).code === 'ECONNREFUSED'
    ? `casebook ${command}: cannot reach the database: start Casebook (npm start) or set DATABASE_URL\n`
    : `casebook ${command}: ${(error as Error).message}\n`;
}

/**
 * The database, and a Temporal client when Temporal answers within 2 s (it may be gone: stopped, or the
 * case past its retention; the archive then answers for closed cases). `close` releases both.
 */
export async function openStores(c: CommandConnections): Promise<{ pool: Pool; client: Client | undefined; close(): Promise<void> }> {
  const pool = createPool(c.databaseUrl, 2);
  const connection = await Connection.connect({ address: c.temporalAddress, connectTimeout: 2_000 }).catch(() => undefined);
  return {
    pool,
    client: connection && new Client({ connection, namespace: c.namespace }),
    close: async () => {
      await connection?.close();
      await pool.end();
    },
  };
}
