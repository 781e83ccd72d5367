/**
 * Cancellation and compensation in the contract: what a playbook's `cancel_on` handlers and
 * `compensations` compile to, what a person's cancel carries, and what a case keeps of the steps it
 * completed so that a cancel undoes them in reverse order (the workflow's side: src/workflows/cancellation.ts).
 */
import type { Actor } from './case.js';
import type { Expr, TemplateText } from './plan.js';

/** A playbook-level handler: an event of its type, at any step, cancels the case when `where` holds. */
export interface CancelHandler {
  /** A condition on the event (`event` is its payload); absent: every such event cancels. */
  where?: Expr;
  /** Why, as recorded: a text whose placeholders may read `event`. */
  reason: TemplateText;
}

/** A person's cancel of a case (POST /v1/cases/{id}/cancel): who and why. */
export interface CaseCancel {
  by: Actor;
  reason: string;
}

/** What a cancel update answers: `accepted` the first time, `duplicate` while the case is already being cancelled. */
export interface CancelResult {
  status: 'accepted' | 'duplicate';
}

/** The outcome a cancelled case ends with. */
export const CANCELLED_OUTCOME = 'cancelled';

/** The escalation a refund paid before the cancel opens for finance: it is never undone silently. */
export const REFUND_PAID_BEFORE_CANCEL = 'refund_paid_before_cancel';

/** Where refunds paid before a cancel are escalated. */
export const FINANCE_QUEUE = 'finance';

/** Why a compensation that failed is escalated to the admins. */
export const COMPENSATION_FAILED = 'compensation_failed';

/**
 * A completed step a cancel has to answer for, in order of completion: a step with a `compensate`, or a
 * refund that was paid. Kept in the case state, so continue-as-new carries it.
 */
export interface CompletedStep {
  step: string;
  /** The key the step ran under (`<case>/<step>/<visit>`); its compensation runs under `<key>/compensate`. */
  key: string;
  compensation?: string;
  /** A paid refund: what finance is told. */
  refund?: { refundId: number; amount: number; currency: string };
}

/** Step kinds a compensation may be: each does one thing and goes on, never waits or decides where to go. */
export const COMPENSATION_KINDS = ['send', 'call', 'remark', 'escalate', 'set'] as const;

/** Step kinds with nothing to undo: a `compensate` on them is refused (a refund escalates instead). */
export const UNCOMPENSATED_KINDS = ['wait', 'delay', 'branch', 'end', 'refund'] as const;
