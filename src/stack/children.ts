/**
 * What `casebook start` runs next to itself, as recorded in the data directory: the Casebook process
 * (`casebook.pid`), the Temporal dev server (`temporal/dev-server.pid`) and the embedded Postgres
 * (`postgres/postmaster.pid`, Postgres's own). See processes.ts for how they are recognised and stopped.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.js';
import { checkPortsFree, killChild, reclaimChild, runningChild, writePidFile, type RecordedChild, type WantedPort } from './processes.js';

export const temporalDataDir = (config: Config): string => join(config.dataDir, 'temporal');
export const postgresDataDir = (config: Config): string => join(config.dataDir, 'postgres');

export function temporalChild(config: Config): RecordedChild {
  const database = join(temporalDataDir(config), 'temporal.db');
  return {
    name: 'the Temporal dev server',
    pidFile: join(temporalDataDir(config), 'dev-server.pid'),
    isOurs: (command) => command.includes('start-dev') && command.includes(database),
    gentle: 'SIGTERM',
    firm: 'SIGKILL',
    graceMs: 10_000,
  };
}

export function postgresChild(config: Config): RecordedChild {
  const dataDir = postgresDataDir(config);
  return {
    name: 'the embedded Postgres',
    pidFile: join(dataDir, 'postmaster.pid'),
    isOurs: (command) => /postgres/.test(command) && command.includes(dataDir),
    // SIGINT is Postgres's fast shutdown (sessions ended, clean stop); SIGQUIT its immediate one.
    gentle: 'SIGINT',
    firm: 'SIGQUIT',
    graceMs: 15_000,
  };
}

function casebookProcess(config: Config): RecordedChild {
  return {
    name: 'Casebook',
    pidFile: join(config.dataDir, 'casebook.pid'),
    isOurs: (command) => /casebook(\.js)?\s+start\b/.test(command),
  };
}

/**
 * Makes the data directory this process's: refuses when another Casebook runs on it, then stops what a
 * crashed run left (its Temporal dev server and Postgres) and deletes stale pid files, then checks
 * that every port to listen on is free. Answers the function that releases the data directory.
 */
export async function claimDataDir(config: Config, log: (line: string) => void): Promise<() => void> {
  mkdirSync(config.dataDir, { recursive: true });
  const self = casebookProcess(config);
  const other = runningChild(self);
  if (other !== undefined) {
    throw new Error(
      `Casebook is already running on ${config.dataDir} (PID ${other}); stop it with \`kill ${other}\`, or set CASEBOOK_DATA_DIR to another directory`,
    );
  }
  writePidFile(self.pidFile, process.pid);
  const release = () => releaseDataDir(config);
  try {
    if (!config.temporalAddress) await reclaimChild(temporalChild(config), log);
    if (!config.databaseUrl) await reclaimChild(postgresChild(config), log);
    await checkPortsFree(config.host, wantedPorts(config));
    return release;
  } catch (error) {
    release();
    throw error;
  }
}

/** Deletes this process's `casebook.pid`, when it is this process's. */
export function releaseDataDir(config: Config): void {
  const { pidFile } = casebookProcess(config);
  if (existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() === String(process.pid)) rmSync(pidFile, { force: true });
}

function wantedPorts(config: Config): WantedPort[] {
  return [
    { port: config.apiPort, what: 'the API', variable: 'PORT' },
    ...(config.temporalAddress
      ? []
      : [
          { port: config.temporalPort, what: 'the Temporal frontend', variable: 'CASEBOOK_TEMPORAL_PORT' },
          { port: config.temporalUiPort, what: 'the Temporal Web UI', variable: 'CASEBOOK_TEMPORAL_UI_PORT' },
          { port: config.temporalHttpPort, what: "the Temporal dev server's HTTP API", variable: 'CASEBOOK_TEMPORAL_HTTP_PORT' },
          { port: config.temporalMetricsPort, what: "the Temporal dev server's metrics", variable: 'CASEBOOK_TEMPORAL_METRICS_PORT' },
        ]),
    ...(config.databaseUrl ? [] : [{ port: config.postgresPort, what: 'the embedded Postgres', variable: 'CASEBOOK_POSTGRES_PORT' }]),
  ];
}

/** Stops the embedded servers at once (a second Ctrl-C), whatever state the start or stop is in. */
export async function killChildren(config: Config): Promise<void> {
  await Promise.all([config.temporalAddress ? undefined : killChild(temporalChild(config)), config.databaseUrl ? undefined : killChild(postgresChild(config))]);
}
