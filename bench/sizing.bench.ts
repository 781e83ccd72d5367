/**
 * Sizing, on a real Casebook (`casebook start`: its API, worker and archiver, the Temporal dev server and
 * Postgres). First waiting cases opened through its API in steps (`--waiting`): the resident memory of
 * the Casebook process, Temporal and Postgres per waiting case, as open-cases.bench.ts reads it. Then
 * standard quality returns driven from open to closed through Casebook in-process (its worker and case
 * services in this process, as e2e.bench.ts's casebook-inprocess), every closed case archived by the
 * Casebook process; at `--points` points on the way: cases per second, CPU per case of every process
 * (so cases per second per core), and the storage of Postgres (per table) and of Temporal (the dev
 * server's SQLite file), to see how each grows.
 * Run: npx tsx bench/sizing.bench.ts [--cases 50000] [--points 5] [--concurrency 30] [--waiting 500,2000] [--settle 10].
 * Writes bench/results/sizing.json after every point.
 */
import { readdirSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { inParallel } from './support/args.js';
import { keysNeededFor, openReturnCases, waitForCases } from './support/capacity-cases.js';
import { settledMemory } from './support/capacity-memory.js';
import { startCasebook } from './support/casebook.js';
import { AgentKeys } from './support/return-cases.js';
import { driveInProcessCase, startInProcess, type InProcess } from './support/inprocess.js';
import { cpuMs, treeCpuMs } from './support/proc.js';
import { writeResult } from './support/results.js';
import { WORKER_DEFAULTS } from '../src/stack/worker.js';
import { distribution, roundTo } from './support/stats.js';

const PORTS = { api: 3930, temporal: 7930, temporalUi: 7931, temporalHttp: 7932, temporalMetrics: 7933, postgres: 5493 };
const TASK_QUEUE = 'bench-sizing';
const ARCHIVE_WAIT_MS = 600_000;
const MiB = 1024 * 1024;
const WARMUP_CASES = 20;
/** The rate the API key pool is sized for (the API limits each key to 1,200 requests a minute). */
const KEYS_SIZED_FOR_PER_SECOND = 100;

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '50000' },
    points: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '30' },
    waiting: { type: 'string', default: '500,2000' },
    settle: { type: 'string', default: '10' },
  },
});
const cases = Number(values.cases);
const points = Number(values.points);
const concurrency = Number(values.concurrency);
const waitingSteps = values.waiting.split(',').map(Number);
const settleMs = Number(values.settle) * 1000;
if (![cases, points, concurrency].every((n) => Number.isInteger(n) && n > 0) || points > cases)
  throw new Error('--cases, --points and --concurrency take whole numbers above 0, --points at most --cases');
if (waitingSteps.some((step, i) => !Number.isInteger(step) || step <= (waitingSteps[i - 1] ?? 0)))
  throw new Error(`--waiting takes increasing whole numbers, not ${values.waiting}`);

const benchCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const casebook = await startCasebook('sizing', PORTS, { env: { CASEBOOK_ARCHIVE_INTERVAL_SECONDS: '1' } });
const stops: (() => Promise<void>)[] = [() => casebook.stop()];

function cpuNow() {
  return {
    temporal: treeCpuMs(casebook.pids.temporal),
    postgres: treeCpuMs(casebook.pids.postgres),
    // Casebook's own process: its archiver archives the closed cases (its worker and API are idle).
    casebookProcess: cpuMs(casebook.pids.casebook),
    // This process: the worker and the services, and the driving of the cases.
    worker: benchCpuMs(),
  };
}

/** The dev server's SQLite database with its write-ahead log. */
function temporalBytes(): number {
  const dir = join(casebook.dataDir, 'temporal');
  return readdirSync(dir)
    .filter((file) => file.startsWith('temporal.db'))
    .reduce((sum, file) => sum + statSync(join(dir, file)).size, 0);
}

