/**
 * The composition root: the one module that chooses Casebook's implementations. Connectors are chosen
 * by the deployment configuration (CASEBOOK_CONFIG, src/stack/deployment.ts; all local without it), each
 * binding naming a kind of connector in CONNECTORS; `casebook start`, `casebook test`, the benches and
 * the tests build their workers through here. A new kind of connector is one entry in CONNECTORS.
 */
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { FastifyInstance } from 'fastify';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectorBinding, ConnectorConfig, Destination, MailServer } from '../connectors/config.js';
import { LOCAL_CONNECTORS } from '../connectors/config.js';
import { LocalIntegrationLog, LocalOrderNotes, LocalOutboxChannel, LocalPayments, LocalQueueNotifications } from '../connectors/local.js';
import type { Adapters, ChannelAdapter, IntegrationGateway, Notifier, OrderSystem, PaymentProvider } from '../connectors/ports.js';
import { ChannelRouter, IntegrationRouter } from '../connectors/routers.js';
import { SmtpChannel, verifyMailServer } from '../connectors/smtp.js';
import { WebhookChannel, WebhookIntegrations, WebhookNotifications, WebhookOrderSystem, WebhookPayments } from '../connectors/webhooks/connectors.js';
import { WebhookSender } from '../connectors/webhooks/sender.js';
import type { Channel } from '../plan/plan.js';
import { buildApi } from '../api/app.js';
import { HistoryArchiver } from '../cases/archive.js';
import { type Auditor, CaseAudit } from '../cases/audit.js';
import { AuditCheckpointer, signingKey } from '../cases/audit-checkpoint.js';
import { BulkOperations } from '../cases/bulk.js';
import { EventInbox, SETTLE_INTERVAL_MS } from '../cases/inbox.js';
import { InboundEvents } from '../cases/inbound.js';
import { settleProviderRefund } from '../services/refund-settlements.js';
import type { BacktestRunner } from '../services/backtests.js';
import { runKeptBacktest, startKeptBacktest } from '../backtest/run.js';
import { finishBacktest, resumableBacktests } from '../store/backtests.js';
import type { Redeliverers } from '../services/deliveries.js';
import { secretsOf, type InboundSource } from '../connectors/config.js';
import { CaseService } from '../cases/service.js';
import { type ClaimLease, Leases } from '../cases/leases.js';
import { ensureDatabase } from '../store/databases.js';
import { migrate } from '../store/migrate.js';
import { createPool, type Pool } from '../store/pool.js';
import { startPostgresProcess } from '../store/postgres-process.js';
import { AuditThreads, type AuditThreadSettings } from './audit-threads.js';
import type { AuditCheckpointSettings, Config, TemporalSecurity, TracingSettings } from './config.js';
import { temporalConnectionOptions } from './temporal-security.js';
import { freePort } from './free-port.js';
import { CasebookMetrics } from './metrics.js';
import { apiLogger } from './logging.js';
import { planReferencesIn, withPlanReferences } from './plan-references.js';
import { WorkflowReplayer } from './replayer.js';
import { temporalTestServerExecutable } from './temporal-binaries.js';
import { createCaseWorker, type CaseWorkerOptions } from './worker.js';
import { startTracing, type Tracing } from './tracing.js';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';

/** What a connector kind builds its side of a port with. */
export interface ConnectorContext {
  pool: Pool;
  connectors: ConnectorConfig;
  /**
   * One object per key for the whole composition: what the ports bound to the same place share (a
   * destination's sender, with its circuit breaker and its bound on requests in flight).
   */
  shared<T>(key: string, make: () => T): T;
}

const LOCAL: ConnectorBinding = { connector: 'local' };

type Build<B, Port> = (binding: B, context: ConnectorContext) => Port;

/** A kind of connector: how it builds each port it can carry. */
export interface ConnectorKind<B extends ConnectorBinding = ConnectorBinding> {
  channel?: Build<B, ChannelAdapter>;
  payments?: Build<B, PaymentProvider>;
  orders?: Build<B, OrderSystem>;
  integrations?: Build<B, IntegrationGateway>;
  notifications?: Build<B, Notifier>;
}

