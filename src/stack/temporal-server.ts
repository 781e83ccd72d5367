/**
 * The production-shaped Temporal: the server built from its Go module (go.temporal.io/server, by
 * scripts/provision.sh), persisting to Postgres with SQL visibility, configured by
 * deploy/temporal/config.yaml. Its two databases are created and their schemas set up or updated by the
 * server's own SQL tool at every start (each step does nothing when already done); then the namespace
 * is registered and Casebook's search attributes added. See docs/operations.md, "A production-shaped Temporal".
 */
import { Connection } from '@temporalio/client';
import Long from 'long';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CASE_STATUS } from '../case-contract/search-attributes.js';
import { ensureSearchAttributes } from './search-attributes.js';
import { temporalServerPath, temporalSqlToolPath } from './temporal-binaries.js';

/** The checked-in configuration the server renders with the TEMPORAL_CLUSTER_* variables. */
export const TEMPORAL_SERVER_CONFIG = fileURLToPath(new URL('../../deploy/temporal/config.yaml', import.meta.url));

/** The ports the server's four services listen on; each one a TEMPORAL_CLUSTER_*_PORT of the configuration. */
export interface TemporalServerPorts {
  frontend: number;
  http: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  metrics: number;
}

/** Temporal's usual ports; metrics on 8000, as its sample configurations have them. */
export const DEFAULT_TEMPORAL_SERVER_PORTS: TemporalServerPorts = {
  frontend: 7233,
  http: 7243,
  frontendMembership: 6933,
  history: 7234,
  historyMembership: 6934,
  matching: 7235,
  matchingMembership: 6935,
  worker: 7239,
  workerMembership: 6939,
  metrics: 8000,
};

export interface TemporalServerOptions {
  /** A Postgres role that may create databases: postgres://user:password@host:port/<any database>. */
  postgresUrl: string;
  /** The history database and the visibility database (made when missing). */
  database: string;
  visibilityDatabase: string;
  /** Where the services listen and announce themselves. */
  host: string;
  ports: TemporalServerPorts;
  namespace: string;
  retentionDays: number;
  /** The server's log (its stdout and stderr), appended to. */
  logFile: string;
  /** Each service's Postgres connections to the history database and to the visibility database; unset: 20 and 5. */
  maxConns?: { history: number; visibility: number };
}

export interface TemporalServerHandle {
  address: string;
  pid: number;
  /** SIGTERM, then SIGKILL after 15 s. */
  stop(): Promise<void>;
}

/** Why the server cannot be started here, said plainly; undefined when both binaries are there. */
export function temporalServerMissing(): string | undefined {
  const missing = [temporalServerPath(), temporalSqlToolPath()].filter((path) => !existsSync(path));
  if (missing.length === 0) return undefined;
  return `the Temporal server built from go.temporal.io/server is not here (${missing.join(', ')}): run \`bash scripts/provision.sh\` (it needs Go on the PATH), or set CASEBOOK_TEMPORAL_SERVER and CASEBOOK_TEMPORAL_SQL_TOOL`;
}

interface PostgresTarget {
  host: string;
  port: string;
  user: string;
  password: string;
}

