/**
 * Open waiting cases: standard return cases opened through `POST /v1/cases` in steps (default 1,000,
 * 5,000, 10,000 in all), each waiting for the buyer's parcel. At each step: how fast they opened, and,
 * after a settle period, the RSS of the Casebook process, the Temporal dev server and Postgres.
 * Target: 10,000 open waiting cases with the Casebook process under 1 GiB RSS.
 * Run: npx tsx bench/open-cases.bench.ts [--steps 1000,5000,10000] [--settle 10] [--concurrency 16].
 * Writes bench/results/open-cases.json.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { caseCounts, keysNeededFor, openReturnCases, waitForCases } from './support/capacity-cases.js';
import { defaultMaxCachedWorkflows, settledMemory } from './support/capacity-memory.js';
import { startCasebook } from './support/casebook.js';
import { WORKER_DEFAULTS } from '../src/stack/worker.js';
import { writeResult } from './support/results.js';
import { AgentKeys } from './support/return-cases.js';
import { roundTo } from './support/stats.js';

const PORTS = { api: 3920, temporal: 7920, temporalUi: 7921, temporalHttp: 7922, temporalMetrics: 7923, postgres: 5492 };
/** The rate the key pool is sized for; opening faster than this would meet the API's per-key limit. */
const KEYS_SIZED_FOR_PER_SECOND = 400;

const { values } = parseArgs({
  options: { steps: { type: 'string', default: '1000,5000,10000' }, settle: { type: 'string', default: '10' }, concurrency: { type: 'string', default: '16' } },
});
const steps = values.steps.split(',').map(Number);
const settleMs = Number(values.settle) * 1000;
const concurrency = Number(values.concurrency);
if (steps.some((step, i) => !Number.isInteger(step) || step <= (steps[i - 1] ?? 0)))
  throw new Error(`--steps must be increasing whole numbers, not ${values.steps}`);

const loadAverageAtStart = loadavg();
const casebook = await startCasebook('open-cases', PORTS);
try {
  await casebook.publishPlaybook('return');
  const keys = await AgentKeys.create(casebook, keysNeededFor(KEYS_SIZED_FOR_PER_SECOND));
  const noCases = await settledMemory(casebook.pids, settleMs);
  const atSteps = [];
  let opened = 0;
  for (const step of steps) {
    const openSeconds = await openReturnCases(casebook, keys, { prefix: 'waiting', from: opened, to: step, signedDaysAgo: 1 }, concurrency);
    const untilWaitingSeconds = openSeconds + (await waitForCases(casebook, 'waiting', step));
    const newCases = step - opened;
    opened = step;
    const memory = await settledMemory(casebook.pids, settleMs);
    atSteps.push({
      cases: step,
      openedPerSecond: roundTo(newCases / openSeconds, 1),
      waitingPerSecond: roundTo(newCases / untilWaitingSeconds, 1),
      ...memory,
      casebookKiBPerCase: roundTo(((memory.casebookRssMiB - noCases.casebookRssMiB) * 1024) / step, 1),
      temporalKiBPerCase: roundTo(((memory.temporalRssMiB - noCases.temporalRssMiB) * 1024) / step, 1),
    });
    // Written at every step, so that a run stopped before the largest step keeps the steps it finished.
    writeResult(
      'open-cases',
      'Open waiting return cases: opening rate and memory of Casebook, Temporal and Postgres',
      {
        steps,
        settleSeconds: settleMs / 1000,
        concurrency,
        agentKeys: keysNeededFor(KEYS_SIZED_FOR_PER_SECOND),
        playbook: 'return (not insured, signed a day ago: waits for buyer.shipped / warehouse.received)',
        // The cache the Casebook ran with (CASEBOOK_MAX_CACHED_WORKFLOWS, else Casebook's default), and the SDK's default for this heap.
        workerCache: {
          maxCachedWorkflows: Number(process.env.CASEBOOK_MAX_CACHED_WORKFLOWS) || WORKER_DEFAULTS.maxCachedWorkflows,
          sdkDefault: defaultMaxCachedWorkflows(),
        },
        targetCasebookRssMiBAt10000: 1024,
      },
      { noCases, atSteps, caseCounts: await caseCounts(casebook), loadAverage: { atStart: loadAverageAtStart, now: loadavg() } },
    );
  }
} finally {
  await casebook.stop();
}
