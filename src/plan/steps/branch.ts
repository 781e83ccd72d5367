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
};