function postgresTarget(url: string): PostgresTarget {
  const parsed = new URL(url);
  return {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port || '5432',
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
}

/** Runs the SQL tool on one database; returns what it printed, throws with it when it failed (unless `tolerate` matches). */
function sqlTool(target: PostgresTarget, database: string, args: string[], tolerate?: RegExp): string {
  const run = spawnSync(
    temporalSqlToolPath(),
    ['--plugin', 'postgres12', '--ep', target.host, '--port', target.port, '--user', target.user, '--password', target.password, '--db', database, ...args],
    { encoding: 'utf8', timeout: 120_000 },
  );
  const said = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  if (run.status !== 0 && !tolerate?.test(said)) {
    throw new Error(`temporal-sql-tool ${args[0]} on ${database} failed (${run.error?.message ?? `exit ${run.status}`}): ${said.trim().slice(-2000)}`);
  }
  return said;
}

/** Creates the database when missing, then sets up its schema's version table and applies the versions it lacks. */
export function setUpTemporalSchema(postgresUrl: string, database: string, schema: 'temporal' | 'visibility'): void {
  const target = postgresTarget(postgresUrl);
  sqlTool(target, database, ['create-database'], /already exists/);
  sqlTool(target, database, ['setup-schema', '--version', '0.0']);
  sqlTool(target, database, ['update-schema', '--schema-name', `postgresql/v12/${schema}`]);
}

/** The variables deploy/temporal/config.yaml is rendered with. */
export function temporalServerEnvironment(
  options: Pick<TemporalServerOptions, 'postgresUrl' | 'database' | 'visibilityDatabase' | 'host' | 'ports' | 'maxConns'>,
): NodeJS.ProcessEnv {
  const target = postgresTarget(options.postgresUrl);
  const { ports } = options;
  return {
    TEMPORAL_CLUSTER_PG_HOST: target.host,
    TEMPORAL_CLUSTER_PG_PORT: target.port,
    TEMPORAL_CLUSTER_PG_USER: target.user,
    TEMPORAL_CLUSTER_PG_PASSWORD: target.password,
    TEMPORAL_CLUSTER_DB: options.database,
    TEMPORAL_CLUSTER_VISIBILITY_DB: options.visibilityDatabase,
    TEMPORAL_CLUSTER_BIND_IP: options.host,
    TEMPORAL_CLUSTER_FRONTEND_PORT: String(ports.frontend),
    TEMPORAL_CLUSTER_HTTP_PORT: String(ports.http),
    TEMPORAL_CLUSTER_FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
    TEMPORAL_CLUSTER_HISTORY_PORT: String(ports.history),
    TEMPORAL_CLUSTER_HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
    TEMPORAL_CLUSTER_MATCHING_PORT: String(ports.matching),
    TEMPORAL_CLUSTER_MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
    TEMPORAL_CLUSTER_WORKER_PORT: String(ports.worker),
    TEMPORAL_CLUSTER_WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
    TEMPORAL_CLUSTER_METRICS_PORT: String(ports.metrics),
    ...(options.maxConns
      ? { TEMPORAL_CLUSTER_PG_MAX_CONNS: String(options.maxConns.history), TEMPORAL_CLUSTER_VISIBILITY_PG_MAX_CONNS: String(options.maxConns.visibility) }
      : {}),
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Sets up the schemas, starts the server, waits for its frontend, registers the namespace and Casebook's search attributes. */
export async function startTemporalServer(options: TemporalServerOptions): Promise<TemporalServerHandle> {
  const missing = temporalServerMissing();
  if (missing) throw new Error(missing);
  setUpTemporalSchema(options.postgresUrl, options.database, 'temporal');
  setUpTemporalSchema(options.postgresUrl, options.visibilityDatabase, 'visibility');
  mkdirSync(join(options.logFile, '..'), { recursive: true });
  const log = openSync(options.logFile, 'a');
  // A process group of its own, as the dev server: a Ctrl-C reaches whoever started it, which stops it.
  const child = spawn(temporalServerPath(), ['--config-file', TEMPORAL_SERVER_CONFIG, '--allow-no-auth', 'start'], {
    stdio: ['ignore', log, log],
    detached: true,
    env: { ...process.env, ...temporalServerEnvironment(options) },
  });
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = signal ? `signal ${signal}` : `code ${code}`;
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(timer);
  };
  const address = `${options.host}:${options.ports.frontend}`;
  try {
    const connection = await frontendOf(address, () => exited, options.logFile);
    try {
      await registerNamespace(connection, options.namespace, options.retentionDays);
      // A new namespace reaches the frontend's cache, and the attributes added to it its own, a few seconds after they are written.
      await retrying(`the namespace ${options.namespace}`, () => ensureSearchAttributes(connection, options.namespace));
      await retrying(`Casebook's search attributes in ${options.namespace}`, () =>
        connection.workflowService.countWorkflowExecutions({ namespace: options.namespace, query: `${CASE_STATUS.name} = 'open'` }),
      );
    } finally {
      await connection.close();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { address, pid: child.pid!, stop };
}

/** The frontend once it answers (the services join their ring first: some seconds). */
async function frontendOf(address: string, exited: () => string | undefined, logFile: string): Promise<Connection> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    const gone = exited();
    if (gone) throw new Error(`the Temporal server exited during start-up (${gone}); its log ${logFile} ends:\n${tail(logFile)}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
        return connection;
      } catch (error) {
        await connection.close();
        throw error;
      }
    } catch {
      await sleep(500);
    }
  }
  throw new Error(`the Temporal server did not answer on ${address} within 90 s; its log ${logFile} ends:\n${tail(logFile)}`);
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-3000);
  } catch {
    return '(no log)';
  }
}

const ALREADY_EXISTS = 6;

async function registerNamespace(connection: Connection, namespace: string, retentionDays: number): Promise<void> {
  const workflowExecutionRetentionTtl = { seconds: Long.fromNumber(retentionDays * 86_400) };
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: workflowExecutionRetentionTtl });
  } catch (error) {
    if ((error as { code?: number }).code !== ALREADY_EXISTS) throw error;
    await connection.workflowService.updateNamespace({ namespace, config: { workflowExecutionRetentionTtl } });
  }
}

/** `attempt` until it succeeds, for at most 60 s. */
async function retrying(what: string, attempt: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await attempt();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what} was not served within 60 s: ${(error as Error).message}`);
      await sleep(500);
    }
  }
}