type ConnectorKinds = { [Name in ConnectorBinding['connector']]?: ConnectorKind<Extract<ConnectorBinding, { connector: Name }>> };

/** Every kind of connector, by the name a binding of the configuration (`connector:`) gives it. */
export const CONNECTORS: ConnectorKinds = {
  local: {
    channel: (_binding, { pool, shared }) => shared('local:channel', () => new LocalOutboxChannel(pool)),
    payments: (_binding, { pool }) => new LocalPayments(pool),
    orders: (_binding, { pool }) => new LocalOrderNotes(pool),
    integrations: (_binding, { pool, shared }) => shared('local:integrations', () => new LocalIntegrationLog(pool)),
    notifications: () => new LocalQueueNotifications(),
  },
  webhook: {
    channel: (binding, context) => new WebhookChannel(webhookSender(binding.destination, context), context.pool),
    payments: (binding, context) => new WebhookPayments(webhookSender(binding.destination, context)),
    orders: (binding, context) => new WebhookOrderSystem(webhookSender(binding.destination, context)),
    integrations: (binding, context) => new WebhookIntegrations(webhookSender(binding.destination, context)),
    notifications: (binding, context) => new WebhookNotifications(webhookSender(binding.destination, context)),
  },
  smtp: {
    channel: (binding, { connectors, pool }) => new SmtpChannel(mailServerOf(connectors, binding.server), pool),
  },
};

function mailServerOf(connectors: ConnectorConfig, name: string): MailServer {
  const server = connectors.mailServers[name];
  if (!server) throw new Error(`no mail server named '${name}' under mail_servers (there are: ${Object.keys(connectors.mailServers).join(', ') || 'none'})`);
  return server;
}

/** A destination's one sender, shared by every port bound to it: one circuit breaker, one bound on requests in flight. */
function webhookSender(name: string, { pool, connectors, shared }: ConnectorContext): WebhookSender {
  return shared(`webhook:${name}`, () => {
    const destination = connectors.destinations[name];
    if (!destination) throw new Error(`no destination named '${name}' (there are: ${Object.keys(connectors.destinations).join(', ') || 'none'})`);
    return new WebhookSender(destination, pool);
  });
}

/**
 * The ports as the configuration binds them: each channel and each integration to its connector
 * (through a router), the payment provider, the order system and the notifications. A binding whose
 * connector cannot carry its port is refused, naming both.
 */
export function composeAdapters(connectors: ConnectorConfig, pool: Pool, metrics?: CasebookMetrics): Adapters {
  const objects = new Map<string, unknown>();
  const context: ConnectorContext = {
    pool,
    connectors,
    shared: <T>(key: string, make: () => T): T => {
      if (!objects.has(key)) objects.set(key, make());
      return objects.get(key) as T;
    },
  };
  const build = <Port extends keyof ConnectorKind>(
    port: Port,
    binding: ConnectorBinding,
    what: string,
  ): NonNullable<ReturnType<NonNullable<ConnectorKind[Port]>>> => {
    const factory = (CONNECTORS[binding.connector] as ConnectorKind | undefined)?.[port];
    if (!factory) {
      const able = Object.entries(CONNECTORS).flatMap(([name, kind]) => (kind && port in kind ? [name] : []));
      throw new Error(`the ${binding.connector} connector cannot carry ${what} (connectors that can: ${able.join(', ')})`);
    }
    const built = factory(binding, context) as NonNullable<ReturnType<NonNullable<ConnectorKind[Port]>>>;
    if (!metrics) return built;
    const target = 'destination' in binding ? binding.destination : 'server' in binding ? binding.server : '';
    return metrics.countFailures(built, { connector: binding.connector, target, port });
  };
  const channels = Object.fromEntries(
    Object.entries(connectors.channels).map(([channel, binding]) => [channel, build('channel', binding, `the ${channel} channel`)]),
  ) as Record<Channel, ChannelAdapter>;
  const { default: fallback = LOCAL, ...named } = connectors.integrations;
  const integrations = Object.fromEntries(Object.entries(named).map(([name, binding]) => [name, build('integrations', binding, `the integration ${name}`)]));
  return {
    channel: new ChannelRouter(channels),
    payments: build('payments', connectors.payments, 'payments'),
    orders: build('orders', connectors.orderSystem, 'the order system'),
    integrations: new IntegrationRouter(integrations, build('integrations', fallback, 'the default integration')),
    notifications: build('notifications', connectors.notifications ?? LOCAL, 'notifications'),
  };
}

