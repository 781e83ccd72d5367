import { CancellationScope, isCancellation } from '@temporalio/workflow';
import type { ParallelStep } from '../../plan/steps/index.js';
import { failureMessage } from '../failures.js';
import type { BodyEnd, StepInterpreter, StepRuntime } from './runtime.js';

/** How one branch came out: its body's end, or the failure that stopped it (a cancellation for a loser). */
type Settled = { index: number; end: BodyEnd } | { index: number; error: unknown };

/**
 * Runs the branches at once, each a strand in a cancellation scope of its own, and joins them as the
 * step says. Losing branches are cancelled (their waits, timers and activities with them), then their
 * cleanups run, not cancellable, one after another in the order written. An end step in a branch ends
 * the case once the other branches are cancelled and cleaned up.
 */
export const parallel: StepInterpreter<ParallelStep> = {
  async run(step, rt) {
    rt.record(step, { join: step.join, branches: step.branches.map((b) => b.id) });
    const scopes = step.branches.map(() => new CancellationScope());
    const failures = step.join === 'all' ? 'repair' : 'throw';
    const runs: Promise<Settled>[] = step.branches.map((branch, index) =>
      scopes[index]!.run(() => rt.runBody({ start: branch.body.start, failures })).then(
        (end) => ({ index, end }),
        (error: unknown) => ({ index, error }),
      ),
    );
    const pending = new Set(runs.map((_, index) => index));
    const done: number[] = [];
    const failed: Settled[] = [];
    let decided: { winner?: number; ended?: { outcome: string; reason: string }; failure?: unknown } | undefined;
    while (pending.size > 0 && !decided) {
      const settled = await Promise.race([...pending].map((index) => runs[index]!));
      pending.delete(settled.index);
      const branch = step.branches[settled.index]!;
      if ('error' in settled) {
        // The case itself is being cancelled (or its step failed outside the race): every branch goes.
        if (isCancellation(settled.error) || step.join === 'all') {
          // Cancelled from outside, the branch is cleaned up with the others.
          if (isCancellation(settled.error)) pending.add(settled.index);
          decided = { failure: settled.error };
          break;
        }
        rt.record(step, { branch: branch.id, failed: failureMessage(settled.error).slice(0, 500) }, 'branch-end');
        failed.push(settled);
        if (step.join === 'first' || pending.size === 0) decided = { failure: settled.error };
        continue;
      }
      if (!settled.end.done) {
        rt.record(step, { branch: branch.id, ended: settled.end.outcome }, 'branch-end');
        decided = { ended: { outcome: settled.end.outcome, reason: settled.end.reason } };
        break;
      }
      rt.record(step, { branch: branch.id, done: true }, 'branch-end');
      done.push(settled.index);
      if (step.join !== 'all') decided = { winner: settled.index };
      // The case's position is the union of the branches still running: tell the outside it changed.
      else if (pending.size > 0) await rt.working([]);
    }
    await cancelLosers(step, rt, scopes, runs, pending);
    if (decided?.ended) {
      await rt.finish(decided.ended.outcome, decided.ended.reason);
      return undefined;
    }
    if (decided?.failure !== undefined) throw decided.failure;
    const winner = decided?.winner;
    rt.record(step, {
      joined: step.join,
      ...(winner !== undefined ? { winner: step.branches[winner]!.id } : { done: done.map((index) => step.branches[index]!.id) }),
      ...(failed.length > 0 ? { failed: failed.map((f) => step.branches[f.index]!.id) } : {}),
      goto: step.next,
    });
    return step.next;
  },
};

/** Cancels the branches still running, waits for them to stop, then runs their cleanups, not cancellable. */
async function cancelLosers(step: ParallelStep, rt: StepRuntime, scopes: CancellationScope[], runs: Promise<Settled>[], pending: Set<number>): Promise<void> {
  if (pending.size === 0) return;
  const losers = [...pending].sort((a, b) => a - b);
  for (const index of losers) scopes[index]!.cancel();
  const stopped = await CancellationScope.nonCancellable(() => Promise.all(losers.map((index) => runs[index]!)));
  await CancellationScope.nonCancellable(async () => {
    for (const settled of stopped) {
      const branch = step.branches[settled.index]!;
      // A branch may have finished in the same task as the winner: it is done, not cancelled.
      const finished = 'end' in settled;
      rt.record(step, finished ? { branch: branch.id, done: true, late: true } : { branch: branch.id, cancelled: true }, 'branch-end');
      if (finished || !branch.cleanup) continue;
      try {
        const end = await rt.runBody({ start: branch.cleanup.start, failures: 'throw' });
        rt.record(step, { branch: branch.id, cleanup: end.done ? 'done' : end.outcome }, 'cleanup');
      } catch (error) {
        rt.record(step, { branch: branch.id, cleanup: 'failed', failure: failureMessage(error).slice(0, 500) }, 'cleanup');
      }
    }
  });
}
