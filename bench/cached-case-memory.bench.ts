/**
 * Memory a cached waiting case costs a worker: Casebook's interpreter against the hand-written lean
 * workflow of the same return (bench/handwritten/), each in a worker in this process with every case
 * kept in its cache. Both wait for the buyer's parcel after the remark and the first message.
 * Run: node --expose-gc --import tsx bench/cached-case-memory.bench.ts [--cases 1000]
 * Writes bench/results/cached-case-memory.json.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createActivities } from '../src/activities/index.js';
import type { Pool } from '../src/store/pool.js';
import { workflowBundlerOptions } from '../src/stack/workflow-bundler.js';
import { WORKFLOWS_PATH } from '../src/stack/worker.js';
import { LOCAL_CONNECTORS } from '../src/connectors/config.js';
import { composeAdapters, composePool, composeServices } from '../src/stack/compose.js';
import { HANDWRITTEN_TASK_QUEUE, VARIANTS, type ReturnData } from './handwritten/contract.js';
import { inParallel, numberOptions } from './support/args.js';
import { startCasebook } from './support/casebook.js';
import { writeResult } from './support/results.js';
import { qualityReturnData } from './support/return-cases.js';

const options = numberOptions({ cases: 1000, warmup: 50, concurrency: 20 });
const PORTS = { api: 3970, temporal: 7970, temporalUi: 7971, temporalHttp: 7972, temporalMetrics: 7973, postgres: 5497 };
const HANDWRITTEN_WORKFLOWS = fileURLToPath(new URL('./handwritten/workflows.ts', import.meta.url));
const CASEBOOK_QUEUE = 'memory-casebook';
const MiB = 1024 * 1024;

if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc --import tsx bench/cached-case-memory.bench.ts');
const gc = global.gc;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function settledMemory() {
  gc();
  gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}

interface Variant {
  worker: Worker;
  open(caseId: string): Promise<void>;
  /** How many of the variant's cases wait for the parcel. */
  waiting(): Promise<number>;
}

/** Opens `warmup` then `cases` cases with the worker running; answers the memory the measured ones added. */
async function measure(variant: Variant, prefix: string) {
  return variant.worker.runUntil(async () => {
    const openAll = async (from: number, count: number) => {
      await inParallel(
        Array.from({ length: count }, (_, i) => `${prefix}-${from + i}`),
        options.concurrency,
        variant.open,
      );
      while ((await variant.waiting()) < from + count) await sleep(500);
    };
    await openAll(0, options.warmup);
    const before = settledMemory();
    const started = performance.now();
    await openAll(options.warmup, options.cases);
    const seconds = (performance.now() - started) / 1000;
    await sleep(3_000);
    const after = settledMemory();
    return {
      cases: options.cases,
      heapKiBPerCase: Math.round((after.heapUsed - before.heapUsed) / options.cases / 1024),
      rssKiBPerCase: Math.round((after.rss - before.rss) / options.cases / 1024),
      heapMiB: Math.round(after.heapUsed / MiB),
      rssMiB: Math.round(after.rss / MiB),
      waitingPerSecond: Math.round((options.cases / seconds) * 10) / 10,
    };
  });
}

async function count(pool: Pool, sql: string): Promise<number> {
  return (await pool.query<{ n: number }>(sql)).rows[0]!.n;
}

