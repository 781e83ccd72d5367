/**
 * Everything Casebook runs, started in order and stopped in reverse: Temporal, Postgres, worker, API.
 * A process may run the API alone or the worker alone (`casebook start --api`, `--worker`), against a
 * Temporal and a Postgres it did not start.
 */
import { join } from 'node:path';
import type { Config } from './config.js';
import { startEmbeddedPostgres } from '../store/embedded-postgres.js';
import { migrate } from '../store/migrate.js';
import { createFirstAdminKey } from '../store/api-keys.js';
import type { Pool } from '../store/pool.js';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import {
  composeApi,
  composeMetrics,
  composePool,
  composeServices,
  composeTracing,
  composeWorker,
  connectClient,
  connectWorker,
  startHousekeeping,
} from './compose.js';
import type { Tracing } from './tracing.js';
import { serveMetrics, type CasebookMetrics } from './metrics.js';
import { claimDataDir, postgresChild, postgresDataDir, temporalChild, temporalDataDir } from './children.js';
import { describeError, killChild } from './processes.js';
import { startTemporalDevServer } from './temporal-dev-server.js';
import { ensureSearchAttributes } from './search-attributes.js';
import { composeApiJobs, composeLeases } from './compose.js';
import { repeatEvery } from '../cases/repeat.js';
import { signingKey } from '../cases/audit-checkpoint.js';

/** What an API process says as the housekeeping's lease comes to it, is held elsewhere, or is lost. */
const HOUSEKEEPING_NOTES = {
  held: 'casebook: this process runs the housekeeping (history archiver, audit checkpoints, inbox and inbound settling, resuming bulk jobs and backtests)',
  elsewhere: 'casebook: another process runs the housekeeping; this one takes it over if that one stops',
  lost: 'casebook: the connection holding the housekeeping lease closed: the housekeeping stopped here until this process takes the lease again',
  failed: 'casebook: the housekeeping could not start here; trying again',
} as const;

/** What this process runs: the HTTP API (with the housekeeping it may hold), the case worker, or both. */
export interface Roles {
  api: boolean;
  worker: boolean;
}

export const BOTH_ROLES: Roles = { api: true, worker: true };

export interface RunningStack {
  /** Unset when this process runs no API (`--worker`). */
  apiUrl?: string;
  temporalAddress: string;
  /** The Web UI, when Casebook started the dev server itself. */
  temporalUiUrl?: string;
  databaseUrl: string;
  /** On the very first start (no key exists yet), an admin key, also saved to <data>/admin.key. */
  firstAdminKey?: { key: string; file: string };
  /** Drains the API and the worker (at most `drainMs`), then stops the embedded servers. */
  stop(): Promise<void>;
}

/** How long a stop waits for the API and the worker to drain before it stops the servers anyway. */
export const DRAIN_TIMEOUT_MS = 30_000;

type Stop = () => Promise<void>;

interface StackOptions {
  logger?: boolean;
  /** Where notes on reclaimed leftovers, worker restarts and slow stops go; default stdout. */
  log?: (line: string) => void;
  drainMs?: number;
  /** Default: both. */
  roles?: Roles;
  /** Where the SDK's exporter in this process serves its worker metrics (installTemporalLogging), added to /metrics. */
  sdkMetricsUrl?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs the stops last-registered first; a failing one does not keep the others from running. */
async function runReverse(stops: Stop[]): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
}

