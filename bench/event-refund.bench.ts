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
import { failAfter, openLoop } from './support/open-loop.js';
import { AgentKeys, received, returnWaitingForReceipt, sendEvent } from './support/return-cases.js';
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

async function runFixedRate(setup: Setup, caseIds: string[]) {
  const { figures, results } = await openLoop(caseIds, options, (caseId) => deliverReceipt(setup, caseId));
  return { ...figures, ...summarize(results) };
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
  await inParallel(caseIds, SETUP_CONCURRENCY, (caseId) => returnWaitingForReceipt(casebook, keys, cases, caseId));
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
