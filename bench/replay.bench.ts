/**
 * Replay time with Casebook's replay worker (src/stack/replayer.ts: the SDK's replayer without the
 * promise hook of the stack-trace query and the per-call timeout; what rebuilding a case costs):
 * every golden history of the standard scenarios (test/fixtures/histories/) and a recorded history of
 * about 1,000 events (bench/fixtures/return-long.history). The anchor: the expert's hand-written return
 * with a history of the same length and shape (bench/fixtures/expert-long.history), replayed by the same
 * replay worker, in blocks alternating with Casebook's. Target (issue 26): the 1,000-event history in
 * ≤ 100 ms p50. The workflow code is bundled once, as each worker bundles it; bundling is not timed.
 * Run: npx tsx bench/replay.bench.ts [--repeat 20]. Writes bench/results/replay.json.
 */
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { parseArgs } from 'node:util';
import { readExpertLongHistory, readGoldenHistories, readLongHistory, type NamedHistory } from './support/replay-histories.js';
import { coldReplays, expertReplayOptions, replayOptions, warmReplays } from './support/replay-timing.js';
import { writeResult } from './support/results.js';
import { distribution, roundTo } from './support/stats.js';

const { values } = parseArgs({ options: { repeat: { type: 'string', default: '20' } } });
const repeat = Number(values.repeat);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a positive whole number, not ${values.repeat}`);

Runtime.install({ logger: new DefaultLogger('WARN') });
const options = await replayOptions();
const expertOptions = await expertReplayOptions();
const BLOCKS = 4;

const summary = (durations: number[]) => {
  const { p50, p95, max } = distribution(durations);
  return { p50Ms: p50, minMs: roundTo(Math.min(...durations), 1), p95Ms: p95, maxMs: max };
};

/** One untimed replay first, so that both figures are of code the JIT has seen. */
async function measure(history: NamedHistory, replayWorker?: typeof Worker) {
  await warmReplays(options, history, 1, replayWorker);
  return {
    events: history.events,
    inRunningReplayWorker: summary(await warmReplays(options, history, repeat, replayWorker)),
    withNewReplayWorker: summary(await coldReplays(options, history, repeat, replayWorker)),
  };
}

/**
 * Casebook's long history and the expert's, each replayed `repeat` times in a running replay worker, in
 * blocks taking turns so that a change in the machine's speed falls on both alike; Casebook's also each
 * with a new replay worker.
 */
async function againstExpert(history: NamedHistory, expertHistory: NamedHistory) {
  await warmReplays(options, history, 1);
  await warmReplays(expertOptions, expertHistory, 1);
  const casebook: number[] = [];
  const expert: number[] = [];
  const perBlock = Math.ceil(repeat / BLOCKS);
  for (let block = 0; block < BLOCKS; block++) {
    casebook.push(...(await warmReplays(options, history, perBlock)));
    expert.push(...(await warmReplays(expertOptions, expertHistory, perBlock)));
  }
  const [ours, theirs] = [summary(casebook), summary(expert)];
  return {
    events: history.events,
    inRunningReplayWorker: ours,
    withNewReplayWorker: summary(await coldReplays(options, history, repeat)),
    expert: { name: expertHistory.name, events: expertHistory.events, inRunningReplayWorker: theirs },
    ratioToExpert: { p50: roundTo(ours.p50Ms / theirs.p50Ms, 2), min: roundTo(ours.minMs / theirs.minMs, 2) },
  };
}

// The SDK's own replay worker first: Casebook's removes the SDK's promise hook from this thread for good.
const longHistory = readLongHistory();
const sdkReplayWorker = await measure(longHistory, Worker);
const long = await againstExpert(longHistory, readExpertLongHistory());

const golden: Record<string, Awaited<ReturnType<typeof measure>>> = {};
for (const history of readGoldenHistories()) golden[history.name] = await measure(history);
const [longestGolden] = Object.entries(golden).sort(([, a], [, b]) => b.events - a.events);

writeResult(
  'replay',
  "Replay time with Casebook's replay worker (ReplayWorker.runReplayHistories, src/stack/replayer.ts), prebuilt workflow bundle",
  {
    repeat,
    timing: {
      inRunningReplayWorker:
        "one replay worker replays the history `repeat` times; each time from handing it the history to its result; the long history's and the expert's in `blocks` blocks taking turns",
      withNewReplayWorker: 'each of `repeat` ReplayWorker.runReplayHistory calls: creating a replay worker, replaying, shutting it down',
      sdkReplayWorker: "the long history with the SDK's own Worker.runReplayHistories / runReplayHistory (promise hook and per-call timeout), measured first",
    },
    blocks: BLOCKS,
    targetMsFor1000Events: 100,
  },
  {
    longHistory: { name: longHistory.name, ...long, sdkReplayWorker },
    longestGoldenHistory: longestGolden![0],
    goldenHistories: golden,
  },
);
