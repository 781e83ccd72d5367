/** Evaluating a plan's CEL expressions against a case: its data, policy, events and Temporal's clock. */
import { ApplicationFailure } from '@temporalio/workflow';
import {
  eventConditionEnvironment, expressionEnvironment, toCelEvents, toCelPolicy, toCelRecord, type CelEnvironment,
} from '../plan/cel.js';
import type { CaseEvent, CaseState } from '../plan/case.js';
import { FAILURE_TYPES } from '../plan/failures.js';
import type { Expr, Plan } from '../plan/plan.js';
import { displayValue, fillTemplate } from '../plan/template.js';

export class CaseExpressions {
  private readonly env: CelEnvironment;
  private readonly parsed = new Map<string, ReturnType<CelEnvironment['parse']>>();

  constructor(
    private readonly plan: Plan,
    private readonly caseId: string,
    private readonly openedBy: string,
    private readonly state: CaseState,
  ) {
    this.env = expressionEnvironment(plan);
  }

  /** Evaluates an expression; a failure (division by zero, overflow) fails the case with its line. */
  evaluate(expr: Expr): unknown {
    let parsed = this.parsed.get(expr.cel);
    if (!parsed) {
      parsed = this.env.parse(expr.cel);
      this.parsed.set(expr.cel, parsed);
    }
    try {
      return parsed(this.context());
    } catch (error) {
      const where = expr.at ? ` (playbook line ${expr.at.line})` : '';
      throw ApplicationFailure.nonRetryable(`expression '${expr.cel}'${where} failed: ${(error as Error).message.split('\n')[0]}`, FAILURE_TYPES.ExpressionFailed);
    }
  }

  /** Whether a wait's `where` condition holds for an arriving event (`event` is its payload). */
  matches(where: Expr, event: CaseEvent): boolean {
    const spec = this.plan.events[event.type]!;
    const env = eventConditionEnvironment(this.env, spec);
    return env.evaluate(where.cel, { ...this.context(), event: toCelRecord(spec.payload, event.payload) }) === true;
  }

  /** Fills a text's placeholders with the values as they read in a message. */
  render(text: string, placeholders: Expr[]): string {
    return fillTemplate(text, placeholders.map((p) => displayValue(this.evaluate(p), this.plan.timezone)));
  }

  private context(): Record<string, unknown> {
    const state = this.state;
    return {
      data: toCelRecord(this.plan.fields, state.data),
      policy: toCelPolicy(this.plan.policy),
      events: toCelEvents(this.plan.events, state.received),
      now: new Date(Date.now()),
      opened_at: new Date(state.openedAt),
      case_id: this.caseId,
      opened_by: this.openedBy,
      shop: this.plan.shop ?? {},
    };
  }
}
