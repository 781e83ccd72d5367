/**
 * Evidence: what a decision was taken on, in the words of the playbook and the values people read.
 * For a condition, its terms are the two operands of each comparison (<, <=, >, >=, ==, !=, in) and
 * every member path it reads (data.x, policy.y, events.z.at, now...), each as CEL source text printed
 * back from the cel-js AST (the AST's positions do not cover parentheses, so the text is printed, not
 * sliced). The workflow evaluates each term by parsing its text in the plan's environment.
 *
 * Pure: no I/O, no clock, no module state. Safe to import from workflow code.
 */
import { celDurationToMs, jsonValue } from './cel.js';
import type { CelNode } from './cost.js';
import { formatDuration } from './duration.js';
import { localParts } from './local-time.js';
import { displayValue } from './template.js';

/** The most terms one decision records. */
export const MAX_EVIDENCE_ENTRIES = 16;
/** The longest text of a term or of its value. */
export const MAX_EVIDENCE_TEXT = 200;
/** About the most JSON text a recorded result or payload keeps. */
export const MAX_EVIDENCE_JSON = 2048;

const COMPARISONS = new Set(['<', '<=', '>', '>=', '==', '!=', 'in']);
const COMPREHENSIONS = new Set(['map', 'filter', 'all', 'exists', 'exists_one', 'existsOne']);

/** Binding strength of each operator: a child binding less than its place asks is parenthesized. */
const PRECEDENCE: Record<string, number> = {
  '?:': 0,
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  in: 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
  '%': 6,
  '!_': 7,
  '-_': 7,
};
const POSTFIX = 8;

const isNode = (value: unknown): value is CelNode => !!value && typeof value === 'object' && 'op' in value && typeof (value as CelNode).op === 'string';

// ---- the printer ----

/** CEL source text of a literal value as the parser holds it. */
function printLiteral(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return `double(${JSON.stringify(String(value))})`;
    const text = String(value);
    return /[.eE]/.test(text) ? text : `${text}.0`;
  }
  if (value instanceof Uint8Array) return `b"${[...value].map((byte) => `\\x${byte.toString(16).padStart(2, '0')}`).join('')}"`;
  // cel-js's UnsignedInt: its valueOf is the bigint.
  if (value && typeof value === 'object' && typeof (value as { valueOf(): unknown }).valueOf() === 'bigint')
    return `${String((value as { valueOf(): bigint }).valueOf())}u`;
  return JSON.stringify(String(value));
}

function precedenceOf(node: CelNode): number {
  if (node.op === 'value' && ((typeof node.args === 'bigint' && node.args < 0n) || (typeof node.args === 'number' && node.args < 0))) return PRECEDENCE['-_']!;
  return PRECEDENCE[node.op] ?? POSTFIX;
}

/** CEL source text of an AST node; parsed again it gives the same AST (parentheses only where needed). */
export function printCel(node: CelNode): string {
  return print(node, 0);
}

function print(node: CelNode, place: number): string {
  const text = printBare(node);
  return precedenceOf(node) < place ? `(${text})` : text;
}

function printBare(node: CelNode): string {
  const args = node.args as unknown;
  const list = (items: unknown[]) => items.map((item) => print(item as CelNode, 0)).join(', ');
  switch (node.op) {
    case 'value':
      return printLiteral(args);
    case 'id':
      return String(args);
    case '.':
    case '.?': {
      const [object, field] = args as [CelNode, string];
      return `${print(object, POSTFIX)}${node.op}${field}`;
    }
    case '[]':
    case '[?]': {
      const [object, index] = args as [CelNode, CelNode];
      return `${print(object, POSTFIX)}${node.op === '[]' ? '[' : '[?'}${print(index, 0)}]`;
    }
    case 'call': {
      const [name, callArgs] = args as [string, unknown[]];
      return `${name}(${list(callArgs)})`;
    }
    case 'rcall': {
      const [name, receiver, callArgs] = args as [string, CelNode, unknown[]];
      return `${print(receiver, POSTFIX)}.${name}(${list(callArgs)})`;
    }
    case 'list':
      return `[${list(args as unknown[])}]`;
    case 'map':
      return `{${(args as [CelNode, CelNode][]).map(([key, value]) => `${print(key, 0)}: ${print(value, 0)}`).join(', ')}}`;
    case '?:': {
      const [test, yes, no] = args as [CelNode, CelNode, CelNode];
      return `${print(test, 1)} ? ${print(yes, 0)} : ${print(no, 0)}`;
    }
    case '!_':
    case '-_': {
      const operand = print(args as CelNode, PRECEDENCE[node.op]!);
      const sign = node.op === '!_' ? '!' : '-';
      // `- -x`, not `--x`.
      return operand.startsWith(sign) ? `${sign} ${operand}` : `${sign}${operand}`;
    }
    default: {
      const precedence = PRECEDENCE[node.op];
      if (precedence === undefined || !Array.isArray(args) || args.length !== 2) throw new Error(`cannot print CEL node '${node.op}'`);
      const [left, right] = args as [CelNode, CelNode];
      return `${print(left, precedence)} ${node.op} ${print(right, precedence + 1)}`;
    }
  }
}

