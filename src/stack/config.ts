/** Configuration from the environment, with embedded defaults: no variable is needed to run. */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AuditThreadSettings } from './audit-threads.js';
import type { ConnectorConfig } from '../connectors/config.js';
import { connectorsFromEnv } from './deployment.js';
import { HISTORY_SHAPE } from '../plan/case.js';
import { DEFAULT_AUTH_FAILURES_PER_MINUTE, DEFAULT_RATE_LIMITS, MAX_BODY_BYTES, type RateLimits } from '../api/limits.js';
import { ROLES, type Role } from '../store/api-keys.js';

/** How `casebook start` logs (src/stack/logging.ts). */
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
/** How much it logs (CASEBOOK_LOG_LEVEL), pino's names. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

export interface Config {
  /** An existing Temporal frontend; unset: start the dev server. */
  temporalAddress?: string;
  namespace: string;
  /** How the clients and workers authenticate to that frontend: a managed cluster's API key or mutual TLS; {} for plain gRPC. */
  temporalSecurity: TemporalSecurity;
  /** An existing Postgres; unset: start the embedded one. */
  databaseUrl?: string;
  /** The same database as its owner, for migrations; unset: migrations run as `databaseUrl`. */
  databaseOwnerUrl?: string;
  dataDir: string;
  host: string;
  apiPort: number;
  temporalPort: number;
  temporalUiPort: number;
  /** Temporal's HTTP API and metrics: fixed, so that nothing else can take them during start-up. */
  temporalHttpPort: number;
  temporalMetricsPort: number;
  postgresPort: number;
  /**
   * A port of its own on which the process also serves /metrics (CASEBOOK_METRICS_PORT): how a `--worker`
   * process, which serves no API, is scraped; unset: /metrics only on the API's port.
   */
  metricsPort?: number;
  /** Log every HTTP request (CASEBOOK_REQUEST_LOG=1); failures are logged either way. */
  requestLogging: boolean;
  /** How `casebook start` logs: lines for people, or JSON lines (CASEBOOK_LOG_FORMAT=json). */
  logFormat: LogFormat;
  /** The least severe level logged (CASEBOOK_LOG_LEVEL; default info). */
  logLevel: LogLevelName;
  /** What the API takes: request rates, body sizes, failed authentications (docs/operations.md "Limits"). */
  limits: ApiLimits;
  /** The worker's settings, each unset unless given (the worker then uses its measured defaults). */
  worker: WorkerSettings;
  /** A workflow bundle `casebook bundle` wrote, which the worker runs instead of bundling at start (CASEBOOK_WORKFLOW_BUNDLE). */
  workflowBundle?: string;
  /**
   * The history shape the cases this process opens start with (CASEBOOK_HISTORY_SHAPE; default the newest,
   * HISTORY_SHAPE): held at the previous one while a release that raises it rolls out (docs/operations.md).
   */
  historyShape: number;
  /** Keep the SDK's promise hook for the Temporal UI's stack-trace query (CASEBOOK_WORKFLOW_STACK_TRACES=1; costs CPU per case). */
  workflowStackTraces: boolean;
  /** Connections to Postgres in the pool of the API and the worker. */
  databasePoolSize: number;
  /** How long the embedded dev server keeps a closed case's history (Postgres keeps the archive for ever). */
  temporalRetentionDays: number;
  /** How often closed runs are copied into the archive. */
  archiveIntervalMs: number;
  /** How often an API process tries to take the housekeeping lease another one holds, and checks the one it holds (docs/operations.md). */
  leaseRetryMs: number;
  /** The shop's IANA time zone, in which the console shows times (CASEBOOK_SHOP_TIME_ZONE). */
  shopTimeZone: string;
  /** The Temporal Web UI the console links cases to (CASEBOOK_TEMPORAL_UI_URL); unset: the dev server's, when Casebook starts it. */
  temporalUiUrl?: string;
  /** Signed checkpoints of the audit chain, kept outside the database (docs/auditing.md). */
  auditCheckpoints: AuditCheckpointSettings;
  /** How replays and exports are bounded, in their threads (docs/operations.md). */
  auditThreads: AuditThreadSettings;
  /** Which connector carries each side effect (CASEBOOK_CONFIG, src/stack/deployment.ts); all local without it. */
  connectors: ConnectorConfig;
  /** Where traces go (OTEL_EXPORTER_OTLP_ENDPOINT, docs/operations.md "Traces"); unset: no tracing at all. */
  tracing?: TracingSettings;
}

