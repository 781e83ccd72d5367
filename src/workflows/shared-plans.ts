/**
 * One copy per plan of what every case of the plan reads but never changes: the plan itself (frozen)
 * and its compiled CEL expressions. The worker preloads this module once per worker thread (see
 * src/stack/workflow-bundler.ts), so the cache and the CEL library it loads are shared by all the
 * workflows of the thread instead of being built again in each; a cached waiting case then holds its
 * own state only. Deterministic: an entry is a pure function of the plan, keyed by its content hash.
 */
import {
  eventConditionEnvironment,
  expressionEnvironment,
  itemEnvironment,
  parseExpression,
  toCelPolicy,
  type CelEnvironment,
  type ParsedExpression,
} from '../plan/cel.js';
import type { FieldSpec, FieldType, Plan } from '../plan/plan.js';
import { resultsOf } from '../plan/steps/index.js';

export type { ParsedExpression };

/** Plans kept at most; the oldest is dropped first (a case whose plan was dropped compiles it again). */
const MAX_PLANS = 64;

export class SharedPlan {
  private readonly env: CelEnvironment;
  private readonly eventEnvs = new Map<string, CelEnvironment>();
  private readonly itemEnvs = new Map<string, CelEnvironment>();
  private readonly parsed = new Map<string, ParsedExpression>();

  readonly plan: Plan;
  /** The response each call step's operation declares, by step id (`steps.<id>.result`). */
  readonly results: Record<string, Record<string, FieldSpec>>;
  /** The policy's values as CEL reads them (`policy.<name>`), built once for every case of the plan. */
  readonly policy: Record<string, unknown>;

  constructor(plan: Plan) {
    this.plan = deepFreeze(plan);
    this.results = resultsOf(plan);
    this.policy = Object.freeze(toCelPolicy(plan.policy));
    const collected = Object.values(plan.steps).flatMap((step) => (step.kind === 'for_each' && step.collect ? [step.id] : []));
    this.env = expressionEnvironment({ ...plan, results: this.results, collected });
  }

  /** An expression over the case (data, policy, events, now...), parsed once per plan; in a loop's body, `items` are its loops' items. */
  expression(cel: string, items: readonly ScopeItem[] = []): ParsedExpression {
    if (items.length === 0) return this.parse(cel, () => this.env, cel);
    const scope = scopeKey(items);
    return this.parse(`${scope}\u0000${cel}`, () => this.itemEnv(scope, items), cel);
  }

  /** A wait's `where` condition on an event of type `eventType` (`event` is its payload). */
  condition(eventType: string, cel: string, items: readonly ScopeItem[] = []): ParsedExpression {
    if (items.length === 0) return this.parse(`${eventType}\u0000${cel}`, () => this.eventEnv(eventType), cel);
    const scope = scopeKey(items);
    return this.parse(`${eventType}\u0000${scope}\u0000${cel}`, () => eventConditionEnvironment(this.itemEnv(scope, items), this.plan.events[eventType]!), cel);
  }

  private eventEnv(eventType: string): CelEnvironment {
    let env = this.eventEnvs.get(eventType);
    if (!env) this.eventEnvs.set(eventType, (env = eventConditionEnvironment(this.env, this.plan.events[eventType]!)));
    return env;
  }

  private itemEnv(scope: string, items: readonly ScopeItem[]): CelEnvironment {
    let env = this.itemEnvs.get(scope);
    if (!env) this.itemEnvs.set(scope, (env = itemEnvironment(this.env, [...items])));
    return env;
  }

  private parse(key: string, env: () => CelEnvironment, cel: string): ParsedExpression {
    let parsed = this.parsed.get(key);
    if (!parsed) this.parsed.set(key, (parsed = parseExpression(env(), cel)));
    return parsed;
  }
}

/** A loop's item as its body's expressions are checked: its name and type (undefined: `dyn`). */
interface ScopeItem {
  name: string;
  type: FieldType | undefined;
}

/** The items' names and types: the environment an expression of a body is parsed in. */
const scopeKey = (items: readonly ScopeItem[]): string => JSON.stringify(items.map((item) => [item.name, item.type ?? null]));

const plans = new Map<string, SharedPlan>();

/** The shared entry of the plan with content hash `hash`; `plan` is used the first time it is seen. */
export function sharedPlan(hash: string, plan: Plan): SharedPlan {
  let shared = plans.get(hash);
  if (!shared) {
    if (plans.size >= MAX_PLANS) plans.delete(plans.keys().next().value!);
    plans.set(hash, (shared = new SharedPlan(plan)));
  }
  return shared;
}

/** Shared by every case of the plan: a step that wrote into it would leak into the others, so it throws instead. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
