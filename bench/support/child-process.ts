/**
 * Child processes a benchmark starts, stopped whatever happens: at the end, on an error, and on
 * Ctrl-C or SIGTERM (then the benchmark exits), so no server is left running after a benchmark.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';

export interface Child {
  pid: number;
  process: ChildProcess;
  /** Whether it is still running. */
  running(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const stoppers = new Set<() => Promise<void>>();

async function stopEverything(signal: NodeJS.Signals): Promise<never> {
  process.stderr.write(`\n${signal}: stopping the benchmark's processes\n`);
  await Promise.allSettled([...stoppers].map((stop) => stop()));
  process.exit(signal === 'SIGINT' ? 130 : 143);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopEverything(signal));

/** Registers another clean-up (a server the child itself started, say) for an interrupted benchmark. */
export function onInterrupt(stop: () => Promise<void>): () => void {
  stoppers.add(stop);
  return () => stoppers.delete(stop);
}

/** Starts `command` with its output appended to `logFile`. */
export function startChild(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; logFile: string }): Child {
  const log = openSync(options.logFile, 'a');
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', log, log] });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async (graceMs = 60_000) => {
    if (!running()) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
  const unregister = onInterrupt(() => stop(10_000));
  void exited.then(unregister);
  return { pid: child.pid, process: child, running, stop };
}
