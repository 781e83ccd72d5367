/** Evaluating a plan's CEL expressions against a case: its data, policy, events and Temporal's clock. */
import { ApplicationFailure } from '@temporalio/workflow';
import { toCelDyn, toCelEvents, toCelRecord, toCelResults, toCelValue } from '../plan/cel.js';
import type { CaseEvent, CaseState } from '../plan/case.js';
import { estimateCost, MAX_EXPRESSION_COST, MAX_TASK_COST, type CelNode } from '../plan/cost.js';
import { clipText, errorText, evidenceTerms, evidenceText, MAX_EVIDENCE_ENTRIES } from '../plan/evidence.js';
import { FAILURE_TYPES } from '../plan/failures.js';
import type { Expr } from '../plan/plan.js';
import { displayValue, fillTemplate } from '../plan/template.js';
import type { ParsedExpression, SharedPlan } from './shared-plans.js';
import type { ItemValue } from './strands.js';

/**
 * The length of the string or list at a member path of the evaluation context (`data.items[].name`: the
 * longest of its items' names); 0 for other values and paths that lead nowhere.
 */
function lengthAt(context: Record<string, unknown>, path: string): number {
  let values: unknown[] = [context];
  for (const key of path.split('.')) {
    const name = key.endsWith('[]') ? key.slice(0, -2) : key;
    values = values.map((value) =>
      value instanceof Map ? value.get(name) : value && typeof value === 'object' ? (value as Record<string, unknown>)[name] : undefined,
    );
    if (key.endsWith('[]')) values = values.flatMap((value) => (Array.isArray(value) ? value : []));
  }
  return values.reduce((most: number, value) => Math.max(most, lengthOf(value)), 0);
}

const lengthOf = (value: unknown): number => (typeof value === 'string' || Array.isArray(value) || value instanceof Uint8Array ? value.length : 0);

/** The longest string anywhere in the context: what a string whose origin the cost model cannot follow counts. */
function longestText(value: unknown, depth = 0): number {
  if (typeof value === 'string') return value.length;
  if (depth > 64 || !value || typeof value !== 'object' || value instanceof Date) return 0;
  const children = value instanceof Map ? [...value.values()] : Array.isArray(value) ? value : Object.values(value);
  return children.reduce((most: number, child) => Math.max(most, longestText(child, depth + 1)), 0);
}

const astOf = (parsed: ParsedExpression): CelNode => (parsed as unknown as { ast: CelNode }).ast;

/** An expression's cost with the lengths of the case's real strings and lists. */
const costOf = (parsed: ParsedExpression, context: Record<string, unknown>) =>
  estimateCost(astOf(parsed), (path) => lengthAt(context, path), longestText(context));

export class CaseExpressions {
  constructor(
    private readonly shared: SharedPlan,
    private readonly caseId: string,
    private readonly openedBy: string,
    private readonly state: CaseState,
  ) {}

  /** What the steps have evaluated in the current workflow task (its Temporal time), in evaluation steps. */
  private spent = { at: Number.NaN, cost: 0 };

  /**
   * Evaluates an expression within the run-time budget (its cost with the case's real list sizes); a
   * failure (division by zero, overflow, over budget) fails the case with the expression's line.
   */
  evaluate(expr: Expr, items: readonly ItemValue[] = []): unknown {
    const parsed = this.shared.expression(expr.cel, items);
    const context = this.context(items);
    const cost = this.withinBudget(expr, parsed, context);
    const spent = this.spentNow();
    if (spent.cost + cost > MAX_TASK_COST) {
      const where = expr.at ? ` (playbook line ${expr.at.line})` : '';
      throw ApplicationFailure.nonRetryable(
        `expression '${expr.cel.slice(0, 200)}'${where} would bring what this workflow task evaluates to ${spent.cost + cost} evaluation steps; a task's budget is ${MAX_TASK_COST}`,
        FAILURE_TYPES.ExpressionTooCostly,
      );
    }
    spent.cost += cost;
    return this.run(expr, parsed, context);
  }

  /**
   * What the steps evaluated in this workflow task so far: Temporal's time is the task's, the same
   * however often the task is replayed. Counted from step code only (never from a condition the SDK
   * asks, or a query), so the count is the same on replay.
   */
  private spentNow(): { at: number; cost: number } {
    const now = Date.now();
    if (this.spent.at !== now) this.spent = { at: now, cost: 0 };
    return this.spent;
  }

  /** Whether a wait's `where` condition holds for an arriving event (`event` is its payload). */
  matches(where: Expr, event: CaseEvent, items: readonly ItemValue[] = []): boolean {
    const spec = this.shared.plan.events[event.type]!;
    const context = { ...this.context(items), event: toCelRecord(spec.payload, event.payload) };
    const parsed = this.shared.condition(event.type, where.cel, items);
    this.withinBudget(where, parsed, context);
    return this.run(where, parsed, context) === true;
  }