// ---- what a condition reads ----

/** The variables a comprehension binds (`x` in `list.exists(x, x > 1)`). */
function boundBy(node: CelNode): string[] {
  if (node.op !== 'rcall' || !Array.isArray(node.args) || !COMPREHENSIONS.has(node.args[0] as string)) return [];
  const body = node.args[2] as CelNode[];
  const bound: string[] = [];
  if (isNode(body[0]) && body[0].op === 'id') bound.push(body[0].args as string);
  if (body.length === 3 && node.args[0] !== 'map' && node.args[0] !== 'filter' && isNode(body[1]) && body[1].op === 'id') bound.push(body[1].args as string);
  return bound;
}

/** The child nodes of a node, each with the variables bound inside it. */
function children(node: CelNode, bound: ReadonlySet<string>): { node: CelNode; bound: ReadonlySet<string> }[] {
  const binds = boundBy(node);
  if (binds.length > 0) {
    const args = node.args as [string, CelNode, CelNode[]];
    const inner = new Set([...bound, ...binds]);
    return [{ node: args[1], bound }, ...args[2].slice(binds.length).map((child) => ({ node: child, bound: inner }))];
  }
  const found: { node: CelNode; bound: ReadonlySet<string> }[] = [];
  const collect = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(collect);
    else if (isNode(value)) found.push({ node: value, bound });
  };
  collect(node.args);
  return found;
}

/** `data.a.b` for a chain of field selections from a variable, else undefined. */
function memberPath(node: CelNode): string | undefined {
  if (node.op === 'id' && typeof node.args === 'string') return node.args;
  if (node.op === '.' && Array.isArray(node.args) && isNode(node.args[0]) && typeof node.args[1] === 'string') {
    const parent = memberPath(node.args[0]);
    return parent === undefined ? undefined : `${parent}.${node.args[1]}`;
  }
  return undefined;
}

/** The variable a member chain starts from. */
const rootOf = (path: string) => path.split('.')[0]!;

/** Whether a node reads a variable bound by an enclosing comprehension. */
function readsBound(node: CelNode, bound: ReadonlySet<string>): boolean {
  if (bound.size === 0) return false;
  if (node.op === 'id') return bound.has(node.args as string);
  return children(node, bound).some((child) => readsBound(child.node, bound));
}

/** Whether a node is a constant: a literal, or a list, map or negation of constants. */
function isConstant(node: CelNode): boolean {
  if (node.op === 'value') return true;
  if (node.op === '-_' || node.op === '!_') return isConstant(node.args as CelNode);
  if (node.op === 'list') return (node.args as CelNode[]).every(isConstant);
  if (node.op === 'map') return (node.args as [CelNode, CelNode][]).every(([key, value]) => isConstant(key) && isConstant(value));
  return false;
}

/** The operands of the condition's comparisons, in source order, constants left out (their value is their text). */
export function comparisonOperands(ast: CelNode): string[] {
  const out: string[] = [];
  const visit = (node: CelNode, bound: ReadonlySet<string>) => {
    if (COMPARISONS.has(node.op) && Array.isArray(node.args) && node.args.length === 2) {
      for (const operand of node.args as CelNode[]) {
        if (!isConstant(operand) && !readsBound(operand, bound)) out.push(printCel(operand));
      }
    }
    for (const child of children(node, bound)) visit(child.node, child.bound);
  };
  visit(ast, new Set());
  return unique(out);
}

