import type { StepBase } from '../plan.js';
import type { StepKind } from './kind.js';

export interface EndStep extends StepBase {
  kind: 'end';
  outcome: string;
  reason: string;
}

export interface RawEnd {
  outcome: string;
  reason: string;
}

export const end: StepKind<EndStep, RawEnd> = {
  kind: 'end',
  schema: '#/$defs/step/properties/end',
  waits: false,
  shape: 'end',
  ends: true,
  compile(raw, c) {
    if (c.writtenNext !== undefined) c.error('PB107', 'an end step has no next step', [...c.path.slice(0, -1), 'next'], { key: true, hint: 'remove next' });
    return { kind: 'end', outcome: raw.outcome, reason: raw.reason };
  },
  edges: () => [],
  describe: (step) => `end: ${step.outcome} (${step.reason})`,
};
