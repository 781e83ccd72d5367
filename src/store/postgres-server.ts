/**
 * Runs an embedded Postgres as its own process (see postgres-process.ts): prints one JSON line with
 * the URLs when ready; stops Postgres on SIGTERM or SIGINT (and only then: a server that dies on its
 * own is started again).
 */
import { startEmbeddedPostgres } from './embedded-postgres.js';

const [dataDir, port, keep] = process.argv.slice(2);
const server = await startEmbeddedPostgres({ dataDir: dataDir!, port: Number(port), persistent: keep === 'persistent' });
// embedded-postgres's own exit hooks would stop the server behind the handle's back; the handle does it.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.removeAllListeners(signal);
  process.once(signal, () => void server.stop().finally(() => process.exit(0)));
}
process.stdout.write(JSON.stringify({ adminUrl: server.adminUrl }) + '\n');
