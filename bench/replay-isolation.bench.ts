/**
 * Replays against the API: plain case reads (`GET /v1/cases/{id}` of waiting return cases, at a fixed
 * arrival rate) alone, then while ten replays (`GET /v1/cases/{id}/replay`) are in flight all along,
 * each sent again as soon as it is answered. Replays run in the audit threads (src/stack/audit-threads.ts,
 * two by default); before them, ten concurrent replays took the reads' p50 from 3 ms to 257-416 ms.
 * Target: case reads p99 under 250 ms while ten replays run.
 * Run: npx tsx bench/replay-isolation.bench.ts [--cases 20] [--rate 50] [--duration 20] [--replays 10].
 * Writes bench/results/replay-isolation.json.
 */
import { loadavg } from 'node:os';
import { numberOptions } from './support/args.js';
import { keysNeededFor, openReturnCases, waitForCases } from './support/capacity-cases.js';
import { startCasebook } from './support/casebook.js';
import { cpuMs, rssBytes } from './support/proc.js';
import { runFixedRate } from './support/reads-load.js';
import { writeResult } from './support/results.js';
import { AgentKeys } from './support/return-cases.js';
import { distribution, roundTo } from './support/stats.js';

const PORTS = { api: 3980, temporal: 7980, temporalUi: 7981, temporalHttp: 7982, temporalMetrics: 7983, postgres: 5498 };
const WARM_UP_SECONDS = 3;

const options = numberOptions({ cases: 20, rate: 50, duration: 20, replays: 10 });
const parameters = {
  waitingCases: options.cases,
  readsPerSecond: options.rate,
  seconds: options.duration,
  concurrentReplays: options.replays,
  warmUpSeconds: WARM_UP_SECONDS,
  targetP99Ms: 250,
};

const loadAverageAtStart = loadavg();
const casebook = await startCasebook('replay-isolation', PORTS);
try {
  await casebook.publishPlaybook('return');
  const keys = await AgentKeys.create(casebook, keysNeededFor(parameters.readsPerSecond * 4));
  await openReturnCases(casebook, keys, { prefix: 'waiting', from: 0, to: parameters.waitingCases, signedDaysAgo: 1 });
  await waitForCases(casebook, 'waiting', parameters.waitingCases);
  const auditor = await casebook.createKey('auditor', 'bench auditor');
  const caseIds = Array.from({ length: parameters.waitingCases }, (_, i) => `waiting-${i}`);

  const replay = async (caseId: string) => {
    const started = performance.now();
    const response = await fetch(`${casebook.apiUrl}/v1/cases/${caseId}/replay`, { headers: { authorization: `Bearer ${auditor}` } });
    await response.arrayBuffer();
    return { status: response.status, ms: performance.now() - started };
  };
  // The first replay bundles the workflow code (in a thread of its own); not measured.
  const first = await replay(caseIds[0]!);
  if (first.status !== 200) throw new Error(`the first replay answered ${first.status}`);

  const reads = {
    apiUrl: casebook.apiUrl,
    nextKey: () => keys.take(),
    paths: caseIds.map((id) => `/v1/cases/${id}`),
    requestsPerSecond: parameters.readsPerSecond,
  };
  await runFixedRate({ ...reads, durationSeconds: WARM_UP_SECONDS });

  const measure = async <T>(run: () => Promise<T>) => {
    const cpuBefore = cpuMs(casebook.pids.casebook);
    const startedAt = performance.now();
    const figures = await run();
    return {
      ...figures,
      casebookCpuPercentOfOneCore: roundTo(((cpuMs(casebook.pids.casebook) - cpuBefore) / (performance.now() - startedAt)) * 100, 1),
      casebookRssMiB: roundTo(rssBytes(casebook.pids.casebook) / 2 ** 20, 0),
    };
  };
  const alone = await measure(() => runFixedRate({ ...reads, durationSeconds: parameters.seconds }));
  console.log(`case reads alone: ${JSON.stringify(alone.latencyMs)}`);

  let replaying = true;
  const replays: { status: number; ms: number }[] = [];
  const replayers = Array.from({ length: parameters.concurrentReplays }, async (_, i) => {
    for (let n = 0; replaying; n++) replays.push(await replay(caseIds[(i + n * parameters.concurrentReplays) % caseIds.length]!));
  });
  // The replays are all in flight before the reads start.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const withReplays = await measure(() => runFixedRate({ ...reads, durationSeconds: parameters.seconds }));
  replaying = false;
  await Promise.all(replayers);
  const statusCodes: Record<string, number> = {};
  for (const { status } of replays) statusCodes[status] = (statusCodes[status] ?? 0) + 1;
  const { p50, p99, max } = distribution(
    replays.map((r) => r.ms),
    0,
  );
  const replayFigures = { answered: replays.length, statusCodes, latencyMs: { p50, p99, max } };
  console.log(
    `case reads with ${parameters.concurrentReplays} replays in flight: ${JSON.stringify(withReplays.latencyMs)}; replays: ${JSON.stringify(replayFigures)}`,
  );

  writeResult(
    'replay-isolation',
    `Plain case reads at a fixed rate, alone and while ${parameters.concurrentReplays} replays are in flight (replays in the audit threads, default settings)`,
    parameters,
    {
      caseReadsAlone: alone,
      caseReadsWithReplays: withReplays,
      replays: replayFigures,
      loadAverage: { atStart: loadAverageAtStart, atEnd: loadavg() },
    },
  );
} finally {
  await casebook.stop();
}
