/**
 * One audit thread, started by src/stack/audit-threads.ts: replays and exports with its own Postgres
 * connections and Temporal client, one job at a time, so that their CPU and memory stay off the API's
 * event loop. It says `ready` once it can take jobs. Started without workflow code, it only bundles the
 * code, sends it and ends.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger } from '@temporalio/worker';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { CaseAudit } from '../cases/audit.js';
import { createPool } from '../store/pool.js';
import type { AuditThreadData, FromThread, ToThread } from './audit-threads.js';
import { installTemporalLogging } from './logging.js';
import { planReferencesIn, withPlanReferences } from './plan-references.js';
import { WorkflowReplayer } from './replayer.js';
import { temporalConnectionOptions } from './temporal-security.js';

/** An export is sent in chunks of about this many characters, at most WINDOW of them not yet taken by the API. */
const CHUNK = 64 * 1024;
const WINDOW = 4;

/** How far below the API's threads an audit thread is scheduled: with both cores busy, the API gets about nine times its share. */
const NICE = 10;

/**
 * On Linux a nice value belongs to a thread (and to the threads it starts: the Temporal core's), and
 * /proc/thread-self names this one; elsewhere the thread keeps the process's priority.
 */
function yieldToTheApi(): void {
  try {
    setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), NICE);
  } catch {
    // Not Linux, or not allowed: the limits on time, memory and threads still hold.
  }
}

yieldToTheApi();
const data = workerData as AuditThreadData;
const port = parentPort!;
const post = (message: FromThread) => port.postMessage(message);

/** Replays and exports, each as the API's thread asks, until the thread is terminated. */
function serve(code: string): void {
  // The replay worker's state changes would be logged on every replay, and the core's warning on a
  // diverging one (the replay's answer says so).
  installTemporalLogging(new DefaultLogger('ERROR', () => {}), 'ERROR');
  const pool = createPool(data.databaseUrl, 2);
  const plans = planReferencesIn(pool);
  const client = data.temporal
    ? new Client({
        connection: Connection.lazy({ address: data.temporal.address, ...temporalConnectionOptions(data.temporal.security) }),
        namespace: data.temporal.namespace,
        dataConverter: withPlanReferences(plans),
      })
    : undefined;
  const replayer = new WorkflowReplayer({ interceptorModules: data.interceptorModules, code, plans });
  const audit = new CaseAudit(pool, client, replayer);

  /** The export being sent: how many more chunks it may send before the API takes one. */
  let credit = { id: -1, left: 0, wake: () => {} };

  async function sendLines(id: number, lines: AsyncGenerator<string> | undefined): Promise<void> {
    post({ id, started: lines !== undefined });
    if (!lines) return;
    credit = { id, left: WINDOW, wake: () => {} };
    const send = async (chunk: string) => {
      while (credit.left === 0)
        await new Promise<void>((resolve) => {
          credit.wake = resolve;
        });
      credit.left -= 1;
      post({ id, chunk });
    };
    let chunk = '';
    for await (const line of lines) {
      chunk += line;
      if (chunk.length >= CHUNK) {
        await send(chunk);
        chunk = '';
      }
    }
    if (chunk) await send(chunk);
  }

  async function run(id: number, job: Extract<ToThread, { job: unknown }>['job']): Promise<void> {
    try {
      switch (job.kind) {
        case 'replay':
          post({ id, result: await audit.replay(job.caseId) });
          return;
        case 'export-case':
          await sendLines(id, await audit.exportCase(job.caseId));
          break;
        case 'export-closed':
          await sendLines(id, await audit.exportClosed(new Date(job.from), new Date(job.to)));
          break;
      }
      post({ id, done: true });
    } catch (error) {
      const { name, message, code } = error as Error & { code?: unknown };
      post({ id, error: { name, message, ...(typeof code === 'string' ? { code } : {}) } });
    }
  }

  port.on('message', (message: ToThread) => {
    if ('ack' in message) {
      if (message.ack !== credit.id) return;
      credit.left += 1;
      credit.wake();
    } else {
      void run(message.id, message.job);
    }
  });

  post({ ready: true });
}

if (data.code === undefined) post({ code: await new WorkflowReplayer({ interceptorModules: data.interceptorModules }).workflowCode() });
else serve(data.code);
