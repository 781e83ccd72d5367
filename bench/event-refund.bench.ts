/**
 * Event → refund latency: quality returns waiting at `wait_receipt` are sent `warehouse.received`, and
 * the time from sending the request to the case's first refund row in Postgres is measured (and, apart,
 * the HTTP answer time): first one case at a time, then the rest at a fixed arrival rate (open loop,
 * with a cap on deliveries in flight). Target: event → refund p99 ≤ 1 s at 20 concurrent deliveries.
 * Run: npx tsx bench/event-refund.bench.ts [--cases 200] [--rate 20] [--concurrency 20] [--sequential 30].
 * Writes bench/results/event-refund.json.
 */
import { composePool } from '../src/stack/compose.js';
import { inParallel, numberOptions } from './support/args.js';
import { keysNeededFor } from './support/capacity-cases.js';
import { startCasebook, type CasebookUnderTest } from './support/casebook.js';
import { AgentKeys, openReturnCase, received, sendEvent, shipped } from './support/return-cases.js';
import { writeResult } from './support/results.js';
import { casePoller, refundPoller, type CaseRow, type RowPoller } from './support/row-poller.js';
import { distribution, roundTo } from './support/stats.js';

const options = numberOptions({ cases: 200, rate: 20, concurrency: 20, sequential: 30 });
const PORTS = { api: 3960, temporal: 7960, temporalUi: 7961, temporalHttp: 7962, temporalMetrics: 7963, postgres: 5496 };
const SETUP_CONCURRENCY = 16;
const REFUND_TIMEOUT_MS = 30_000;
const TARGET_P99_MS = 1_000;

interface Setup {
  casebook: CasebookUnderTest;
  keys: AgentKeys;
  cases: RowPoller<CaseRow>;
  refunds: RowPoller<{ case_id: string }>;
}

type Delivery = { httpMs: number; refundMs: number } | { error: string };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens a quality return and ships it back, so that it waits for the warehouse at `wait_receipt`. */
async function prepareCase(setup: Setup, caseId: string): Promise<void> {
  const { casebook, keys, cases } = setup;
  await openReturnCase(casebook, keys, caseId, `ORD-${caseId}`);
  await cases.until(caseId, (row) => row.current_step === 'wait_shipment');
  await sendEvent(casebook, keys.take(), caseId, shipped(caseId));
  await cases.until(caseId, (row) => row.current_step === 'wait_receipt');
}

function failAfter(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}

