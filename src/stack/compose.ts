/**
 * The composition root: the one module that chooses Casebook's implementations. Adapters are chosen by
 * name from the configuration (CASEBOOK_CHANNEL, CASEBOOK_PAYMENTS, CASEBOOK_ORDER_SYSTEM,
 * CASEBOOK_INTEGRATIONS; `local` by default); `casebook start`, `casebook test`, the benches and the
 * tests build their workers through here. A new implementation is one factory in ADAPTERS.
 */
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalIntegrationLog, LocalOrderNotes, LocalOutboxChannel, LocalPayments } from '../connectors/local.js';
import type { Adapters } from '../connectors/ports.js';
import { buildApi } from '../api/app.js';
import { HistoryArchiver } from '../cases/archive.js';
import { type Auditor, CaseAudit } from '../cases/audit.js';
import { AuditCheckpointer, signingKey } from '../cases/audit-checkpoint.js';
import { EventInbox, SETTLE_INTERVAL_MS } from '../cases/inbox.js';
import { CaseService } from '../cases/service.js';
import { ensureDatabase } from '../store/databases.js';
import { migrate } from '../store/migrate.js';
import { createPool, type Pool } from '../store/pool.js';
import { startPostgresProcess } from '../store/postgres-process.js';
import { AuditThreads, type AuditThreadSettings } from './audit-threads.js';
import type { AuditCheckpointSettings, Config } from './config.js';
import { freePort } from './free-port.js';
import { apiLogger } from './logging.js';
import { WorkflowReplayer } from './replayer.js';
import { temporalTestServerExecutable } from './temporal-binaries.js';
import { createCaseWorker, type CaseWorkerOptions } from './worker.js';

type AdapterFactories = { [Port in keyof Adapters]: Record<string, (pool: Pool) => Adapters[Port]> };

/** Every implementation of every adapter, by the name the configuration gives it. */
export const ADAPTERS: AdapterFactories = {
  channel: { local: (pool) => new LocalOutboxChannel(pool) },
  payments: { local: (pool) => new LocalPayments(pool) },
  orders: { local: (pool) => new LocalOrderNotes(pool) },
  integrations: { local: (pool) => new LocalIntegrationLog(pool) },
};

/** Which implementation of each adapter runs, by name. */
export type AdapterChoice = { [Port in keyof Adapters]: string };

/** The variable that names each adapter's implementation. */
export const ADAPTER_VARIABLES: AdapterChoice = {
  channel: 'CASEBOOK_CHANNEL',
  payments: 'CASEBOOK_PAYMENTS',
  orders: 'CASEBOOK_ORDER_SYSTEM',
  integrations: 'CASEBOOK_INTEGRATIONS',
};

/** The local implementations: Postgres tables a person can inspect (src/connectors/local.ts). */
export const DEFAULT_ADAPTERS: AdapterChoice = { channel: 'local', payments: 'local', orders: 'local', integrations: 'local' };

const PORTS = Object.keys(ADAPTER_VARIABLES) as (keyof Adapters)[];

/** The choice the environment makes; an unknown name is refused with the names there are. */
export function adapterChoice(env: NodeJS.ProcessEnv): AdapterChoice {
  const choice = { ...DEFAULT_ADAPTERS };
  for (const port of PORTS) {
    const variable = ADAPTER_VARIABLES[port];
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    const known = Object.keys(ADAPTERS[port]);
    if (!known.includes(raw)) throw new Error(`${variable} must name an implementation of the ${port} adapter (${known.join(', ')}), not '${raw}'`);
    choice[port] = raw;
  }
  return choice;
}

export function composeAdapters(choice: AdapterChoice, pool: Pool): Adapters {
  const build = <Port extends keyof Adapters>(port: Port): Adapters[Port] => {
    const factory = ADAPTERS[port][choice[port]];
    if (!factory) throw new Error(`no ${port} adapter named '${choice[port]}' (there are: ${Object.keys(ADAPTERS[port]).join(', ')})`);
    return factory(pool);
  };
  return { channel: build('channel'), payments: build('payments'), orders: build('orders'), integrations: build('integrations') };
}

/** The pool the services, the activities and the API share; `size` from the configuration (CASEBOOK_DATABASE_POOL). */
export function composePool(databaseUrl: string, size?: number): Pool {
  return createPool(databaseUrl, size);
}

/**
 * What a CLI command reads (replay, export): the database, and a Temporal client when Temporal answers
 * within 2 s (it may be gone: stopped, or the case past its retention; the archive then answers for
 * closed cases). `close` releases both.
 */
