/** What the signed inbound route answers (`POST /v1/inbound/{source}`). */
import { boolean, exact, freeObject, integer, list, oneOf, optional, string, type Static } from './schema.js';

/** A case the event opened (`created: false`: opened by an earlier delivery of the same event). */
export const CaseOpenedByEvent = exact({ caseId: string, playbook: string, version: integer, created: boolean });
export type CaseOpenedByEvent = Static<typeof CaseOpenedByEvent>;

/**
 * The event's first answer: `opened` (the cases it opened), what the event inbox answered (`accepted`,
 * `duplicate`, `unrouted`, as the warehouse webhook does), a refund `settled` (or `unchanged`: settled before), or
 * `ignored` with the reason.
 */
export const InboundAnswer = exact({
  status: oneOf('opened', 'accepted', 'duplicate', 'unrouted', 'ignored', 'settled', 'unchanged'),
  cases: optional(list(CaseOpenedByEvent)),
  caseId: optional(string),
  inboxId: optional(integer),
  reason: optional(string),
  /** `refund.settled`: the refund's key. */
  key: optional(string),
});
export type InboundAnswer = Static<typeof InboundAnswer>;

/** A replay of a `webhook-id` already taken: nothing new is stored; `first` is the first answer, its status and body. */
export const InboundDuplicate = exact({
  status: oneOf('duplicate'),
  webhookId: string,
  first: exact({ status: integer, body: freeObject }),
});
export type InboundDuplicate = Static<typeof InboundDuplicate>;
