/**
 * Stopping the stack as a process manager and a terminal do: SIGTERM to the PID of `npm start` (npm
 * forwards it to its script's process only), and Ctrl-C, which the terminal sends to the whole
 * foreground process group. Either way every process ends within the documented bound, the servers
 * are stopped by Casebook after the drain (not by the terminal's signal) and none is "restarted".
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRunning } from '../../src/stack/processes.js';
import { envFor, pickPorts, ROOT } from './casebook-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'casebook-shutdown-'));
/** Every process a test saw, killed at the end should a failing test leave one. */
const seen = new Set<number>();

afterAll(() => {
  for (const pid of seen) if (isRunning(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** README: draining takes at most 30 s, then the servers are stopped (an idle stack takes seconds). */
const BOUND_MS = 30_000;

const firstLinePid = (file: string): number => Number(readFileSync(file, 'utf8').split('\n')[0]!.trim());

/** Casebook, the Temporal dev server and the Postgres postmaster, from the pid files in the data directory. */
function stackPids(): Record<'casebook' | 'temporal' | 'postgres', number> {
  const pids = {
    casebook: firstLinePid(join(dataDir, 'casebook.pid')),
    temporal: firstLinePid(join(dataDir, 'temporal/dev-server.pid')),
    postgres: firstLinePid(join(dataDir, 'postgres/postmaster.pid')),
  };
  for (const pid of Object.values(pids)) seen.add(pid);
  return pids;
}

/** Spawns `command` and resolves once the API answers /readyz with 200; the output and exit are kept. */
async function startReady(command: string, args: string[], options: { detached?: boolean } = {}) {
  const ports = await pickPorts();
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...envFor(dataDir, ports) }, detached: options.detached ?? false });
  seen.add(child.pid!);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} exited during start:\n${output}`);
    if (Date.now() > deadline) throw new Error(`${command} was not ready within 90 s:\n${output}`);
    const ready = await fetch(`http://127.0.0.1:${ports.api}/readyz`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready && existsSync(join(dataDir, 'temporal/dev-server.pid'))) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return { child, ports, output: () => output, exited };
}

/** Waits until none of the pids runs, and answers how long that took. */
async function allGone(pids: number[], since: number): Promise<number> {
  while (pids.some(isRunning) && Date.now() - since < BOUND_MS + 5_000) await new Promise((resolve) => setTimeout(resolve, 100));
  return Date.now() - since;
}

describe('stopping the stack', () => {
  it('SIGTERM to `npm start` stops Casebook, Temporal and Postgres within the drain bound', async () => {
    const npm = await startReady('npm', ['start']);
    const pids = stackPids();
    const api = `http://127.0.0.1:${npm.ports.api}`;
    expect((await fetch(`${api}/readyz`)).status).toBe(200);

    const sent = Date.now();
    npm.child.kill('SIGTERM');
    const took = await allGone([npm.child.pid!, ...Object.values(pids)], sent);
    expect(
      Object.entries(pids).filter(([, pid]) => isRunning(pid)),
      npm.output(),
    ).toEqual([]);
    expect(took).toBeLessThan(BOUND_MS);
    const { code } = await npm.exited;
    expect(code, npm.output()).toBe(0);
    expect(npm.output()).toContain('casebook: SIGTERM received, stopping');
    expect(npm.output()).toContain('casebook: stopped');
    expect(
      await fetch(`${api}/readyz`).then(
        () => 'answered',
        () => 'refused',
      ),
    ).toBe('refused');
  }, 180_000);

  it('Ctrl-C under `npm start` drains with the servers up, then stops them; none is restarted', async () => {
    // In a process group of its own, as in a terminal, which sends SIGINT to the whole group: npm gets it
    // and forwards it to Casebook, which gets it from the terminal as well (one request, not two).
    const casebook = await startReady('npm', ['start'], { detached: true });
    const pids = stackPids();
    const sent = Date.now();
    process.kill(-casebook.child.pid!, 'SIGINT');
    const took = await allGone(Object.values(pids), sent);
    expect(
      Object.entries(pids).filter(([, pid]) => isRunning(pid)),
      casebook.output(),
    ).toEqual([]);
    expect(took).toBeLessThan(BOUND_MS);
    expect((await casebook.exited).code, casebook.output()).toBe(0);
    expect(casebook.output()).toContain('casebook: stopped');
    expect(casebook.output()).not.toContain('SIGINT again:');
    expect(casebook.output()).not.toMatch(/stopped unexpectedly|starting it again|running again|failed/);
  }, 180_000);
});
