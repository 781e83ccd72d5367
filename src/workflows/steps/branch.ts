import { clipText, MAX_EVIDENCE_ENTRIES } from '../../plan/evidence.js';
import type { BranchStep } from '../../plan/steps/index.js';
import type { StepInterpreter, StepRuntime } from './runtime.js';

/** Takes the first case whose condition holds, else `otherwise`, recording what the conditions read. */
export const branch: StepInterpreter<BranchStep> = {
  async run(step, rt) {
    return branchTo(step, rt);
  },
};

/** The step a branch goes to, recorded; at once, so that a side effect before it can look ahead through it (run-case.ts `rideAhead`). */
export function branchTo(step: BranchStep, rt: Pick<StepRuntime, 'evaluate' | 'evidence' | 'record'>): string {
  for (const [index, entry] of step.cases.entries()) {
    if (rt.evaluate(entry.when) === true) {
      rt.record(step, { case: index, when: entry.when.cel, goto: entry.next, values: rt.evidence(entry.when) });
      return entry.next;
    }
  }
  // Otherwise: what each condition that was false read, together (each term once, at most 16 in all).
  const values: Record<string, string> = {};
  for (const entry of step.cases) {
    for (const [term, value] of Object.entries(rt.evidence(entry.when))) {
      if (Object.keys(values).length >= MAX_EVIDENCE_ENTRIES) break;
      if (!(term in values)) values[term] = value;
    }
  }
  rt.record(step, { otherwise: step.otherwise, notTaken: step.cases.map((entry) => clipText(entry.when.cel)), values });
  return step.otherwise;
}
