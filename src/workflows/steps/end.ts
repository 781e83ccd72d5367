import type { EndStep } from '../../plan/steps/index.js';
import type { StepInterpreter } from './runtime.js';

/** Ends the case with the step's outcome. */
export const end: StepInterpreter<EndStep> = {
  async run(step, rt) {
    rt.record(step, { outcome: step.outcome, reason: step.reason });
    await rt.finish(step.outcome, step.reason);
    return undefined;
  },
};
