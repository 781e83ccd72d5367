import type { Expr, FieldType, StepBase } from '../plan.js';
import type { Body, StepKind } from './kind.js';

/** The most iterations a loop may state: a longer list belongs in a sub-playbook's case of its own. */
export const MAX_ITERATIONS = 1_000;
/** The most iterations a loop may run at once. */
export const MAX_CONCURRENCY = 50;
/**
 * The most steps a loop may run in one case, its body's steps times its `max` (nested loops multiply):
 * what keeps a case's history within Temporal's limits (docs/playbook-language.md measures it).
 */
export const MAX_LOOP_STEPS = 5_000;

/** Names a loop's item may not take: the expressions' own roots. */
export const RESERVED_NAMES = ['data', 'policy', 'events', 'event', 'steps', 'now', 'opened_at', 'case_id', 'opened_by', 'shop'];

export interface ForEachStep extends StepBase {
  kind: 'for_each';
  /** The list walked, evaluated once when the step starts. */
  in: Expr;
  /** The item's name in the body's expressions. */
  as: string;
  /** The items' type, when the list is a declared list field; absent: `dyn`. */
  itemType?: FieldType;
  max: number;
  concurrency: number;
  body: Body;
  /** Evaluated at the end of each iteration: `steps.<id>.results` lists the values in the items' order. */
  collect?: Expr;
  /** Where a list longer than `max` goes; absent: the step fails (the case waits for repair). */
  onError?: string;
  next: string;
}

export interface RawForEach {
  in: string;
  as: string;
  max: number | string;
  concurrency?: number | string;
  steps: unknown[];
  collect?: string;
  on_error?: string;
}

export const forEach: StepKind<ForEachStep, RawForEach> = {
  kind: 'for_each',
  schema: '#/$defs/step/properties/for_each',
  waits: false,
  shape: 'loop',
  compile(raw, c) {
    const inExpr = c.expression(raw.in, [...c.path, 'in'], { field: { type: 'list', items: { type: 'string' } } });
    const taken = RESERVED_NAMES.includes(raw.as) || c.items.some((item) => item.name === raw.as);
    if (taken)
      c.error('PB312', `a loop's item cannot be named '${raw.as}': the name is taken`, [...c.path, 'as'], {
        hint: `${RESERVED_NAMES.join(', ')} and the items of enclosing loops are taken; name it after what the list holds`,
      });
    const max = bound(raw.max, [...c.path, 'max'], 1, MAX_ITERATIONS, c);
    const concurrency = raw.concurrency === undefined ? 1 : bound(raw.concurrency, [...c.path, 'concurrency'], 1, MAX_CONCURRENCY, c);
    const itemType = c.itemTypeOf(raw.in);
    const item = { name: raw.as, type: itemType };
    // A taken name is reported; the body is still checked, without the item.
    const body = c.body(raw.steps, [...c.path, 'steps'], taken ? undefined : item);
    const collect = raw.collect !== undefined && !taken ? c.scopedExpression(raw.collect, [...c.path, 'collect'], 'any', item) : undefined;
    if (!body) return undefined;
    // A bound refused is reported; 1 stands in for it, so the flow checks still see the loop.
    return {
      kind: 'for_each',
      in: inExpr,
      as: raw.as,
      ...(itemType ? { itemType } : {}),
      max: max ?? 1,
      concurrency: concurrency ?? 1,
      body,
      ...(collect ? { collect } : {}),
      ...(raw.on_error !== undefined ? { onError: c.ref(raw.on_error, [...c.path, 'on_error']) } : {}),
      next: c.next(),
    };
  },
  edges: (step) => [{ to: step.next, label: 'each done' }, ...(step.onError ? [{ to: step.onError, label: `more than ${step.max}` }] : [])],
  bodies: (step) => [{ label: `each ${step.as}${step.concurrency > 1 ? ` (${step.concurrency} at once)` : ''}`, body: step.body }],
  describe: (step) => `for each ${step.as} in ${step.in.cel} (at most ${step.max})`,
};

/** A whole number from `least` to `most`, written as a number or `policy.<name>`. */
function bound(value: number | string, path: (string | number)[], least: number, most: number, c: Parameters<typeof forEach.compile>[1]): number | undefined {
  let n: number | undefined;
  if (typeof value === 'number') n = value;
  else {
    const name = value.startsWith('policy.') ? value.slice('policy.'.length) : undefined;
    const policy = name === undefined ? undefined : c.declarations.policy[name];
    if (policy?.type !== 'integer') {
      c.error('PB313', `'${value}' is not a whole number or an integer policy value`, path, {
        hint: name === undefined ? `write a number from ${least} to ${most}` : c.hint(name, Object.keys(c.declarations.policy), 'declare it under policy'),
      });
      return undefined;
    }
    n = policy.value;
  }
  if (!Number.isInteger(n) || n < least || n > most) {
    c.error('PB313', `${value} is out of range: from ${least} to ${most}`, path, {
      hint: most === MAX_ITERATIONS ? 'a longer list belongs in a sub-playbook (kind playbook), one case per part' : undefined,
    });
    return undefined;
  }
  return n;
}