async function postgresBytes({ pool }: InProcess) {
  const database = await pool.query<{ bytes: string }>(`SELECT pg_database_size(current_database()) AS bytes`);
  const tables = await pool.query<{ name: string; bytes: string }>(
    `SELECT c.relname AS name, pg_total_relation_size(c.oid) AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 8`,
  );
  return { database: Number(database.rows[0]!.bytes), largestTables: Object.fromEntries(tables.rows.map((t) => [t.name, Number(t.bytes)])) };
}

/** Waits until Casebook's archiver has archived every closed case (their `history_archive` set). */
async function untilArchived({ pool }: InProcess): Promise<void> {
  const deadline = Date.now() + ARCHIVE_WAIT_MS;
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM cases WHERE status = 'closed' AND history_archive IS NULL`);
    if (rows[0]!.n === 0) return;
    if (Date.now() > deadline) throw new Error(`${rows[0]!.n} closed cases not archived within ${ARCHIVE_WAIT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const perTenThousand = (bytes: number, count: number) => roundTo(((bytes / count) * 10_000) / MiB, 1);
const loadAverageAtStart = loadavg();
const parameters = {
  cases,
  points,
  concurrency,
  waitingSteps,
  settleSeconds: settleMs / 1000,
  archiveIntervalSeconds: 1,
  maxCachedWorkflows: WORKER_DEFAULTS.maxCachedWorkflows,
  path: 'quality return, driven in-process: open, exchange offered and declined, remark, address, buyer.shipped, warehouse.received, refund, account remark, return-shipping refund, message, closed; every closed case archived',
  warmupCases: WARMUP_CASES,
  waitingCase: 'no-reason return signed a day ago, opened through the API, waiting for buyer.shipped; the first 20 before memory is first read',
  agentKeys: keysNeededFor(KEYS_SIZED_FOR_PER_SECOND),
};
const closedPoints: Record<string, unknown>[] = [];
const waitingPoints: Record<string, unknown>[] = [];
let empty: { postgres: Awaited<ReturnType<typeof postgresBytes>>; temporalBytes: number } | undefined;
let beforeWaiting: Awaited<ReturnType<typeof settledMemory>> | undefined;
const memoryNow = () => settledMemory(casebook.pids, settleMs);
const save = () =>
  writeResult(
    'sizing',
    'Sizing: closed return cases per second per core, storage per 10,000 closed cases, memory per waiting case, and how each grows',
    parameters,
    { beforeWaiting, waiting: waitingPoints, beforeClosed: empty, closed: closedPoints, loadAverage: { atStart: loadAverageAtStart, now: loadavg() } },
  );

try {
  await casebook.publishPlaybook('return');
  const started = await startInProcess(casebook, TASK_QUEUE);
  stops.unshift(started.stop);
  const { inProcess } = started;
  // The workflow code loaded in both worker threads and the services' first queries made.
  await inParallel(
    Array.from({ length: WARMUP_CASES }, (_, i) => `warmup-${i}`),
    concurrency,
    (caseId) => driveInProcessCase(inProcess, caseId),
  );
  await untilArchived(inProcess);

  // The Casebook process's worker has run cases before its memory is first read.
  const keys = await AgentKeys.create(casebook, keysNeededFor(KEYS_SIZED_FOR_PER_SECOND));
  await openReturnCases(casebook, keys, { prefix: 'waiting', from: 0, to: WARMUP_CASES, signedDaysAgo: 1 }, concurrency);
  await waitForCases(casebook, 'waiting', WARMUP_CASES);
  beforeWaiting = await memoryNow();
  let opened = 0;
  for (const step of waitingSteps) {
    const startedAt = performance.now();
    await openReturnCases(casebook, keys, { prefix: 'waiting', from: WARMUP_CASES + opened, to: WARMUP_CASES + step, signedDaysAgo: 1 }, concurrency);
    await waitForCases(casebook, 'waiting', WARMUP_CASES + step);
    const openedPerSecond = roundTo((step - opened) / ((performance.now() - startedAt) / 1000), 1);
    opened = step;
    const memory = await memoryNow();
    const perCaseKiB = (now: number, before: number) => roundTo(((now - before) * 1024) / step, 1);
    waitingPoints.push({
      waitingCases: step,
      openedPerSecond,
      ...memory,
      kibPerWaitingCase: {
        casebookRss: perCaseKiB(memory.casebookRssMiB, beforeWaiting.casebookRssMiB),
        temporalRss: perCaseKiB(memory.temporalRssMiB, beforeWaiting.temporalRssMiB),
        postgresPss: perCaseKiB(memory.postgresPssMiB, beforeWaiting.postgresPssMiB),
      },
      loadAverage: loadavg(),
    });
    console.log(
      `${step} waiting: Casebook ${memory.casebookRssMiB} MiB (${memory.casebookRssMinMiB}-${memory.casebookRssMaxMiB}), Temporal ${memory.temporalRssMiB} MiB, load ${loadavg()[0]!.toFixed(1)}`,
    );
    save();
  }

  // Storage is counted from here: what the closed cases add.
  empty = { postgres: await postgresBytes(inProcess), temporalBytes: temporalBytes() };
  let closed = 0;
  for (let point = 1; point <= points; point++) {
    const upTo = Math.round((cases * point) / points);
    const caseIds = Array.from({ length: upTo - closed }, (_, i) => `closed-${closed + i}`);
    const cpuBefore = cpuNow();
    const startedAt = performance.now();
    const latencies = await inParallel(caseIds, concurrency, (caseId) => driveInProcessCase(inProcess, caseId));
    const seconds = (performance.now() - startedAt) / 1000;
    // The archiver's work lands in the point of the cases it archives: the CPU window closes after it.
    await untilArchived(inProcess);
    const cpuAfter = cpuNow();
    closed = upTo;
    const msPerCase = Object.fromEntries(
      Object.entries(cpuAfter).map(([name, ms]) => [name, roundTo((ms - cpuBefore[name as keyof typeof cpuBefore]) / caseIds.length, 2)]),
    ) as Record<keyof typeof cpuAfter, number>;
    const allMs = msPerCase.temporal + msPerCase.postgres + msPerCase.casebookProcess + msPerCase.worker;
    const postgres = await postgresBytes(inProcess);
    const temporal = temporalBytes();
    closedPoints.push({
      closedCases: closed,
      casesPerSecond: roundTo(caseIds.length / seconds, 2),
      latencyMs: distribution(latencies),
      cpuMsPerCase: { ...msPerCase, all: roundTo(allMs, 2) },
      // One core fully busy with Temporal, Postgres and Casebook together closes this many cases a second.
      casesPerSecondPerCore: roundTo(1000 / allMs, 2),
      postgresBytes: postgres,
      temporalSqliteBytes: temporal,
      // Since before the first closed case: what 10,000 closed cases took so far.
      perTenThousandClosedMiB: {
        postgres: perTenThousand(postgres.database - empty.postgres.database, closed),
        temporal: perTenThousand(temporal - empty.temporalBytes, closed),
      },
      loadAverage: loadavg(),
    });
    console.log(
      `${closed} closed: ${roundTo(caseIds.length / seconds, 2)} cases/s, ${roundTo(1000 / allMs, 2)} per core (${roundTo(allMs, 1)} CPU ms/case), Postgres ${roundTo(postgres.database / MiB, 1)} MiB, Temporal ${roundTo(temporal / MiB, 1)} MiB, load ${loadavg()[0]!.toFixed(1)}`,
    );
    save();
  }
} catch (error) {
  // Printed before the connections close under the cases still in flight.
  console.error(error);
  process.exitCode = 1;
} finally {
  for (const stop of stops) await stop().catch((error: Error) => console.error(`stopping: ${error.message}`));
}
