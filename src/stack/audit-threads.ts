/**
 * Replays and exports off the API's event loop: each runs in a worker thread (src/stack/audit-thread.ts)
 * with its own connections, at most `threads` at once, each thread under a heap limit, each job under a
 * time limit; when a job goes over either, its thread is terminated and the next job gets a new one. At
 * most `queue` jobs wait for a thread; past that `AuditBusy` is thrown at once, nothing is started. A
 * replay of a pathological case (a history whose code spins) can take one thread, never the API.
 */
import { Worker } from 'node:worker_threads';
import { AuditBusy, AuditOverLimit, type Auditor } from '../cases/audit.js';
import type { CaseReplay } from '../cases/replay.js';
import type { TemporalSecurity } from './config.js';

/** How the audit threads are bounded (docs/operations.md, "Replays and exports"). */
export interface AuditThreadSettings {
  /** Threads, each running one replay or export at a time. */
  threads: number;
  /** Jobs that may wait for a thread; one more is answered `AuditBusy`. */
  queue: number;
  replayTimeoutMs: number;
  /** An export's time, from its start until the API has taken its last line. */
  exportTimeoutMs: number;
  /** Each thread's heap (V8's old generation), in MiB. */
  memoryMb: number;
}

/**
 * What the threads connect to, and the workflow code they replay with. A thread started without code
 * only bundles it (with no heap limit: bundling is our code, not a case's, and a bundler stopped for
 * memory in one thread crashed the next one's), and each audit thread then gets it.
 */
export interface AuditThreadData {
  databaseUrl: string;
  /** Unset: no Temporal, the archive answers alone. */
  temporal?: { address: string; namespace: string; security?: TemporalSecurity };
  /** Workflow interceptor modules bundled with the workflow code (tests: a changed or spinning interpreter). */
  interceptorModules: string[];
  code?: string;
}

type Job = { kind: 'replay'; caseId: string } | { kind: 'export-case'; caseId: string } | { kind: 'export-closed'; from: string; to: string };

export type ToThread = { id: number; job: Job } | { ack: number };
export type FromThread =
  | { code: string }
  | { ready: true }
  | { id: number; result: CaseReplay }
  | { id: number; started: boolean }
  | { id: number; chunk: string }
  | { id: number; done: true }
  | { id: number; error: { name: string; message: string; code?: string } };