/** The member paths the condition reads (`data.signed_at`, `policy.return_window`, `now`), in source order. */
export function memberPaths(ast: CelNode): string[] {
  const out: string[] = [];
  const visit = (node: CelNode, bound: ReadonlySet<string>) => {
    const path = memberPath(node);
    if (path !== undefined) {
      if (!bound.has(rootOf(path))) out.push(path);
      return;
    }
    for (const child of children(node, bound)) visit(child.node, child.bound);
  };
  visit(ast, new Set());
  return unique(out);
}

/** What a condition's evidence shows, in order: comparison operands, then member paths; each once. */
export function evidenceTerms(ast: CelNode): string[] {
  return unique([...comparisonOperands(ast), ...memberPaths(ast)]);
}

const unique = (items: string[]) => [...new Set(items)];

// ---- values as people read them ----

/** `text`, cut to `max` characters. */
export function clipText(text: string, max = MAX_EVIDENCE_TEXT): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** `2d 3h`, `20h 41m 5s`, `-3h`: a span as people read it. */
export function readableDuration(ms: number): string {
  const text = formatDuration(Math.abs(ms)).replace(/([dhms])(?=[0-9])/g, '$1 ');
  return ms < 0 && text !== '0s' ? `-${text}` : text;
}

/** ISO 8601 text of an instant in a time zone, with its offset: `2026-11-20T09:00:00+08:00`. */
export function isoInZone(ms: number, timeZone: string): string {
  const parts = localParts(ms, timeZone);
  const seconds = Math.floor(ms / 1000) * 1000;
  const offset = Math.round((Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second) - seconds) / 60_000);
  const two = (n: number) => String(n).padStart(2, '0');
  const millis = ms - seconds;
  const zone = offset === 0 ? 'Z' : `${offset < 0 ? '-' : '+'}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
  return (
    `${String(parts.year).padStart(4, '0')}-${two(parts.month)}-${two(parts.day)}T${two(parts.hour)}:${two(parts.minute)}:${two(parts.second)}` +
    `${millis ? `.${String(millis).padStart(3, '0')}` : ''}${zone}`
  );
}

const isCelDuration = (value: unknown): boolean => !!value && typeof value === 'object' && 'seconds' in value && 'nanos' in value;

/**
 * A CEL value as an auditor reads it: spans `2d 3h`, instants ISO in the playbook's zone, money
 * `199.00 CNY`, booleans, numbers and strings as they are, anything else as JSON; at most 200 characters.
 */
export function evidenceText(value: unknown, timeZone: string): string {
  let text: string;
  if (value instanceof Date) text = isoInZone(value.getTime(), timeZone);
  else if (isCelDuration(value)) text = readableDuration(celDurationToMs(value));
  else if (value === null || value === undefined) text = 'null';
  else if (typeof value === 'string') text = value;
  else if (typeof value === 'bigint' || typeof value === 'boolean' || typeof value === 'number') text = String(value);
  else if (typeof value === 'object' && typeof (value as { valueOf(): unknown }).valueOf() === 'bigint')
    text = String((value as { valueOf(): bigint }).valueOf());
  else text = displayValue(value, timeZone);
  return clipText(text);
}

/** The first line of an error's message, as evidence (an operand that cannot be evaluated is shown so). */
export function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return clipText(`error: ${message.split('\n')[0]}`);
}

/**
 * A JSON value kept to about `limit` characters of JSON: whole when it fits, else an object keeps its
 * keys with each value cut to what room is left, and anything else is cut as text.
 */
export function boundedJson(value: unknown, limit = MAX_EVIDENCE_JSON): unknown {
  const plain = jsonValue(value);
  const json = JSON.stringify(plain) ?? 'null';
  if (json.length <= limit) return plain ?? null;
  if (plain && typeof plain === 'object' && !Array.isArray(plain)) {
    const out: Record<string, unknown> = {};
    const entries = Object.entries(plain as Record<string, unknown>);
    let used = 2;
    for (const [index, [key, item]] of entries.entries()) {
      const room = limit - used - key.length - 6;
      if (room < 16) {
        out['…'] = `${entries.length - index} more keys`;
        break;
      }
      const text = JSON.stringify(item) ?? 'null';
      const kept = text.length <= room ? item : clipText(text, Math.min(room, MAX_EVIDENCE_TEXT));
      out[key] = kept;
      used += key.length + 6 + (text.length <= room ? text.length : String(kept).length);
    }
    return out;
  }
  return clipText(json, limit);
}
