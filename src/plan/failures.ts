/**
 * The failure types Casebook's workflow and activities raise (`ApplicationFailure.type`), one catalogue
 * for every side of the boundary. Each is documented in docs/api.md ("Failure types"); a test keeps the
 * two in step. A retired type is never reused.
 */
export const FAILURE_TYPES = {
  /** An event the case's playbook does not declare, or does not expect at its current step. */
  EventRefused: 'EventRefused',
  /** An event whose payload does not match the playbook's declaration. */
  EventInvalid: 'EventInvalid',
  /** An event for a case that has ended. */
  CaseClosed: 'CaseClosed',
  /** The payment provider refused a refund: a business answer, never retried; the plan decides. */
  RefundDeclined: 'RefundDeclined',
  /** A plan names a step it does not contain (a plan that did not come from the compiler). */
  BrokenPlan: 'BrokenPlan',
  /** An integration answered with a value that does not fit the case field it is stored in. */
  BadIntegrationResult: 'BadIntegrationResult',
  /** An expression failed at run time (division by zero, a value out of range). */
  ExpressionFailed: 'ExpressionFailed',
  /** An expression would cost more than the run-time budget with the case's real data, or than what is left of its workflow task's. */
  ExpressionTooCostly: 'ExpressionTooCostly',
  /** A repair asked of a case that is not failed. */
  NotFailed: 'NotFailed',
  /** A repair of a case where several steps failed at once that names none of them, or names one that has not failed. */
  RepairTargetUnclear: 'RepairTargetUnclear',
  /**
   * A connector could not deliver a side effect (a webhook answered 5xx, timed out, was refused...):
   * retried on the connector's schedule; non-retryable when refused for good, out of attempts or past
   * the step's deadline, and the playbook's failure path is taken.
   */
  DeliveryFailed: 'DeliveryFailed',
  /**
   * A sub-playbook's child case could not be opened (its data does not fit the child's fields, its
   * order's ledger or one-open-case rule refuses it) or failed: never retried; the step's `on_error` decides.
   */
  ChildCaseFailed: 'ChildCaseFailed',
  /** A `for_each` list longer than the loop's `max`: its `on_error` is taken, else the case fails for repair. */
  LoopTooLong: 'LoopTooLong',
  /** A migration to another playbook version the case cannot take now (its details list the reasons). */
  NotMigratable: 'NotMigratable',
} as const;

export type FailureType = (typeof FAILURE_TYPES)[keyof typeof FAILURE_TYPES];
