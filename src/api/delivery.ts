/** How a delivered event reads over HTTP, the same for the events route, the warehouse webhook and the inbox. */
import type { FastifyReply } from 'fastify';
import type { DeliveryResult, InboxOutcome } from '../cases/inbox.js';
import { problem, sendProblem, type Problem } from './problems.js';

export type RefusedDelivery = Extract<DeliveryResult, { reason: string }>;

export function deliveryProblem(result: RefusedDelivery, extensions: Record<string, unknown> = {}): Problem {
  switch (result.status) {
    case 'invalid':
      return problem('invalid-event', result.reason, { errors: result.problems, ...extensions });
    case 'refused':
      return problem('event-not-expected', result.reason, extensions);
    case 'closed':
      return problem('case-closed', result.reason, extensions);
  }
}

/** A case's answer: 202 accepted, 200 duplicate, or its problem; `extensions` go into the body either way. */
export function sendDelivery(reply: FastifyReply, caseId: string, result: DeliveryResult, extensions: Record<string, unknown> = {}): FastifyReply {
  switch (result.status) {
    case 'accepted':
      return reply.code(202).send({ status: 'accepted', ...extensions });
    case 'duplicate':
      return reply.code(200).send({ status: 'duplicate', ...extensions });
    case 'unknown-case':
      return sendProblem(reply, problem('unknown-case', `no case ${caseId}`, extensions));
    default:
      return sendProblem(reply, deliveryProblem(result, extensions));
  }
}

/**
 * Where an event routed through the inbox went: the case's answer (naming the case), 202 unrouted
 * (kept in the inbox, with the reason), or 409 when several cases wait for it (naming them).
 */
export function sendInboxOutcome(reply: FastifyReply, outcome: InboxOutcome): FastifyReply {
  switch (outcome.status) {
    case 'delivered':
      return sendDelivery(reply, outcome.caseId, outcome.result, { caseId: outcome.caseId });
    case 'unrouted':
      return reply.code(202).send({ status: 'unrouted', inboxId: outcome.inboxId, reason: outcome.reason });
    case 'ambiguous':
      return sendProblem(reply, problem('ambiguous-event', outcome.reason, { inboxId: outcome.inboxId, candidates: outcome.candidates }));
  }
}
