import type { StepBase } from '../plan.js';
import type { Body, StepKind } from './kind.js';

/**
 * How a parallel block ends: `all` when every branch is done; `any` when the first branch is done (a
 * branch whose step fails for good is out; all of them out fails the block); `first` when the first
 * branch finishes however (done, or failed: then the block fails).
 */
export type Join = 'all' | 'any' | 'first';

export interface ParallelBranch {
  id: string;
  body: Body;
  /** Run, not cancellable, when the branch is cancelled (it lost the race, or the case was cancelled or ended). */
  cleanup?: Body;
}

export interface ParallelStep extends StepBase {
  kind: 'parallel';
  join: Join;
  branches: ParallelBranch[];
  next: string;
}

export interface RawParallel {
  join?: Join;
  branches: { id: string; steps: unknown[]; cleanup?: unknown[] }[];
}

export const parallel: StepKind<ParallelStep, RawParallel> = {
  kind: 'parallel',
  schema: '#/$defs/step/properties/parallel',
  waits: false,
  shape: 'fork',
  compile(raw, c) {
    const seen = new Set<string>();
    const branches: ParallelBranch[] = [];
    raw.branches.forEach((branch, i) => {
      const path = [...c.path, 'branches', i];
      if (seen.has(branch.id)) c.error('PB311', `the parallel step lists branch '${branch.id}' twice`, [...path, 'id']);
      seen.add(branch.id);
      const body = c.body(branch.steps, [...path, 'steps']);
      const cleanup = branch.cleanup ? c.body(branch.cleanup, [...path, 'cleanup']) : undefined;
      if (body) branches.push({ id: branch.id, body, ...(cleanup ? { cleanup } : {}) });
    });
    return { kind: 'parallel', join: raw.join ?? 'all', branches, next: c.next() };
  },
  edges: (step) => [{ to: step.next, label: `joined (${step.join})` }],
  bodies: (step) =>
    step.branches.flatMap((branch) => [
      { label: `branch ${branch.id}`, body: branch.body },
      ...(branch.cleanup ? [{ label: `cleanup ${branch.id}`, body: branch.cleanup }] : []),
    ]),
  describe: (step) => `parallel (${step.join}): ${step.branches.map((b) => b.id).join(' / ')}`,
};
