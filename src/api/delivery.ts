/** How a delivered event reads over HTTP, the same for the events route, the warehouse webhook, the inbox and signed inbound events. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { logCase } from './case-log.js';
import type { DeliveryResult, InboxOutcome } from '../cases/inbox.js';
import { problem, sendProblem, type Problem } from './problems.js';

export type RefusedDelivery = Extract<DeliveryResult, { reason: string }>;

/** An answer before it is sent: a success body with its status, or a problem. */
export type HttpAnswer = { status: number; body: Record<string, unknown> } | { problem: Problem };

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
export function deliveryAnswer(caseId: string, result: DeliveryResult, extensions: Record<string, unknown> = {}): HttpAnswer {
  switch (result.status) {
    case 'accepted':
      return { status: 202, body: { status: 'accepted', ...extensions } };
    case 'duplicate':
      return { status: 200, body: { status: 'duplicate', ...extensions } };
    case 'unknown-case':
      return { problem: problem('unknown-case', `no case ${caseId}`, extensions) };
    default:
      return { problem: deliveryProblem(result, extensions) };
  }
}

/**
 * Where an event routed through the inbox went: the case's answer (naming the case), 202 unrouted
 * (kept in the inbox, with the reason), or 409 when several cases wait for it (naming them).
 */
export function inboxAnswer(outcome: InboxOutcome): HttpAnswer {
  switch (outcome.status) {
    case 'delivered':
      return deliveryAnswer(outcome.caseId, outcome.result, { caseId: outcome.caseId });
    case 'unrouted':
      return { status: 202, body: { status: 'unrouted', inboxId: outcome.inboxId, reason: outcome.reason } };
    case 'ambiguous':
      return { problem: problem('ambiguous-event', outcome.reason, { inboxId: outcome.inboxId, candidates: outcome.candidates }) };
  }
}

export function sendHttpAnswer(reply: FastifyReply, answer: HttpAnswer): FastifyReply {
  return 'problem' in answer ? sendProblem(reply, answer.problem) : reply.code(answer.status).send(answer.body);
}

export function sendDelivery(reply: FastifyReply, caseId: string, result: DeliveryResult, extensions: Record<string, unknown> = {}): FastifyReply {
  logDelivery(reply.request, caseId, result);
  return sendHttpAnswer(reply, deliveryAnswer(caseId, result, extensions));
}

export function sendInboxOutcome(reply: FastifyReply, outcome: InboxOutcome): FastifyReply {
  logInboxOutcome(reply.request, outcome);
  return sendHttpAnswer(reply, inboxAnswer(outcome));
}

/** Where an event routed through the inbox went, a line: `fields` name the event where the body does not (a signed event). */
export function logInboxOutcome(request: FastifyRequest, outcome: InboxOutcome, fields: Record<string, unknown> = eventOf(request)): void {
  if (outcome.status === 'delivered') logDelivery(request, outcome.caseId, outcome.result, fields);
  else request.log.info({ inboxId: outcome.inboxId, reason: outcome.reason, ...fields }, `event ${outcome.status}`);
}

/** The event's type and id, when the body names them (the events route; a warehouse receipt has its own id). */
function eventOf(request: FastifyRequest): Record<string, unknown> {
  const body = request.body as { type?: unknown; id?: unknown; receiptId?: unknown } | null | undefined;
  const id = body?.id ?? body?.receiptId;
  return { ...(typeof body?.type === 'string' ? { eventType: body.type } : {}), ...(typeof id === 'string' ? { eventId: id } : {}) };
}

/** `event accepted`, `event duplicate`, or `event refused` with its reason. */
function logDelivery(request: FastifyRequest, caseId: string, result: DeliveryResult, fields: Record<string, unknown> = eventOf(request)): void {
  const accepted = result.status === 'accepted' || result.status === 'duplicate';
  logCase(request, accepted ? `event ${result.status}` : 'event refused', caseId, {
    ...fields,
    ...(accepted ? {} : { refusal: result.status, ...('reason' in result ? { reason: result.reason } : {}) }),
  });
}
