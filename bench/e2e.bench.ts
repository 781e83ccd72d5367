/**
 * End-to-end throughput of standard return cases (quality reason: open, shipped, received, two refunds,
 * closed): A through Casebook's HTTP API, against the same business steps written by hand as plain
 * Temporal workflows, B `same-steps` (also recording progress where Casebook does) and C `lean`
 * (business side effects only), interleaved A/B/C per round on the same servers.
 * Run: npx tsx bench/e2e.bench.ts [--cases 300] [--rounds 2] [--concurrency 30]. Writes bench/results/e2e.json.
 */
import type { Client } from '@temporalio/client';
import type { Pool } from '../src/store/pool.js';
import { composePool } from '../src/stack/compose.js';
import { workflowIdFor } from '../src/plan/case.js';
import { connectClient, handwrittenWorkflowId, openHandwrittenCase, sendHandwrittenEvent, startHandwrittenWorker } from './handwritten/process.js';
import type { ReturnData, Variant } from './handwritten/contract.js';
import { inParallel, numberOptions } from './support/args.js';
import { startCasebook, type CasebookUnderTest } from './support/casebook.js';
import { cpuMs, treeCpuMs } from './support/proc.js';
import { AgentKeys, openReturnCase, qualityReturnData, received, sendEvent, shipped } from './support/return-cases.js';
import { writeResult } from './support/results.js';
import { casePoller, type RowPoller, type CaseRow } from './support/row-poller.js';
import { distribution, roundTo } from './support/stats.js';
import { meanHistoryCost, spreadSample } from './support/temporal-history.js';

const options = numberOptions({ cases: 300, rounds: 2, concurrency: 30, warmup: 20, sample: 20 });
const VARIANT_NAMES = { A: 'casebook', B: 'same-steps', C: 'lean' } as const;
type VariantKey = keyof typeof VARIANT_NAMES;

interface Setup {
  casebook: CasebookUnderTest;
  keys: AgentKeys;
  client: Client;
  pool: Pool;
  cases: RowPoller<CaseRow>;
  workerPid: number;
}

/** Drives one case from open to closed; answers its latency in ms. */
async function driveCase(setup: Setup, variant: VariantKey, caseId: string): Promise<number> {
  const started = performance.now();
  const data = qualityReturnData(`order-${caseId}`);
  if (variant === 'A') {
    const { casebook, keys, cases } = setup;
    await openReturnCase(casebook, keys, caseId, data.order_id as string);
    // The path measured: buyer.shipped taken at wait_shipment, warehouse.received (`early`) following at once.
    await cases.until(caseId, (row) => row.current_step === 'wait_shipment');
    await sendEvent(casebook, keys.take(), caseId, shipped(caseId));
    await sendEvent(casebook, keys.take(), caseId, received(caseId));
    return (await cases.until(caseId, (row) => row.status === 'closed')) - started;
  }
  const handwritten = VARIANT_NAMES[variant] as Variant;
  const { result } = await openHandwrittenCase(setup.pool, setup.client, handwritten, caseId, data as unknown as ReturnData);
  await sendHandwrittenEvent(setup.client, handwritten, caseId, shipped(caseId));
  await sendHandwrittenEvent(setup.client, handwritten, caseId, received(caseId));
  const { outcome } = await result;
  if (outcome !== 'resolved') throw new Error(`${caseId} ended ${outcome}`);
  return performance.now() - started;
}

function cpuNow(setup: Setup) {
  const { pids } = setup.casebook;
  return { temporal: treeCpuMs(pids.temporal), postgres: treeCpuMs(pids.postgres), casebook: cpuMs(pids.casebook), handwrittenWorker: cpuMs(setup.workerPid) };
}

