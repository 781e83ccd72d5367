import type { Expr, FieldSpec, Plan, StepBase } from '../plan.js';
import type { StepKind } from './kind.js';
import { compileRetry, retryText, type RawRetry, type StepRetry } from './retry.js';

export interface CallStep extends StepBase {
  kind: 'call';
  integration: string;
  operation: string;
  input: Record<string, Expr>;
  /** Case field that receives the integration's result, if any. */
  resultField?: string;
  onError?: string;
  /** Attempts, timeout and backoff the step states; absent: five attempts of a minute (src/plan/steps/retry.ts). */
  retry?: StepRetry;
  next: string;
}

export interface RawCall {
  integration: string;
  operation: string;
  input?: Record<string, string>;
  result_field?: string;
  on_error?: string;
  retry?: RawRetry;
}

export const call: StepKind<CallStep, RawCall> = {
  kind: 'call',
  schema: '#/$defs/step/properties/call',
  waits: false,
  shape: 'box',
  compile(raw, c) {
    const { integrations, fields } = c.declarations;
    const integration = integrations[raw.integration];
    if (!integration)
      c.error('PB114', `integration '${raw.integration}' is not declared`, [...c.path, 'integration'], {
        hint: c.hint(raw.integration, Object.keys(integrations), 'declare it under integrations'),
      });
    else if (!integration.operations.includes(raw.operation))
      c.error('PB115', `integration '${raw.integration}' has no operation '${raw.operation}'`, [...c.path, 'operation'], {
        hint: c.hint(raw.operation, integration.operations, `its operations: ${integration.operations.join(', ')}`),
      });
    if (raw.result_field !== undefined && !fields[raw.result_field]) {
      c.error('PB116', `'${raw.result_field}' is not a declared case field`, [...c.path, 'result_field'], {
        hint: c.hint(raw.result_field, Object.keys(fields), 'declare it under fields'),
      });
    }
    const retry = compileRetry(raw.retry, c);
    const input = Object.fromEntries(Object.entries(raw.input ?? {}).map(([name, cel]) => [name, c.expression(cel, [...c.path, 'input', name], 'any')]));
    return {
      kind: 'call',
      integration: raw.integration,
      operation: raw.operation,
      input,
      ...(raw.result_field !== undefined ? { resultField: raw.result_field } : {}),
      ...(raw.on_error !== undefined ? { onError: c.ref(raw.on_error, [...c.path, 'on_error']) } : {}),
      ...(retry ? { retry } : {}),
      next: c.next(),
    };
  },
  edges: (step) => [{ to: step.next }, ...(step.onError ? [{ to: step.onError, label: 'error' }] : [])],
  describe: (step) => `call ${step.integration}.${step.operation}${step.retry ? `, ${retryText(step.retry)}` : ''}`,
};

/** The response each call step's operation declares, by step id: what `steps.<id>.result` reads. */
export function declaredResults(steps: Iterable<{ id: string; call?: Pick<RawCall, 'integration' | 'operation'> }>, integrations: Plan['integrations']) {
  const results: Record<string, Record<string, FieldSpec>> = {};
  for (const { id, call } of steps) {
    const response = call && integrations[call.integration]?.responses?.[call.operation];
    if (response) results[id] = response;
  }
  return results;
}

/** The plan's declared results (see declaredResults). */
export function resultsOf(plan: Pick<Plan, 'steps' | 'integrations'>): Record<string, Record<string, FieldSpec>> {
  return declaredResults(
    Object.values(plan.steps).map((step) => (step.kind === 'call' ? { id: step.id, call: step } : { id: step.id })),
    plan.integrations,
  );
}
