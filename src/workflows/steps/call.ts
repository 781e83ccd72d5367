import { ApplicationFailure, TimeoutFailure, isCancellation } from '@temporalio/workflow';
import { jsonValue } from '../../plan/cel.js';
import { boundedJson } from '../../plan/evidence.js';
import { FAILURE_TYPES } from '../../plan/failures.js';
import type { CallStep } from '../../plan/steps/index.js';
import { checkValue, checkValues } from '../../plan/values.js';
import { formatDuration } from '../../plan/duration.js';
import { callRetry } from '../../plan/steps/retry.js';
import { failureMessage, ownFailure } from '../failures.js';
import type { StepInterpreter, StepRuntime } from './runtime.js';

export const call: StepInterpreter<CallStep> = { run: runCall };

/**
 * Calls the integration. An answer the operation declares is checked against its response and kept for
 * `steps.<id>.result`; one that does not fit takes `onError` with the JSON pointer of the first problem.
 * The result goes into `resultField` when given; a call that keeps failing takes `onError`.
 */
async function runCall(step: CallStep, rt: StepRuntime, key: string): Promise<string> {
  const input = Object.fromEntries(Object.entries(step.input).map(([name, expr]) => [name, jsonValue(rt.evaluate(expr))]));
  const response = rt.plan.integrations[step.integration]?.responses?.[step.operation];
  try {
    const result = await rt.integrationsFor(step.retry).callIntegration({
      key,
      caseId: rt.caseId,
      stepId: step.id,
      integration: step.integration,
      operation: step.operation,
      input,
    });
    if (response) {
      const problem = checkValues(response, result, '', rt.plan.currency)[0];
      if (problem) {
        const failed = `the answer of ${step.integration}.${step.operation} does not fit its declared response at ${problem.pointer || "'' (the whole answer)"}: ${problem.message}`;
        if (!step.onError) throw ApplicationFailure.nonRetryable(failed, FAILURE_TYPES.BadIntegrationResult, { pointer: problem.pointer });
        rt.record(step, {
          integration: step.integration,
          operation: step.operation,
          failed,
          pointer: problem.pointer,
          answer: boundedJson(result),
          goto: step.onError,
        });
        return step.onError;
      }
    }
    if (step.resultField) {
      const problems = checkValue(rt.plan.fields[step.resultField]!, result, `/${step.resultField}`, rt.plan.currency);
      if (problems.length > 0)
        throw ApplicationFailure.nonRetryable(
          `integration result does not fit ${step.resultField}: ${problems[0]!.message}`,
          FAILURE_TYPES.BadIntegrationResult,
        );
      rt.state.data = { ...rt.state.data, [step.resultField]: result };
    }
    if (response) rt.state.results = { ...rt.state.results, [step.id]: result };
    rt.record(step, {
      integration: step.integration,
      operation: step.operation,
      result: boundedJson(result),
      ...(step.resultField ? { resultField: step.resultField } : {}),
    });
    return step.next;
  } catch (error) {
    if (!step.onError || isCancellation(error)) throw error;
    rt.record(step, { integration: step.integration, operation: step.operation, failed: callFailure(step, error), goto: step.onError });
    return step.onError;
  }
}

/** Why the call failed, in words: a timeout carries no message of its own, so it is said with the step's timeout. */
function callFailure(step: CallStep, error: unknown): string {
  const failure = ownFailure(error);
  if (!(failure instanceof TimeoutFailure)) return failureMessage(error);
  const { attempts, timeoutMs } = callRetry(step.retry);
  return `the last of ${attempts} attempts took longer than its timeout of ${formatDuration(timeoutMs)} (${failure.timeoutType})`;
}