export async function startStack(config: Config, options: StackOptions = {}): Promise<RunningStack> {
  const log = options.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const drainMs = options.drainMs ?? DRAIN_TIMEOUT_MS;
  const roles = options.roles ?? BOTH_ROLES;
  // Stopped in two phases: what serves and works (API, worker, connections, pool), within drainMs; then
  // the servers, each bounded by its own escalation (see processes.ts).
  const drains: Stop[] = [];
  const servers: Stop[] = [];
  // Told first: a server that exits while the stack stops (signalled by someone else too, or crashing)
  // is not started again.
  const unsupervise: (() => void)[] = [];
  const stopAll = async () => {
    for (const release of unsupervise) release();
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      runReverse(drains).then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), drainMs);
      }),
    ]);
    clearTimeout(timer);
    if (!drained) log(`casebook: the API and worker did not drain within ${drainMs / 1000} s; stopping the servers anyway`);
    await runReverse(servers);
  };
  try {
    // One process with both roles may start the embedded servers, so it owns its data directory; the
    // processes of a split deployment share external servers, and any number of them may run side by side.
    if (roles.api && roles.worker) {
      const release = await claimDataDir(config, log);
      servers.push(async () => release());
    }
    const { temporal, postgres } = await startServers(config, servers, unsupervise, log);
    await migrate(postgres.ownerUrl);
    const pool = composePool(postgres.url, config.databasePoolSize);
    drains.push(() => pool.end());
    // Shut down after the API and the worker (stops run last first): their last spans are exported.
    const tracing = composeTracing(config.tracing);
    if (tracing) drains.push(() => tracing.shutdown());
    const metrics = composeMetrics(pool, options.sdkMetricsUrl);
    if (config.metricsPort !== undefined) {
      const served = await serveMetrics(metrics, config.host, config.metricsPort);
      drains.push(served.close);
    }
    const firstAdminKey = roles.api ? await bootstrapAdminKey(pool, config.dataDir) : undefined;
    if (roles.worker) await startWorker(config, temporal.address, pool, drains, log, tracing, metrics);
    const apiUrl = roles.api ? await startApi(config, temporal, pool, postgres.url, options, drains, log, tracing, metrics) : undefined;
    return {
      ...(apiUrl ? { apiUrl } : {}),
      temporalAddress: temporal.address,
      ...(temporal.uiUrl ? { temporalUiUrl: temporal.uiUrl } : {}),
      databaseUrl: postgres.url,
      ...(firstAdminKey ? { firstAdminKey } : {}),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/**
 * Temporal and Postgres: the ones configured, or the embedded dev server and Postgres, side by side.
 * Whichever started is registered to be stopped even when the other failed, so no failed start leaks one.
 */
async function startServers(config: Config, stops: Stop[], unsupervise: (() => void)[], log: (line: string) => void) {
  const [temporal, postgres] = await Promise.allSettled([
    config.temporalAddress
      ? Promise.resolve({ address: config.temporalAddress, uiUrl: undefined, unsupervise: () => {}, stop: async () => {} })
      : startTemporalDevServer({
          dataDir: temporalDataDir(config),
          host: config.host,
          port: config.temporalPort,
          uiPort: config.temporalUiPort,
          httpPort: config.temporalHttpPort,
          metricsPort: config.temporalMetricsPort,
          namespace: config.namespace,
          pidFile: temporalChild(config).pidFile,
          onRestart: (message) => log(`casebook: ${message}`),
          retentionDays: config.temporalRetentionDays,
        }),
    config.databaseUrl
      ? Promise.resolve({ url: config.databaseUrl, ownerUrl: config.databaseOwnerUrl ?? config.databaseUrl, unsupervise: () => {}, stop: async () => {} })
      : startEmbeddedPostgres({ dataDir: postgresDataDir(config), port: config.postgresPort, onRestart: (message) => log(`casebook: ${message}`) }).then(
          (server) => ({
            ...server,
            // Postgres's fast shutdown, bounded: then its immediate shutdown, then SIGKILL.
            stop: async () => {
              await Promise.race([server.stop(), sleep(15_000)]);
              await killChild(postgresChild(config));
            },
          }),
        ),
  ]);
  for (const server of [temporal, postgres]) {
    if (server.status === 'fulfilled') {
      stops.push(server.value.stop);
      unsupervise.push(server.value.unsupervise);
    }
  }
  const failures = [temporal, postgres].flatMap((result) => (result.status === 'rejected' ? [describeError(result.reason)] : []));
  if (failures.length > 0 || temporal.status !== 'fulfilled' || postgres.status !== 'fulfilled') throw new Error(failures.join('; '));
  return { temporal: temporal.value, postgres: postgres.value };
}

/**
 * The worker, kept running: when it fails (Temporal gone for longer than its polls retry), it is made
 * again and run again every few seconds until Temporal answers. Stopping drains it (activities get
 * 10 s to finish, then are cancelled; the worker is shut down by force after 25 s).
 */
async function startWorker(
  config: Config,
  address: string,
  pool: Pool,
  stops: Stop[],
  log: (line: string) => void,
  tracing?: Tracing,
  metrics?: CasebookMetrics,
): Promise<void> {
  const connection = await connectWorker(address, config.temporalSecurity);
  stops.push(() => connection.close());
  const create = () =>
    composeWorker({
      connection,
      pool,
      namespace: config.namespace,
      connectors: config.connectors,
      tuning: { ...config.worker, shutdownGraceTime: '10s', shutdownForceTime: '25s' },
      tracing,
      workflowBundle: config.workflowBundle,
      historyShape: config.historyShape,
      promiseStacks: config.workflowStackTraces,
      ...(metrics ? { metrics } : {}),
    });
  let worker = await create();
  let stopping = false;
  let wake = () => {};
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const supervise = async () => {
    while (!stopping) {
      try {
        await worker.run();
      } catch (error) {
        if (!stopping) log(`casebook: the worker stopped (${describeError(error)}); starting it again`);
      }
      while (!stopping) {
        await pause(3_000);
        if (stopping) return;
        try {
          worker = await create();
          break;
        } catch (error) {
          log(`casebook: the worker could not start yet (${describeError(error)}); trying again`);
        }
      }
    }
  };
  const running = supervise();
  stops.push(async () => {
    stopping = true;
    wake();
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });
}

/** The API on its port, and beside it the archiver of case histories and the audit checkpoints; returns the API's URL. */
async function startApi(
  config: Config,
  temporal: { address: string; uiUrl?: string | undefined },
  pool: Pool,
  databaseUrl: string,
  options: { logger?: boolean },
  stops: Stop[],
  log: (line: string) => void,
  tracing?: Tracing,
  metrics?: CasebookMetrics,
): Promise<string> {
  const { connection, client } = await connectClient(temporal.address, config.namespace, pool, tracing, config.temporalSecurity);
  stops.push(() => connection.close());
  // A managed cluster may refuse the operator service: cases then run, just without search attributes.
  const indexed = await ensureSearchAttributes(connection, config.namespace).then(
    () => true,
    (error: Error) => {
      process.stderr.write(`casebook: search attributes not registered (${error.message}); cases will not be indexed by them\n`);
      return false;
    },
  );
  const services = composeServices({
    client,
    pool,
    indexed,
    historyShape: config.historyShape,
    auditThreads: {
      databaseUrl,
      temporal: { address: temporal.address, namespace: config.namespace, security: config.temporalSecurity },
      settings: config.auditThreads,
    },
    inbound: config.connectors.inbound,
    destinations: config.connectors.destinations,
    ...(metrics ? { metrics } : {}),
  });
  // Checked at start: a key file that cannot be read or made stops it here, not later in whichever process takes the housekeeping.
  signingKey(config.auditCheckpoints, { create: true });
  // Closed last (stops run last first), once the jobs released their leases.
  const leases = composeLeases(databaseUrl);
  stops.push(() => leases.close());
  // Stopped after the API: an export still being downloaded ends with it.
  stops.push(() => services.close());
  const jobs = composeApiJobs(pool, services.cases, leases.claim);
  const api = await composeApi({
    services,
    pool,
    running: { config, connection, temporalUiUrl: temporal.uiUrl, logger: options.logger ?? false },
    tracing,
    jobs,
    ...(metrics ? { metrics } : {}),
  });
  await api.listen({ host: config.host, port: config.apiPort });
  stops.push(() => api.close());
  // Once across the API processes: in the one holding the lease, moving when that one dies.
  stops.push(
    leases.hold(
      'housekeeping',
      () => {
        const running = [
          ...startHousekeeping(config, client, pool, services, log),
          repeatEvery(
            config.leaseRetryMs,
            () => jobs.resume().catch((error: Error) => log(`casebook: resuming bulk jobs and backtests failed (${error.message}); trying again`)),
            { now: true },
          ),
        ];
        return () => runReverse(running);
      },
      config.leaseRetryMs,
      (state, error) => log(error ? `${HOUSEKEEPING_NOTES[state]} (${describeError(error)})` : HOUSEKEEPING_NOTES[state]),
    ),
  );
  const bound = api.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : config.apiPort;
  return `http://${config.host}:${port}`;
}

/** Without any key nobody could use the API; the first start (of the first API process) creates an admin key. */
async function bootstrapAdminKey(pool: Pool, dataDir: string): Promise<{ key: string; file: string } | undefined> {
  const first = await createFirstAdminKey(pool, 'first admin key (created at first start)');
  if (!first) return undefined;
  const { key } = first;
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'admin.key');
  writeFileSync(file, key + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return { key, file };
}
