/**
 * Timing replays with Casebook's replay worker (src/stack/replayer.ts: the SDK's, without the promise
 * hook and the per-call timeout) or the SDK's own, against a prebuilt workflow bundle (bundling is not timed).
 */
import { bundleWorkflowCode, DefaultLogger, type Worker, type ReplayWorkerOptions } from '@temporalio/worker';
import { workflowBundlerOptions } from '../../src/stack/workflow-bundler.js';
import { NO_REPLAY_LISTENER, WORKFLOWS_PATH } from '../../src/stack/worker.js';
import { ReplayWorker } from '../../src/stack/replayer.js';
import { HANDWRITTEN_WORKFLOWS_PATH } from '../handwritten/process.js';
import type { NamedHistory } from './replay-histories.js';

/** The worker's workflow code, bundled once with the worker's own bundler options, and its sinks (a worker's replay of a case out of its cache). */
export async function replayOptions(): Promise<ReplayWorkerOptions> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, ...workflowBundlerOptions, logger: new DefaultLogger('WARN') });
  return { workflowBundle: { code }, sinks: NO_REPLAY_LISTENER };
}

/** The expert's hand-written workflows, bundled as their worker bundles them (bench/handwritten/worker.ts). */
export async function expertReplayOptions(): Promise<ReplayWorkerOptions> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: HANDWRITTEN_WORKFLOWS_PATH,
    webpackConfigHook: workflowBundlerOptions.webpackConfigHook,
    logger: new DefaultLogger('WARN'),
  });
  return { workflowBundle: { code } };
}

/**
 * Replays the history `times` times in one replay worker and answers each replay's milliseconds, from
 * handing the history to the worker to its result: what a running worker spends on a cache miss.
 */
export async function warmReplays(
  options: ReplayWorkerOptions,
  { name, history }: NamedHistory,
  times: number,
  replayWorker: typeof Worker = ReplayWorker,
): Promise<number[]> {
  const startedAt: number[] = [];
  async function* copies() {
    for (let i = 0; i < times; i++) {
      startedAt.push(performance.now());
      yield { workflowId: `${name}-${i}`, history };
    }
  }
  const durations: number[] = [];
  for await (const result of replayWorker.runReplayHistories(options, copies())) {
    if (result.error)
      throw new Error(
        `${name} does not replay against the current workflow code (re-record a bench fixture after an unpatched workflow change): ${String(result.error)}`,
      );
    durations.push(performance.now() - startedAt[durations.length]!);
  }
  return durations;
}

/** Milliseconds of each of `times` separate `Worker.runReplayHistory` calls: a new replay worker each time, then the replay. */
export async function coldReplays(
  options: ReplayWorkerOptions,
  { name, history }: NamedHistory,
  times: number,
  replayWorker: typeof Worker = ReplayWorker,
): Promise<number[]> {
  const durations: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await replayWorker.runReplayHistory(options, history, name);
    durations.push(performance.now() - started);
  }
  return durations;
}
