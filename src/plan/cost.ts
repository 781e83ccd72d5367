/**
 * What an expression may cost to evaluate, bounded before it runs: at publish time with the largest
 * lists the case may hold, and again at run time with the sizes the case's lists and strings really
 * have. The model is Kubernetes' CEL cost estimate: one unit per node, a comprehension costs its body
 * once per element of the list it walks, and nested comprehensions multiply. What reads or builds text
 * costs by its length too: a string function or operator one unit per ten characters it reads or
 * writes, `matches` the text's length times its pattern's length in tens (RE2's linear-time matching
 * reads each character once per pattern instruction), plus two units per pattern character to compile it. An expression within the budget therefore runs
 * in milliseconds whatever the case holds.
 */
import type { Plan } from './plan.js';
import type { ForEachStep } from './steps/for-each.js';

/** A cel-js AST node: an operator and its arguments (nodes, names or literal values), with its checked type. */
export interface CelNode {
  op: string;
  args: unknown;
  start?: number;
  end?: number;
  checkedType?: { name: string };
}

/** The most an expression may cost, at publish time and at run time alike. */
export const MAX_EXPRESSION_COST = 100_000;

/**
 * The most the expressions a case's steps evaluate within one workflow task may cost together: ten at
 * the budget, a second at worst, far below the five seconds after which the SDK interrupts a task's code
 * (which aborts the whole process). A chain of steps that never waits could otherwise add up without end.
 */
export const MAX_TASK_COST = 10 * MAX_EXPRESSION_COST;

/** The longest list a case's data or an event's payload may hold (checked at the edge). */
export const MAX_LIST_ITEMS = 1_000;

/** What `matches` calls are renamed to when parsed (src/plan/cel.ts), so that they run on RE2. */
export const LINEAR_MATCHES = '__re2_matches';

const COMPREHENSIONS = new Set(['map', 'filter', 'all', 'exists', 'exists_one', 'existsOne']);

/** String functions that return a text as long as their receiver at most. */
const SAME_LENGTH = new Set(['trim', 'lowerAscii', 'upperAscii', 'substring']);
/** String functions that read their receiver and arguments once. */
const READS_TEXT = new Set(['startsWith', 'endsWith', 'contains', 'indexOf', 'lastIndexOf', 'split', ...SAME_LENGTH]);
/** Operators that read or build whole strings or lists. */
const WHOLE_VALUE_OPERATORS = new Set(['+', '==', '!=', '<', '<=', '>', '>=']);

/**
 * How long the strings and lists an expression reads are, by member path (`data.items`, and
 * `data.items[].name` for the longest of its items' names): their real lengths at run time, unknown
 * (undefined) at publish time.
 */
export type ListSizes = (path: string) => number | undefined;

export interface CostEstimate {
  cost: number;
  /** The costliest comprehension, to point at when the estimate is too high. */
  at?: { start: number; end: number };
}

/** A comprehension variable: the member path of the items it walks (when they come from one), and how long an item may be. */
interface Bound {
  path?: string;
  extent: number;
}
type Scope = ReadonlyMap<string, Bound>;

/**
 * The estimated cost of evaluating `ast` (checked, so that its nodes have types). `longestText` is
 * what a string whose length is not known counts: at run time the longest string the case holds, at
 * publish time 0 (a string's length is not known until a case runs, where it is counted).
 */
