/**
 * How `casebook start` logs, the API's and the Temporal SDK's lines alike: lines for people (the
 * default), or JSON lines in pino's shape for a log collector (CASEBOOK_LOG_FORMAT=json); from the
 * level CASEBOOK_LOG_LEVEL names. Every record is scrubbed of secrets on its way out (`scrub`).
 */
import { Context } from '@temporalio/activity';
import { DefaultLogger, Runtime, type LogEntry, type LogLevel, type Logger } from '@temporalio/worker';
import type { FastifyServerOptions } from 'fastify';
import { inspect } from 'node:util';
import type { CaseActivities } from '../plan/activities.js';
import { FAILURE_TYPES } from '../plan/failures.js';
import { CASEBOOK_ACTOR, type ProgressReport } from '../plan/case.js';
import type { LogFormat, LogLevelName } from './config.js';

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

const REDACTED = '[redacted]';
/** Fields whose value is a secret whatever it looks like. */
const SECRET_FIELD =
  /^(authorization|cookie|set-cookie|x-api-key|api[-_]?key|password|passwd|pass|secret|secrets|token|signing[-_]?key|private[-_]?key)$|(password|secret)$/i;
/** Secrets inside text: a Casebook API key's secret part, a bearer token, a URL's password. */
const SECRET_TEXT: [RegExp, string][] = [
  [/\b(cb_[a-z0-9]{12}_)[A-Za-z0-9_-]{43}/g, `$1${REDACTED}`],
  [/\b(Bearer\s+)[^\s"',]+/gi, `$1${REDACTED}`],
  [/\b([a-z][a-z0-9+.-]*:\/\/[^:/\s@]+:)[^@\s/]+@/gi, `$1${REDACTED}@`],
];

/**
 * A record without its secrets: fields named like a secret (Authorization, password, secret, API and
 * signing keys) replaced whatever their value, and API keys, bearer tokens and URL passwords cut out of
 * any text (an error message quoting a database URL, a header echoed into a message).
 */
export function scrub<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return SECRET_TEXT.reduce((text, [pattern, by]) => text.replace(pattern, by), value as string) as T;
  if (value instanceof Error) return scrub(serializeError(value), depth) as T;
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1)) as T;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [key, SECRET_FIELD.test(key) && field !== undefined && field !== null ? REDACTED : scrub(field, depth + 1)]),
  ) as T;
}

/** What pino itself blanks before our scrub sees the record: the request headers that carry keys. */
const PINO_REDACT = ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-api-key"]', 'headers.authorization', 'headers.cookie'];

/**
 * One record as a line. For people: time, level, message, then the other fields; an error's message
 * on the line, its stack below only at ERROR and above (an activity's retried failure is a WARN).
 */
export function formatRecord(format: LogFormat, unscrubbed: LogRecord): string {
  const record = scrub(unscrubbed);
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

/** A line of the start command itself ("API http://..."): scrubbed, as it is for people, a record at INFO in JSON. */
export function formatNote(format: LogFormat, note: string): string {
  return format === 'json' ? formatRecord(format, { level: LEVELS.INFO, time: Date.now(), msg: note }) : `casebook: ${scrub(note)}`;
}

/**
 * The first start's admin key: the one secret shown, once, to the person at the terminal; in JSON lines,
 * which go to a log store, scrubbed like any other (it is in its file).
 */
export function formatKeyNote(format: LogFormat, note: string): string {
  return format === 'json' ? formatNote(format, note) : `casebook: ${note}`;
}

function serializeError(error: unknown): { type?: string; message: string; stack?: string } {
  if (error instanceof Error) return { type: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) };
  if (typeof error === 'object' && error !== null && 'message' in error) {
    const { type, message, stack } = error as { type?: unknown; message: unknown; stack?: unknown };
    return { ...(typeof type === 'string' ? { type } : {}), message: String(message), ...(typeof stack === 'string' ? { stack } : {}) };
  }
  return { message: String(error) };
}

/**
 * The SDK's entries (the worker's and, forwarded, its Rust core's) as records, from `level`; Casebook's
 * own lines from its activities (the activity context's logger, `sdkComponent: activity`) from
 * `casebookLevel`.
 */
export function temporalLogger(level: LogLevel, write: (record: LogRecord) => void, casebookLevel: LogLevel = level): Logger {
  const least = LEVELS[casebookLevel] < LEVELS[level] ? casebookLevel : level;
  return new DefaultLogger(least, (entry: LogEntry) => {
    const own = entry.meta?.sdkComponent === 'activity';
    if (LEVELS[entry.level] < LEVELS[own ? casebookLevel : level]) return;
    write({ level: LEVELS[entry.level], time: Number(entry.timestampNanos / 1_000_000n), msg: entry.message, ...entry.meta });
  });
}

/** CASEBOOK_LOG_LEVEL as the SDK names it. */
export const sdkLevelOf = (level: LogLevelName): LogLevel => level.toUpperCase() as LogLevel;

/**
 * The SDK's own lines at `casebook start`: from WARN (its INFO lines are worker state changes), or from
 * the level asked for when that is DEBUG or TRACE, or ERROR.
 */
const sdkOwnLevel = (level: LogLevelName): LogLevel => (level === 'info' ? 'WARN' : sdkLevelOf(level));