export interface TracingSettings {
  /** The OTLP/HTTP traces URL: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, or OTEL_EXPORTER_OTLP_ENDPOINT + `/v1/traces`. */
  url: string;
  /** The spans' `service.name` (OTEL_SERVICE_NAME; default casebook). */
  serviceName: string;
}

/**
 * How Casebook reaches a Temporal that wants more than a plain connection (Temporal Cloud, a cluster behind
 * TLS), read from the variables Temporal's own CLI reads: TEMPORAL_API_KEY, TEMPORAL_TLS,
 * TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH, TEMPORAL_TLS_SERVER_CA_CERT_PATH,
 * TEMPORAL_TLS_SERVER_NAME (docs/operations.md, "A production-shaped Temporal").
 */
export interface TemporalSecurity {
  /** Sent as a bearer token on every call; a secret, never repeated in a message. Implies TLS. */
  apiKey?: string;
  /** TLS to the frontend: on with TEMPORAL_TLS=true, with an API key, or with any of the files. */
  tls?: TemporalTls;
}

export interface TemporalTls {
  /** The name the server's certificate is checked against, when not the address's host. */
  serverName?: string;
  /** The CA that signed the server's certificate, when the system's do not. */
  serverCaCertPath?: string;
  /** Mutual TLS: this client's certificate and key (both or neither). */
  clientCertPath?: string;
  clientKeyPath?: string;
}

export interface AuditCheckpointSettings {
  /** The append-only file of checkpoints (CASEBOOK_AUDIT_CHECKPOINT_FILE). */
  file: string;
  /** Where checkpoints are also POSTed (CASEBOOK_AUDIT_CHECKPOINT_URL). */
  url?: string;
  intervalMs: number;
  /** The Ed25519 signing key from CASEBOOK_AUDIT_SIGNING_KEY; unset: the key file below. */
  key?: KeyObject;
  /** The key made and kept in the data directory when no key is given. */
  keyFile: string;
}

/** What a cluster tunes on a worker (docs/operations.md); each one optional. */
export interface WorkerSettings {
  maxCachedWorkflows?: number;
  maxConcurrentWorkflowTaskExecutions?: number;
  maxConcurrentActivityTaskExecutions?: number;
  maxConcurrentLocalActivityExecutions?: number;
  maxConcurrentWorkflowTaskPolls?: number;
  maxConcurrentActivityTaskPolls?: number;
}

export interface ApiLimits {
  rates: RateLimits;
  maxBodyBytes: number;
  authFailuresPerMinute: number;
}

/** The variable of a role's setting: `CASEBOOK_RATE_LIMIT_PER_MINUTE_OPS_LEAD` for ops-lead. */
export const roleVariable = (prefix: string, role: Role): string => `${prefix}_${role.toUpperCase().replaceAll('-', '_')}`;

/** Request rates per minute: per key, per key of a role, all keys of a role together; each positive. */
function apiLimits(env: NodeJS.ProcessEnv): ApiLimits {
  const perKeyOfRole: RateLimits['perKeyOfRole'] = {};
  const perRole: RateLimits['perRole'] = {};
  for (const role of ROLES) {
    const ofKey = positive(env, roleVariable('CASEBOOK_RATE_LIMIT_PER_MINUTE', role));
    if (ofKey !== undefined) perKeyOfRole[role] = ofKey;
    const together = positive(env, roleVariable('CASEBOOK_ROLE_RATE_LIMIT_PER_MINUTE', role));
    if (together !== undefined) perRole[role] = together;
  }
  return {
    rates: { perKey: positive(env, 'CASEBOOK_RATE_LIMIT_PER_MINUTE') ?? DEFAULT_RATE_LIMITS.perKey, perKeyOfRole, perRole },
    // Up to 1 GiB: Fastify holds a body in memory whole before a route sees it.
    maxBodyBytes: positive(env, 'CASEBOOK_MAX_BODY_BYTES', 1024 ** 3) ?? MAX_BODY_BYTES,
    authFailuresPerMinute: positive(env, 'CASEBOOK_AUTH_FAILURES_PER_MINUTE') ?? DEFAULT_AUTH_FAILURES_PER_MINUTE,
  };
}

