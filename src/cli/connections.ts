/**
 * Where subcommands find Casebook's database and Temporal ($DATABASE_URL, $TEMPORAL_ADDRESS, or the
 * embedded ones `casebook start` runs), and how they say they could not use the database.
 */
import { loadConfig, type TemporalSecurity } from '../stack/config.js';

export function databaseUrlOf(env: NodeJS.ProcessEnv = process.env): string {
  const config = loadConfig(env);
  return config.databaseUrl ?? `postgres://casebook:casebook@127.0.0.1:${config.postgresPort}/casebook`;
}

export interface CommandConnections {
  databaseUrl: string;
  temporalAddress: string;
  namespace: string;
  /** A managed cluster's API key or mutual TLS (TEMPORAL_API_KEY, TEMPORAL_TLS_*). */
  temporalSecurity: TemporalSecurity;
}

export function connectionsOf(env: NodeJS.ProcessEnv = process.env): CommandConnections {
  const config = loadConfig(env);
  return {
    databaseUrl: databaseUrlOf(env),
    temporalAddress: config.temporalAddress ?? `${config.host}:${config.temporalPort}`,
    namespace: config.namespace,
    temporalSecurity: config.temporalSecurity,
  };
}

/** `host:port/database` of a connection URL, for messages (never its password). */
export function databaseAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${decodeURIComponent(parsed.hostname)}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return 'DATABASE_URL (not a URL)';
  }
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOENT', 'ECONNRESET']);
const codeOf = (error: unknown): string | undefined =>
  (error as { code?: string }).code ?? (error instanceof AggregateError ? codeOf(error.errors[0]) : undefined);

/**
 * What a subcommand prints when it cannot connect: the address it tried, why, and the variable that
 * moves it (CASEBOOK_POSTGRES_PORT for the Postgres `casebook start` runs, DATABASE_URL for another).
 */
export function cannotReachDatabase(command: string, url: string, error: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const why = (error as Error).message || codeOf(error) || 'no answer';
  const hint = env.DATABASE_URL
    ? "  the address is DATABASE_URL's: correct it, or unset it to use the Postgres `npm start` runs"
    : '  start Casebook (npm start), or set CASEBOOK_POSTGRES_PORT to the port its Postgres listens on (default 5433), or DATABASE_URL to another Postgres';
  return `casebook ${command}: cannot reach the database at ${databaseAddress(url)}: ${why}\n${hint}\n`;
}

/** The line a subcommand prints when a database statement failed. */
export function databaseFailure(command: string, error: unknown, url: string): string {
  const code = codeOf(error);
  return code !== undefined && UNREACHABLE.has(code) ? cannotReachDatabase(command, url, error) : `casebook ${command}: ${(error as Error).message}\n`;
}
