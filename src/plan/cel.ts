/**
 * The expression environment shared by the compiler (type checking at publish time) and the
 * workflow (evaluation at run time), so that what was checked is exactly what runs.
 *
 * Variables visible to every expression:
 *   data      the case fields, typed from the playbook's `fields`
 *   policy    the policy values (durations are CEL durations, money is {amount, currency})
 *   events    the latest event of each declared name: `events.warehouse.received.at`, payload fields
 *             beside `at` (event names are dotted paths)
 *   now       the workflow's current time (a Temporal-deterministic timestamp)
 *   opened_at when the case was opened
 *   case_id   the case id
 *   steps     the answers of `call` steps whose operation declares a response: `steps.<id>.result.<property>`
 * In a wait's `where` condition, `event` is the arriving event's payload.
 *
 * Pure code: no I/O, no clock. Safe to import from workflow code.
 */
import { Environment } from '@marcbachmann/cel-js';
import { RE2JS } from 're2js';
import { LINEAR_MATCHES } from './cost.js';
import { endOfLocalDay } from './local-time.js';
import type { EventSpec, FieldSpec, FieldType, PolicyValue } from './plan.js';

export type CelEnvironment = Environment;

/** An expression parsed and type-checked in its environment, ready to evaluate against a context. */
export type ParsedExpression = ReturnType<Environment['parse']>;

const TIMESTAMP = 'google.protobuf.Timestamp';
const DURATION = 'google.protobuf.Duration';

export const EXPRESSION_LIMITS = {
  maxAstNodes: 400,
  maxDepth: 32,
  maxListElements: 200,
  maxMapEntries: 200,
  maxCallArguments: 16,
} as const;

/** Longest expression source accepted, in characters. */
export const MAX_EXPRESSION_LENGTH = 2000;

export interface ExpressionDeclarations {
  fields: Record<string, FieldSpec>;
  events: Record<string, EventSpec>;
  policy: Record<string, PolicyValue>;
  /** The playbook's time zone, for `end_of_day` (UTC when absent). */
  timezone?: string;
  /** The shop's profile: names, addresses, phone numbers templates quote. */
  shop?: Record<string, string>;
  /** The response declared for each `call` step's operation, by step id: what `steps.<id>.result` reads. */
  results?: Record<string, Record<string, FieldSpec>>;
  /** The loops that collect a value per item, by step id: `steps.<id>.results`, a list. */
  collected?: string[];
}

/** Longest span `end_of_day` accepts, in days either way: a playbook counts days, not centuries. */
const MAX_DAYS = 3660;

type Schema = { [key: string]: string | Schema };

function fieldTypeName(field: FieldType): string | Schema {
  switch (field.type) {
    case 'string':
    case 'enum':
      return 'string';
    case 'integer':
      return 'int';
    case 'boolean':
      return 'bool';
    case 'money':
      return { amount: 'int', currency: 'string' };
    case 'timestamp':
      return TIMESTAMP;
    case 'duration':
      return DURATION;
    case 'list': {
      const items = fieldTypeName(field.items);
      return typeof items === 'string' ? `list<${items}>` : 'list<dyn>';
    }
    case 'object':
      return fieldsSchema(field.fields);
  }
}

function fieldsSchema(fields: Record<string, FieldType>): Schema {
  const schema: Schema = {};
  for (const [name, spec] of Object.entries(fields)) schema[name] = fieldTypeName(spec);
  return schema;
}

function policySchema(policy: Record<string, PolicyValue>): Schema {
  const schema: Schema = {};
  for (const [name, value] of Object.entries(policy)) {
    schema[name] =
      value.type === 'duration'
        ? DURATION
        : value.type === 'integer'
          ? 'int'
          : value.type === 'boolean'
            ? 'bool'
            : value.type === 'string'
              ? 'string'
              : { amount: 'int', currency: 'string' };
  }
  return schema;
}

function eventsSchema(events: Record<string, EventSpec>): Schema {
  const schema: Schema = {};
  for (const [name, spec] of Object.entries(events)) {
    const path = name.split('.');
    let node = schema;
    for (const segment of path.slice(0, -1)) {
      const existing = node[segment];
      node = typeof existing === 'object' ? existing : (node[segment] = {});
    }
    node[path[path.length - 1]!] = { ...fieldsSchema(spec.payload), at: TIMESTAMP };
  }
  return schema;
}

function addObjectVariable(env: Environment, name: string, schema: Schema): Environment {
  // An empty schema cannot be registered as a type; an empty map behaves the same to expressions.
  if (Object.keys(schema).length === 0) return env.registerVariable(name, 'map');
  return env.registerVariable({ name, schema });
}