/** One try of a destination or a mail server, for `casebook config check`. */
export interface ConnectionCheck {
  kind: 'webhook' | 'smtp';
  name: string;
  /** The URL, or host:port. */
  target: string;
  run(): Promise<{ ok: boolean; latencyMs: number; status?: number | null; problem?: string }>;
}

/**
 * A try of every destination (one signed `casebook.ping` through its sender) and every mail server (a
 * login, sending nothing). The senders' pool keeps delivery attempts; a ping records none, so it never
 * connects. `close` releases both.
 */
export function composeConnectionChecks(connectors: ConnectorConfig, databaseUrl: string): { checks: ConnectionCheck[]; close(): Promise<void> } {
  const pool = createPool(databaseUrl, 1);
  const senders = Object.values(connectors.destinations).map((destination) => new WebhookSender(destination, pool));
  const checks: ConnectionCheck[] = [
    ...senders.map((sender) => ({ kind: 'webhook' as const, name: sender.destination.name, target: sender.destination.url, run: () => sender.ping() })),
    ...Object.values(connectors.mailServers).map((server) => ({
      kind: 'smtp' as const,
      name: server.name,
      target: `${server.host}:${server.port}`,
      run: () => verifyMailServer(server),
    })),
  ];
  return {
    checks,
    close: async () => {
      for (const sender of senders) sender.close();
      await pool.end();
    },
  };
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
export async function composeCommandStores(c: {
  databaseUrl: string;
  temporalAddress: string;
  namespace: string;
  temporalSecurity?: TemporalSecurity;
}): Promise<{
  pool: Pool;
  client: Client | undefined;
  close(): Promise<void>;
}> {
  const pool = createPool(c.databaseUrl, 2);
  const connection = await Connection.connect({ address: c.temporalAddress, connectTimeout: 2_000, ...temporalConnectionOptions(c.temporalSecurity) }).catch(
    () => undefined,
  );
  return {
    pool,
    client: connection && new Client({ connection, namespace: c.namespace, dataConverter: withPlanReferences(planReferencesIn(pool)) }),
    close: async () => {
      await connection?.close();
      await pool.end();
    },
  };
}

/** The case use cases alone, for a command that acts on one case (`casebook cancel`). */
export function composeCaseService(client: Client, pool: Pool): CaseService {
  return new CaseService(client, pool);
}

/** Bulk operations on the case service, for `casebook bulk` (the API builds its own in composeApi); `claim`: see BulkOperations. */
export function composeBulkOperations(client: Client, pool: Pool, claim?: ClaimLease): BulkOperations {
  return new BulkOperations(pool, new CaseService(client, pool), claim);
}

/**
 * The leases of what runs once across a deployment's API processes (src/cases/leases.ts), on a
 * connection of their own to `databaseUrl`; `close` frees them.
 */
export function composeLeases(databaseUrl: string): Leases {
  return new Leases(databaseUrl);
}

/** The API's bulk jobs and backtests, and what resumes those left running (each under its lease, with `claim`). */
export interface ApiJobs {
  bulk: BulkOperations;
  backtests: BacktestRunner;
  resume(): Promise<void>;
}

export function composeApiJobs(pool: Pool, cases: CaseService, claim?: ClaimLease): ApiJobs {
  const bulk = new BulkOperations(pool, cases, claim);
  const backtests = composeBacktestRunner(pool, claim);
  return {
    bulk,
    backtests,
    resume: async () => {
      await bulk.resume();
      await backtests.resume();
    },
  };
}

/**
 * Backtests the API starts (`POST /v1/backtests`), run in its process one after another, each on a
 * scratch stack of its own with the local connectors (composeScenarioStack), closed when it ends.
 * Closing stops them after the case each is at; `resume` picks up those left running by a process that
 * stopped or died. With `claim`, a backtest runs only while this process holds its lease.
 */
export function composeBacktestRunner(archive: Pool, claim?: ClaimLease): BacktestRunner {
  let queue: Promise<void> = Promise.resolve();
  const stopping = new AbortController();
  /** Queued or running here: `resume` does not queue them again. */
  const here = new Set<string>();
  const runOne = async (id: string) => {
    if (stopping.signal.aborted) return;
    const lease = claim && (await claim(`backtest:${id}`));
    if (claim && !lease) return;
    let stack: ScenarioStack | undefined;
    try {
      const signal = lease ? AbortSignal.any([stopping.signal, lease.signal]) : stopping.signal;
      stack = await composeScenarioStack(LOCAL_CONNECTORS, (chosen) => chosen);
      await stack.worker.runUntil(runKeptBacktest(archive, stack, id, { signal }));
    } catch (error) {
      // Also a scratch stack or worker that would not start: the backtest is never left running.
      await finishBacktest(archive, id, { problem: (error as Error).message }).catch(() => {});
    } finally {
      await stack?.close().catch(() => {});
      await lease?.release();
    }
  };
  const run = (id: string) => {
    if (here.has(id)) return;
    here.add(id);
    queue = queue.then(() => runOne(id)).finally(() => here.delete(id));
  };
  return {
    async start(candidate, options, startedBy) {
      const id = await startKeptBacktest(archive, candidate, options, startedBy, { resumable: true });
      run(id);
      return id;
    },
    async resume() {
      for (const id of await resumableBacktests(archive)) run(id);
    },
    close: () => {
      stopping.abort();
      return queue;
    },
  };
}

/** What re-executes a case's recorded history against this build's workflow code, finding the plans it names by hash in `pool`. */
export function composeReplayer(pool: Pool): WorkflowReplayer {
  return new WorkflowReplayer({ plans: planReferencesIn(pool) });
}

/** What signs and publishes audit checkpoints, in the background beside the API or once from the CLI. */
export function composeCheckpointer(settings: AuditCheckpointSettings, pool: Pool, key: KeyObject, log: (line: string) => void): AuditCheckpointer {
  return new AuditCheckpointer(pool, { file: settings.file, url: settings.url, key }, log);
}

/**
 * Temporal as the API and the services reach it: a client on a connection of its own (close the
 * connection to release it), sending published plans by hash found in `pool`.
 */
export async function connectClient(
  address: string,
  namespace: string,
  pool: Pool,
  tracing?: Pick<Tracing, 'clientInterceptors'>,
  security?: TemporalSecurity,
): Promise<{ connection: Connection; client: Client }> {
  const connection = await Connection.connect({ address, ...temporalConnectionOptions(security) });
  return {
    connection,
    client: new Client({
      connection,
      namespace,
      dataConverter: withPlanReferences(planReferencesIn(pool)),
      ...(tracing ? { interceptors: tracing.clientInterceptors } : {}),
    }),
  };
}

/**
 * The process's traces, exported over OTLP/HTTP to `settings.url` (from OTEL_EXPORTER_OTLP_ENDPOINT, see
 * config.ts; the exporter itself reads OTEL_EXPORTER_OTLP_HEADERS and the other standard variables);
 * unset: none, and nothing is made.
 */
export function composeTracing(settings: TracingSettings | undefined): Tracing | undefined {
  return settings && startTracing(new OTLPTraceExporter({ url: settings.url }), settings.serviceName);
}

/**
 * The process's metrics (src/stack/metrics.ts): what the services, the activities and the connectors
 * built with it count, the gauges read from `pool`, and the SDK's worker metrics read from
 * `sdkMetricsUrl` when this process runs a worker (see installTemporalLogging).
 */
export function composeMetrics(pool: Pool, sdkMetricsUrl?: string): CasebookMetrics {
  return new CasebookMetrics(pool, sdkMetricsUrl);
}

/** Temporal as the case worker reaches it; `security`: a managed cluster's API key or mutual TLS (config.ts). */
export function connectWorker(address: string, security?: TemporalSecurity): Promise<NativeConnection> {
  return NativeConnection.connect({ address, ...temporalConnectionOptions(security) });
}

export interface WorkerParts extends Omit<CaseWorkerOptions, 'adapters' | 'plans'> {
  /** Unset: the local ones. */
  connectors?: ConnectorConfig;
  /** Wraps the chosen adapters: how scenarios script faults and tests watch a channel. */
  wrap?: (adapters: Adapters) => Adapters;
  /** Counts what the activities and the connectors do (composeMetrics); unset: nothing is counted. */
  metrics?: CasebookMetrics;
}

/** A case worker whose activities act through the connectors the configuration chose. */
export function composeWorker({ connectors = LOCAL_CONNECTORS, wrap = (chosen) => chosen, metrics, ...options }: WorkerParts): Promise<Worker> {
  return createCaseWorker({
    ...options,
    adapters: wrap(composeAdapters(connectors, options.pool, metrics)),
    plans: planReferencesIn(options.pool),
    ...(metrics ? { metrics } : {}),
  });
}

export interface ServiceParts {
  client: Client;
  pool: Pool;
  /** Where cases' workflows run; unset: Casebook's queue. */
  taskQueue?: string;
  /** Whether the namespace has Casebook's search attributes (see ensureSearchAttributes). */
  indexed?: boolean;
  /** The history shape of the cases it opens; unset: the newest (HISTORY_SHAPE). */
  historyShape?: number;
  /**
   * Replays and exports in worker threads of their own, bounded (what `casebook start` runs); unset: in
   * this thread, unbounded (tests, benches).
   */
  auditThreads?: { databaseUrl: string; temporal: { address: string; namespace: string; security?: TemporalSecurity }; settings: AuditThreadSettings };
  /** The sources that post signed events (the configuration's `inbound`); unset: none. */
  inbound?: Record<string, InboundSource>;
  /** The configured webhook destinations, which an admin's redelivery sends to; unset: none. */
  destinations?: Record<string, Destination>;
  /** Counts the cases opened and the events delivered (composeMetrics); unset: nothing is counted. */
  metrics?: CasebookMetrics;
}

/** Casebook's use cases: what the API and the CLI act through. */
export interface Services {
  cases: CaseService;
  /** Inbound events: written to the event inbox, then routed to their case. */
  inbox: EventInbox;
  audit: Auditor;
  /** Signed events from the configured sources: verified, kept once, then opening cases or delivered through the inbox. */
  inbound: InboundEvents;
  /** Each configured destination's sender of an admin's redelivery (its own, apart from the worker's: the breaker is not its concern). */
  redeliverers: Redeliverers;
  /** Stops the audit threads (an export still being downloaded ends with them). */
  close(): Promise<void>;
}

export function composeServices({
  client,
  pool,
  taskQueue,
  indexed = false,
  historyShape,
  auditThreads,
  inbound = {},
  destinations = {},
  metrics,
}: ServiceParts): Services {
  const threads = auditThreads
    ? new AuditThreads({ databaseUrl: auditThreads.databaseUrl, temporal: auditThreads.temporal }, auditThreads.settings)
    : undefined;
  const cases = new CaseService(client, pool, taskQueue, indexed, historyShape);
  const inbox = new EventInbox(client, pool);
  metrics?.countServices(cases, inbox);
  // Secrets read at each event, so a restart with a new variable rotates them.
  const secrets = (source: string) => (Object.hasOwn(inbound, source) ? secretsOf(inbound[source]!.secretVariables) : undefined);
  const senders = new Map(Object.values(destinations).map((destination) => [destination.name, new WebhookSender(destination, pool)]));
  return {
    cases,
    inbox,
    inbound: new InboundEvents(pool, cases, inbox, secrets, (settlement) => settleProviderRefund(pool, settlement)),
    audit: threads ?? new CaseAudit(pool, client, composeReplayer(pool)),
    redeliverers: (destination) => senders.get(destination),
    close: async () => {
      for (const sender of senders.values()) sender.close();
      await threads?.close();
    },
  };
}

export interface ApiParts {
  services: Pick<Services, 'cases' | 'inbox' | 'audit'> & Partial<Pick<Services, 'inbound' | 'redeliverers'>>;
  pool: Pool;
  /**
   * What `casebook start` serves with: its configuration (console settings, logging), the Temporal
   * connection /readyz asks, the Web UI of the dev server it started. Unset (the tests): Temporal is
   * taken as ready, the console has its defaults, nothing is logged.
   */
  running?: { config: Config; connection: Connection; temporalUiUrl?: string | undefined; logger?: boolean };
  /** A span for each request (composeTracing); unset: none. */
  tracing?: Tracing | undefined;
  /** Its bulk jobs and backtests (composeApiJobs; `casebook start` resumes them under their leases); unset: made here, without leases. */
  jobs?: ApiJobs;
  /** Served at /metrics, with each request's time (composeMetrics); unset: no /metrics. */
  metrics?: CasebookMetrics;
}

/**
 * The HTTP API on the case services, not yet listening. Its bulk jobs run in its process: closing the
 * API stops them after their current case; `casebook start` resumes those left running (`jobs.resume`,
 * in the housekeeping one API process holds).
 */
export async function composeApi({ services, pool, running, tracing, jobs, metrics }: ApiParts): Promise<FastifyInstance> {
  const { bulk, backtests } = jobs ?? composeApiJobs(pool, services.cases);
  const api = await buildApiOn(bulk, backtests, { services, pool, ...(running ? { running } : {}), tracing, ...(metrics ? { metrics } : {}) });
  api.addHook('onClose', () => bulk.close());
  api.addHook('onClose', () => backtests.close());
  return api;
}

function buildApiOn(bulk: BulkOperations, backtests: BacktestRunner, { services, pool, running, tracing, metrics }: ApiParts): Promise<FastifyInstance> {
  const dependencies = {
    pool,
    bulk,
    backtests,
    cases: services.cases,
    inbox: services.inbox,
    audit: services.audit,
    ...(services.inbound ? { inbound: services.inbound } : {}),
    ...(services.redeliverers ? { redeliverers: services.redeliverers } : {}),
    temporalReady: async () => true,
    ...(metrics ? { metrics } : {}),
  };
  const instrument = tracing ? { instrument: tracing.traceRequests } : {};
  if (!running) return buildApi(dependencies, instrument);
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
    {
      logger: logger ? apiLogger(config.logFormat, { level: config.logLevel }) : false,
      requestLogging: config.requestLogging,
      rateLimits: config.limits.rates,
      maxBodyBytes: config.limits.maxBodyBytes,
      authFailuresPerMinute: config.limits.authFailuresPerMinute,
      ...instrument,
    },
  );
}