export async function composeCommandStores(c: { databaseUrl: string; temporalAddress: string; namespace: string }): Promise<{
  pool: Pool;
  client: Client | undefined;
  close(): Promise<void>;
}> {
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

/** What re-executes a case's recorded history against this build's workflow code. */
export function composeReplayer(): WorkflowReplayer {
  return new WorkflowReplayer();
}

/** What signs and publishes audit checkpoints, in the background beside the API or once from the CLI. */
export function composeCheckpointer(settings: AuditCheckpointSettings, pool: Pool, key: KeyObject, log: (line: string) => void): AuditCheckpointer {
  return new AuditCheckpointer(pool, { file: settings.file, url: settings.url, key }, log);
}

/** Temporal as the API and the services reach it: a client on a connection of its own (close the connection to release it). */
export async function connectClient(address: string, namespace: string): Promise<{ connection: Connection; client: Client }> {
  const connection = await Connection.connect({ address });
  return { connection, client: new Client({ connection, namespace }) };
}

/** Temporal as the case worker reaches it. */
export function connectWorker(address: string): Promise<NativeConnection> {
  return NativeConnection.connect({ address });
}

export interface WorkerParts extends Omit<CaseWorkerOptions, 'adapters'> {
  /** Unset: the local ones. */
  adapters?: AdapterChoice;
  /** Wraps the chosen adapters: how scenarios script faults and tests watch a channel. */
  wrap?: (adapters: Adapters) => Adapters;
}

/** A case worker whose activities act through the adapters the configuration chose. */
export function composeWorker({ adapters = DEFAULT_ADAPTERS, wrap = (chosen) => chosen, ...options }: WorkerParts): Promise<Worker> {
  return createCaseWorker({ ...options, adapters: wrap(composeAdapters(adapters, options.pool)) });
}

export interface ServiceParts {
  client: Client;
  pool: Pool;
  /** Where cases' workflows run; unset: Casebook's queue. */
  taskQueue?: string;
  /** Whether the namespace has Casebook's search attributes (see ensureSearchAttributes). */
  indexed?: boolean;
  /**
   * Replays and exports in worker threads of their own, bounded (what `casebook start` runs); unset: in
   * this thread, unbounded (tests, benches).
   */
  auditThreads?: { databaseUrl: string; temporal: { address: string; namespace: string }; settings: AuditThreadSettings };
}

/** Casebook's use cases: what the API and the CLI act through. */
export interface Services {
  cases: CaseService;
  /** Inbound events: written to the event inbox, then routed to their case. */
  inbox: EventInbox;
  audit: Auditor;
  /** Stops the audit threads (an export still being downloaded ends with them). */
  close(): Promise<void>;
}

export function composeServices({ client, pool, taskQueue, indexed = false, auditThreads }: ServiceParts): Services {
  const threads = auditThreads
    ? new AuditThreads({ databaseUrl: auditThreads.databaseUrl, temporal: auditThreads.temporal }, auditThreads.settings)
    : undefined;
  return {
    cases: new CaseService(client, pool, taskQueue, indexed),
    inbox: new EventInbox(client, pool),
    audit: threads ?? new CaseAudit(pool, client, composeReplayer()),
    close: async () => threads?.close(),
  };
}

export interface ApiParts {
  services: Pick<Services, 'cases' | 'inbox' | 'audit'>;
  pool: Pool;
  /**
   * What `casebook start` serves with: its configuration (console settings, logging), the Temporal
   * connection /readyz asks, the Web UI of the dev server it started. Unset (the tests): Temporal is
   * taken as ready, the console has its defaults, nothing is logged.
   */
  running?: { config: Config; connection: Connection; temporalUiUrl?: string | undefined; logger?: boolean };
}

/** The HTTP API on the case services, not yet listening. */
export function composeApi({ services, pool, running }: ApiParts): Promise<FastifyInstance> {
  const dependencies = { pool, cases: services.cases, inbox: services.inbox, audit: services.audit, temporalReady: async () => true };
  if (!running) return buildApi(dependencies);
  const { config, connection, temporalUiUrl, logger } = running;
  return buildApi(
    {
      ...dependencies,
      // Bounded: the client retries an unavailable server, and readiness must answer, not wait.
      temporalReady: async () => {
        await connection.withDeadline(Date.now() + 2_000, () => connection.workflowService.getSystemInfo({}));
        return true;
      },
      console: { timeZone: config.shopTimeZone, temporalUiUrl: config.temporalUiUrl ?? temporalUiUrl ?? null, namespace: config.namespace },
    },
    { logger: logger ? apiLogger(config.logFormat) : false, requestLogging: config.requestLogging },
  );
}

/**
 * What runs beside the API: the archiver of case histories, the audit checkpoints and the settling of
 * the event inbox. Returns their stops, in the order they were started.
 */
export function startHousekeeping(config: Config, client: Client, pool: Pool, inbox: EventInbox, log: (line: string) => void): (() => Promise<void>)[] {
  const checkpoints = config.auditCheckpoints;
  const key = signingKey(checkpoints, { create: true })!;
  return [
    new HistoryArchiver(client, pool, log).start(config.archiveIntervalMs),
    composeCheckpointer(checkpoints, pool, key, log).start(checkpoints.intervalMs),
    inbox.startSettling(SETTLE_INTERVAL_MS, log),
  ];
}

export interface ScenarioStack {
  env: TestWorkflowEnvironment;
  pool: Pool;
  worker: Worker;
  service: CaseService;
  inbox: EventInbox;
  /** Stops the servers and removes their data. */
  close(): Promise<void>;
}

/**
 * What `casebook test` runs scenarios on: a throw-away Postgres, migrated; Temporal's time-skipping
 * server; a case worker whose chosen adapters `wrap` scripts faults into; the case services.
 */
export async function composeScenarioStack(adapters: AdapterChoice, wrap: (adapters: Adapters) => Adapters): Promise<ScenarioStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'casebook-scenarios-'));
  const postgres = await startPostgresProcess(join(dataDir, 'pg'), await freePort());
  const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: temporalTestServerExecutable() } });
  const databaseUrl = await ensureDatabase(postgres.adminUrl, 'casebook');
  await migrate(databaseUrl);
  const pool = composePool(databaseUrl);
  const worker = await composeWorker({ connection: env.nativeConnection, pool, adapters, wrap });
  const services = composeServices({ client: env.client, pool });
  return {
    env,
    pool,
    worker,
    service: services.cases,
    inbox: services.inbox,
    close: async () => {
      await pool.end();
      await env.teardown();
      await postgres.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
