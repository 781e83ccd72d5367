/**
 * Runs an embedded Postgres as its own process (see postgres-process.ts): prints one JSON line with
 * the URLs when ready; stops Postgres on SIGTERM.
 */
import { startEmbeddedPostgres } from './embedded-postgres.js';

const [dataDir, port, keep] = process.argv.slice(2);
const server = await startEmbeddedPostgres({ dataDir: dataDir!, port: Number(port), persistent: keep === 'persistent' });
process.stdout.write(JSON.stringify({ adminUrl: server.adminUrl }) + '\n');
