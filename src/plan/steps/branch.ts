import { clipText, MAX_EVIDENCE_ENTRIES } from '../evidence.js';
import type { Expr, StepBase } from '../plan.js';
import type { StepKind } from './kind.js';

export interface BranchStep extends StepBase {
  kind: 'branch';
  cases: { when: Expr; next: string }[];
  otherwise: string;
}

export interface RawBranch {
  cases: { when: string; goto: string }[];
  otherwise?: string;
}

export const branch: StepKind<BranchStep, RawBranch> = {
  kind: 'branch',
  schema: '#/$defs/step/properties/branch',
  waits: false,
  shape: 'decision',
  compile(raw, c) {
    const cases = raw.cases.map((entry, i) => ({
      when: c.expression(entry.when, [...c.path, 'cases', i, 'when'], 'bool'),
      next: c.ref(entry.goto, [...c.path, 'cases', i, 'goto']),
    }));
    return { kind: 'branch', cases, otherwise: c.next(raw.otherwise, [...c.path, 'otherwise']) };
  },
  edges: (step) => [...step.cases.map((entry) => ({ to: entry.next, label: entry.when.cel })), { to: step.otherwise, label: 'otherwise' }],
  describe: () => 'branch',
  async run(step, rt) {
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
  },
};