export function estimateCost(ast: CelNode, sizes: ListSizes = () => undefined, longestText = 0): CostEstimate {
  let worst: { cost: number; start: number; end: number } | undefined;

  const fallback = (node: CelNode, role: 'list' | 'text'): number => {
    const type = node.checkedType?.name ?? 'dyn';
    return role === 'list' || type.startsWith('list') || type.startsWith('map') ? MAX_LIST_ITEMS : longestText;
  };

  /** The member path `node` reads (`data.items`, `data.items[].name` through a comprehension variable). */
  const pathOf = (node: CelNode, scope: Scope): string | undefined => {
    if (node.op === 'id' && typeof node.args === 'string') return scope.has(node.args) ? scope.get(node.args)!.path : node.args;
    if (node.op === '.' && Array.isArray(node.args) && typeof node.args[1] === 'string') {
      const parent = pathOf(node.args[0] as CelNode, scope);
      return parent === undefined ? undefined : `${parent}.${node.args[1]}`;
    }
    return undefined;
  };

  /** The length of a string or list value (characters, items), at most; 0 for other values. */
  const extent = (node: CelNode, scope: Scope, role: 'list' | 'text' = 'text'): number => {
    const args = Array.isArray(node.args) ? (node.args as unknown[]) : [];
    switch (node.op) {
      case 'value':
        return typeof node.args === 'string' ? node.args.length : node.args instanceof Uint8Array ? node.args.length : 0;
      case 'list':
      case 'map':
        return args.length;
      case 'id':
      case '.': {
        if (node.op === 'id' && typeof node.args === 'string' && scope.get(node.args)?.path === undefined && scope.has(node.args))
          return scope.get(node.args)!.extent;
        const path = pathOf(node, scope);
        const size = path === undefined ? undefined : sizes(path);
        if (size !== undefined) return size;
        return isLengthy(node) ? fallback(node, role) : 0;
      }
      case '+':
        return isLengthy(node) ? args.reduce((sum: number, part) => sum + extent(part as CelNode, scope, role), 0) : 0;
      case '?:':
        return Math.max(extent(args[1] as CelNode, scope, role), extent(args[2] as CelNode, scope, role));
      case '[]':
        return isLengthy(node) ? elementExtent(args[0] as CelNode, scope) : 0;
      case 'rcall': {
        const [name, receiver, params] = args as [string, CelNode, CelNode[]];
        if (SAME_LENGTH.has(name) || name === 'filter') return extent(receiver, scope, name === 'filter' ? 'list' : 'text');
        if (name === 'map') return extent(receiver, scope, 'list');
        if (name === 'split') return extent(receiver, scope) + 1;
        if (name === 'join') return extent(receiver, scope, 'list') * (elementExtent(receiver, scope) + (params[0] ? extent(params[0], scope) : 0));
        return isLengthy(node) ? fallback(node, role) : 0;
      }
      case 'call': {
        const [name, params] = args as [string, CelNode[]];
        if ((name === 'string' || name === 'bytes' || name === 'dyn') && params[0]) return Math.max(extent(params[0], scope, role), 32);
        return isLengthy(node) ? fallback(node, role) : 0;
      }
      default:
        return isLengthy(node) ? fallback(node, role) : 0;
    }
  };

  /** How long an item of a list value may be. */
  const elementExtent = (list: CelNode, scope: Scope): number => {
    const path = pathOf(list, scope);
    if (path !== undefined) return sizes(`${path}[]`) ?? longestText;
    const args = Array.isArray(list.args) ? (list.args as unknown[]) : [];
    if (list.op === 'list') return args.reduce((most: number, item) => Math.max(most, extent(item as CelNode, scope)), 0);
    if (list.op === '+') return args.reduce((most: number, part) => Math.max(most, elementExtent(part as CelNode, scope)), 0);
    if (list.op === 'rcall') {
      const [name, receiver, params] = args as [string, CelNode, CelNode[]];
      if (name === 'split') return extent(receiver, scope);
      if (name === 'filter') return elementExtent(receiver, scope);
      if (name === 'map') return extent(params[params.length - 1]!, bind(params[0]!, receiver, scope));
    }
    return longestText;
  };

  /** The scope inside a comprehension whose variable `variable` walks `receiver`. */
  const bind = (variable: CelNode, receiver: CelNode, scope: Scope): Scope => {
    if (typeof variable.args !== 'string') return scope;
    const path = pathOf(receiver, scope);
    const inner = new Map(scope);
    inner.set(variable.args, path === undefined ? { extent: elementExtent(receiver, scope) } : { path: `${path}[]`, extent: elementExtent(receiver, scope) });
    return inner;
  };

  const visit = (node: CelNode, scope: Scope): number => {
    const args = Array.isArray(node.args) ? (node.args as unknown[]) : [];
    if (node.op === 'rcall' && COMPREHENSIONS.has(args[0] as string)) {
      const receiver = args[1] as CelNode;
      const [variable, ...body] = args[2] as CelNode[];
      const inner = variable ? bind(variable, receiver, scope) : scope;
      const cost = visit(receiver, scope) + extent(receiver, scope, 'list') * (1 + body.reduce((sum, part) => sum + visit(part, inner), 0));
      if (node.start !== undefined && node.end !== undefined && (!worst || cost > worst.cost)) worst = { cost, start: node.start, end: node.end };
      return cost;
    }
    return 1 + childNodes(node).reduce((sum, child) => sum + visit(child, scope), 0) + ownCost(node, scope);
  };

  /** What a node costs beyond one unit: the text or list it reads or builds. */
  const ownCost = (node: CelNode, scope: Scope): number => {
    const args = Array.isArray(node.args) ? (node.args as unknown[]) : [];
    if (node.op === 'rcall') {
      const [name, receiver, params] = args as [string, CelNode, CelNode[]];
      if (name === 'matches' || name === LINEAR_MATCHES) {
        const pattern = extent(params[0]!, scope);
        // Compiling the pattern: two units a character (a pattern may come from the case's data).
        return extent(receiver, scope) * Math.max(1, Math.ceil(pattern / 10)) + 2 * pattern;
      }
      if (READS_TEXT.has(name)) return tenths(extent(receiver, scope) + params.reduce((sum, p) => sum + extent(p, scope), 0));
      if (name === 'join') return tenths(extent(node, scope));
      // Any other method of a string (`size()` counts its code points) reads it once.
      return isText(receiver) ? tenths(extent(receiver, scope)) : 0;
    }
    // A conversion or `size(...)` of a string reads it once.
    if (node.op === 'call') return tenths((args[1] as CelNode[]).reduce((sum, p) => sum + (isText(p) ? extent(p, scope) : 0), 0));
    if (node.op === 'in') return extent(args[1] as CelNode, scope, 'list');
    if (WHOLE_VALUE_OPERATORS.has(node.op) && args.length === 2 && args.some((a) => isLengthy(a as CelNode))) {
      return tenths(extent(args[0] as CelNode, scope) + extent(args[1] as CelNode, scope));
    }
    return 0;
  };

  const cost = visit(ast, new Map());
  return { cost, ...(worst ? { at: { start: worst.start, end: worst.end } } : {}) };
}

