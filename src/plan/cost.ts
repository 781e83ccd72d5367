/**
 * What an expression may cost to evaluate, bounded before it runs: at publish time with the largest
 * lists the case may hold, and again at run time with the sizes the case's lists really have. The model
 * is Kubernetes' CEL cost estimate: one unit per node, a comprehension costs its body once per element
 * of the list it walks, and nested comprehensions multiply.
 */

/** A cel-js AST node: an operator and its arguments (nodes, names or literal values). */
export interface CelNode {
  op: string;
  args: unknown;
  start?: number;
  end?: number;
}

/** The most an expression may cost, at publish time and at run time alike. */
export const MAX_EXPRESSION_COST = 100_000;

/** The longest list a case's data or an event's payload may hold (checked at the edge). */
export const MAX_LIST_ITEMS = 1_000;

const COMPREHENSIONS = new Set(['map', 'filter', 'all', 'exists', 'exists_one', 'existsOne']);

/** How long the lists an expression reads are: their real lengths at run time, the most at publish time. */
export type ListSizes = (path: string) => number | undefined;

export interface CostEstimate {
  cost: number;
  /** The costliest comprehension, to point at when the estimate is too high. */
  at?: { start: number; end: number };
}

/** The estimated cost of evaluating `ast`. */
export function estimateCost(ast: CelNode, sizes: ListSizes = () => undefined): CostEstimate {
  let worst: { cost: number; start: number; end: number } | undefined;
  const visit = (node: CelNode): number => {
    const children = childNodes(node);
    if (node.op === 'rcall' && Array.isArray(node.args) && COMPREHENSIONS.has(node.args[0] as string)) {
      const receiver = node.args[1] as CelNode;
      const body = (node.args[2] as CelNode[]).slice(1);
      const cost = visit(receiver) + sizeOf(receiver, sizes) * (1 + body.reduce((sum, part) => sum + visit(part), 0));
      if (node.start !== undefined && node.end !== undefined && (!worst || cost > worst.cost)) worst = { cost, start: node.start, end: node.end };
      return cost;
    }
    return 1 + children.reduce((sum, child) => sum + visit(child), 0);
  };
  const cost = visit(ast);
  return { cost, ...(worst ? { at: { start: worst.start, end: worst.end } } : {}) };
}

/** The most elements a list-valued node can have. */
function sizeOf(node: CelNode, sizes: ListSizes): number {
  if (node.op === 'list' && Array.isArray(node.args)) return node.args.length;
  if (node.op === '+' && Array.isArray(node.args)) return (node.args as CelNode[]).reduce((sum, part) => sum + sizeOf(part, sizes), 0);
  if (node.op === 'rcall' && Array.isArray(node.args) && ['map', 'filter'].includes(node.args[0] as string)) return sizeOf(node.args[1] as CelNode, sizes);
  const path = pathOf(node);
  return (path === undefined ? undefined : sizes(path)) ?? MAX_LIST_ITEMS;
}

/** `data.items` for a member chain from a variable, else undefined. */
function pathOf(node: CelNode): string | undefined {
  if (node.op === 'id' && typeof node.args === 'string') return node.args;
  if (node.op === '.' && Array.isArray(node.args)) {
    const parent = pathOf(node.args[0] as CelNode);
    return parent && typeof node.args[1] === 'string' ? `${parent}.${node.args[1]}` : undefined;
  }
  return undefined;
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
