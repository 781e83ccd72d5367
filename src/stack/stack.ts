/** Everything Casebook runs, started in order and stopped in reverse: Temporal, Postgres, worker, API. */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { buildApi } from '../api/app.js';
import { EventInbox } from '../cases/inbox.js';
import { CaseService } from '../cases/service.js';
import type { Config } from './config.js';
import { startEmbeddedPostgres } from '../store/embedded-postgres.js';
import { migrate } from '../store/migrate.js';
import { countActiveApiKeys, createApiKey } from '../store/api-keys.js';
import { createPool, type Pool } from '../store/pool.js';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createCaseWorker } from './worker.js';
import { startTemporalDevServer } from './temporal-dev-server.js';
import { ensureSearchAttributes } from './search-attributes.js';

export interface RunningStack {
  apiUrl: string;
  temporalAddress: string;
  /** The Web UI, when Casebook started the dev server itself. */
  temporalUiUrl?: string;
  databaseUrl: string;
  /** On the very first start (no key exists yet), an admin key, also saved to <data>/admin.key. */
  firstAdminKey?: { key: string; file: string };
  stop(): Promise<void>;
}

type Stop = () => Promise<void>;

export async function startStack(config: Config, options: { logger?: boolean } = {}): Promise<RunningStack> {
  const stops: Stop[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const { temporal, postgres } = await startServers(config, stops);
    await migrate(postgres.url);
    const pool = createPool(postgres.url);
    stops.push(() => pool.end());
    const firstAdminKey = await bootstrapAdminKey(pool, config.dataDir);
    await startWorker(config, temporal.address, pool, stops);
    const apiUrl = await startApi(config, temporal.address, pool, options, stops);
    return {
      apiUrl,
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

/** Temporal and Postgres: the ones configured, or the embedded dev server and Postgres, side by side. */
async function startServers(config: Config, stops: Stop[]) {
  const [temporal, postgres] = await Promise.all([
    config.temporalAddress
      ? Promise.resolve({ address: config.temporalAddress, uiUrl: undefined, stop: async () => {} })
      : startTemporalDevServer({
          dataDir: join(config.dataDir, 'temporal'), host: config.host, port: config.temporalPort, uiPort: config.temporalUiPort,
          httpPort: config.temporalHttpPort, metricsPort: config.temporalMetricsPort, namespace: config.namespace,
        }),
    config.databaseUrl
      ? Promise.resolve({ url: config.databaseUrl, stop: async () => {} })
      : startEmbeddedPostgres({ dataDir: join(config.dataDir, 'postgres'), port: config.postgresPort }),
  ]);
  stops.push(temporal.stop, postgres.stop);
  return { temporal, postgres };
}

async function startWorker(config: Config, address: string, pool: Pool, stops: Stop[]): Promise<void> {
  const connection = await NativeConnection.connect({ address });
  stops.push(() => connection.close());
  const worker = await createCaseWorker({ connection, pool, namespace: config.namespace });
  const running = worker.run();
  stops.push(async () => {
    worker.shutdown();
    await running;
  });
}

/** The API on its port; returns its URL. */
async function startApi(config: Config, address: string, pool: Pool, options: { logger?: boolean }, stops: Stop[]): Promise<string> {
  const connection = await Connection.connect({ address });
  stops.push(() => connection.close());
  const client = new Client({ connection, namespace: config.namespace });
  // A managed cluster may refuse the operator service: cases then run, just without search attributes.
  const indexed = await ensureSearchAttributes(connection, config.namespace).then(
    () => true,
    (error: Error) => {
      process.stderr.write(`casebook: search attributes not registered (${error.message}); cases will not be indexed by them\n`);
      return false;
    },
  );
  const api: FastifyInstance = await buildApi(
    {
      pool,
      cases: new CaseService(client, pool, undefined, indexed),
      inbox: new EventInbox(client, pool),
      temporalReady: async () => {
        await connection.workflowService.getSystemInfo({});
        return true;
      },
    },
    { logger: options.logger ? { level: 'info' } : false },
  );
  await api.listen({ host: config.host, port: config.apiPort });
  stops.push(() => api.close());
  const bound = api.server.address();
  const port = typeof bound === 'object' && bound ? bound.port : config.apiPort;
  return `http://${config.host}:${port}`;
}

/** Without any key nobody could use the API; the first start creates an admin key. */
async function bootstrapAdminKey(pool: Pool, dataDir: string): Promise<{ key: string; file: string } | undefined> {
  if ((await countActiveApiKeys(pool)) > 0) return undefined;
  const { key } = await createApiKey(pool, 'admin', 'first admin key (created at first start)');
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'admin.key');
  writeFileSync(file, key + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return { key, file };
}