/** The environment for expressions outside a wait condition. */
export function expressionEnvironment(decls: ExpressionDeclarations): Environment {
  let env = new Environment({ limits: EXPRESSION_LIMITS, homogeneousAggregateLiterals: true });
  env = addObjectVariable(env, 'data', fieldsSchema(decls.fields));
  env = addObjectVariable(env, 'policy', policySchema(decls.policy));
  env = addObjectVariable(env, 'events', eventsSchema(decls.events));
  env = addObjectVariable(env, 'shop', Object.fromEntries(Object.keys(decls.shop ?? {}).map((key) => [key, 'string'])));
  const results = Object.entries(decls.results ?? {});
  const collected = decls.collected ?? [];
  if (results.length + collected.length > 0)
    env = addObjectVariable(env, 'steps', {
      ...Object.fromEntries(results.map(([id, fields]) => [id, { result: fieldsSchema(fields) }])),
      ...Object.fromEntries(collected.map((id) => [id, { results: 'list<dyn>' }])),
    });
  const timezone = decls.timezone ?? 'UTC';
  return env
    .registerVariable('now', TIMESTAMP)
    .registerVariable('opened_at', TIMESTAMP)
    .registerVariable('case_id', 'string')
    .registerVariable('opened_by', 'string')
    .registerFunction(`end_of_day(${TIMESTAMP}, int): ${TIMESTAMP}`, (at: Date, days: bigint) => {
      if (days < -MAX_DAYS || days > MAX_DAYS) throw new RangeError(`end_of_day counts at most ${MAX_DAYS} days, not ${days}`);
      return new Date(endOfLocalDay(at.getTime(), Number(days), timezone));
    })
    .registerFunction(`string.${LINEAR_MATCHES}(string): bool`, (text: string, pattern: string) => regularExpression(pattern).matcher(text).find());
}

/**
 * cel-js runs `matches` on JavaScript's backtracking RegExp, where `"a" * 30 + "!"` against `^(a+)+$`
 * takes minutes, and will not let it be registered again. Every expression is therefore parsed here,
 * its `matches` calls pointed at RE2's linear-time engine (re2js, pure JavaScript, CEL's own regular
 * expression syntax), and then type-checked, so that its nodes carry the types the cost model reads.
 */
export function parseExpression(env: Environment, cel: string): ParsedExpression {
  const parsed = env.parse(cel);
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) visit(item);
      return;
    }
    if (!node || typeof node !== 'object' || !('op' in node)) return;
    const { op, args } = node as { op: string; args: unknown };
    if (op === 'rcall' && Array.isArray(args) && args[0] === 'matches' && Array.isArray(args[2]) && args[2].length === 1) args[0] = LINEAR_MATCHES;
    if (Array.isArray(args)) visit(args);
  };
  visit((parsed as unknown as { ast: unknown }).ast);
  parsed.check();
  return parsed;
}

/** A pattern compiled by RE2; one that is not RE2 syntax (backreferences, lookaround) fails the expression. */
export function regularExpression(pattern: string): RE2JS {
  let compiled = compiledPatterns.get(pattern);
  if (!compiled) {
    try {
      compiled = RE2JS.compile(pattern);
    } catch (error) {
      throw new Error(`'${pattern.slice(0, 200)}' is not a regular expression RE2 accepts: ${(error as Error).message}`);
    }
    if (compiledPatterns.size >= MAX_COMPILED_PATTERNS) compiledPatterns.delete(compiledPatterns.keys().next().value!);
    compiledPatterns.set(pattern, compiled);
  }
  return compiled;
}

/** Compiled patterns, a pure function of their text (a pattern read from a case's data is compiled once per evaluation at worst). */
const compiledPatterns = new Map<string, RE2JS>();
const MAX_COMPILED_PATTERNS = 256;

/** The environment of a loop's body: adds each enclosing loop's item, typed from its list (`dyn` when unknown). */
export function itemEnvironment(base: Environment, items: { name: string; type?: FieldType | undefined }[]): Environment {
  let env = base.clone();
  for (const { name, type } of items) {
    const typeName = type ? fieldTypeName(type) : 'dyn';
    env = typeof typeName === 'string' ? env.registerVariable(name, typeName) : addObjectVariable(env, name, typeName);
  }
  return env;
}

/** A loop item or collected value kept as JSON, as an expression reads it: whole numbers as CEL integers. */
export function toCelDyn(value: unknown): unknown {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (Array.isArray(value)) return value.map(toCelDyn);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCelDyn(v)]));
  return value;
}

/** The environment for a wait's `where` condition on `eventName`: adds `event`, its payload. */
export function eventConditionEnvironment(base: Environment, event: EventSpec): Environment {
  return addObjectVariable(base.clone(), 'event', fieldsSchema(event.payload));
}

// ---- converting JSON values to CEL values and back ----

