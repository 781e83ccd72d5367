/**
 * How `casebook start` logs, the API's and the Temporal SDK's lines alike: lines for people (the
 * default), or JSON lines in pino's shape for a log collector (CASEBOOK_LOG_FORMAT=json).
 */
import { DefaultLogger, Runtime, type LogEntry, type LogLevel, type Logger } from '@temporalio/worker';
import type { FastifyServerOptions } from 'fastify';
import { inspect } from 'node:util';
import type { LogFormat } from './config.js';

/** pino's numbers, so that the SDK's JSON lines read like the API's. */
const LEVELS: Record<LogLevel, number> = { TRACE: 10, DEBUG: 20, INFO: 30, WARN: 40, ERROR: 50 };
const LEVEL_NAMES = new Map<number, string>([
  [10, 'TRACE'],
  [20, 'DEBUG'],
  [30, 'INFO'],
  [40, 'WARN'],
  [50, 'ERROR'],
  [60, 'FATAL'],
]);
/** pino fields that say nothing to a person reading a terminal. */
const UNSHOWN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'err', 'error', 'v']);

export interface LogRecord {
  level: number;
  time: number;
  msg: string;
  [field: string]: unknown;
}

const stdout = (line: string) => process.stdout.write(line + '\n');

/**
 * One record as a line. For people: time, level, message, then the other fields; an error's message
 * on the line, its stack below only at ERROR and above (an activity's retried failure is a WARN).
 */
export function formatRecord(format: LogFormat, record: LogRecord): string {
  if (format === 'json') return JSON.stringify(record, (_key, value: unknown) => (value instanceof Error ? serializeError(value) : value));
  const error = record.err ?? record.error;
  const fields = Object.entries(record)
    .filter(([key, value]) => !UNSHOWN.has(key) && value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : inspect(value, { breakLength: Infinity, depth: 2 })}`);
  const level = LEVEL_NAMES.get(record.level) ?? String(record.level);
  let line = `casebook: ${new Date(record.time).toISOString()} ${level} ${record.msg}`;
  if (fields.length > 0) line += ` (${fields.join(', ')})`;
  if (error !== undefined) {
    const { message, stack } = serializeError(error);
    line += `: ${message}`;
    if (record.level >= LEVELS.ERROR && stack)
      line +=
        '\n' +
        stack
          .split('\n')
          .slice(1)
          .map((frame) => `    ${frame.trim()}`)
          .join('\n');
  }
  return line;
}

/** A line of the start command itself ("API http://..."): as it is for people, a record at INFO in JSON. */
export function formatNote(format: LogFormat, note: string): string {
  return format === 'json' ? formatRecord(format, { level: LEVELS.INFO, time: Date.now(), msg: note }) : `casebook: ${note}`;
}

function serializeError(error: unknown): { type?: string; message: string; stack?: string } {
  if (error instanceof Error) return { type: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { type, message, stack } = error as { type?: unknown; message: unknown; stack?: unknown };
    return { ...(typeof type === 'string' ? { type } : {}), message: String(message), ...(typeof stack === 'string' ? { stack } : {}) };
  }
  return { message: String(error) };
}

/** The SDK's entries (the worker's and, forwarded, its Rust core's) as records. */
export function temporalLogger(level: LogLevel, write: (record: LogRecord) => void): Logger {
  return new DefaultLogger(level, (entry: LogEntry) => {
    write({ level: LEVELS[entry.level], time: Number(entry.timestampNanos / 1_000_000n), msg: entry.message, ...entry.meta });
  });
}

/**
 * Installs the process's Temporal Runtime with `logger`, the core's lines forwarded to it rather than
 * printed by the core itself. Must run before any worker or connection is made.
 */
export function installTemporalLogging(logger: Logger, coreLevel: LogLevel = 'WARN'): void {
  Runtime.install({ logger, telemetryOptions: { logging: { filter: { core: coreLevel, other: 'ERROR' }, forward: {} } } });
}

/** For `casebook start`: the SDK's warnings and errors in the chosen format, on stdout. */
export function installStartLogging(format: LogFormat, write: (line: string) => void = stdout): void {
  installTemporalLogging(temporalLogger('WARN', (record) => write(formatRecord(format, record))));
}

/** The API's logger for `casebook start`: pino's JSON lines as they are, or each made a line for people. */
export function apiLogger(format: LogFormat, write: (line: string) => void = stdout): FastifyServerOptions['logger'] {
  if (format === 'json') return { level: 'info' };
  return { level: 'info', stream: { write: (json: string) => write(formatRecord('text', JSON.parse(json) as LogRecord)) } };
}
