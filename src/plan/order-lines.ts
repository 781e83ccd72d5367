/**
 * An order's lines in case data: the playbook's `order_lines_field` holds the order's lines (one per
 * item bought: its id, the item, how many, what was paid for it), `concerned_lines_field` the ids of the
 * lines the case is about (the items a buyer returns). Pure: the compiler checks the declarations, the
 * case service checks the data before the ledger records it.
 */
import type { FieldSpec, FieldType, Plan } from './plan.js';
import { escapePointerToken, MAX_MONEY_AMOUNT, type ValueProblem } from './values.js';

/** What each line must hold, by name and type; a line may hold more (a title, a SKU). */
export const LINE_MEMBERS = { id: 'string', item: 'string', quantity: 'integer', paid: 'money' } as const;

export interface OrderLine {
  id: string;
  item: string;
  quantity: number;
  paid: { amount: number; currency: string };
}

/** The case's order lines as its data states them; undefined when the playbook has none or the case states none. */
export function orderLinesOf(plan: Plan, data: Record<string, unknown>): OrderLine[] | undefined {
  const value = plan.orderLinesField ? data[plan.orderLinesField] : undefined;
  return Array.isArray(value) ? (value as OrderLine[]) : undefined;
}

/** The ids of the lines the case concerns; undefined when the playbook has none or the case states none. */
export function concernedLinesOf(plan: Plan, data: Record<string, unknown>): string[] | undefined {
  const value = plan.concernedLinesField ? data[plan.concernedLinesField] : undefined;
  return Array.isArray(value) ? (value as string[]) : undefined;
}

/** Why a declared field cannot hold an order's lines, or undefined when it can. */
export function linesFieldProblem(field: FieldSpec | FieldType): { member?: string; message: string } | undefined {
  if (field.type !== 'list' || field.items.type !== 'object') return { message: `must name a list of objects (the order's lines); it is ${describe(field)}` };
  const members = field.items.fields;
  for (const [name, type] of Object.entries(LINE_MEMBERS)) {
    const member = members[name];
    if (!member) return { member: name, message: `each line needs '${name}' (${type}): a line has ${lineShape()}` };
    if (member.type !== type) return { member: name, message: `a line's '${name}' must be ${type}, not ${describe(member)}` };
    if (!member.required) return { member: name, message: `a line's '${name}' must be required: the ledger records every line with it` };
  }
  return undefined;
}

/** Why a declared field cannot hold the concerned lines' ids, or undefined when it can. */
export function concernedFieldProblem(field: FieldSpec): string | undefined {
  return field.type === 'list' && field.items.type === 'string' ? undefined : `must name a list of strings (line ids); it is ${describe(field)}`;
}

export const lineShape = (): string =>
  Object.entries(LINE_MEMBERS)
    .map(([name, type]) => `${name}: ${type}`)
    .join(', ');

const describe = (field: FieldType): string => (field.type === 'list' ? `a list of ${field.items.type}` : field.type);

/**
 * What the case's data says about its order's lines, beyond each value's type (checked already): at
 * least one line, line ids unique, quantities of at least one, what was paid equal to the sum of the
 * lines, and the concerned lines among the lines. Pointers into `base` (`/data`).
 */
export function checkOrderLines(plan: Plan, data: Record<string, unknown>, base = '/data'): ValueProblem[] {
  const lines = orderLinesOf(plan, data);
  const concerned = concernedLinesOf(plan, data);
  const problems: ValueProblem[] = [];
  const linesAt = `${base}/${escapePointerToken(plan.orderLinesField ?? '')}`;
  if (lines) {
    if (lines.length === 0) problems.push({ pointer: linesAt, message: 'an order has at least one line' });
    const seen = new Set<string>();
    lines.forEach((line, index) => {
      if (seen.has(line.id))
        problems.push({ pointer: `${linesAt}/${index}/id`, message: `line id '${line.id}' is given twice: each line of an order has its own id` });
      seen.add(line.id);
      if (line.quantity < 1) problems.push({ pointer: `${linesAt}/${index}/quantity`, message: `a line's quantity is at least 1, not ${line.quantity}` });
    });
    const paid = plan.paidField ? (data[plan.paidField] as { amount: number } | undefined) : undefined;
    const sum = lines.reduce((total, line) => total + line.paid.amount, 0);
    if (sum > MAX_MONEY_AMOUNT)
      problems.push({ pointer: linesAt, message: `the lines add up to ${sum}, more than the ${MAX_MONEY_AMOUNT} minor units the ledger holds` });
    else if (paid && paid.amount !== sum) {
      problems.push({
        pointer: `${base}/${escapePointerToken(plan.paidField!)}/amount`,
        message: `says ${paid.amount} was paid, but the order's lines add up to ${sum}: what was paid is the sum of its lines`,
      });
    }
  }
  if (concerned) {
    const concernedAt = `${base}/${escapePointerToken(plan.concernedLinesField ?? '')}`;
    const ids = new Set(lines?.map((line) => line.id));
    const named = new Set<string>();
    concerned.forEach((id, index) => {
      if (!ids.has(id)) {
        problems.push({
          pointer: `${concernedAt}/${index}`,
          message: lines
            ? `'${id}' is not a line of the order; its lines are ${[...ids].join(', ') || 'none'}`
            : `'${id}' names a line, but the case states no order lines (${plan.orderLinesField})`,
        });
      } else if (named.has(id)) problems.push({ pointer: `${concernedAt}/${index}`, message: `line '${id}' is named twice` });
      named.add(id);
    });
  }
  return problems;
}

/** The order's paid amount a case's lines state: their sum, in the playbook's currency. */
export function paidByLines(lines: OrderLine[], currency: string): { amount: number; currency: string } {
  return { amount: lines.reduce((total, line) => total + line.paid.amount, 0), currency };
}
