import type { Expr, StepBase } from '../plan.js';
import type { StepKind } from './kind.js';

export interface SetStep extends StepBase {
  kind: 'set';
  fields: Record<string, Expr>;
  next: string;
}

export type RawSet = Record<string, string>;

export const set: StepKind<SetStep, RawSet> = {
  kind: 'set',
  schema: '#/$defs/step/properties/set',
  waits: false,
  shape: 'box',
  compile(raw, c) {
    const { fields } = c.declarations;
    const assigned: Record<string, Expr> = {};
    for (const [name, cel] of Object.entries(raw)) {
      const field = fields[name];
      if (!field) {
        c.error('PB116', `'${name}' is not a declared case field`, [...c.path, name], {
          key: true,
          hint: c.hint(name, Object.keys(fields), 'declare it under fields'),
        });
        continue;
      }
      assigned[name] = c.expression(cel, [...c.path, name], { field });
    }
    return { kind: 'set', fields: assigned, next: c.next() };
  },
  edges: (step) => [{ to: step.next }],
  describe: (step) => `set ${Object.keys(step.fields).join(', ')}`,
};
