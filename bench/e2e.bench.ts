/**
 * End-to-end throughput and cost of standard quality returns (open, exchange declined, shipped, received,
 * two refunds, closed), five variants interleaved per round on the same servers: Casebook over its HTTP
 * API, Casebook driven in-process (its worker and case services composed in this process), and the same
 * business steps written by hand as plain Temporal workflows: `same-steps`, `lean` and `expert` (lean
 * with its side effects as local activities), the anchor every ratio is taken against.
 * Run: npx tsx bench/e2e.bench.ts [--cases 300] [--rounds 2] [--concurrency 30] [--warmup 20] [--sample 20].
 * Writes bench/results/e2e.json.
 */
import type { Client } from '@temporalio/client';
import type { Pool } from '../src/store/pool.js';
import { composePool } from '../src/stack/compose.js';
import { workflowIdFor } from '../src/plan/case.js';
import { connectClient, handwrittenWorkflowId, openHandwrittenCase, sendHandwrittenEvent, startHandwrittenWorker } from './handwritten/process.js';
import type { ReturnData, Variant as HandwrittenVariant } from './handwritten/contract.js';
import { inParallel, numberOptions } from './support/args.js';
import { startCasebook, type CasebookUnderTest } from './support/casebook.js';
import { driveInProcessCase, startInProcess, untilResolved, type InProcess } from './support/inprocess.js';
import { cpuMs, treeCpuMs } from './support/proc.js';
import { AgentKeys, keptReturn, openReturnCase, qualityReturnData, received, sendEvent, shipped } from './support/return-cases.js';
import { writeResult } from './support/results.js';
import { distribution, roundTo } from './support/stats.js';
import { meanHistoryCost, spreadSample } from './support/temporal-history.js';

const ALL_VARIANTS = ['casebook', 'casebook-inprocess', 'same-steps', 'lean', 'expert'] as const;
type VariantName = (typeof ALL_VARIANTS)[number];
const ANCHOR: VariantName = 'expert';

