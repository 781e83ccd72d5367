import { ApplicationFailure, ChildWorkflowFailure, ParentClosePolicy, isCancellation, startChild, workflowInfo } from '@temporalio/workflow';
import { CASE_STATUS, CASE_TYPE, ORDER_ID, PLAYBOOK, PLAYBOOK_VERSION } from '../../case-contract/search-attributes.js';
import { fromCelValue } from '../../plan/cel.js';
import { RUN_CASE_WORKFLOW, type CaseResult, type RunCaseWorkflow } from '../../plan/case.js';
import { FAILURE_TYPES } from '../../plan/failures.js';
import { afterChild, CHILD_FAILED, waitingForChild, type PlaybookStep } from '../../plan/steps/playbook.js';
import { failureMessage } from '../failures.js';
import type { StepInterpreter, StepRuntime } from './runtime.js';

export const playbook: StepInterpreter<PlaybookStep> = { run: runPlaybook };

/**
 * Runs the pinned child playbook as a case of its own: an activity records the child case once per
 * visit (its id from the step's key, its row naming this case and step), then the case workflow runs it
 * as a child workflow on the same task queue. While it runs, this case waits at the step, for the child
 * case (`waitingFor`: `case <id>`). The child's
 * end picks the next step (`outcomes`, else `next`); a child that failed (a failing step ends a child
 * case `failed`, or its workflow failed or was terminated) takes `onError`, or fails this case.
 *
 * Parent-close policy REQUEST_CANCEL: a parent closed while its child runs (terminated by an operator;
 * a cancelled case's scope cancels the child itself first) asks the child to cancel rather than
 * killing it, so the child's own cancellation runs.
 */
async function runPlaybook(step: PlaybookStep, rt: StepRuntime, key: string): Promise<string> {
  const data = Object.fromEntries(Object.entries(step.input).map(([name, expr]) => [name, fromCelValue(step.inputFields[name]!, rt.evaluate(expr))]));
  const { name, version } = step.playbook;
  let child: Awaited<ReturnType<StepRuntime['activities']['openChildCase']>>;
  try {
    child = await rt.activities.openChildCase({ key, caseId: rt.caseId, stepId: step.id, playbook: step.playbook, data });
  } catch (error) {
    return failedChild(step, rt, undefined, failureMessage(error), error);
  }
  rt.record(step, { child: child.caseId, playbook: name, version }, 'child-opened');
  const indexed = workflowInfo().typedSearchAttributes.get(CASE_STATUS) !== undefined;
  const handle = await startChild<RunCaseWorkflow>(RUN_CASE_WORKFLOW, {
    workflowId: child.workflowId,
    taskQueue: workflowInfo().taskQueue,
    args: [{ ...child.input, ...(indexed ? { indexed: true } : {}) }],
    parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    ...(indexed
      ? {
          typedSearchAttributes: [
            { key: CASE_TYPE, value: child.caseType },
            { key: PLAYBOOK, value: name },
            { key: PLAYBOOK_VERSION, value: version },
            { key: CASE_STATUS, value: 'open' },
            ...(child.orderId !== null ? [{ key: ORDER_ID, value: child.orderId }] : []),
          ],
        }
      : {}),
  });
  let settled: { result: CaseResult } | { error: unknown } | undefined;
  handle.result().then(
    (result) => void (settled = { result }),
    (error: unknown) => void (settled = { error }),
  );
  await rt.waitFor(step.id, [waitingForChild(child.caseId)], [], undefined, () => settled !== undefined);
  const done = settled!;
  if ('error' in done) {
    if (isCancellation(done.error) && !(done.error instanceof ChildWorkflowFailure)) throw done.error;
    return failedChild(step, rt, child.caseId, failureMessage(done.error), done.error);
  }
  const { outcome, reason } = done.result;
  if (outcome === CHILD_FAILED) return failedChild(step, rt, child.caseId, `child case ${child.caseId} failed: ${reason}`);
  const goto = afterChild(step, { outcome, reason });
  if (goto === undefined) return failedChild(step, rt, child.caseId, `child case ${child.caseId} was cancelled: ${reason}`);
  rt.record(step, { child: child.caseId, playbook: name, version, outcome, reason, goto });
  return goto;
}

/** The child could not be opened or failed: `onError`, or this case fails (repairable: a retry opens a new child). */
function failedChild(step: PlaybookStep, rt: StepRuntime, child: string | undefined, failed: string, cause?: unknown): string {
  const { name, version } = step.playbook;
  if (!step.onError) {
    throw ApplicationFailure.create({ type: FAILURE_TYPES.ChildCaseFailed, message: failed, nonRetryable: true, ...(cause instanceof Error ? { cause } : {}) });
  }
  rt.record(step, { ...(child ? { child } : {}), playbook: name, version, failed: failed.slice(0, 1000), goto: step.onError });
  return step.onError;
}
