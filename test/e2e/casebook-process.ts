/** `casebook start` as a child process with its own ports and data directory, as the e2e tests run it. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/stack/free-port.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Ports {
  api: number;
  temporal: number;
  ui: number;
  http: number;
  metrics: number;
  postgres: number;
}

/** Ports free a moment ago. */
export const pickPorts = async (): Promise<Ports> => ({
  api: await freePort(),
  temporal: await freePort(),
  ui: await freePort(),
  http: await freePort(),
  metrics: await freePort(),
  postgres: await freePort(),
});

export const envFor = (dataDir: string, ports: Ports): NodeJS.ProcessEnv => ({
  CASEBOOK_DATA_DIR: dataDir,
  PORT: String(ports.api),
  CASEBOOK_TEMPORAL_PORT: String(ports.temporal),
  CASEBOOK_TEMPORAL_UI_PORT: String(ports.ui),
  CASEBOOK_TEMPORAL_HTTP_PORT: String(ports.http),
  CASEBOOK_TEMPORAL_METRICS_PORT: String(ports.metrics),
  CASEBOOK_POSTGRES_PORT: String(ports.postgres),
});

export interface Casebook {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<number | null>;
}

/** Spawns `casebook start` with `args` (`--api`, `--worker`). */
export function spawnCasebook(env: NodeJS.ProcessEnv, args: string[] = []): Casebook {
  const child = spawn(process.execPath, ['bin/casebook.js', 'start', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Starts Casebook and waits until it is ready (at most 90 s); rejects if it exits first. */
export async function startCasebook(env: NodeJS.ProcessEnv, args: string[] = []): Promise<Casebook> {
  const casebook = spawnCasebook(env, args);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`casebook did not start within 90 s:\n${casebook.output()}`)), 90_000);
    const check = () => {
      if (casebook.output().includes('casebook: ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    casebook.child.stdout.on('data', check);
    void casebook.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`casebook exited with ${code} during start:\n${casebook.output()}`));
    });
  });
  return casebook;
}

/**
 * Starts Casebook on fresh ports; the dev server also binds three random ports of its own, so on the
 * rare collision with one of ours the start is retried once on other ports. `extra` is added to
 * its environment.
 */
export async function startOnFreePorts(dataDir: string, extra: NodeJS.ProcessEnv = {}): Promise<{ casebook: Casebook; ports: Ports; env: NodeJS.ProcessEnv }> {
  const envOn = (ports: Ports): NodeJS.ProcessEnv => ({ ...envFor(dataDir, ports), ...extra });
  let ports = await pickPorts();
  const casebook = await startCasebook(envOn(ports)).catch(async (error: Error) => {
    if (!/address already in use|EADDRINUSE|ports in use/.test(error.message)) throw error;
    ports = await pickPorts();
    return startCasebook(envOn(ports));
  });
  return { casebook, ports, env: envOn(ports) };
}

/** SIGTERM, then its exit code. */
export async function stopCasebook(casebook: Casebook): Promise<number | null> {
  casebook.child.kill('SIGTERM');
  return casebook.exited;
}