/** The variable that sets each worker setting. */
export const WORKER_SETTING_VARIABLES: Record<keyof WorkerSettings, string> = {
  maxCachedWorkflows: 'CASEBOOK_MAX_CACHED_WORKFLOWS',
  maxConcurrentWorkflowTaskExecutions: 'CASEBOOK_WORKFLOW_TASK_SLOTS',
  maxConcurrentActivityTaskExecutions: 'CASEBOOK_ACTIVITY_TASK_SLOTS',
  maxConcurrentLocalActivityExecutions: 'CASEBOOK_LOCAL_ACTIVITY_SLOTS',
  maxConcurrentWorkflowTaskPolls: 'CASEBOOK_WORKFLOW_POLLERS',
  maxConcurrentActivityTaskPolls: 'CASEBOOK_ACTIVITY_POLLERS',
};

/** Connections: the API's reads, the activities and the progress reports share them. */
export const DEFAULT_DATABASE_POOL_SIZE = 10;

/** The dev server's own default is one day: too short to look into last week's cases in its Web UI. */
export const DEFAULT_TEMPORAL_RETENTION_DAYS = 30;
export const DEFAULT_ARCHIVE_INTERVAL_SECONDS = 10;
/** The housekeeping moves to another API process within about this long after its holder dies. */
export const DEFAULT_LEASE_RETRY_SECONDS = 5;
/**
 * Replays and exports: two threads (this machine's two cores; the API keeps its share), 20 waiting, a
 * replay stopped after 20 s (the longest standard history replays in under 0.1 s warm), an export after
 * 10 min, each thread's heap within 256 MiB (a standard case's replay needs a fraction of it).
 */
export const AUDIT_THREAD_DEFAULTS: AuditThreadSettings = { threads: 2, queue: 20, replayTimeoutMs: 20_000, exportTimeoutMs: 600_000, memoryMb: 256 };

function auditThreads(env: NodeJS.ProcessEnv): AuditThreadSettings {
  const seconds = (name: string, max: number) => {
    const value = positive(env, name, max);
    return value === undefined ? undefined : value * 1_000;
  };
  return {
    threads: positive(env, 'CASEBOOK_AUDIT_THREADS', 64) ?? AUDIT_THREAD_DEFAULTS.threads,
    queue: positive(env, 'CASEBOOK_AUDIT_QUEUE', 10_000) ?? AUDIT_THREAD_DEFAULTS.queue,
    replayTimeoutMs: seconds('CASEBOOK_REPLAY_TIMEOUT_SECONDS', 3_600) ?? AUDIT_THREAD_DEFAULTS.replayTimeoutMs,
    exportTimeoutMs: seconds('CASEBOOK_EXPORT_TIMEOUT_SECONDS', 86_400) ?? AUDIT_THREAD_DEFAULTS.exportTimeoutMs,
    memoryMb: positive(env, 'CASEBOOK_AUDIT_THREAD_MEMORY_MB', 65_536) ?? AUDIT_THREAD_DEFAULTS.memoryMb,
  };
}

/** Rows removed within the last interval before a checkpoint are not caught by it: short, and a checkpoint is written only when something changed. */
export const DEFAULT_AUDIT_CHECKPOINT_SECONDS = 60;

function positive(env: NodeJS.ProcessEnv, name: string, max = 1_000_000): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${name} must be a whole number from 1 to ${max}, not '${raw}'`);
  return value;
}

function onOff(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === '0') return false;
  if (raw === '1') return true;
  throw new Error(`${name} must be 1 (on) or 0 (off), not '${raw}'`);
}

function workerSettings(env: NodeJS.ProcessEnv): WorkerSettings {
  const settings: WorkerSettings = {};
  for (const [setting, variable] of Object.entries(WORKER_SETTING_VARIABLES) as [keyof WorkerSettings, string][]) {
    const value = positive(env, variable);
    if (value !== undefined) settings[setting] = value;
  }
  return settings;
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port number (0-65535), not '${raw}'`);
  return value;
}

function timeZone(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  try {
    return new Intl.DateTimeFormat('en', { timeZone: raw }).resolvedOptions().timeZone;
  } catch {
    throw new Error(`${name} must be an IANA time zone such as Asia/Shanghai, not '${raw}'`);
  }
}

function logLevel(env: NodeJS.ProcessEnv, name: string): LogLevelName {
  const raw = env[name];
  if (raw === undefined || raw === '') return 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) throw new Error(`${name} must be one of ${LOG_LEVELS.join(', ')}, not '${raw}'`);
  return raw as LogLevelName;
}

/** A file that exists, as an absolute path. */
function existingFile(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const path = resolve(raw);
  if (!existsSync(path)) throw new Error(`${name} must name an existing file (one \`casebook bundle\` wrote), not '${raw}'`);
  return path;
}

