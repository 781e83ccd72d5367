/**
 * The processes Casebook starts and what a crashed run leaves of them. Every child is recorded in the
 * data directory (the Temporal dev server in a pid file of ours, Postgres in its own postmaster.pid), so
 * the next start can tell a leftover child of ours, still running, from a stale file, and stop the
 * former and delete the latter; a port held by anything else is reported with its PID and the command
 * that frees it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a process with this pid exists (ours to signal or not). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's command line, or undefined when it is gone. */
export function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    if (existsSync('/proc/self')) return undefined;
    const ps = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
    return ps.status === 0 ? ps.stdout.trim() || undefined : undefined;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

async function exited(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!isRunning(pid)) return true;
    await sleep(50);
  }
  return !isRunning(pid);
}

/**
 * Stops a process: `gentle` first (SIGTERM; Postgres: SIGINT, its fast shutdown), then after `graceMs`
 * `firm` (SIGKILL; Postgres: SIGQUIT, its immediate shutdown), then SIGKILL. Resolves when it is gone.
 */
export async function stopProcess(pid: number, options: { gentle?: NodeJS.Signals; firm?: NodeJS.Signals; graceMs?: number } = {}): Promise<void> {
  const steps: [NodeJS.Signals, number][] = [
    [options.gentle ?? 'SIGTERM', options.graceMs ?? 10_000],
    [options.firm ?? 'SIGKILL', 5_000],
    ['SIGKILL', 5_000],
  ];
  for (const [name, wait] of steps) {
    if (!isRunning(pid)) return;
    signal(pid, name);
    if (await exited(pid, wait)) return;
  }
  throw new Error(`process ${pid} did not stop, even on SIGKILL`);
}

/** A child recorded in the data directory: where its pid is and how to recognise and stop it. */
export interface RecordedChild {
  /** For messages: "the Temporal dev server". */
  name: string;
  pidFile: string;
  /** The pid in the file (our own pid files hold just the number; postmaster.pid starts with it). */
  readPid?: (content: string) => number | undefined;
  /** Whether the running process with that pid is this child (and not a reused pid). */
  isOurs: (command: string) => boolean;
  gentle?: NodeJS.Signals;
  firm?: NodeJS.Signals;
  graceMs?: number;
  /** Whether to delete the pid file once the process is gone (never postmaster.pid of a live server). */
  removeStaleFile?: boolean;
}

const firstLinePid = (content: string): number | undefined => {
  const pid = Number(content.split('\n')[0]?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
};

/** The pid the file records, when it names a running process that is this child. */
export function runningChild(child: RecordedChild): number | undefined {
  if (!existsSync(child.pidFile)) return undefined;
  const pid = (child.readPid ?? firstLinePid)(readFileSync(child.pidFile, 'utf8'));
  if (pid === undefined || pid === process.pid || !isRunning(pid)) return undefined;
  const command = commandLine(pid);
  return command !== undefined && child.isOurs(command) ? pid : undefined;
}

/**
 * Reclaims what a crashed run left of this child: a running one is stopped (and reported on `log`),
 * a stale pid file (its process gone, or the pid now someone else's) deleted.
 */
export async function reclaimChild(child: RecordedChild, log: (line: string) => void): Promise<void> {
  if (!existsSync(child.pidFile)) return;
  const pid = runningChild(child);
  if (pid !== undefined) {
    log(`casebook: ${child.name} (PID ${pid}) was left running by an earlier run; stopping it`);
    await stopProcess(pid, child);
  }
  if (child.removeStaleFile ?? true) rmSync(child.pidFile, { force: true });
}

/** Stops the child at once (its firm signal, then SIGKILL), for a second Ctrl-C; no-op when not running. */
export async function killChild(child: RecordedChild): Promise<void> {
  const pid = runningChild(child);
  if (pid !== undefined) await stopProcess(pid, { gentle: child.firm ?? 'SIGKILL', firm: 'SIGKILL', graceMs: 2_000 });
}

export function writePidFile(file: string, pid: number): void {
  writeFileSync(file, `${pid}\n`);
}

/** A port Casebook is about to listen on, and the variable that sets it. */
export interface WantedPort {
  port: number;
  what: string;
  variable: string;
}

/** Whether `host:port` can be listened on now. */
function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The pid listening on a TCP port, from /proc (Linux) or lsof; undefined when not found. */
export function listenerOf(port: number): number | undefined {
  if (existsSync('/proc/net/tcp')) {
    const inodes = new Set<string>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      if (!existsSync(table)) continue;
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const fields = line.trim().split(/\s+/);
        // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; the inode is the 10th field.
        if (fields[3] === '0A' && parseInt(fields[1]?.split(':')[1] ?? '', 16) === port) inodes.add(fields[9]!);
      }
    }
    if (inodes.size === 0) return undefined;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${entry}/fd`);
      } catch {
        continue;
      }
      for (const fd of fds) {
        try {
          const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
          if (match && inodes.has(match[1]!)) return Number(entry);
        } catch {
          // closed meanwhile
        }
      }
    }
    return undefined;
  }
  const lsof = spawnSync('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-t'], { encoding: 'utf8' });
  const pid = Number(lsof.stdout?.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Checks that every port is free; otherwise throws one message naming, per taken port, who holds it
 * (PID and command) and what to run: stop that process, or pick another port.
 */
export async function checkPortsFree(host: string, ports: WantedPort[]): Promise<void> {
  const problems: string[] = [];
  for (const wanted of ports) {
    if (wanted.port === 0 || (await canListen(host, wanted.port))) continue;
    const pid = listenerOf(wanted.port);
    const command = pid === undefined ? undefined : commandLine(pid);
    problems.push(
      pid === undefined
        ? `  port ${wanted.port} (${wanted.what}) is in use by another process (find it with \`lsof -nP -iTCP:${wanted.port} -sTCP:LISTEN\`); ` +
            `stop it, or set ${wanted.variable} to another port`
        : `  port ${wanted.port} (${wanted.what}) is in use by PID ${pid}${command ? ` (${command.slice(0, 120)})` : ''}; ` +
            `stop it with \`kill ${pid}\`, or set ${wanted.variable} to another port`,
    );
  }
  if (problems.length > 0) throw new Error(`ports in use:\n${problems.join('\n')}`);
}

/** A readable message for anything thrown, `undefined` and non-errors included, with its causes. */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors.map(describeError).join('; ');
  if (error instanceof Error) {
    const cause = error.cause === undefined ? '' : ` (${describeError(error.cause)})`;
    return (error.message || error.name || 'unknown error') + cause;
  }
  if (error === undefined || error === null) return 'unknown error (nothing was reported)';
  return typeof error === 'string' ? error : JSON.stringify(error);
}