/** `--variants a,b`: only those and the anchor (to measure one change quickly); all of them by default. */
function takeVariants(argv: string[]): { variants: readonly VariantName[]; rest: string[] } {
  const at = argv.indexOf('--variants');
  if (at < 0) return { variants: ALL_VARIANTS, rest: argv };
  const names = (argv[at + 1] ?? '').split(',').filter(Boolean);
  const unknown = names.filter((name) => !(ALL_VARIANTS as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) throw new Error(`--variants takes some of ${ALL_VARIANTS.join(',')} (not '${unknown.join(',')}')`);
  return { variants: ALL_VARIANTS.filter((v) => v === ANCHOR || names.includes(v)), rest: [...argv.slice(0, at), ...argv.slice(at + 2)] };
}

const chosen = takeVariants(process.argv.slice(2));
const VARIANTS = chosen.variants;
// --promiseStacks 1: Casebook's workers keep the SDK's promise hook (CASEBOOK_WORKFLOW_STACK_TRACES=1), to measure what it costs.
const options = numberOptions({ cases: 300, rounds: 2, concurrency: 30, warmup: 20, sample: 20, promiseStacks: 0 }, chosen.rest);
const PROMISE_STACKS = options.promiseStacks === 1;
const INPROCESS_TASK_QUEUE = 'bench-inprocess';
/** Casebook's archiver passes every second instead of 10, so that a round's archiving ends soon after its cases. */
const ARCHIVE_INTERVAL_SECONDS = '1';
const ARCHIVE_WAIT_MS = 300_000;

/** The variants whose cases have a row in `cases`, which Casebook's archiver archives once closed. */
const ARCHIVED: ReadonlySet<VariantName> = new Set(['casebook', 'casebook-inprocess', 'same-steps']);

interface Setup {
  casebook: CasebookUnderTest;
  keys: AgentKeys;
  client: Client;
  pool: Pool;
  workerPid: number;
  /** Composed only when casebook-inprocess runs. */
  inProcess: InProcess | undefined;
}

// Every variant's case is over when its workflow's result comes (untilResolved: a long poll of the
// bench's Temporal client, the same for all; no poll of the database that the bench would add to
// Postgres's figures).
const EVENTS_AT_ONCE = [keptReturn, shipped, received];

/** Drives one case from open to closed, every event sent as soon as the one before is answered; answers its latency in ms. */
async function driveCase(setup: Setup, variant: VariantName, caseId: string): Promise<number> {
  const started = performance.now();
  const data = qualityReturnData(`order-${caseId}`);
  if (variant === 'casebook') {
    const { casebook, keys } = setup;
    // Open, buyer.kept_return, the warehouse's advance; then the two events, which the playbook keeps
    // (`early`) until wait_shipment takes buyer.shipped and wait_receipt the receipt.
    await openReturnCase(casebook, keys, caseId, data.order_id as string);
    await sendEvent(casebook, keys.take(), caseId, shipped(caseId));
    await sendEvent(casebook, keys.take(), caseId, received(caseId));
    return untilResolved(setup.client, workflowIdFor(caseId), started);
  }
  // In the order the HTTP variant sends them: open, buyer.kept_return, the advance, the two events.
  if (variant === 'casebook-inprocess') return driveInProcessCase(setup.inProcess!, caseId);
  await openHandwrittenCase(setup.pool, setup.client, variant, caseId, data as unknown as ReturnData);
  for (const event of EVENTS_AT_ONCE) await sendHandwrittenEvent(setup.client, variant, caseId, event(caseId));
  return untilResolved(setup.client, handwrittenWorkflowId(variant, caseId), started);
}

const workflowIdOf = (variant: VariantName, caseId: string) =>
  variant === 'casebook' || variant === 'casebook-inprocess' ? workflowIdFor(caseId) : handwrittenWorkflowId(variant as HandwrittenVariant, caseId);

const benchProcessCpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

function cpuNow(setup: Setup) {
  const { pids } = setup.casebook;
  return {
    temporal: treeCpuMs(pids.temporal),
    postgres: treeCpuMs(pids.postgres),
    casebook: cpuMs(pids.casebook),
    handwrittenWorker: cpuMs(setup.workerPid),
    bench: benchProcessCpuMs(),
  };
}

/** What every case of the path does, in every variant: refunds issued, messages sent (outbox), remarks written. */
const EFFECTS_PER_CASE = { refunds: 2, messages: 3, remarks: 2 };

/** Throws unless the cases did exactly the path's side effects, so that every variant is measured doing the same work. */
async function checkEffects(pool: Pool, variant: VariantName, caseIds: readonly string[]): Promise<void> {
  const { rows } = await pool.query<typeof EFFECTS_PER_CASE>(
    `SELECT (SELECT count(*)::int FROM refunds WHERE case_id = ANY($1) AND status = 'issued') AS refunds,
            (SELECT count(*)::int FROM outbox_messages WHERE case_id = ANY($1)) AS messages,
            (SELECT count(*)::int FROM order_notes WHERE case_id = ANY($1)) AS remarks`,
    [caseIds],
  );
  const expected = Object.fromEntries(Object.entries(EFFECTS_PER_CASE).map(([effect, n]) => [effect, n * caseIds.length]));
  if (JSON.stringify(rows[0]) !== JSON.stringify(expected)) {
    throw new Error(`${variant}: the cases did ${JSON.stringify(rows[0])}, not the path's ${JSON.stringify(expected)}`);
  }
}

/** Waits until Casebook's archiver has archived every one of the cases (their `history_archive` set). */
async function untilArchived(pool: Pool, caseIds: readonly string[]): Promise<void> {
  const deadline = Date.now() + ARCHIVE_WAIT_MS;
  for (;;) {
    const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM cases WHERE case_id = ANY($1) AND history_archive IS NOT NULL`, [caseIds]);
    if (rows[0]!.n === caseIds.length) return;
    if (Date.now() > deadline) throw new Error(`${caseIds.length - rows[0]!.n} of ${caseIds.length} cases not archived within ${ARCHIVE_WAIT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function runRound(setup: Setup, variant: VariantName, round: string, count: number) {
  const caseIds = Array.from({ length: count }, (_, i) => `${round}-${variant}-${i}`);
  const cpuBefore = cpuNow(setup);
  const started = performance.now();
  const latencies = await inParallel(caseIds, options.concurrency, (caseId) => driveCase(setup, variant, caseId));
  const seconds = (performance.now() - started) / 1000;
  // The archiver's work lands in the round of the cases it archives: the CPU window closes after it.
  if (ARCHIVED.has(variant)) await untilArchived(setup.pool, caseIds);
  const archiveWaitSeconds = (performance.now() - started) / 1000 - seconds;
  const cpuAfter = cpuNow(setup);
  const perCase = (name: keyof typeof cpuBefore) => roundTo((cpuAfter[name] - cpuBefore[name]) / count, 2);
  const cpu = {
    temporalServer: perCase('temporal'),
    postgres: perCase('postgres'),
    casebookProcess: perCase('casebook'),
    handwrittenWorker: perCase('handwrittenWorker'),
    benchProcess: perCase('bench'),
  };
  // The processes that worked for the variant: its worker, and Casebook's process where its archiver archived the variant's cases.
  await checkEffects(setup.pool, variant, caseIds);
  const worker = variant === 'casebook' ? cpu.casebookProcess : variant === 'casebook-inprocess' ? cpu.benchProcess : cpu.handwrittenWorker;
  const archiver = ARCHIVED.has(variant) && variant !== 'casebook' ? cpu.casebookProcess : 0;
  const history = await meanHistoryCost(
    setup.client,
    spreadSample(caseIds, options.sample).map((id) => workflowIdOf(variant, id)),
  );
  return {
    casesPerSecond: roundTo(count / seconds, 2),
    archiveWaitSeconds: roundTo(archiveWaitSeconds, 1),
    latencyMs: distribution(latencies),
    historyPerCase: history,
    cpuMsPerCase: {
      ...cpu,
      worker,
      allProcesses: roundTo(cpu.temporalServer + cpu.postgres + worker + archiver, 2),
      // Every process of the bench, the idle ones and the bench's own driving (its client) included.
      everyProcess: roundTo(cpu.temporalServer + cpu.postgres + cpu.casebookProcess + cpu.handwrittenWorker + cpu.benchProcess, 2),
    },
  };
}

type RoundFigures = Awaited<ReturnType<typeof runRound>>;

/** A variant's figures over the anchor's, from the rounds given (sums, so each round weighs alike). */
function ratios(variant: RoundFigures[], anchor: RoundFigures[]) {
  const total = (figures: RoundFigures[], pick: (f: RoundFigures) => number) => figures.reduce((sum, f) => sum + pick(f), 0);
  const ratio = (pick: (f: RoundFigures) => number) => roundTo(total(variant, pick) / total(anchor, pick), 2);
  return {
    throughput: ratio((f) => f.casesPerSecond),
    latencyP50: ratio((f) => f.latencyMs.p50),
    cpuAllProcesses: ratio((f) => f.cpuMsPerCase.allProcesses),
    cpuEveryProcess: ratio((f) => f.cpuMsPerCase.everyProcess),
    cpuTemporalServer: ratio((f) => f.cpuMsPerCase.temporalServer),
    cpuWorker: ratio((f) => f.cpuMsPerCase.worker),
    cpuPostgres: ratio((f) => f.cpuMsPerCase.postgres),
    historyBytes: ratio((f) => f.historyPerCase.bytes),
    historyEvents: ratio((f) => f.historyPerCase.events),
    workflowTasks: ratio((f) => f.historyPerCase.workflowTasks),
    localActivities: ratio((f) => f.historyPerCase.localActivities),
  };
}

/** Each variant against the anchor: per round (the anchor's figures of the same round) and over all rounds. */
function ratiosToAnchor(rounds: Partial<Record<VariantName, RoundFigures[]>>) {
  const anchor = rounds[ANCHOR]!;
  return Object.fromEntries(
    VARIANTS.filter((v) => v !== ANCHOR).map((v) => [
      v,
      {
        ...Object.fromEntries(rounds[v]!.map((figures, i) => [`round${i + 1}`, ratios([figures], [anchor[i]!])])),
        allRounds: ratios(rounds[v]!, anchor),
      },
    ]),
  );
}

const casebook = await startCasebook('e2e', undefined, {
  env: { CASEBOOK_ARCHIVE_INTERVAL_SECONDS: ARCHIVE_INTERVAL_SECONDS, ...(PROMISE_STACKS ? { CASEBOOK_WORKFLOW_STACK_TRACES: '1' } : {}) },
});
const stops: (() => Promise<void>)[] = [() => casebook.stop()];
try {
  await casebook.publishPlaybook('return');
  const handwrittenWorker = await startHandwrittenWorker(casebook);
  stops.unshift(() => handwrittenWorker.stop(30_000));
  const inProcess = VARIANTS.includes('casebook-inprocess')
    ? await startInProcess(casebook, INPROCESS_TASK_QUEUE, { promiseStacks: PROMISE_STACKS })
    : undefined;
  if (inProcess) stops.unshift(inProcess.stop);
  const pool = composePool(casebook.databaseUrl);
  const client = await connectClient(casebook);
  stops.unshift(async () => {
    await client.connection.close();
    await pool.end();
  });
  const setup: Setup = {
    casebook,
    keys: await AgentKeys.create(casebook, 8),
    client,
    pool,
    workerPid: handwrittenWorker.pid,
    inProcess: inProcess?.inProcess,
  };

  for (const variant of VARIANTS) await runRound(setup, variant, 'warmup', options.warmup);
  const rounds = Object.fromEntries(VARIANTS.map((v) => [v, [] as RoundFigures[]])) as Partial<Record<VariantName, RoundFigures[]>>;
  for (let round = 1; round <= options.rounds; round++) {
    // Interleaved, each round starting at another variant, so that none always runs first or after the same one.
    const order = VARIANTS.map((_, i) => VARIANTS[(i + round - 1) % VARIANTS.length]!);
    for (const variant of order) {
      const figures = await runRound(setup, variant, `r${round}`, options.cases);
      rounds[variant]!.push(figures);
      const { historyPerCase: h, cpuMsPerCase: c } = figures;
      console.log(
        `round ${round} ${variant}: ${figures.casesPerSecond} cases/s, p50 ${figures.latencyMs.p50} ms, history ${h.bytes} B ${h.events} events ${h.workflowTasks} tasks ${h.localActivities} local, CPU ms/case all ${c.allProcesses} (temporal ${c.temporalServer} worker ${c.worker} postgres ${c.postgres}), archive wait ${figures.archiveWaitSeconds} s`,
      );
    }
  }
  writeResult(
    'e2e',
    'End-to-end return cases: Casebook over HTTP and in-process vs hand-written Temporal workflows (same-steps, lean, expert), ratios to expert',
    {
      ...options,
      variants: VARIANTS,
      anchor: ANCHOR,
      archiveIntervalSeconds: Number(ARCHIVE_INTERVAL_SECONDS),
      path: 'quality return: open, exchange offered and declined, remark, address, buyer.shipped, warehouse.received, refund, account remark, return-shipping refund, message, closed',
    },
    {
      byVariant: Object.fromEntries(VARIANTS.map((v) => [v, Object.fromEntries(rounds[v]!.map((f, i) => [`round${i + 1}`, f]))])),
      ratioToExpert: ratiosToAnchor(rounds),
    },
  );
} finally {
  for (const stop of stops) await stop().catch((error: Error) => console.error(`stopping: ${error.message}`));
}