/** Sends the receipt; answers the ms to the HTTP answer and to the first refund row seen, both from the send. */
async function deliverReceipt(setup: Setup, caseId: string): Promise<Delivery> {
  // Watched before sending, so that no refund row can come before the poller looks for it.
  const refunded = setup.refunds.until(caseId);
  const sentAt = performance.now();
  try {
    await sendEvent(setup.casebook, setup.keys.take(), caseId, received(caseId));
    const httpMs = performance.now() - sentAt;
    const refundSeenAt = await Promise.race([refunded, failAfter(REFUND_TIMEOUT_MS, `${caseId}: no refund row within ${REFUND_TIMEOUT_MS / 1000} s`)]);
    return { httpMs, refundMs: refundSeenAt - sentAt };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

function summarize(deliveries: Delivery[]) {
  const measured = deliveries.filter((delivery): delivery is Exclude<Delivery, { error: string }> => !('error' in delivery));
  const errors = deliveries.flatMap((delivery) => ('error' in delivery ? [delivery.error] : []));
  return {
    eventToRefundMs: distribution(measured.map((delivery) => delivery.refundMs)),
    httpAnswerMs: distribution(measured.map((delivery) => delivery.httpMs)),
    errors: errors.length,
    firstErrors: errors.slice(0, 5),
  };
}

async function runSequential(setup: Setup, caseIds: string[]) {
  const deliveries: Delivery[] = [];
  for (const caseId of caseIds) deliveries.push(await deliverReceipt(setup, caseId));
  return summarize(deliveries);
}

/**
 * Open loop: delivery i starts at start + i / rate, whether or not earlier ones are done; a delivery
 * is in flight until its refund row is seen (or it failed). Only when `concurrency` are in flight does
 * a send wait for a slot, and then it starts late: the cap was hit.
 */
async function runFixedRate(setup: Setup, caseIds: string[]) {
  const intervalMs = 1_000 / options.rate;
  const inFlight = new Set<Promise<Delivery>>();
  const deliveries: Promise<Delivery>[] = [];
  const startLagsMs: number[] = [];
  let capHits = 0;
  let maxInFlight = 0;
  const start = performance.now();
  for (const [index, caseId] of caseIds.entries()) {
    const scheduledAt = start + index * intervalMs;
    await sleep(scheduledAt - performance.now());
    if (inFlight.size >= options.concurrency) capHits++;
    while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
    startLagsMs.push(performance.now() - scheduledAt);
    const delivery = deliverReceipt(setup, caseId);
    inFlight.add(delivery);
    void delivery.then(() => inFlight.delete(delivery));
    maxInFlight = Math.max(maxInFlight, inFlight.size);
    deliveries.push(delivery);
  }
  const sendingSeconds = (performance.now() - start) / 1000;
  return {
    offeredPerSecond: options.rate,
    // Sends over the time from the first to the last, which the schedule puts (n - 1) / rate apart.
    achievedPerSecond: roundTo((caseIds.length - 1) / sendingSeconds, 2),
    concurrencyCap: options.concurrency,
    capHit: capHits > 0,
    sendsDelayedByCap: capHits,
    maxInFlight,
    startLagMs: distribution(startLagsMs),
    ...summarize(await Promise.all(deliveries)),
  };
}

const casebook = await startCasebook('event-refund', PORTS);
let cleanup: () => Promise<void> = () => casebook.stop();
try {
  await casebook.publishPlaybook('return');
  const pool = composePool(casebook.databaseUrl);
  const cases = casePoller(pool);
  const refunds = refundPoller(pool);
  cleanup = async () => {
    cases.stop();
    refunds.stop();
    await pool.end();
    await casebook.stop();
  };
  const keys = await AgentKeys.create(casebook, keysNeededFor(Math.max(options.rate, 3 * SETUP_CONCURRENCY)));
  const setup: Setup = { casebook, keys, cases, refunds };

  const caseIds = Array.from({ length: options.cases }, (_, i) => `refund-${i}`);
  const sequentialIds = caseIds.slice(0, Math.min(options.sequential, options.cases));
  const fixedRateIds = caseIds.slice(sequentialIds.length);
  const preparing = performance.now();
  await inParallel(caseIds, SETUP_CONCURRENCY, (caseId) => prepareCase(setup, caseId));
  console.log(`${caseIds.length} cases waiting at wait_receipt after ${roundTo((performance.now() - preparing) / 1000, 1)} s`);

  const sequential = await runSequential(setup, sequentialIds);
  console.log(`sequential: event → refund p99 ${sequential.eventToRefundMs.p99} ms, HTTP p99 ${sequential.httpAnswerMs.p99} ms`);
  const fixedRate = await runFixedRate(setup, fixedRateIds);
  writeResult(
    'event-refund',
    'Event → refund: warehouse.received to the first refund row in Postgres, one at a time and at a fixed arrival rate',
    {
      ...options,
      refundPollMs: 5,
      refundTimeoutMs: REFUND_TIMEOUT_MS,
      sequentialCases: sequentialIds.length,
      fixedRateCases: fixedRateIds.length,
      path: 'quality return waiting at wait_receipt: warehouse.received (resellable), refund_quality',
    },
    {
      sequential,
      fixedRate,
      target: {
        eventToRefundP99Ms: TARGET_P99_MS,
        fixedRateP99Ms: fixedRate.eventToRefundMs.p99,
        met: fixedRate.errors === 0 && fixedRate.eventToRefundMs.p99 <= TARGET_P99_MS,
      },
    },
  );
} finally {
  await cleanup();
}
