/**
 * Leases as Postgres session-level advisory locks, on a connection of their own: a lock is held as long
 * as the session that took it, so a process that dies (its connection closes) frees its leases at once.
 */
import pg from 'pg';

/** A connection for leases only, never for a query that could hold it up; `onLost` is told once when it closes. */
export async function openLeaseConnection(databaseUrl: string, onLost: () => void): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl, keepAlive: true, application_name: 'casebook-leases' });
  let told = false;
  const lost = () => {
    if (told) return;
    told = true;
    onLost();
  };
  client.on('error', lost);
  client.on('end', lost);
  await client.connect();
  return client;
}

/** Takes the lease `name` on this session, unless another session holds it. */
export async function tryLease(client: pg.Client, name: string): Promise<boolean> {
  const { rows } = await client.query<{ taken: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS taken', [`casebook:${name}`]);
  return rows[0]!.taken;
}

export async function releaseLease(client: pg.Client, name: string): Promise<void> {
  await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`casebook:${name}`]);
}

/** Whether the session still answers (and so still holds its leases). */
export async function leaseSessionAlive(client: pg.Client): Promise<void> {
  await client.query('SELECT 1');
}

export type LeaseConnection = pg.Client;