/**
 * Installs the process's Temporal Runtime with `logger`, the core's lines forwarded to it rather than
 * printed by the core itself; with `metricsAddress` (host:port), the SDK's worker metrics exported for
 * Prometheus there (Casebook's /metrics serves them, src/stack/metrics.ts). Must run before any worker
 * or connection is made.
 */
export function installTemporalLogging(logger: Logger, coreLevel: LogLevel = 'WARN', metricsAddress?: string): void {
  Runtime.install({
    logger,
    telemetryOptions: {
      logging: { filter: { core: coreLevel, other: 'ERROR' }, forward: {} },
      ...(metricsAddress ? { metrics: { prometheus: { bindAddress: metricsAddress, countersTotalSuffix: true, useSecondsForDurations: true } } } : {}),
    },
  });
}

/** For `casebook start`: the SDK's warnings and errors in the chosen format, on stdout. */
export function installStartLogging(format: LogFormat, write: (line: string) => void = stdout, metricsAddress?: string, level: LogLevelName = 'info'): void {
  installTemporalLogging(
    temporalLogger(sdkOwnLevel(level), (record) => write(formatRecord(format, record)), sdkLevelOf(level)),
    level === 'error' ? 'ERROR' : 'WARN',
    metricsAddress,
  );
}

/**
 * The API's logger for `casebook start`, from `level`: pino's records with the key-carrying headers
 * blanked, scrubbed, then written as JSON lines or as lines for people.
 */
export function apiLogger(
  format: LogFormat,
  { level = 'info', write = stdout }: { level?: LogLevelName; write?: (line: string) => void } = {},
): FastifyServerOptions['logger'] {
  return {
    level,
    redact: { paths: PINO_REDACT, censor: REDACTED },
    stream: { write: (json: string) => write(formatRecord(format, JSON.parse(json) as LogRecord)) },
  };
}

/** What Casebook says when each side effect is done: a message and the fields of its request and answer worth a line. */
const SIDE_EFFECTS: {
  [Name in keyof CaseActivities]?: (
    request: Parameters<CaseActivities[Name]>[0],
    result: Awaited<ReturnType<CaseActivities[Name]>>,
  ) => [string, Record<string, unknown>];
} = {
  sendMessage: (r, a) => ['message sent', { step: r.stepId, channel: r.channel, template: r.template, messageId: a.messageId }],
  issueRefund: (r, a) => ['refund issued', { step: r.stepId, orderId: r.orderId, amount: r.amount, currency: r.currency, refundId: a.refundId }],
  markRefundLate: (r) => ['refund marked late', { step: r.stepId, orderId: r.orderId, amount: r.amount, currency: r.currency }],
  openEscalation: (r, a) => ['escalation opened', { step: r.stepId, escalationId: a.escalationId }],
  openTask: (r, a) => ['task opened', { step: r.stepId, taskId: a.taskId }],
  closeTask: (r) => ['task closed', { outcome: r.outcome, breached: r.breached }],
  writeOrderNote: (r) => ['order note written', { orderId: r.orderId }],
  callIntegration: (r) => ['integration called', { step: r.stepId, integration: r.integration, operation: r.operation }],
  openChildCase: (r, a) => ['child case opened', { step: r.stepId, childCaseId: a.caseId, playbook: a.input.playbook.name }],
};

/** The case a report closes, where the activity's request carries one (its own, riding, or written before a refund). */
function closingReport(name: string, request: unknown): ProgressReport | undefined {
  const carried = request as { rides?: { report?: ProgressReport }; progress?: ProgressReport } | undefined;
  const report = name === 'recordProgress' ? (request as ProgressReport) : (carried?.rides?.report ?? carried?.progress);
  return report?.status === 'closed' ? report : undefined;
}

/**
 * The activities, each logging a line when its side effect is done (a refund a provider declined, a
 * side effect that failed for good, at WARN) and when the report it writes closes its case. Lines go
 * through the activity context's logger: they carry the workflow and activity ids and the attempt, and
 * the case id and Casebook as the actor (a side effect is Casebook's own act; the request that led to it
 * shares its case id).
 */
export function loggedActivities(activities: CaseActivities): CaseActivities {
  const logged = Object.entries(activities).map(([name, activity]) => {
    const describe = SIDE_EFFECTS[name as keyof CaseActivities] as ((request: unknown, result: unknown) => [string, Record<string, unknown>]) | undefined;
    const wrapped = async (request: { caseId?: string; key?: string }) => {
      const log = Context.current().log;
      const caseId = request.caseId ?? request.key?.split('/')[0];
      const fields = { caseId, actor: CASEBOOK_ACTOR, activity: name };
      let result: unknown;
      try {
        result = await (activity as (request: unknown) => Promise<unknown>)(request);
      } catch (error) {
        const type = (error as { type?: unknown }).type;
        if (type === FAILURE_TYPES.RefundDeclined) log.info('refund declined', { ...fields, reason: (error as Error).message });
        else if ((error as { nonRetryable?: unknown }).nonRetryable === true)
          log.warn('side effect failed', { ...fields, type, error: (error as Error).message });
        throw error;
      }
      if (describe) {
        const [message, details] = describe(request, result);
        log.info(message, { ...fields, ...details });
      }
      const closed = closingReport(name, request);
      if (closed) log.info('case closed', { ...fields, outcome: closed.outcome?.outcome ?? null, reason: closed.outcome?.reason ?? null });
      return result;
    };
    return [name, wrapped];
  });
  return Object.fromEntries(logged) as unknown as CaseActivities;
}
