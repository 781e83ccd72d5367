/**
 * A real Casebook for a benchmark: `node bin/casebook.js start` as a child process, on a fresh data
 * directory under bench/.data/ and on ports away from the defaults (a developer's stack, the tests),
 * ready when `GET /readyz` answers 200.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onInterrupt, startChild, type Child } from './child-process.js';
import { overUnixSocket } from '../../src/store/embedded-postgres.js';

export const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));
const DATA_ROOT = join(REPOSITORY, 'bench', '.data');

export interface CasebookPorts {
  api: number;
  temporal: number;
  temporalUi: number;
  temporalHttp: number;
  temporalMetrics: number;
  postgres: number;
}

export const DEFAULT_BENCH_PORTS: CasebookPorts = {
  api: 3900,
  temporal: 7900,
  temporalUi: 7901,
  temporalHttp: 7902,
  temporalMetrics: 7903,
  postgres: 5490,
};

export interface CasebookUnderTest {
  dataDir: string;
  apiUrl: string;
  adminKey: string;
  temporalAddress: string;
  /** As the application's role, `casebook_app`, like Casebook's own worker. */
  databaseUrl: string;
  /** As the schema's owner, `casebook`. */
  ownerDatabaseUrl: string;
  pids: {
    casebook: number;
    temporal: number;
    /** The postmaster; its backends are its children (see proc.ts treeCpuMs). */
    postgres: number;
  };
  /** A request to the API with a key (the admin's by default); throws on any status not in `expected`. */
  request<T = unknown>(
    method: string,
    path: string,
    options?: { key?: string; body?: unknown; yaml?: string; expected?: number[] },
  ): Promise<{ status: number; body: T }>;
  /** A new API key of this role. */
  createKey(role: 'admin' | 'ops-lead' | 'agent' | 'warehouse' | 'auditor', name: string): Promise<string>;
  /** Publishes playbooks/<name>.yaml, or the YAML file `file` under the name (200 or 201). */
  publishPlaybook(name: string, file?: string): Promise<void>;
  /** SIGTERM: Casebook drains and stops its servers; then waits for all three to be gone. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readPid(file: string): number {
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]?.trim());
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${file} holds no pid`);
  return pid;
}

/**
 * Starts Casebook on bench/.data/<name> (deleted first) and waits until it is ready (at most 3 minutes).
 * `env` is added to the child's environment (a deployment configuration, CASEBOOK_CONFIG, and its secrets).
 */
export async function startCasebook(
  name: string,
  ports: CasebookPorts = DEFAULT_BENCH_PORTS,
  options: { env?: Record<string, string> } = {},
): Promise<CasebookUnderTest> {
  const dataDir = join(DATA_ROOT, name);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const logFile = join(dataDir, 'casebook.log');
  // e.g. BENCH_CASEBOOK_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof": a profile per thread when it stops.
  const nodeFlags = process.env.BENCH_CASEBOOK_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  const child = startChild(process.execPath, [...nodeFlags, 'bin/casebook.js', 'start'], {
    cwd: REPOSITORY,
    logFile,
    env: {
      ...process.env,
      CASEBOOK_DATA_DIR: dataDir,
      PORT: String(ports.api),
      CASEBOOK_TEMPORAL_PORT: String(ports.temporal),
      CASEBOOK_TEMPORAL_UI_PORT: String(ports.temporalUi),
      CASEBOOK_TEMPORAL_HTTP_PORT: String(ports.temporalHttp),
      CASEBOOK_TEMPORAL_METRICS_PORT: String(ports.temporalMetrics),
      CASEBOOK_POSTGRES_PORT: String(ports.postgres),
      ...options.env,
    },
  });
  const temporalPidFile = join(dataDir, 'temporal', 'dev-server.pid');
  const postgresPidFile = join(dataDir, 'postgres', 'postmaster.pid');
  // The servers' pids, once known, so that a Casebook killed before it stopped them leaves nothing behind.
  const serverPids: number[] = [];
  const stop = async () => {
    await child.stop(60_000);
    for (const pid of serverPids) {
      for (let waited = 0; isRunning(pid) && waited < 20_000; waited += 100) await sleep(100);
      if (isRunning(pid)) process.kill(pid, 'SIGKILL');
    }
  };
  const unregister = onInterrupt(stop);
  try {
    const apiUrl = `http://127.0.0.1:${ports.api}`;
    await waitUntilReady(apiUrl, child, logFile);
    const pids = { casebook: child.pid, temporal: readPid(temporalPidFile), postgres: readPid(postgresPidFile) };
    serverPids.push(pids.temporal, pids.postgres);
    const adminKey = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
    const request: CasebookUnderTest['request'] = async (method, path, options = {}) => {
      const headers: Record<string, string> = { authorization: `Bearer ${options.key ?? adminKey}` };
      let body: string | undefined;
      if (options.yaml !== undefined) {
        headers['content-type'] = 'application/yaml';
        body = options.yaml;
      } else if (options.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(options.body);
      }
      const response = await fetch(apiUrl + path, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await response.text();
      const expected = options.expected ?? [200, 201, 202];
      if (!expected.includes(response.status)) throw new Error(`${method} ${path}: ${response.status} ${text}`);
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as never };
    };
    // Over the Unix socket, as Casebook itself connects: the hand-written workers get the same.
    const database = (user: string) => overUnixSocket(`postgres://${user}:${user}@127.0.0.1:${ports.postgres}/casebook`, ports.postgres);
    return {
      dataDir,
      apiUrl,
      adminKey,
      pids,
      request,
      temporalAddress: `127.0.0.1:${ports.temporal}`,
      databaseUrl: database('casebook_app'),
      ownerDatabaseUrl: database('casebook'),
      createKey: async (role, keyName) => (await request<{ key: string }>('POST', '/v1/keys', { body: { role, name: keyName } })).body.key,
      publishPlaybook: async (playbook, file = join(REPOSITORY, 'playbooks', `${playbook}.yaml`)) => {
        await request('PUT', `/v1/playbooks/${playbook}?make_current=true`, { yaml: readFileSync(file, 'utf8') });
      },
      stop: async () => {
        unregister();
        await stop();
      },
    };
  } catch (error) {
    unregister();
    await stop();
    throw error;
  }
}

async function waitUntilReady(apiUrl: string, child: Child, logFile: string): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (!child.running()) throw new Error(`Casebook exited during start; its log:\n${tail(logFile)}`);
    const status = await fetch(`${apiUrl}/readyz`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await sleep(250);
  }
  throw new Error(`Casebook was not ready within 3 minutes; its log:\n${tail(logFile)}`);
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-30).join('\n') : '(no log)';
}
