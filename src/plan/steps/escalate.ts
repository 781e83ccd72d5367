import type { Expr, Severity, StepBase } from '../plan.js';
import type { StepKind } from './kind.js';

export interface EscalateStep extends StepBase {
  kind: 'escalate';
  queue: string;
  severity: Severity;
  reason: string;
  note?: Expr;
  next: string;
}

export interface RawEscalate {
  queue: string;
  severity: Severity;
  reason: string;
  note?: string;
}

export const escalate: StepKind<EscalateStep, RawEscalate> = {
  kind: 'escalate',
  schema: '#/$defs/step/properties/escalate',
  waits: false,
  shape: 'box',
  compile(raw, c) {
    return {
      kind: 'escalate',
      queue: raw.queue,
      severity: raw.severity,
      reason: raw.reason,
      ...(raw.note !== undefined ? { note: c.expression(raw.note, [...c.path, 'note'], 'string') } : {}),
      next: c.next(),
    };
  },
  edges: (step) => [{ to: step.next }],
  describe: (step) => `escalate to ${step.queue} (${step.severity})`,
};