/** The memory one variant's cases add, measured in a process of its own so that neither inherits the other's heap. */
async function measureVariant(name: VariantName, temporalAddress: string, databaseUrl: string) {
  const connection = await NativeConnection.connect({ address: temporalAddress });
  const client = new Client({ connection: await Connection.connect({ address: temporalAddress }) });
  const pool = composePool(databaseUrl, 20);
  const cached = { maxCachedWorkflows: options.warmup + options.cases + 100, debugMode: true } as const;
  try {
    if (name === 'casebook') {
      const service = composeServices({ client, pool, taskQueue: CASEBOOK_QUEUE }).cases;
      return await measure(
        {
          worker: await Worker.create({
            connection,
            taskQueue: CASEBOOK_QUEUE,
            workflowsPath: WORKFLOWS_PATH,
            bundlerOptions: workflowBundlerOptions,
            activities: createActivities(pool, composeAdapters(LOCAL_CONNECTORS, pool)),
            ...cached,
          }),
          open: async (caseId) => {
            const opened = await service.open({ playbook: 'return', caseId, data: qualityReturnData(`order-${caseId}`) });
            if (opened.kind !== 'opened') throw new Error(`${caseId}: ${opened.kind}`);
          },
          waiting: () => count(pool, `SELECT count(*)::int AS n FROM cases WHERE case_id LIKE 'cb-%' AND status = 'waiting'`),
        },
        'cb',
      );
    }
    return await measure(
      {
        worker: await Worker.create({
          connection,
          taskQueue: HANDWRITTEN_TASK_QUEUE,
          workflowsPath: HANDWRITTEN_WORKFLOWS,
          bundlerOptions: { webpackConfigHook: workflowBundlerOptions.webpackConfigHook },
          activities: createActivities(pool, composeAdapters(LOCAL_CONNECTORS, pool)),
          ...cached,
        }),
        open: async (caseId) => {
          const data = qualityReturnData(`order-${caseId}`) as unknown as ReturnData;
          await client.workflow.start(VARIANTS.lean, {
            taskQueue: HANDWRITTEN_TASK_QUEUE,
            workflowId: `lean-${caseId}`,
            args: [{ caseId, data, openedBy: 'bench' }],
          });
        },
        // The lean workflow waits once its address message is out.
        waiting: () => count(pool, `SELECT count(*)::int AS n FROM outbox_messages WHERE case_id LIKE 'hw-%'`),
      },
      'hw',
    );
  } finally {
    await client.connection.close();
    await pool.end();
    await connection.close();
  }
}

type VariantName = 'casebook' | 'handwritten';
const CHILD = 'CACHED_CASE_MEMORY_CHILD';

/** Runs this file again for one variant, against the Casebook already started; answers its figures. */
function inChildProcess(name: VariantName, temporalAddress: string, databaseUrl: string): Promise<Awaited<ReturnType<typeof measure>>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      env: { ...process.env, [CHILD]: JSON.stringify({ name, temporalAddress, databaseUrl }) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = output.split('\n').find((l) => l.startsWith('{"figures"'));
      if (code === 0 && line) resolve((JSON.parse(line) as { figures: Awaited<ReturnType<typeof measure>> }).figures);
      else reject(new Error(`${name} measurement exited ${code}`));
    });
  });
}

if (process.env[CHILD]) {
  const { name, temporalAddress, databaseUrl } = JSON.parse(process.env[CHILD]) as { name: VariantName; temporalAddress: string; databaseUrl: string };
  console.log(JSON.stringify({ figures: await measureVariant(name, temporalAddress, databaseUrl) }));
} else {
  const casebook = await startCasebook('cached-case-memory', PORTS);
  try {
    await casebook.publishPlaybook('return');
    const casebookFigures = await inChildProcess('casebook', casebook.temporalAddress, casebook.databaseUrl);
    const handwrittenFigures = await inChildProcess('handwritten', casebook.temporalAddress, casebook.databaseUrl);
    writeResult(
      'cached-case-memory',
      'Memory per cached waiting return case in a worker: Casebook against the hand-written lean workflow',
      {
        ...options,
        worker: 'one process per variant, debugMode (workflows on the main thread), reuseV8Context, every case cached',
      },
      {
        casebook: casebookFigures,
        handwrittenLean: handwrittenFigures,
        ratio: {
          heap: Math.round((casebookFigures.heapKiBPerCase / handwrittenFigures.heapKiBPerCase) * 100) / 100,
          rss: Math.round((casebookFigures.rssKiBPerCase / handwrittenFigures.rssKiBPerCase) * 100) / 100,
        },
        target: 'memory per cached case at most 1.2× the hand-written workflow’s',
      },
    );
  } finally {
    await casebook.stop();
  }
}
