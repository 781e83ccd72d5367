import { fromCelValue } from '../../plan/cel.js';
import type { SetStep } from '../../plan/steps/index.js';
import type { StepInterpreter } from './runtime.js';

/** Writes the step's fields into the case's data. */
export const set: StepInterpreter<SetStep> = {
  async run(step, rt) {
    const changes: Record<string, unknown> = {};
    for (const [field, expr] of Object.entries(step.fields)) changes[field] = fromCelValue(rt.plan.fields[field]!, rt.evaluate(expr));
    rt.state.data = { ...rt.state.data, ...changes };
    rt.record(step, { set: changes });
    return step.next;
  },
};