async function runRound(setup: Setup, variant: VariantKey, round: string, count: number) {
  const caseIds = Array.from({ length: count }, (_, i) => `${round}-${variant}-${i}`);
  const cpuBefore = cpuNow(setup);
  const started = performance.now();
  const latencies = await inParallel(caseIds, options.concurrency, (caseId) => driveCase(setup, variant, caseId));
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = cpuNow(setup);
  const perCase = (name: keyof typeof cpuBefore) => roundTo((cpuAfter[name] - cpuBefore[name]) / count, 2);
  const workflowIds = spreadSample(caseIds, options.sample).map((id) =>
    variant === 'A' ? workflowIdFor(id) : handwrittenWorkflowId(VARIANT_NAMES[variant] as Variant, id),
  );
  const history = await meanHistoryCost(setup.client, workflowIds);
  return {
    casesPerSecond: roundTo(count / seconds, 2),
    latencyMs: distribution(latencies),
    historyPerCase: history,
    cpuMsPerCase: {
      temporalServer: perCase('temporal'),
      postgres: perCase('postgres'),
      worker: perCase(variant === 'A' ? 'casebook' : 'handwrittenWorker'),
      // For B and C: Casebook's idle process (its worker polling), next to the hand-written worker.
      casebookProcess: perCase('casebook'),
    },
  };
}

type RoundFigures = Awaited<ReturnType<typeof runRound>>;

function ratios(a: RoundFigures[], other: RoundFigures[]) {
  const total = (figures: RoundFigures[], pick: (f: RoundFigures) => number) => figures.reduce((sum, f) => sum + pick(f), 0);
  const ratio = (pick: (f: RoundFigures) => number) => roundTo(total(a, pick) / total(other, pick), 2);
  return {
    throughput: ratio((f) => f.casesPerSecond),
    latencyP50: ratio((f) => f.latencyMs.p50),
    historyEvents: ratio((f) => f.historyPerCase.events),
    workflowTasks: ratio((f) => f.historyPerCase.workflowTasks),
    cpuTemporalServer: ratio((f) => f.cpuMsPerCase.temporalServer),
    cpuWorker: ratio((f) => f.cpuMsPerCase.worker),
    cpuPostgres: ratio((f) => f.cpuMsPerCase.postgres),
    cpuAll: ratio((f) => f.cpuMsPerCase.temporalServer + f.cpuMsPerCase.worker + f.cpuMsPerCase.postgres),
  };
}

const casebook = await startCasebook('e2e');
let cleanup: () => Promise<void> = () => casebook.stop();
try {
  await casebook.publishPlaybook('return');
  const worker = await startHandwrittenWorker(casebook);
  const pool = composePool(casebook.databaseUrl);
  const client = await connectClient(casebook);
  const cases = casePoller(pool);
  cleanup = async () => {
    cases.stop();
    await client.connection.close();
    await pool.end();
    await worker.stop(30_000);
    await casebook.stop();
  };
  const setup: Setup = { casebook, keys: await AgentKeys.create(casebook, 8), client, pool, cases, workerPid: worker.pid };

  const variants = Object.keys(VARIANT_NAMES) as VariantKey[];
  for (const variant of variants) await runRound(setup, variant, 'warmup', options.warmup);
  const rounds: Record<VariantKey, RoundFigures[]> = { A: [], B: [], C: [] };
  for (let round = 1; round <= options.rounds; round++) {
    for (const variant of variants) {
      const figures = await runRound(setup, variant, `r${round}`, options.cases);
      rounds[variant].push(figures);
      console.log(
        `round ${round} ${variant} (${VARIANT_NAMES[variant]}): ${figures.casesPerSecond} cases/s, p50 ${figures.latencyMs.p50} ms, ${figures.historyPerCase.events} events, CPU ms/case temporal ${figures.cpuMsPerCase.temporalServer} worker ${figures.cpuMsPerCase.worker} postgres ${figures.cpuMsPerCase.postgres}`,
      );
    }
  }
  writeResult(
    'e2e',
    'End-to-end return cases: Casebook over HTTP (A) vs hand-written Temporal workflows, same-steps (B) and lean (C)',
    {
      ...options,
      variants: VARIANT_NAMES,
      path: 'quality return: open, buyer.shipped, warehouse.received, refund + return-shipping refund, message, closed',
    },
    {
      byVariant: Object.fromEntries(variants.map((v) => [`${v}-${VARIANT_NAMES[v]}`, Object.fromEntries(rounds[v].map((f, i) => [`round${i + 1}`, f]))])),
      ratioAtoB: ratios(rounds.A, rounds.B),
      ratioAtoC: ratios(rounds.A, rounds.C),
    },
  );
} finally {
  await cleanup();
}