function logFormat(env: NodeJS.ProcessEnv, name: string): LogFormat {
  const raw = env[name];
  if (raw === undefined || raw === '') return 'text';
  if (!(LOG_FORMATS as readonly string[]).includes(raw)) throw new Error(`${name} must be one of ${LOG_FORMATS.join(', ')}, not '${raw}'`);
  return raw as LogFormat;
}

/** `quiet`: the URL may carry a token, so the message does not repeat it. */
function httpUrl(env: NodeJS.ProcessEnv, name: string, { quiet = false } = {}): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^https?:\/\/[^\s]+$/.test(raw) || !URL.canParse(raw)) throw new Error(`${name} must be an http(s) URL${quiet ? '' : `, not '${raw}'`}`);
  return raw.replace(/\/+$/, '');
}

/** An Ed25519 private key, as PKCS#8 PEM or its base64 DER. The message never repeats the value: it is a secret. */
function signingKey(env: NodeJS.ProcessEnv, name: string): KeyObject | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  let key: KeyObject | undefined;
  try {
    key = raw.includes('-----BEGIN') ? createPrivateKey(raw) : createPrivateKey({ key: Buffer.from(raw, 'base64'), format: 'der', type: 'pkcs8' });
  } catch {
    key = undefined;
  }
  if (key?.asymmetricKeyType !== 'ed25519') throw new Error(`${name} must be an Ed25519 private key (PKCS#8 PEM, or its DER in base64)`);
  return key;
}

function auditCheckpoints(env: NodeJS.ProcessEnv, dataDir: string): AuditCheckpointSettings {
  const url = httpUrl(env, 'CASEBOOK_AUDIT_CHECKPOINT_URL', { quiet: true });
  const key = signingKey(env, 'CASEBOOK_AUDIT_SIGNING_KEY');
  return {
    file: resolve(env.CASEBOOK_AUDIT_CHECKPOINT_FILE || join(dataDir, 'audit-checkpoints.jsonl')),
    ...(url ? { url } : {}),
    intervalMs: (positive(env, 'CASEBOOK_AUDIT_CHECKPOINT_SECONDS', 86_400) ?? DEFAULT_AUDIT_CHECKPOINT_SECONDS) * 1_000,
    ...(key ? { key } : {}),
    keyFile: join(dataDir, 'audit-signing-key.pem'),
  };
}

/**
 * OpenTelemetry's standard variables: the traces endpoint, or the endpoint for all signals with the
 * traces path added (as the OTLP specification says); OTEL_SDK_DISABLED=true turns tracing off.
 */
