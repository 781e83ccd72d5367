/** Times in workflow code: the text of an instant, and the instant a timestamp expression gives. */
import { ApplicationFailure } from '@temporalio/workflow';
import { FAILURE_TYPES } from '../plan/failures.js';
import type { Expr } from '../plan/plan.js';

/** ISO 8601 text of an instant in milliseconds, as the case's history and deadlines record it. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The instant a timestamp expression evaluated to; a value that is not one fails the case, naming the expression. */
export function instantOf(value: unknown, expr: Expr): number {
  // CEL timestamps are Dates of the workflow sandbox's realm.
  const ms = typeof (value as Date | undefined)?.getTime === 'function' ? (value as Date).getTime() : Number.NaN;
  if (Number.isFinite(ms)) return ms;
  const where = expr.at ? ` (playbook line ${expr.at.line})` : '';
  throw ApplicationFailure.nonRetryable(`expression '${expr.cel}'${where} is not a timestamp`, FAILURE_TYPES.ExpressionFailed);
}