  private run(expr: Expr, parsed: ParsedExpression, context: Record<string, unknown>): unknown {
    try {
      return parsed(context);
    } catch (error) {
      const where = expr.at ? ` (playbook line ${expr.at.line})` : '';
      throw ApplicationFailure.nonRetryable(
        `expression '${expr.cel.slice(0, 200)}'${where} failed: ${(error as Error).message.split('\n')[0]}`,
        FAILURE_TYPES.ExpressionFailed,
      );
    }
  }

  /** The expression's cost with the case's data; over the budget, the failure that fails the case. */
  private withinBudget(expr: Expr, parsed: ParsedExpression, context: Record<string, unknown>): number {
    const { cost } = costOf(parsed, context);
    if (cost > MAX_EXPRESSION_COST) {
      const where = expr.at ? ` (playbook line ${expr.at.line})` : '';
      throw ApplicationFailure.nonRetryable(
        `expression '${expr.cel.slice(0, 200)}'${where} would cost ${cost} evaluation steps; the budget is ${MAX_EXPRESSION_COST}`,
        FAILURE_TYPES.ExpressionTooCostly,
      );
    }
    return cost;
  }

  /**
   * What an expression was decided on: each comparison's operands and each member path it reads, by
   * its text, with its value as people read it (src/plan/evidence.ts). Never fails: a term that cannot
   * be evaluated shows its error. Pure evaluation, no commands: the history is the same with or without it.
   */
  evidence(expr: Expr, items: readonly ItemValue[] = []): Record<string, string> {
    const out: Record<string, string> = {};
    try {
      const terms = evidenceTerms(astOf(this.shared.expression(expr.cel, items)));
      const context = this.context(items);
      for (const term of terms) {
        if (Object.keys(out).length >= MAX_EVIDENCE_ENTRIES) break;
        const key = clipText(term);
        if (!(key in out)) out[key] = this.termValue(term, context, items);
      }
    } catch (error) {
      out[clipText(expr.cel)] = errorText(error);
    }
    return out;
  }

  /** One term's value as evidence text, within the expression budget. */
  private termValue(term: string, context: Record<string, unknown>, items: readonly ItemValue[]): string {
    try {
      const parsed = this.shared.expression(term, items);
      const { cost } = costOf(parsed, context);
      if (cost > MAX_EXPRESSION_COST) return `not evaluated: it would cost ${cost} evaluation steps`;
      const spent = this.spentNow();
      if (spent.cost + cost > MAX_TASK_COST) return `not evaluated: this workflow task has spent ${spent.cost} of its ${MAX_TASK_COST} evaluation steps`;
      spent.cost += cost;
      return evidenceText(parsed(context), this.shared.plan.timezone);
    } catch (error) {
      return this.absent(term, context, items) ? 'absent' : errorText(error);
    }
  }

  /** Whether `term` is a field path (`data.a.b`) whose last field is not set. */
  private absent(term: string, context: Record<string, unknown>, items: readonly ItemValue[]): boolean {
    if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(term)) return false;
    try {
      return this.shared.expression(`has(${term})`, items)(context) === false;
    } catch {
      return false;
    }
  }

  /** Fills a text's placeholders with the values as they read in a message, each passed through `html` (an escaper) when given. */
  render(text: string, placeholders: Expr[], html: (value: string) => string = (value) => value, items: readonly ItemValue[] = []): string {
    return fillTemplate(
      text,
      placeholders.map((p) => html(displayValue(this.evaluate(p, items), this.shared.plan.timezone))),
    );
  }

  /** A text whose placeholders may read an event (`event` is its payload), as a `cancel_on` handler's reason. */
  renderFor(event: CaseEvent, text: string, placeholders: Expr[]): string {
    const spec = this.shared.plan.events[event.type]!;
    const context = { ...this.context(), event: toCelRecord(spec.payload, event.payload) };
    const values = placeholders.map((p) => {
      const parsed = this.shared.condition(event.type, p.cel);
      this.withinBudget(p, parsed, context);
      return displayValue(this.run(p, parsed, context), this.shared.plan.timezone);
    });
    return fillTemplate(text, values);
  }

  private context(items: readonly ItemValue[] = []): Record<string, unknown> {
    const state = this.state;
    return {
      // A loop's items, as its body's expressions name them (src/workflows/strands.ts).
      ...Object.fromEntries(items.map((item) => [item.name, item.type ? toCelValue(item.type, item.value) : toCelDyn(item.value)])),
      data: toCelRecord(this.shared.plan.fields, state.data),
      policy: this.shared.policy,
      events: toCelEvents(this.shared.plan.events, state.received),
      now: new Date(Date.now()),
      opened_at: new Date(state.openedAt),
      case_id: this.caseId,
      opened_by: this.openedBy,
      shop: this.shared.plan.shop ?? {},
      steps: toCelResults(this.shared.results, state.results ?? {}, state.collected ?? {}),
    };
  }
}
