/** The escalation queue: cases handed to a queue, acknowledged and resolved by people, each with who and when. */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import { Escalation as EscalationBody, EscalationPage, EscalationStatus } from '../../api-contract/work.js';
import type { Actor } from '../../plan/case.js';
import { acknowledgeEscalation, findEscalation, listEscalations, resolveEscalation, type Escalation, type EscalationListFilter } from '../../services/work.js';
import { actorOf, AGENT_WORKERS, READERS } from '../auth.js';
import type { ApiDependencies } from '../dependencies.js';
import { PAGE_QUERY, pageOrInvalidCursor } from '../pagination.js';
import { PERSON_TEXT, ROW_ID } from '../params.js';
import { problem, sendProblem } from '../problems.js';
import { responses, WITH_BODY } from '../responses.js';

const TAGS = ['agent work'];

const escalationParams = { type: 'object', required: ['escalationId'], properties: { escalationId: { type: 'string', pattern: ROW_ID } } } as const;
type EscalationParams = { Params: { escalationId: string } };

export const escalationRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    listRoute(app, deps);
    handleRoutes(app, deps);
  };

function listRoute(app: FastifyInstance, deps: ApiDependencies): void {
  app.get<{ Querystring: EscalationListFilter }>(
    '',
    {
      config: { roles: READERS },
      schema: {
        tags: TAGS,
        summary: 'Escalations, newest first, filtered by queue and status and paginated by cursor',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { queue: { type: 'string', minLength: 1, maxLength: 100 }, status: EscalationStatus, ...PAGE_QUERY },
        },
        response: responses({ 200: EscalationPage }, ['invalid-cursor']),
      },
    },
    async (request, reply) => pageOrInvalidCursor(reply, await listEscalations(deps.pool, request.query)),
  );
}

const describe = (actor: Actor) => `${actor.name} (key ${actor.keyId})`;

/** Why an escalation cannot be acknowledged or resolved again: who did it, when. */
function alreadyHandled(escalation: Escalation) {
  const done = escalation.resolved
    ? `was resolved by ${describe(escalation.resolved.by)} at ${escalation.resolved.at}`
    : `was acknowledged by ${describe(escalation.acknowledged!.by)} at ${escalation.acknowledged!.at}`;
  return problem('escalation-handled', `escalation ${escalation.id} ${done}`, { escalationStatus: escalation.status });
}

function handleRoutes(app: FastifyInstance, deps: ApiDependencies): void {
  /** Answers the escalation after `change` (true: it changed), or why it did not. */
  const answer = async (reply: FastifyReply, idText: string, change: (id: number) => Promise<boolean>) => {
    const id = Number(idText);
    const changed = await change(id);
    const escalation = await findEscalation(deps.pool, id);
    if (!escalation) return sendProblem(reply, problem('unknown-escalation', `no escalation ${idText}`));
    return changed ? (escalation satisfies EscalationBody) : sendProblem(reply, alreadyHandled(escalation));
  };

  app.post<EscalationParams>(
    '/:escalationId/acknowledge',
    {
      config: { roles: AGENT_WORKERS },
      schema: {
        tags: TAGS,
        summary: 'Acknowledge an open escalation as the calling key, now; 409 once it was acknowledged or resolved',
        params: escalationParams,
        response: responses({ 200: EscalationBody }, ['unknown-escalation', 'escalation-handled']),
      },
    },
    async (request, reply) => answer(reply, request.params.escalationId, (id) => acknowledgeEscalation(deps.pool, id, actorOf(request))),
  );

  app.post<EscalationParams & { Body: { resolution: string } }>(
    '/:escalationId/resolve',
    {
      config: { roles: AGENT_WORKERS },
      schema: {
        tags: TAGS,
        summary: 'Resolve an open or acknowledged escalation as the calling key, now, saying how; 409 once it was resolved',
        params: escalationParams,
        body: { type: 'object', additionalProperties: false, required: ['resolution'], properties: { resolution: PERSON_TEXT } },
        response: responses({ 200: EscalationBody }, [...WITH_BODY, 'unknown-escalation', 'escalation-handled']),
      },
    },
    async (request, reply) => answer(reply, request.params.escalationId, (id) => resolveEscalation(deps.pool, id, actorOf(request), request.body.resolution)),
  );
}