function tracingSettings(env: NodeJS.ProcessEnv): TracingSettings | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const traces = httpUrl(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', { quiet: true });
  const all = httpUrl(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', { quiet: true });
  const url = traces ?? (all === undefined ? undefined : `${all}/v1/traces`);
  return url === undefined ? undefined : { url, serviceName: env.OTEL_SERVICE_NAME?.trim() || 'casebook' };
}

/** A PEM file Temporal's TLS needs: it must exist, as a file. */
function pemFile(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const path = resolve(raw);
  if (!existsSync(path) || !statSync(path).isFile()) throw new Error(`${name} must be the path of a PEM file, not '${raw}' (no such file)`);
  return path;
}

function temporalSecurity(env: NodeJS.ProcessEnv): TemporalSecurity {
  const apiKey = env.TEMPORAL_API_KEY || undefined;
  const raw = env.TEMPORAL_TLS;
  if (raw !== undefined && raw !== '' && !['true', 'false', '1', '0'].includes(raw)) throw new Error(`TEMPORAL_TLS must be true or false, not '${raw}'`);
  const files: TemporalTls = {
    ...(env.TEMPORAL_TLS_SERVER_NAME ? { serverName: env.TEMPORAL_TLS_SERVER_NAME } : {}),
    ...(pemFile(env, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH') ? { serverCaCertPath: pemFile(env, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH') } : {}),
    ...(pemFile(env, 'TEMPORAL_TLS_CLIENT_CERT_PATH') ? { clientCertPath: pemFile(env, 'TEMPORAL_TLS_CLIENT_CERT_PATH') } : {}),
    ...(pemFile(env, 'TEMPORAL_TLS_CLIENT_KEY_PATH') ? { clientKeyPath: pemFile(env, 'TEMPORAL_TLS_CLIENT_KEY_PATH') } : {}),
  };
  if (Boolean(files.clientCertPath) !== Boolean(files.clientKeyPath)) {
    throw new Error('TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together: mutual TLS needs the certificate and its key');
  }
  const off = raw === 'false' || raw === '0';
  if (off && (apiKey || Object.keys(files).length > 0))
    throw new Error('TEMPORAL_TLS=false cannot go with TEMPORAL_API_KEY or the TEMPORAL_TLS_* files, which need TLS');
  const tls = raw === 'true' || raw === '1' || Boolean(apiKey) || Object.keys(files).length > 0;
  if (tls && !env.TEMPORAL_ADDRESS) {
    throw new Error('TEMPORAL_API_KEY, TEMPORAL_TLS and the TEMPORAL_TLS_* files need TEMPORAL_ADDRESS: the embedded dev server takes plain connections');
  }
  return { ...(apiKey ? { apiKey } : {}), ...(tls ? { tls: files } : {}) };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    ...(env.TEMPORAL_ADDRESS ? { temporalAddress: env.TEMPORAL_ADDRESS } : {}),
    namespace: env.TEMPORAL_NAMESPACE || 'default',
    temporalSecurity: temporalSecurity(env),
    ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
    ...(env.DATABASE_URL && env.DATABASE_OWNER_URL ? { databaseOwnerUrl: env.DATABASE_OWNER_URL } : {}),
    dataDir: resolve(env.CASEBOOK_DATA_DIR || '.data'),
    host: env.HOST || '127.0.0.1',
    apiPort: port(env, 'PORT', 3000),
    temporalPort: port(env, 'CASEBOOK_TEMPORAL_PORT', 7233),
    temporalUiPort: port(env, 'CASEBOOK_TEMPORAL_UI_PORT', 8233),
    temporalHttpPort: port(env, 'CASEBOOK_TEMPORAL_HTTP_PORT', 7243),
    temporalMetricsPort: port(env, 'CASEBOOK_TEMPORAL_METRICS_PORT', 7244),
    postgresPort: port(env, 'CASEBOOK_POSTGRES_PORT', 5433),
    ...(env.CASEBOOK_METRICS_PORT ? { metricsPort: port(env, 'CASEBOOK_METRICS_PORT', 0) } : {}),
    requestLogging: env.CASEBOOK_REQUEST_LOG === '1',
    logFormat: logFormat(env, 'CASEBOOK_LOG_FORMAT'),
    logLevel: logLevel(env, 'CASEBOOK_LOG_LEVEL'),
    limits: apiLimits(env),
    worker: workerSettings(env),
    ...(existingFile(env, 'CASEBOOK_WORKFLOW_BUNDLE') ? { workflowBundle: existingFile(env, 'CASEBOOK_WORKFLOW_BUNDLE') } : {}),
    historyShape: positive(env, 'CASEBOOK_HISTORY_SHAPE', HISTORY_SHAPE) ?? HISTORY_SHAPE,
    workflowStackTraces: onOff(env, 'CASEBOOK_WORKFLOW_STACK_TRACES'),
    databasePoolSize: positive(env, 'CASEBOOK_DATABASE_POOL') ?? DEFAULT_DATABASE_POOL_SIZE,
    temporalRetentionDays: positive(env, 'CASEBOOK_TEMPORAL_RETENTION_DAYS', 3_650) ?? DEFAULT_TEMPORAL_RETENTION_DAYS,
    archiveIntervalMs: (positive(env, 'CASEBOOK_ARCHIVE_INTERVAL_SECONDS', 86_400) ?? DEFAULT_ARCHIVE_INTERVAL_SECONDS) * 1_000,
    leaseRetryMs: (positive(env, 'CASEBOOK_LEASE_RETRY_SECONDS', 3_600) ?? DEFAULT_LEASE_RETRY_SECONDS) * 1_000,
    shopTimeZone: timeZone(env, 'CASEBOOK_SHOP_TIME_ZONE', 'Asia/Shanghai'),
    ...(httpUrl(env, 'CASEBOOK_TEMPORAL_UI_URL') ? { temporalUiUrl: httpUrl(env, 'CASEBOOK_TEMPORAL_UI_URL') } : {}),
    auditCheckpoints: auditCheckpoints(env, resolve(env.CASEBOOK_DATA_DIR || '.data')),
    auditThreads: auditThreads(env),
    connectors: connectorsFromEnv(env),
    ...(tracingSettings(env) ? { tracing: tracingSettings(env) } : {}),
  };
}
