/** The Temporal CLI's dev server as a child process, persisting to a SQLite file. */
import { Connection } from '@temporalio/client';
import Long from 'long';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporalCliExecutable } from './temporal-binaries.js';

export interface DevServerHandle {
  address: string;
  uiUrl: string;
  /** Stops starting the server again when it exits: the first thing a stop does. */
  unsupervise(): void;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  dataDir: string;
  host: string;
  port: number;
  uiPort: number;
  httpPort: number;
  metricsPort: number;
  namespace: string;
  /** Where to record the server's pid while it runs, for the next start to find after a crash. */
  pidFile?: string;
  /** Told when the server stopped without being asked to and is being started again. */
  onRestart?: (message: string) => void;
  /** Dynamic configuration, e.g. { 'limit.historyCount.suggestContinueAsNew': 100 }. */
  dynamicConfig?: Record<string, number | string | boolean>;
  /** How long the namespace keeps a closed workflow's history; the server's default (1 day) when absent. */
  retentionDays?: number;
}

export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServerHandle> {
  const executable = temporalCliExecutable();
  if (executable.type !== 'existing-path') {
    throw new Error('the Temporal CLI is not provisioned: run `bash scripts/provision.sh` or set CASEBOOK_TEMPORAL_CLI');
  }
  mkdirSync(options.dataDir, { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    join(options.dataDir, 'temporal.db'),
    '--ip',
    options.host,
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--http-port',
    String(options.httpPort),
    '--metrics-port',
    String(options.metricsPort),
    '--namespace',
    options.namespace,
    '--log-level',
    'error',
    ...Object.entries(options.dynamicConfig ?? {}).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]),
  ];
  let stderr = '';
  const spawnServer = (): ChildProcess => {
    // In a process group of its own: a Ctrl-C in the terminal reaches Casebook only, which drains while
    // the server is up and then stops it.
    const child = spawn(executable.path, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const pidFile = options.pidFile;
    if (pidFile && child.pid !== undefined) {
      writeFileSync(pidFile, `${child.pid}\n`);
      child.once('exit', () => rmSync(pidFile, { force: true }));
    }
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    return child;
  };
  let child = spawnServer();
  const address = `${options.host}:${options.port}`;
  try {
    try {
      await waitUntilServing(address, child, () => stderr);
    } catch (error) {
      // Once more when it exited at once (a port it picks for itself taken in between, a data file the
      // server stopped a moment ago still closing): the second failure is reported as it is.
      if (!(error instanceof ExitedDuringStartUp)) throw error;
      options.onRestart?.(`${error.message}; starting it once more`);
      stderr = '';
      child = spawnServer();
      await waitUntilServing(address, child, () => stderr);
    }
    if (options.retentionDays !== undefined) await setRetention(address, options.namespace, options.retentionDays);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  // Started again whenever it exits without being asked to (killed, crashed), on the same data file:
  // the worker and the API reconnect on their own.
  let stopping = false;
  const watch = () =>
    child.once('exit', () => {
      if (stopping) return;
      options.onRestart?.('the Temporal dev server stopped unexpectedly; starting it again');
      setTimeout(() => {
        if (stopping) return;
        stderr = '';
        child = spawnServer();
        watch();
        waitUntilServing(address, child, () => stderr).then(
          () => options.onRestart?.('the Temporal dev server is running again'),
          () => undefined,
        );
      }, 1_000);
    });
  watch();
  return {
    address,
    uiUrl: `http://${options.host}:${options.uiPort}`,
    unsupervise: () => {
      stopping = true;
    },
    stop: () => {
      stopping = true;
      return stopChild(child);
    },
  };
}

/** Sets the namespace's retention (kept in the server's data file, so set again at each start). */
export async function setRetention(address: string, namespace: string, days: number): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService.updateNamespace({ namespace, config: { workflowExecutionRetentionTtl: { seconds: Long.fromNumber(days * 86_400) } } });
  } finally {
    await connection.close();
  }
}

class ExitedDuringStartUp extends Error {}

async function waitUntilServing(address: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  let exited: string | undefined;
  // 'close', not 'exit': by then the server's last words on stderr have been read.
  child.once('close', (code, signal) => {
    exited = signal ? `signal ${signal}` : `code ${code}`;
  });
  while (Date.now() < deadline) {
    if (exited) throw new ExitedDuringStartUp(`the Temporal dev server exited during start-up (${exited}): ${stderr().trim() || 'it said nothing'}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`the Temporal dev server did not answer on ${address} within 60 s`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