const tenths = (length: number) => Math.ceil(length / 10);

/** Whether a node's value may be a string or bytes (its checked type, `dyn` included). */
function isText(node: CelNode): boolean {
  const type = node.checkedType?.name ?? 'dyn';
  return type === 'string' || type === 'bytes' || type === 'dyn';
}

/** Whether a node's value may be a string, bytes, a list or a map (its checked type, `dyn` included). */
function isLengthy(node: CelNode): boolean {
  const type = node.checkedType?.name ?? 'dyn';
  return type === 'string' || type === 'bytes' || type === 'dyn' || type.startsWith('list') || type.startsWith('map');
}

function childNodes(node: CelNode): CelNode[] {
  const found: CelNode[] = [];
  const collect = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(collect);
    else if (value && typeof value === 'object' && 'op' in value) found.push(value as CelNode);
  };
  collect(node.args);
  return found;
}

/**
 * How many steps a loop may run in one visit: its body's steps times its `max`, a nested loop counting
 * its own, a parallel block its branches' and cleanups'. What the history of a case grows by, bounded
 * at publish (MAX_LOOP_STEPS in src/plan/steps/for-each.ts).
 */
export function loopSteps(steps: Plan['steps'], loop: ForEachStep): number {
  return loop.max * bodySteps(steps, loop.body.steps, 0);
}

function bodySteps(steps: Plan['steps'], ids: string[], depth: number): number {
  if (depth > 32) return Infinity;
  return ids.reduce((sum, id) => {
    const step = steps[id];
    if (step?.kind === 'for_each') return sum + 1 + step.max * bodySteps(steps, step.body.steps, depth + 1);
    if (step?.kind === 'parallel')
      return sum + 1 + step.branches.reduce((n, b) => n + bodySteps(steps, [...b.body.steps, ...(b.cleanup?.steps ?? [])], depth + 1), 0);
    return sum + 1;
  }, 0);
}
