/**
 * API reads under load against a Casebook holding waiting and closed return cases:
 * `GET /v1/cases/{id}` of a waiting case (answered by its workflow's live view) and of a closed one
 * (answered by the projection), rotating over every case, and `GET /v1/cases` lists with filters.
 * Each at a fixed arrival rate (open model, default 200 requests/s for 20 s, latency from each request's
 * due time), then at saturation (autocannon, no rate limit).
 * Target: p99 ≤ 25 ms at 200 requests/s for case reads.
 * Run: npx tsx bench/api-reads.bench.ts [--waiting 1000] [--closed 1000] [--rate 200] [--duration 20]
 *   [--saturation-duration 10] [--connections 32]. Writes bench/results/api-reads.json.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { composePool } from '../src/stack/compose.js';
import { keysNeededFor, openReturnCases, waitForCases } from './support/capacity-cases.js';
import { startCasebook, type CasebookUnderTest } from './support/casebook.js';
import { cpuMs } from './support/proc.js';
import { runFixedRate, runSaturation } from './support/reads-load.js';
import { writeResult } from './support/results.js';
import { AgentKeys } from './support/return-cases.js';
import { roundTo } from './support/stats.js';

const PORTS = { api: 3930, temporal: 7930, temporalUi: 7931, temporalHttp: 7932, temporalMetrics: 7933, postgres: 5493 };
const WARM_UP_SECONDS = 3;
/** The key pool is sized for this many requests a second, above any saturation this machine reaches. */
const READER_KEYS_SIZED_FOR_PER_SECOND = 3_000;

const { values } = parseArgs({
  options: {
    waiting: { type: 'string', default: '1000' },
    closed: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '200' },
    duration: { type: 'string', default: '20' },
    'saturation-duration': { type: 'string', default: '10' },
    connections: { type: 'string', default: '32' },
  },
});
const parameters = {
  waitingCases: Number(values.waiting),
  closedCases: Number(values.closed),
  fixedRatePerSecond: Number(values.rate),
  fixedRateSeconds: Number(values.duration),
  saturationSeconds: Number(values['saturation-duration']),
  saturationConnections: Number(values.connections),
  warmUpSeconds: WARM_UP_SECONDS,
  targetP99MsAtFixedRate: 25,
};

const range = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
const waitingIds = range('waiting', parameters.waitingCases);
const closedIds = range('closed', parameters.closedCases);

/** What is read, each a list of paths the load rotates over. */
const READS: Record<string, string[]> = {
  caseWaiting: waitingIds.map((id) => `/v1/cases/${id}`),
  caseClosed: closedIds.map((id) => `/v1/cases/${id}`),
  listWaitingReturns: ['/v1/cases?playbook=return&status=waiting&limit=50'],
  listClosed: ['/v1/cases?status=closed&limit=50'],
  listByOrder: waitingIds.map((id) => `/v1/cases?orderId=ORD-${id}`),
};

async function fillCasebook(casebook: CasebookUnderTest): Promise<void> {
  await casebook.publishPlaybook('return');
  const openers = await AgentKeys.create(casebook, keysNeededFor(400));
  // Signed for 30 days ago: refused at once as outside the return window, so closed.
  await openReturnCases(casebook, openers, { prefix: 'closed', from: 0, to: parameters.closedCases, signedDaysAgo: 30 });
  await openReturnCases(casebook, openers, { prefix: 'waiting', from: 0, to: parameters.waitingCases, signedDaysAgo: 1 });
  await waitForCases(casebook, 'closed', parameters.closedCases);
  await waitForCases(casebook, 'waiting', parameters.waitingCases);
  await waitForArchive(casebook);
}

/** Until the archiver has stored every closed case's history: reads are measured in the steady state, not while it catches up on 1,000 new closed cases. */
async function waitForArchive(casebook: CasebookUnderTest): Promise<void> {
  const pool = composePool(casebook.databaseUrl, 1);
  try {
    const unarchived = async () =>
      (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM cases WHERE status = 'closed' AND history_archive IS NULL`)).rows[0]!.n;
    while ((await unarchived()) > 0) await new Promise((resolve) => setTimeout(resolve, 1_000));
  } finally {
    await pool.end();
  }
}

/** A load run, with the share of one core the Casebook process used meanwhile. */
async function measuredLoad<Figures>(casebook: CasebookUnderTest, run: () => Promise<Figures>) {
  const cpuBefore = cpuMs(casebook.pids.casebook);
  const startedAt = performance.now();
  const figures = await run();
  return { ...figures, casebookCpuPercentOfOneCore: roundTo(((cpuMs(casebook.pids.casebook) - cpuBefore) / (performance.now() - startedAt)) * 100, 1) };
}

const loadAverageAtStart = loadavg();
const casebook = await startCasebook('api-reads', PORTS);
try {
  await fillCasebook(casebook);
  const keys = await AgentKeys.create(casebook, keysNeededFor(READER_KEYS_SIZED_FOR_PER_SECOND));
  const reads: Record<string, unknown> = {};
  for (const [name, paths] of Object.entries(READS)) {
    const base = { apiUrl: casebook.apiUrl, nextKey: () => keys.take(), paths };
    const fixed = { ...base, requestsPerSecond: parameters.fixedRatePerSecond };
    await runFixedRate({ ...fixed, durationSeconds: WARM_UP_SECONDS });
    reads[name] = {
      paths: paths.length > 1 ? `${paths.length} paths like ${paths[0]}` : paths[0],
      fixedRate: await measuredLoad(casebook, () => runFixedRate({ ...fixed, durationSeconds: parameters.fixedRateSeconds })),
      saturation: await measuredLoad(casebook, () =>
        runSaturation({ ...base, connections: parameters.saturationConnections, durationSeconds: parameters.saturationSeconds }),
      ),
    };
    console.log(`${name}: ${JSON.stringify(reads[name])}`);
  }
  writeResult(
    'api-reads',
    'API reads under load: case reads and filtered lists, at a fixed arrival rate (open model) and at saturation (autocannon)',
    {
      ...parameters,
      readerKeys: keysNeededFor(READER_KEYS_SIZED_FOR_PER_SECOND),
    },
    { reads, loadAverage: { atStart: loadAverageAtStart, atEnd: loadavg() } },
  );
} finally {
  await casebook.stop();
}
