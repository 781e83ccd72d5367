import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Role } from '../../services/keys.js';
import { reservedEventReason } from '../../cases/agent-work.js';
import { findInboxEntry, INBOX_STATUSES, listInbox, type InboxListFilter } from '../../cases/reads.js';
import type { ApiDependencies } from '../dependencies.js';
import { actorOf } from '../auth.js';
import { sendInboxOutcome } from '../delivery.js';
import { PAGE_QUERY, pageOrInvalidCursor } from '../pagination.js';
import { problem, sendProblem } from '../problems.js';
import { BODIES, responses, WITH_BODY } from '../responses.js';
import { CASE_ID } from '../params.js';

const TAGS = ['inbox'];
const INBOX_READERS: readonly Role[] = ['agent', 'ops-lead', 'admin'];

/** The event inbox: every inbound event and where it went; agents deliver the ones no case took. */
export const inboxRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    listInboxRoute(app, deps);
    deliverFromInboxRoute(app, deps);
  };

function listInboxRoute(app: FastifyInstance, deps: ApiDependencies): void {
  app.get<{ Querystring: InboxListFilter }>(
    '',
    {
      config: { roles: INBOX_READERS },
      schema: {
        tags: TAGS,
        summary: 'Inbound events, newest first, filtered (status=unrouted: those no case took) and paginated by cursor',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { enum: [...INBOX_STATUSES] },
            orderId: { type: 'string', maxLength: 100 },
            ...PAGE_QUERY,
          },
        },
        response: responses({ 200: BODIES.inbox }, ['invalid-cursor']),
      },
    },
    async (request, reply) => pageOrInvalidCursor(reply, await listInbox(deps.pool, request.query)),
  );
}

function deliverFromInboxRoute(app: FastifyInstance, deps: ApiDependencies): void {
  app.post<{ Params: { id: string }; Body: { caseId?: string } | undefined }>(
    '/:id/deliver',
    {
      config: { roles: ['agent', 'admin'] },
      schema: {
        tags: TAGS,
        summary:
          'Deliver an event from the inbox: to `caseId` when given, else routed again as on arrival ' +
          '(202 accepted, 200 duplicate, 202 unrouted, 409 when several cases wait for it or the case refuses it, 422 invalid)',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[1-9][0-9]{0,15}$' } } },
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { caseId: { type: 'string', pattern: CASE_ID, description: 'The case to deliver the event to; routed as on arrival when absent' } },
        },
        response: responses({ 200: BODIES.delivery, 202: BODIES.delivery }, [
          ...WITH_BODY,
          'unknown-inbox-event',
          'unknown-case',
          'event-not-expected',
          'case-closed',
          'ambiguous-event',
          'invalid-event',
        ]),
      },
    },
    async (request, reply) => {
      const entry = await findInboxEntry(deps.pool, Number(request.params.id));
      if (!entry) return sendProblem(reply, problem('unknown-inbox-event', `no event ${request.params.id} in the inbox`));
      const reserved = reservedEventReason(entry.type);
      if (reserved) return sendProblem(reply, problem('forbidden', reserved));
      const outcome = await deps.inbox.redeliver(entry.id, request.body?.caseId, actorOf(request));
      if (!outcome) return sendProblem(reply, problem('unknown-inbox-event', `no event ${request.params.id} in the inbox`));
      return sendInboxOutcome(reply, outcome);
    },
  );
}
