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
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port number (0-65535), not '${raw}'`);
  return value;
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
  };
}