const ENTRY = new URL('./audit-thread.ts', import.meta.url).href;
/** The thread runs TypeScript as the process does: tsx's loader, registered in the thread before the entry is imported. */
const BOOT = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then(({ register }) => { register(); return import(${JSON.stringify(ENTRY)}); })`;

/** Someone waiting on a job: hears each message the thread sends about it, and how it ended when it did not end itself. */
interface Pending {
  id: number;
  job: Job;
  limitMs: number;
  hear(message: FromThread & { id: number }): void;
  /** The job is over without its thread saying so: over a limit, the thread failed, or the pool closed. */
  fail(error: Error): void;
}

interface Thread {
  worker: Worker;
  ready: boolean;
  job?: Pending;
  timer?: NodeJS.Timeout;
  /** When the job stopped this thread (over its limit, or its reader left), what to tell the job. */
  stoppedWith?: Error;
}

export class AuditThreads implements Auditor {
  private readonly threads = new Set<Thread>();
  private readonly queue: Pending[] = [];
  private code: string | undefined;
  private bundling: Worker | undefined;
  private nextId = 1;
  private closed = false;
  /** A running average of how long a job holds its thread, for `Retry-After`. */
  private averageMs = 1_000;

  constructor(
    private readonly data: Omit<AuditThreadData, 'code' | 'interceptorModules'> & { interceptorModules?: string[] },
    readonly settings: AuditThreadSettings,
  ) {}

  async replay(caseId: string): Promise<CaseReplay> {
    return new Promise<CaseReplay>((resolve, reject) => {
      this.submit({ kind: 'replay', caseId }, this.settings.replayTimeoutMs, {
        hear: (message) => {
          if ('result' in message) resolve(message.result);
          else if ('error' in message) reject(threadError(message.error));
        },
        fail: reject,
      });
    });
  }

  exportCase(caseId: string): Promise<AsyncGenerator<string> | undefined> {
    return this.export({ kind: 'export-case', caseId });
  }

  async exportClosed(from: Date, to: Date): Promise<AsyncGenerator<string>> {
    return (await this.export({ kind: 'export-closed', from: from.toISOString(), to: to.toISOString() }))!;
  }

  /** Jobs running and waiting, and the threads that exist. */
  load(): { running: number; queued: number; threads: number } {
    return { running: [...this.threads].filter((t) => t.job).length, queued: this.queue.length, threads: this.threads.size };
  }

  /** Refuses new jobs, fails the waiting ones and stops the threads (a running job fails with them). */
  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.fail(new Error('Casebook is stopping'));
    await Promise.all([...this.threads].map((thread) => this.stop(thread, new Error('Casebook is stopping'))));
    await this.bundling?.terminate();
  }

  /**
   * An export's lines: they are read in the thread and sent in chunks, each chunk taken by the reader
   * gives the thread room for one more (so a slow download holds a few chunks, never the whole export).
   * A reader that stops early (the client went away) stops the thread.
   */
  private export(job: Job): Promise<AsyncGenerator<string> | undefined> {
    return new Promise((resolve, reject) => {
      const chunks: string[] = [];
      let end: { error?: Error } | undefined;
      let wake = () => {};
      let pending: Pending;
      const lines = async function* (this: AuditThreads): AsyncGenerator<string> {
        try {
          for (;;) {
            const chunk = chunks.shift();
            if (chunk !== undefined) {
              this.thread(pending)?.worker.postMessage({ ack: pending.id } satisfies ToThread);
              yield chunk;
            } else if (end) {
              if (end.error) throw end.error;
              return;
            } else {
              await new Promise<void>((resolve) => {
                wake = resolve;
              });
            }
          }
        } finally {
          if (!end) this.cancel(pending);
        }
      }.bind(this);
      pending = this.submit(job, this.settings.exportTimeoutMs, {
        hear: (message) => {
          if ('started' in message) resolve(message.started ? lines() : undefined);
          else if ('chunk' in message) chunks.push(message.chunk);
          else if ('done' in message) end = {};
          else if ('error' in message) end = { error: threadError(message.error) };
          wake();
          if (end?.error) reject(end.error);
        },
        fail: (error) => {
          end = { error };
          wake();
          reject(error);
        },
      });
    });
  }

  private submit(job: Job, limitMs: number, listener: Pick<Pending, 'hear' | 'fail'>): Pending {
    if (this.closed) throw new Error('Casebook is stopping');
    const running = this.load().running;
    if (running >= this.settings.threads && this.queue.length >= this.settings.queue) {
      const rounds = Math.ceil((this.queue.length + running) / this.settings.threads);
      throw new AuditBusy(Math.min(60, Math.max(1, Math.ceil((rounds * this.averageMs) / 1000))), running, this.queue.length);
    }
    const pending: Pending = { id: this.nextId++, job, limitMs, ...listener };
    this.queue.push(pending);
    this.dispatch();
    return pending;
  }

  /** Hands waiting jobs to ready threads, starting threads up to the limit once the workflow code is bundled. */
  private dispatch(): void {
    for (;;) {
      const pending = this.queue[0];
      if (!pending) return;
      const idle = [...this.threads].find((thread) => thread.ready && !thread.job);
      if (idle) {
        this.queue.shift();
        this.start(idle, pending);
        continue;
      }
      if (this.code === undefined) {
        this.bundle();
        return;
      }
      const starting = [...this.threads].filter((thread) => !thread.ready).length;
      if (this.threads.size >= this.settings.threads || starting >= this.queue.length) return;
      this.spawn(this.code);
    }
  }

  /** Bundles the workflow code in a thread of its own, once; the waiting jobs fail if it cannot. */
  private bundle(): void {
    if (this.bundling) return;
    const worker = new Worker(BOOT, {
      eval: true,
      workerData: { ...this.data, interceptorModules: this.data.interceptorModules ?? [] } satisfies AuditThreadData,
    });
    this.bundling = worker;
    let failure: Error = new Error('the thread bundling the workflow code exited');
    worker.on('message', (message: FromThread) => {
      if (!('code' in message)) return;
      this.code = message.code;
      void worker.terminate();
    });
    worker.on('error', (error) => {
      failure = error;
    });
    worker.on('exit', () => {
      this.bundling = undefined;
      if (this.code === undefined) for (const pending of this.queue.splice(0)) pending.fail(failure);
      else if (!this.closed) this.dispatch();
    });
  }

  private start(thread: Thread, pending: Pending): void {
    const started = Date.now();
    thread.job = pending;
    thread.timer = setTimeout(() => {
      const seconds = pending.limitMs / 1000;
      void this.stop(
        thread,
        new AuditOverLimit('time', `the ${pending.job.kind === 'replay' ? 'replay' : 'export'} ran over its time limit of ${seconds} s and was stopped`),
      );
    }, pending.limitMs);
    const finish = () => {
      clearTimeout(thread.timer);
      this.averageMs = 0.8 * this.averageMs + 0.2 * (Date.now() - started);
    };
    const { hear } = pending;
    pending.hear = (message) => {
      if ('result' in message || 'done' in message || 'error' in message) {
        finish();
        thread.job = undefined;
        hear(message);
        this.dispatch();
      } else {
        hear(message);
      }
    };
    thread.worker.postMessage({ id: pending.id, job: pending.job } satisfies ToThread);
  }

  private spawn(code: string): void {
    const worker = new Worker(BOOT, {
      eval: true,
      workerData: { ...this.data, interceptorModules: this.data.interceptorModules ?? [], code } satisfies AuditThreadData,
      resourceLimits: { maxOldGenerationSizeMb: this.settings.memoryMb },
    });
    const thread: Thread = { worker, ready: false };
    this.threads.add(thread);
    let failure: Error | undefined;
    worker.on('message', (message: FromThread) => {
      if ('ready' in message) {
        thread.ready = true;
        this.dispatch();
      } else if ('id' in message && thread.job?.id === message.id) {
        thread.job.hear(message);
      }
    });
    worker.on('error', (error: Error & { code?: string }) => {
      failure =
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new AuditOverLimit(
              'memory',
              `${thread.job ? `the ${thread.job.job.kind === 'replay' ? 'replay' : 'export'}` : 'starting the audit thread'} needed more than its memory limit of ${this.settings.memoryMb} MiB and was stopped`,
            )
          : error;
    });
    worker.on('exit', () => {
      this.threads.delete(thread);
      clearTimeout(thread.timer);
      const error = thread.stoppedWith ?? failure ?? new Error('the audit thread exited');
      if (thread.job) thread.job.fail(error);
      // A thread that fails before it is ready would fail the next one the same way: the waiting jobs are told.
      else if (!thread.ready) for (const pending of this.queue.splice(0)) pending.fail(error);
      thread.job = undefined;
      if (!this.closed) this.dispatch();
    });
  }

  private thread(pending: Pending): Thread | undefined {
    return [...this.threads].find((thread) => thread.job === pending);
  }

  /** A reader that stopped early: its job leaves the queue, or its thread is stopped. */
  private cancel(pending: Pending): void {
    const queued = this.queue.indexOf(pending);
    if (queued >= 0) this.queue.splice(queued, 1);
    const thread = this.thread(pending);
    if (thread) void this.stop(thread, new Error('the reader stopped reading'));
  }

  private async stop(thread: Thread, why: Error): Promise<void> {
    thread.stoppedWith ??= why;
    await thread.worker.terminate();
  }
}

/** An error from the thread, with its name, message and code (a Postgres or network code, which the API's error handler reads). */
function threadError({ name, message, code }: { name: string; message: string; code?: string }): Error {
  return Object.assign(new Error(message), { name, ...(code === undefined ? {} : { code }) });
}
