/**
 * Crash-safe start and bounded stop, as an operator meets them: `casebook start` after a kill -9 of
 * Casebook works the first time (the Temporal dev server and Postgres it left running are stopped and
 * started again, no manual cleanup); Postgres or the Temporal dev server killed under a running Casebook
 * is started again and /readyz goes red, then green; a port held by another process is reported with its PID; a second
 * signal stops everything at once, children included.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { isRunning } from '../../src/stack/processes.js';
import { envFor, pickPorts, spawnCasebook, startCasebook, startOnFreePorts, stopCasebook, type Casebook } from './casebook-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'casebook-crash-'));
let running: Casebook | undefined;

/** Stops what an earlier (failed) test left running, at once. */
async function stopRunning(): Promise<void> {
  if (running && running.child.exitCode === null) {
    running.child.kill('SIGTERM');
    // Apart by more than the quarter second within which a second signal counts as the first.
    await new Promise((r) => setTimeout(r, 500));
    running.child.kill('SIGTERM');
    await running.exited;
  }
}

beforeEach(stopRunning);
afterAll(async () => {
  await stopRunning();
  rmSync(dataDir, { recursive: true, force: true });
});

const pidIn = (file: string): number => Number(readFileSync(join(dataDir, file), 'utf8').split('\n')[0]);
const children = () => ({ temporal: pidIn('temporal/dev-server.pid'), postgres: pidIn('postgres/postmaster.pid') });
const readyz = async (api: string) => (await fetch(`${api}/readyz`).catch(() => undefined))?.status;

describe('casebook start after a crash, and stopping', () => {
  it('starts the first time after kill -9, reclaiming the servers the killed run left; survives Postgres and Temporal being killed', async () => {
    const { casebook: first, ports, env } = await startOnFreePorts(dataDir);
    running = first;
    const api = `http://127.0.0.1:${ports.api}`;
    const left = children();
    expect(isRunning(left.temporal) && isRunning(left.postgres)).toBe(true);

    first.child.kill('SIGKILL');
    await first.exited;
    // What a crash leaves: the servers still running, the pid files in place.
    expect(isRunning(left.temporal) && isRunning(left.postgres)).toBe(true);

    const started = Date.now();
    const second = await startCasebook(env);
    running = second;
    const restartSeconds = (Date.now() - started) / 1000;
    expect(second.output()).toContain(`the Temporal dev server (PID ${left.temporal}) was left running by an earlier run; stopping it`);
    expect(second.output()).toContain(`the embedded Postgres (PID ${left.postgres}) was left running by an earlier run; stopping it`);
    expect(isRunning(left.temporal) || isRunning(left.postgres)).toBe(false);
    expect(await readyz(api)).toBe(200);
    console.log(`casebook start after kill -9: ready in ${restartSeconds.toFixed(1)} s`);

    // Postgres killed under the running Casebook: readiness goes red, Postgres is started again, green.
    process.kill(children().postgres, 'SIGKILL');
    await expect.poll(() => readyz(api), { timeout: 10_000, interval: 100 }).toBe(503);
    await expect.poll(() => readyz(api), { timeout: 30_000, interval: 250 }).toBe(200);
    expect(second.output()).toContain('casebook: Postgres is running again');
    // The same for the Temporal dev server (back too soon for readiness to be caught red every time).
    process.kill(children().temporal, 'SIGKILL');
    await expect.poll(() => second.output(), { timeout: 60_000, interval: 250 }).toContain('casebook: the Temporal dev server is running again');
    await expect.poll(() => readyz(api), { timeout: 30_000, interval: 250 }).toBe(200);
    expect(second.child.exitCode).toBeNull();

    const now = children();
    expect(await stopCasebook(second)).toBe(0);
    expect(isRunning(now.temporal) || isRunning(now.postgres)).toBe(false);
    expect(existsSync(join(dataDir, 'casebook.pid'))).toBe(false);
  }, 240_000);

  it('reports a port held by another process with its PID and the command to run, and starts nothing', async () => {
    const ports = await pickPorts();
    const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${ports.temporal}, '127.0.0.1', () => console.log('listening'))`]);
    try {
      await new Promise((resolve) => holder.stdout.once('data', resolve));
      const casebook = spawnCasebook(envFor(dataDir, ports));
      expect(await casebook.exited).toBe(1);
      expect(casebook.output()).toContain(
        `casebook: could not start: ports in use:\n  port ${ports.temporal} (the Temporal frontend) is in use by PID ${holder.pid} (`,
      );
      expect(casebook.output()).toContain(`stop it with \`kill ${holder.pid}\`, or set CASEBOOK_TEMPORAL_PORT to another port`);
      expect(casebook.output()).not.toContain('undefined');
      expect(existsSync(join(dataDir, 'temporal/dev-server.pid'))).toBe(false);
      expect(existsSync(join(dataDir, 'postgres/postmaster.pid'))).toBe(false);
    } finally {
      holder.kill();
    }
  });

  it('a second signal stops everything at once, children included, while the first is still draining', async () => {
    const { casebook } = await startOnFreePorts(dataDir);
    running = casebook;
    const { temporal, postgres } = children();
    // A frozen Temporal server keeps the worker from draining (and would take the whole 30 s).
    process.kill(temporal, 'SIGSTOP');
    casebook.child.kill('SIGTERM');
    await expect.poll(() => casebook.output(), { timeout: 5_000, interval: 50 }).toContain('SIGTERM received, stopping');
    await new Promise((r) => setTimeout(r, 500));
    const second = Date.now();
    casebook.child.kill('SIGINT');
    expect(await casebook.exited).toBe(1);
    const seconds = (Date.now() - second) / 1000;
    expect(casebook.output()).toContain('casebook: SIGINT again: stopping everything at once');
    expect(seconds).toBeLessThan(5);
    expect(isRunning(temporal) || isRunning(postgres)).toBe(false);
    console.log(`second signal: everything stopped in ${seconds.toFixed(2)} s`);
  }, 150_000);
});
