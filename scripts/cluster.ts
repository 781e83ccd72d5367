/**
 * `npm run cluster`: the production-shaped Temporal (docs/operations.md, "A production-shaped Temporal").
 * The Temporal server built from its Go module, on Postgres with SQL visibility, configured by
 * deploy/temporal/config.yaml, schemas set up by its SQL tool, the namespace registered. On
 * TEMPORAL_CLUSTER_POSTGRES_URL (a role that may create databases) when set; otherwise on an embedded
 * Postgres of its own, which also gets a `casebook` database for Casebook. Prints the variables that point
 * `casebook start --api` / `--worker` at it, and runs until Ctrl-C (or SIGTERM), then stops what it started.
 */
import { join, resolve } from 'node:path';
import { ensureDatabase } from '../src/store/databases.js';
import { startPostgresProcess, type PostgresProcess } from '../src/store/postgres-process.js';
import { applicationUrl, ensureApplicationRole } from '../src/store/postgres-roles.js';
import { loadConfig } from '../src/stack/config.js';
import { DEFAULT_TEMPORAL_SERVER_PORTS, startTemporalServer, type TemporalServerPorts } from '../src/stack/temporal-server.js';

const env = process.env;
const number = (name: string, fallback: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65_535) throw new Error(`${name} must be a port number (1-65535), not '${raw}'`);
  return value;
};
const PORT_VARIABLES: Record<keyof TemporalServerPorts, string> = {
  frontend: 'TEMPORAL_CLUSTER_FRONTEND_PORT',
  http: 'TEMPORAL_CLUSTER_HTTP_PORT',
  frontendMembership: 'TEMPORAL_CLUSTER_FRONTEND_MEMBERSHIP_PORT',
  history: 'TEMPORAL_CLUSTER_HISTORY_PORT',
  historyMembership: 'TEMPORAL_CLUSTER_HISTORY_MEMBERSHIP_PORT',
  matching: 'TEMPORAL_CLUSTER_MATCHING_PORT',
  matchingMembership: 'TEMPORAL_CLUSTER_MATCHING_MEMBERSHIP_PORT',
  worker: 'TEMPORAL_CLUSTER_WORKER_PORT',
  workerMembership: 'TEMPORAL_CLUSTER_WORKER_MEMBERSHIP_PORT',
  metrics: 'TEMPORAL_CLUSTER_METRICS_PORT',
};
const say = (line: string) => process.stdout.write(`cluster: ${line}\n`);

async function main(): Promise<void> {
  // Casebook's own settings, checked as `casebook start` checks them: the namespace and its retention.
  const config = loadConfig(env);
  const dir = resolve(env.TEMPORAL_CLUSTER_DIR || '.data/cluster');
  const host = env.TEMPORAL_CLUSTER_BIND_IP || '127.0.0.1';
  const ports = Object.fromEntries(
    Object.entries(PORT_VARIABLES).map(([port, variable]) => [port, number(variable, DEFAULT_TEMPORAL_SERVER_PORTS[port as keyof TemporalServerPorts])]),
  ) as unknown as TemporalServerPorts;
  let postgres: PostgresProcess | undefined;
  let postgresUrl = env.TEMPORAL_CLUSTER_POSTGRES_URL;
  if (!postgresUrl) {
    postgres = await startPostgresProcess(join(dir, 'postgres'), number('TEMPORAL_CLUSTER_POSTGRES_PORT', 5434), { persistent: true });
    postgresUrl = postgres.adminUrl;
    say(`embedded Postgres ${postgresUrl.replace(/\/\/[^@]*@/, '//')} (data in ${join(dir, 'postgres')})`);
  }
  const stops: (() => Promise<void>)[] = [async () => postgres?.stop()];
  const stop = async () => {
    for (const step of stops.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    const server = await startTemporalServer({
      postgresUrl,
      database: env.TEMPORAL_CLUSTER_DB || 'temporal',
      visibilityDatabase: env.TEMPORAL_CLUSTER_VISIBILITY_DB || 'temporal_visibility',
      host,
      ports,
      namespace: config.namespace,
      retentionDays: config.temporalRetentionDays,
      logFile: join(dir, 'temporal-server.log'),
    });
    stops.push(server.stop);
    say(`Temporal server (PID ${server.pid}) on ${server.address}, log ${join(dir, 'temporal-server.log')}`);
    say('point Casebook at it:');
    say(`  export TEMPORAL_ADDRESS=${server.address}`);
    if (postgres) {
      await ensureApplicationRole(postgres.adminUrl);
      const ownerUrl = await ensureDatabase(postgres.adminUrl, 'casebook');
      say(`  export DATABASE_OWNER_URL=${ownerUrl}`);
      say(`  export DATABASE_URL=${applicationUrl(ownerUrl)}`);
    }
    say('ready (Ctrl-C stops it)');
  } catch (error) {
    await stop();
    throw error;
  }
  await new Promise<void>((done) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => done());
  });
  say('stopping');
  await stop();
  say('stopped');
}

main().catch((error: Error) => {
  process.stderr.write(`cluster: could not start: ${error.message}\n`);
  process.exit(1);
});
