import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { InboundAnswer, InboundDuplicate } from '../../api-contract/inbound.js';
import type { InboundAnswer as Answered, SignedEvent } from '../../cases/inbound.js';
import { logCase } from '../case-log.js';
import { firstUnclean } from '../clean-input.js';
import type { ApiDependencies } from '../dependencies.js';
import { inboxAnswer, logInboxOutcome, sendHttpAnswer, type HttpAnswer } from '../delivery.js';
import { problem, sendProblem } from '../problems.js';
import { responses, WITH_BODY } from '../responses.js';

/** Public (no key): the Standard Webhooks signature is the credential. */
const PUBLIC = { security: [], tags: ['inbound'] };

/**
 * Signed events from the systems the deployment configuration names under `inbound` (the warehouse,
 * the marketplace, the payment provider): verified against the body exactly as received, so the JSON
 * body reaches this route as text (this plugin's own parser; the 1 MiB limit stays).
 */
export const inboundRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));

    app.post<{ Params: { source: string }; Body: string | undefined }>(
      '/:source',
      {
        schema: {
          ...PUBLIC,
          summary:
            'A Standard Webhooks-signed event `{ "type", "data" }` from a configured source: opens the cases whose playbooks open on it (201), ' +
            'or goes into the event inbox and on to its case as the warehouse webhook does (202 accepted, 202 unrouted, 409 ambiguous); ' +
            'a replay of a webhook-id is 200 with the first answer; 401 unless signed by a secret of the source within 5 minutes',
          params: {
            type: 'object',
            required: ['source'],
            properties: { source: { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,63}$', description: 'The source, as the configuration names it' } },
          },
          headers: {
            type: 'object',
            properties: {
              'webhook-id': { type: 'string', description: 'The sender’s id for this event: the same id again is a replay' },
              'webhook-timestamp': { type: 'string', description: 'Seconds since the epoch, signed; at most 5 minutes off' },
              'webhook-signature': { type: 'string', description: '`v1,<base64 HMAC-SHA256>`, space-separated when several' },
            },
          },
          response: responses(
            { 200: { anyOf: [InboundAnswer, InboundDuplicate] }, 201: InboundAnswer, 202: InboundAnswer },
            [
              ...WITH_BODY,
              'invalid-signature',
              'forbidden',
              'invalid-event',
              'invalid-case-data',
              'duplicate-case',
              'order-lines-conflict',
              'unknown-case',
              'event-not-expected',
              'case-closed',
              'ambiguous-event',
            ],
            { isPublic: true },
          ),
        },
      },
      async (request, reply) => {
        const inbound = deps.inbound;
        if (!inbound) return sendProblem(reply, problem('invalid-signature', `no inbound source named ${request.params.source}`));
        const verification = inbound.verify(request.params.source, request.body ?? '', request.headers);
        if (!verification.verified) {
          switch (verification.kind) {
            case 'unauthenticated':
              return sendProblem(reply, problem('invalid-signature', verification.reason));
            case 'unconfigured':
              request.log.error({ source: request.params.source }, verification.reason);
              return sendProblem(
                reply,
                problem('service-unavailable', `source ${request.params.source} cannot be verified on this server; its operator is told`),
              );
            case 'malformed':
              if (verification.pointer === '' && verification.reason.includes('JSON'))
                return sendProblem(reply, problem('malformed-json', verification.reason));
              return sendProblem(
                reply,
                problem('invalid-request', `${verification.pointer} ${verification.reason}`, {
                  errors: [{ pointer: verification.pointer, message: verification.reason }],
                }),
              );
          }
        }
        const unclean = firstUnclean(verification.event.data, '/data');
        if (unclean) return sendProblem(reply, problem('invalid-request', `${unclean.pointer} ${unclean.message}`, { errors: [unclean] }));
        const { duplicate, answer } = await inbound.receive(verification.event);
        if (!duplicate) logInbound(request, verification.event, answer);
        const http = httpAnswer(answer);
        if (!duplicate) return sendHttpAnswer(reply, http);
        const first = 'problem' in http ? { status: http.problem.status, body: http.problem } : http;
        return reply.code(200).send({ status: 'duplicate', webhookId: verification.event.webhookId, first });
      },
    );
  };

/** What a signed event did to cases, a line each, with its source as the actor (it has no API key). */
function logInbound(request: FastifyRequest, event: SignedEvent, answer: Answered): void {
  const fields = { actor: { source: event.source }, eventType: event.type, eventId: event.webhookId };
  if (answer.kind === 'delivered') logInboxOutcome(request, answer.outcome, fields);
  if (answer.kind === 'opened')
    for (const opened of answer.cases.filter((c) => c.created))
      logCase(request, 'case opened', opened.caseId, { ...fields, playbook: opened.playbook, version: opened.version });
}

function httpAnswer(answer: Answered): HttpAnswer {
  switch (answer.kind) {
    case 'opened':
      return { status: answer.cases.some((c) => c.created) ? 201 : 200, body: { status: 'opened', cases: answer.cases } };
    case 'not-opened': {
      const extensions = { errors: answer.errors, playbook: answer.playbook, version: answer.version, opened: answer.opened };
      if (answer.problem === 'duplicate-case') return { problem: problem('duplicate-case', answer.message, { ...extensions, caseId: answer.caseId }) };
      return { problem: problem(answer.problem, answer.message, extensions) };
    }
    case 'delivered':
      return inboxAnswer(answer.outcome);
    case 'settled':
      return { status: 200, body: { status: answer.result, key: answer.key } };
    case 'invalid-event':
      return { problem: problem('invalid-event', answer.message, { errors: answer.errors }) };
    case 'refused':
      return { problem: problem('forbidden', answer.reason) };
    case 'ignored':
      return { status: 202, body: { status: 'ignored', reason: answer.reason } };
  }
}
