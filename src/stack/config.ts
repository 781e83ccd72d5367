/** Configuration from the environment, with embedded defaults: no variable is needed to run. */
import { resolve } from 'node:path';

export interface Config {
  /** An existing Temporal frontend; unset: start the dev server. */
  temporalAddress?: string;
  namespace: string;
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
  /** Log every HTTP request (CASEBOOK_REQUEST_LOG=1); failures are logged either way. */
  requestLogging: boolean;
  /** The worker's settings, each unset unless given (the worker then uses its measured defaults). */
  worker: WorkerSettings;
  /** Connections to Postgres in the pool of the API and the worker. */
  databasePoolSize: number;
  /** How long the embedded dev server keeps a closed case's history (Postgres keeps the archive for ever). */
  temporalRetentionDays: number;
  /** How often closed runs are copied into the archive. */
  archiveIntervalMs: number;
  /** The shop's IANA time zone, in which the console shows times (CASEBOOK_SHOP_TIME_ZONE). */
  shopTimeZone: string;
  /** The Temporal Web UI the console links cases to (CASEBOOK_TEMPORAL_UI_URL); unset: the dev server's, when Casebook starts it. */
  temporalUiUrl?: string;
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

function positive(env: NodeJS.ProcessEnv, name: string, max = 1_000_000): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${name} must be a whole number from 1 to ${max}, not '${raw}'`);
  return value;
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

function httpUrl(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^https?:\/\/[^\s]+$/.test(raw) || !URL.canParse(raw)) throw new Error(`${name} must be an http(s) URL, not '${raw}'`);
  return raw.replace(/\/+$/, '');
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    ...(env.TEMPORAL_ADDRESS ? { temporalAddress: env.TEMPORAL_ADDRESS } : {}),
    namespace: env.TEMPORAL_NAMESPACE || 'default',
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
    requestLogging: env.CASEBOOK_REQUEST_LOG === '1',
    worker: workerSettings(env),
    databasePoolSize: positive(env, 'CASEBOOK_DATABASE_POOL') ?? DEFAULT_DATABASE_POOL_SIZE,
    temporalRetentionDays: positive(env, 'CASEBOOK_TEMPORAL_RETENTION_DAYS', 3_650) ?? DEFAULT_TEMPORAL_RETENTION_DAYS,
    archiveIntervalMs: (positive(env, 'CASEBOOK_ARCHIVE_INTERVAL_SECONDS', 86_400) ?? DEFAULT_ARCHIVE_INTERVAL_SECONDS) * 1_000,
    shopTimeZone: timeZone(env, 'CASEBOOK_SHOP_TIME_ZONE', 'Asia/Shanghai'),
    ...(httpUrl(env, 'CASEBOOK_TEMPORAL_UI_URL') ? { temporalUiUrl: httpUrl(env, 'CASEBOOK_TEMPORAL_UI_URL') } : {}),
  };
}