/**
 * What runs beside the API: the archiver of case histories, the audit checkpoints, the settling of
 * the event inbox and of signed inbound events a crash left unanswered. Returns their stops, in the
 * order they were started.
 */
export function startHousekeeping(
  config: Config,
  client: Client,
  pool: Pool,
  { inbox, inbound }: Pick<Services, 'inbox' | 'inbound'>,
  log: (line: string) => void,
): (() => Promise<void>)[] {
  const checkpoints = config.auditCheckpoints;
  const key = signingKey(checkpoints, { create: true })!;
  return [
    new HistoryArchiver(client, pool, log).start(config.archiveIntervalMs),
    composeCheckpointer(checkpoints, pool, key, log).start(checkpoints.intervalMs),
    inbox.startSettling(SETTLE_INTERVAL_MS, log),
    inbound.startSettling(SETTLE_INTERVAL_MS, log),
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
 * server; a case worker whose chosen connectors `wrap` scripts faults into; the case services.
 */
export async function composeScenarioStack(connectors: ConnectorConfig, wrap: (adapters: Adapters) => Adapters): Promise<ScenarioStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'casebook-scenarios-'));
  const postgres = await startPostgresProcess(join(dataDir, 'pg'), await freePort());
  const databaseUrl = await ensureDatabase(postgres.adminUrl, 'casebook');
  await migrate(databaseUrl);
  const pool = composePool(databaseUrl);
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: temporalTestServerExecutable() },
    client: { dataConverter: withPlanReferences(planReferencesIn(pool)) },
  });
  const worker = await composeWorker({ connection: env.nativeConnection, pool, connectors, wrap });
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
