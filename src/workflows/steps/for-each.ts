import { ApplicationFailure, CancellationScope } from '@temporalio/workflow';
import { fromCelValue, jsonValue } from '../../plan/cel.js';
import { boundedJson } from '../../plan/evidence.js';
import { FAILURE_TYPES } from '../../plan/failures.js';
import type { ForEachStep } from '../../plan/steps/index.js';
import type { StepInterpreter } from './runtime.js';

/**
 * Runs the body once per item of the list, `concurrency` items at a time (one after another by
 * default), each item a strand of the case; the items start in the list's order. What each item
 * collects is kept in the items' order for `steps.<id>.results`. An end step in an item ends the case
 * once the other items running are cancelled.
 */
export const forEach: StepInterpreter<ForEachStep> = {
  async run(step, rt) {
    const value = rt.evaluate(step.in);
    if (!Array.isArray(value)) throw ApplicationFailure.nonRetryable(`'${step.in.cel}' is not a list`, FAILURE_TYPES.ExpressionFailed);
    const items = value.map((item) => (step.itemType ? fromCelValue(step.itemType, item) : jsonValue(item)));
    if (items.length > step.max) {
      const reason = `'${step.in.cel}' holds ${items.length} items; the loop runs at most ${step.max}`;
      if (step.onError === undefined) throw ApplicationFailure.nonRetryable(reason, FAILURE_TYPES.LoopTooLong);
      rt.record(step, { items: items.length, max: step.max, tooLong: reason, goto: step.onError });
      return step.onError;
    }
    rt.record(step, { items: items.length, max: step.max, concurrency: step.concurrency });
    const collected: unknown[] = new Array(items.length).fill(null);
    let next = 0;
    let ended: { outcome: string; reason: string } | undefined;
    const pool = new CancellationScope();
    const worker = async (): Promise<void> => {
      while (next < items.length && !ended) {
        const index = next++;
        rt.record(step, { index, item: boundedJson(items[index]) }, 'iteration');
        const end = await rt.runBody({
          start: step.body.start,
          item: { name: step.as, type: step.itemType, value: items[index], index },
          ...(step.collect ? { collect: step.collect } : {}),
          failures: 'repair',
        });
        if (!end.done) {
          ended ??= { outcome: end.outcome, reason: end.reason };
          pool.cancel();
          return;
        }
        if (step.collect) collected[index] = jsonValue(end.collected);
      }
    };
    const workers = Array.from({ length: Math.min(step.concurrency, items.length) }, () => pool.run(worker));
    const outcomes = await Promise.allSettled(workers);
    if (ended) {
      await rt.finish(ended.outcome, ended.reason);
      return undefined;
    }
    const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failure) throw failure.reason;
    if (step.collect) rt.state.collected = { ...rt.state.collected, [step.id]: collected };
    rt.record(step, { done: items.length, ...(step.collect ? { results: boundedJson(collected) } : {}), goto: step.next });
    return step.next;
  },
};
