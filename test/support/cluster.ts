/**
 * The production-shaped stack for tests (docs/operations.md, "A production-shaped Temporal"): the Temporal
 * server built from its Go module, on the run's Postgres in two databases of its own, with SQL
 * visibility; a Casebook database beside it; and Casebook's processes, `casebook start --api` and
 * `--worker`, each with its own data directory, pointed at both. A missing server build fails the test
 * with what to do (it never skips).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { freePort } from '../../src/stack/free-port.js';
import { startTemporalServer, temporalServerMissing, type TemporalServerPorts } from '../../src/stack/temporal-server.js';
import { dropDatabase } from '../../src/store/databases.js';
import { createTestDatabase, type TestDatabase } from './database.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface TestCluster {
  /** The server's frontend, host:port. */
  address: string;
  namespace: string;
  /** Casebook's database (migrated), shared by every Casebook process of the cluster. */
  db: TestDatabase;
  /** Where the server's log and the processes' data directories are. */
  dir: string;
  /** The server's log file. */
  log: string;
  /** Stops the Casebook processes still running, then the server; drops the databases. */
  stop(): Promise<void>;
  /** The processes started so far, for `stop`. */
  processes: CasebookProcess[];
}

export interface CasebookProcess {
  child: ChildProcessWithoutNullStreams;
  pid: number;
  output(): string;
  exited: Promise<number | null>;
  /** The API's URL (`--api`), else undefined. */
  apiUrl?: string;
}

/** Whether `port` on 127.0.0.1 can be listened on now. */
const isFree = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/**
 * Ten free ports below 32768: the server records its services' ports in a smallint column
 * (cluster_membership), so the ephemeral ports the system hands out are refused.
 */
async function freePorts(): Promise<TemporalServerPorts> {
  const ports: number[] = [];
  while (ports.length < 10) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!ports.includes(port) && (await isFree(port))) ports.push(port);
  }
  const [frontend, http, frontendMembership, history, historyMembership, matching, matchingMembership, worker, workerMembership, metrics] = ports as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { frontend, http, frontendMembership, history, historyMembership, matching, matchingMembership, worker, workerMembership, metrics };
}

/** The server started (schemas set up, namespace `default` registered with Casebook's search attributes) and Casebook's database made. */
export async function startTestCluster(): Promise<TestCluster> {
  const missing = temporalServerMissing();
  if (missing) throw new Error(`the cluster tests need ${missing}`);
  const adminUrl = inject('postgresAdminUrl');
  const dir = mkdtempSync(join(tmpdir(), 'casebook-cluster-'));
  const name = `test_${randomBytes(6).toString('hex')}`;
  const databases = [`${name}_temporal`, `${name}_visibility`];
  const log = join(dir, 'temporal-server.log');
  const db = await createTestDatabase();
  const namespace = 'default';
  const server = await startTemporalServer({
    postgresUrl: adminUrl,
    database: databases[0]!,
    visibilityDatabase: databases[1]!,
    host: '127.0.0.1',
    ports: await freePorts(),
    namespace,
    retentionDays: 1,
    logFile: log,
    // The run's Postgres serves every test file at once (100 connections): the four services take 24 at most.
    maxConns: { history: 4, visibility: 2 },
  }).catch(async (error: Error) => {
    await db.drop();
    throw error;
  });
  const processes: CasebookProcess[] = [];
  return {
    address: server.address,
    namespace,
    db,
    dir,
    log,
    processes,
    async stop() {
      for (const casebook of processes) if (casebook.child.exitCode === null && casebook.child.signalCode === null) casebook.child.kill('SIGKILL');
      await Promise.all(processes.map((casebook) => casebook.exited));
      await server.stop();
      await db.drop();
      for (const database of databases) await dropDatabase(adminUrl, database).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `casebook start --api` or `--worker` against the cluster, in its own data directory; resolves once it
 * printed that it is ready (at most 90 s), rejects with its output if it exits first. `env` adds variables.
 */
export async function startCasebookProcess(cluster: TestCluster, role: 'api' | 'worker', env: NodeJS.ProcessEnv = {}): Promise<CasebookProcess> {
  const dataDir = mkdtempSync(join(cluster.dir, `${role}-`));
  const port = role === 'api' ? await freePort() : undefined;
  const child = spawn(process.execPath, ['bin/casebook.js', 'start', `--${role}`], {
    cwd: ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: cluster.address,
      TEMPORAL_NAMESPACE: cluster.namespace,
      DATABASE_URL: cluster.db.url,
      DATABASE_OWNER_URL: cluster.db.ownerUrl,
      CASEBOOK_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      // 5 connections each rather than 10, for the run's shared Postgres.
      CASEBOOK_DATABASE_POOL: '5',
      ...(port === undefined ? {} : { PORT: String(port) }),
      ...env,
    },
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started: CasebookProcess = {
    child,
    pid: child.pid!,
    output: () => output,
    exited,
    ...(port === undefined ? {} : { apiUrl: `http://127.0.0.1:${port}` }),
  };
  cluster.processes.push(started);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`casebook start --${role} was not ready within 90 s:\n${output}`)), 90_000);
    const check = () => {
      if (output.includes('casebook: ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`casebook start --${role} exited with ${code} during start:\n${output}`));
    });
  });
  return started;
}
