/** What the case routes answer (`/v1/cases`): opening, listing, reading a case, its history and activity. */
import { boolean, exact, freeObject, integer, list, nullable, nullableString, oneOf, open, optional, string, type Static } from './schema.js';

/** Who did something: an API key (its id and name), or Casebook itself (keyId null, name `casebook`). */
export const Actor = exact({ keyId: nullableString, name: string });
export type Actor = Static<typeof Actor>;

/** `failed`: a step failed at run time; the case waits for an admin to retry the step or close it. */
export const CaseStatus = oneOf('open', 'waiting', 'failed', 'closed');
export type CaseStatus = Static<typeof CaseStatus>;

export const CaseOutcome = nullable(open({ outcome: string, reason: string }));
export type CaseOutcome = Static<typeof CaseOutcome>;

export const OpenedCase = exact({ caseId: string, playbook: string, version: integer, status: string, created: boolean });
export type OpenedCase = Static<typeof OpenedCase>;

export const CaseSummary = open({
  caseId: string,
  playbook: string,
  version: integer,
  status: string,
  step: nullableString,
  orderId: nullableString,
  outcome: nullableString,
  openedAt: string,
  updatedAt: string,
});
export type CaseSummary = Static<typeof CaseSummary>;

export const CaseList = exact({ cases: list(CaseSummary), nextCursor: nullableString });
export type CaseList = Static<typeof CaseList>;

export const Deadline = open({ kind: string, step: string, at: string, paused: optional(boolean), left: optional(string) });
export type Deadline = Static<typeof Deadline>;

/** A child case a `playbook` step opened: the step, the child's playbook, where it is, how it ended. */
export const ChildCaseLink = exact({ caseId: string, step: string, playbook: string, version: integer, status: string, outcome: nullableString });
export type ChildCaseLink = Static<typeof ChildCaseLink>;

/** A case: where it is, what it waits for, its deadlines, data and outcome; the case and step that opened it (a child case), and the cases its `playbook` steps opened. */
export const CaseView = open({
  caseId: string,
  playbook: string,
  version: integer,
  status: string,
  step: nullableString,
  waitingFor: list(string),
  deadlines: list(Deadline),
  data: freeObject,
  outcome: CaseOutcome,
  parent: nullable(exact({ caseId: string, step: string })),
  children: list(ChildCaseLink),
});
export type CaseView = Static<typeof CaseView>;

/** What happened to a case and why, from the audit trail and the side-effect tables. */
export const CaseHistory = open({
  caseId: string,
  workflowId: string,
  playbook: open({ name: string, version: integer, hash: string }),
  status: string,
  outcome: CaseOutcome,
  opened: nullable(exact({ at: string, by: Actor })),
  steps: list(open({ seq: integer, at: string, kind: string, step: nullableString, detail: freeObject, by: Actor })),
  events: list(open({ id: string, type: string, payload: freeObject, receivedAt: string, by: nullable(Actor) })),
  refunds: list(
    open({
      amount: integer,
      currency: string,
      covers: string,
      /** The order line the refund gives back for; null: the order as a whole. */
      lineId: nullableString,
      reason: string,
      status: string,
      deadlineAt: nullableString,
      lateAt: nullableString,
      at: string,
    }),
  ),
  escalations: list(open({ queue: string, severity: string, reason: string, at: string })),
  messages: list(
    open({
      template: string,
      channel: string,
      recipient: string,
      body: string,
      subject: optional(string),
      language: optional(string),
      status: string,
      at: string,
    }),
  ),
});
export type CaseHistory = Static<typeof CaseHistory>;

/** Where a delivered event went: accepted, duplicate, or kept unrouted in the inbox. */
export const Delivery = exact({
  status: oneOf('accepted', 'duplicate', 'unrouted'),
  caseId: optional(string),
  inboxId: optional(integer),
  reason: optional(string),
});
export type Delivery = Static<typeof Delivery>;

/**
 * One attempt to deliver a side effect to a webhook destination; `requestedBy`: the admin who asked for
 * it (`POST /v1/deliveries/{webhookId}/redeliver`), null for the retry schedule's own.
 */
export const DeliveryAttempt = exact({
  type: string,
  webhookId: string,
  stepId: nullableString,
  destination: string,
  attempt: integer,
  startedAt: string,
  latencyMs: nullable(integer),
  httpStatus: nullable(integer),
  errorKind: nullableString,
  outcome: nullableString,
  responseExcerpt: nullableString,
  requestedBy: nullableString,
});
export type DeliveryAttempt = Static<typeof DeliveryAttempt>;

/** The tasks a case opened, the remarks it left on its order and its attempts to deliver to webhooks. */
export const CaseActivity = exact({
  tasks: list(
    exact({
      stepId: string,
      role: string,
      title: string,
      outcomes: list(string),
      dueAt: string,
      status: string,
      outcome: nullableString,
      createdAt: string,
      completedAt: nullableString,
    }),
  ),
  remarks: list(exact({ stepId: string, orderId: nullableString, remark: nullableString, flag: nullableString, at: string })),
  deliveries: list(DeliveryAttempt),
});
export type CaseActivity = Static<typeof CaseActivity>;

/** A repair's answer: the case's status, and the failed step (and loop iteration) it went to. */
export const Repaired = exact({ status: string, step: string, iteration: optional(string) });
export type Repaired = Static<typeof Repaired>;

/** A cancel's answer: `accepted` (the case is being cancelled) or `duplicate` (it already was). */
export const Cancelled = exact({ status: oneOf('accepted', 'duplicate') });
export type Cancelled = Static<typeof Cancelled>;