function celDurationFromMs(ms: number): unknown {
  return CelDuration.fromMilliseconds(Math.trunc(ms));
}
// cel-js compares durations by structure (seconds, nanos); its own class is not exported from the
// package root, so it is taken from a literal's value, once (parsing a literal per value cost about 5%
// of a workflow thread's time when every evaluation context built the policy's durations again).
const CelDuration = (new Environment().evaluate('duration("0s")') as { constructor: { fromMilliseconds(ms: number): unknown } }).constructor;

/** Converts one JSON value of a declared type into its CEL runtime value. */
export function toCelValue(type: FieldType, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  switch (type.type) {
    case 'integer':
      return BigInt(value as number);
    case 'money': {
      const money = value as { amount: number; currency: string };
      return { amount: BigInt(money.amount), currency: money.currency };
    }
    case 'timestamp':
      return new Date(value as string);
    case 'duration':
      return celDurationFromMs(value as number);
    case 'list':
      return (value as unknown[]).map((item) => toCelValue(type.items, item));
    case 'object':
      return toCelRecord(type.fields, value as Record<string, unknown>);
    default:
      return value;
  }
}

export function toCelRecord(fields: Record<string, FieldType>, values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(fields)) {
    if (Object.hasOwn(values, name) && values[name] !== undefined) {
      out[name] = toCelValue(spec, values[name]);
    }
  }
  return out;
}

export function toCelPolicy(policy: Record<string, PolicyValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(policy)) {
    out[name] =
      value.type === 'duration'
        ? celDurationFromMs(value.ms)
        : value.type === 'integer'
          ? BigInt(value.value)
          : value.type === 'money'
            ? { amount: BigInt(value.amount), currency: value.currency }
            : value.value;
  }
  return out;
}

/** A received event as the workflow keeps it: ISO time and JSON payload. */
export interface ReceivedEvent {
  at: string;
  payload: Record<string, unknown>;
}

export function toCelEvents(events: Record<string, EventSpec>, received: Record<string, ReceivedEvent>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const [name, event] of Object.entries(received)) {
    const spec = events[name];
    if (!spec) continue;
    const path = name.split('.');
    let node = root;
    for (const segment of path.slice(0, -1)) {
      node = (node[segment] ??= {}) as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = { ...toCelRecord(spec.payload, event.payload), at: new Date(event.at) };
  }
  return root;
}

/** The answers the case's `call` steps received (`results`, by step id), as `steps.<id>.result`; loops' collected lists as `steps.<id>.results`. */
export function toCelResults(
  declared: Record<string, Record<string, FieldSpec>>,
  received: Record<string, unknown>,
  collected: Record<string, unknown[]> = {},
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [id, values] of Object.entries(collected)) out[id] = { results: toCelDyn(values) };
  for (const [id, value] of Object.entries(received)) {
    const fields = declared[id];
    if (fields && value && typeof value === 'object') out[id] = { result: toCelRecord(fields, value as Record<string, unknown>) };
  }
  return out;
}

/** Converts a CEL result back into JSON for a declared type (BigInt → number, Date → ISO...). */
export function fromCelValue(type: FieldType, value: unknown): unknown {
  if (value === undefined || value === null) return value;
  switch (type.type) {
    case 'integer':
      return toSafeNumber(value);
    case 'money': {
      const money = value as { amount?: unknown; currency?: unknown } | Map<string, unknown>;
      const get = (key: string) => (money instanceof Map ? money.get(key) : (money as Record<string, unknown>)[key]);
      return { amount: toSafeNumber(get('amount')), currency: String(get('currency')) };
    }
    case 'timestamp':
      return (value as Date).toISOString();
    case 'duration':
      return celDurationToMs(value);
    case 'list':
      return (value as unknown[]).map((item) => fromCelValue(type.items, item));
    case 'object': {
      const out: Record<string, unknown> = {};
      const get = (key: string) => (value instanceof Map ? value.get(key) : (value as Record<string, unknown>)[key]);
      for (const [name, spec] of Object.entries(type.fields)) {
        const v = get(name);
        if (v !== undefined) out[name] = fromCelValue(spec, v);
      }
      return out;
    }
    default:
      return value;
  }
}

export function celDurationToMs(value: unknown): number {
  const duration = value as { seconds: bigint | number; nanos: number };
  return Number(duration.seconds) * 1000 + Math.trunc(duration.nanos / 1_000_000);
}

export function toSafeNumber(value: unknown): number {
  const n = typeof value === 'bigint' ? Number(value) : (value as number);
  if (!Number.isSafeInteger(n)) throw new RangeError(`integer out of range: ${String(value)}`);
  return n;
}

/** A CEL result as plain JSON (integers as numbers, timestamps as ISO text, maps as objects). */
export function jsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return toSafeNumber(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Map) return Object.fromEntries([...value.entries()].map(([k, v]) => [k, jsonValue(v)]));
  if (Array.isArray(value)) return value.map(jsonValue);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonValue(v)]));
  return value;
}
