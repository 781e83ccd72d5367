import type { Expr, FlagColor, StepBase } from '../plan.js';
import type { StepKind } from './kind.js';

export interface RemarkStep extends StepBase {
  kind: 'remark';
  /** Template-like text with `{{ expression }}` placeholders. */
  text: string;
  placeholders: Expr[];
  flag?: FlagColor;
  next: string;
}

export interface RawRemark {
  text: string;
  flag?: FlagColor;
}

export const remark: StepKind<RemarkStep, RawRemark> = {
  kind: 'remark',
  schema: '#/$defs/step/properties/remark',
  waits: false,
  shape: 'box',
  compile(raw, c) {
    const placeholders = c.placeholders(raw.text, [...c.path, 'text']);
    return { kind: 'remark', text: raw.text, placeholders, ...(raw.flag ? { flag: raw.flag } : {}), next: c.next() };
  },
  edges: (step) => [{ to: step.next }],
  describe: (step) => (step.flag ? `remark, flag ${step.flag}` : 'remark'),
  scenario: { list: 'remarks', entry: (record) => String(record.detail.remark) },
};
