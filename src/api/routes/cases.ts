import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import type { CaseHistory, CaseView } from '../../api-contract/cases.js';
import type { CaseEvent } from '../../plan/case.js';
import { reservedEventReason } from '../../cases/agent-work.js';
import type { OpenCaseRequest, OpenCaseResult } from '../../cases/service.js';
import type { ApiDependencies } from '../dependencies.js';
import { actorOf, READERS } from '../auth.js';
import { sendDelivery } from '../delivery.js';
import { logCase } from '../case-log.js';
import { answerOf, idempotencyHeaders, idempotently, idempotencyKeyOf, idFromIdempotencyKey, sendAnswer, type Answer } from '../idempotency.js';
import { readQueryInstants } from '../instant-query.js';
import { CASE_FILTERS } from '../case-filters.js';
import { PAGE_QUERY, pageOrInvalidCursor } from '../pagination.js';
import { problem, sendProblem } from '../problems.js';
import { BODIES, responses, WITH_BODY } from '../responses.js';
import { caseHistory, listCases, type CaseListFilter } from '../../cases/reads.js';
import { CASE_ID } from '../params.js';

const TAGS = ['cases'];
const caseParams = { type: 'object', required: ['caseId'], properties: { caseId: { type: 'string', pattern: CASE_ID } } } as const;

export const caseRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    openCaseRoute(app, deps);
    listCasesRoute(app, deps);
    readCaseRoutes(app, deps);
    deliverEventRoute(app, deps);
  };

function openCaseRoute(app: FastifyInstance, deps: ApiDependencies): void {
  app.post<{ Body: Omit<OpenCaseRequest, 'openedBy' | 'by'> }>(
    '',
    {
      config: { roles: ['agent', 'admin'] },
      schema: {
        tags: TAGS,
        summary: 'Open a case on a published playbook (its current version unless `version` is given), at most once',
        headers: idempotencyHeaders(),
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['playbook', 'data'],
          properties: {
            playbook: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,63}$' },
            version: { type: 'integer', minimum: 1, maximum: 2_147_483_647 },
            caseId: { type: 'string', pattern: CASE_ID },
            data: { type: 'object' },
          },
        },
        response: responses({ 200: BODIES.opened, 201: BODIES.opened }, [
          ...WITH_BODY,
          'unknown-playbook',
          'invalid-case-data',
          'case-closed',
          'duplicate-case',
          'order-lines-conflict',
          'idempotency-key-in-use',
          'idempotency-key-reused',
        ]),
      },
    },
    async (request, reply) => {
      const apiKey = request.apiKey!;
      const key = idempotencyKeyOf(request);
      if (typeof key === 'object') return sendProblem(reply, key);
      const open = async (): Promise<Answer> => {
        const caseId = request.body.caseId ?? (key ? idFromIdempotencyKey(apiKey.id, key) : undefined);
        const opened = await deps.cases.open({ ...request.body, ...(caseId ? { caseId } : {}), openedBy: apiKey.name, by: actorOf(request) });
        if (opened.kind === 'opened' && opened.created) logCase(request, 'case opened', opened.caseId, { playbook: opened.playbook, version: opened.version });
        return openAnswer(opened, reply);
      };
      if (key === undefined) return sendAnswer(reply, await open());
      return idempotently(deps.pool, reply, apiKey.id, key, request.body, open);
    },
  );
}

/** What opening a case answers: 201 opened, 200 already open with this id, or the problem. */
function openAnswer(opened: OpenCaseResult, reply: FastifyReply): Answer {
  switch (opened.kind) {
    case 'unknown-playbook':
      return answerOf(problem('unknown-playbook', opened.message, { errors: [{ pointer: opened.pointer, message: opened.message }] }), reply);
    case 'invalid-data':
      return answerOf(problem('invalid-case-data', opened.message, { errors: opened.problems }), reply);
    case 'closed-case':
      return answerOf(problem('case-closed', opened.message, { caseId: opened.caseId, case: `/v1/cases/${opened.caseId}` }), reply);
    case 'duplicate-case':
      return answerOf(problem('duplicate-case', opened.message, { caseId: opened.caseId, case: `/v1/cases/${opened.caseId}` }), reply);
    case 'order-lines-conflict':
      return answerOf(
        problem('order-lines-conflict', opened.message, {
          orderId: opened.orderId,
          errors: opened.problems,
          ledger: `/v1/orders/${encodeURIComponent(opened.orderId)}/ledger`,
        }),
        reply,
      );
    case 'opened':
      return {
        status: opened.created ? 201 : 200,
        body: { caseId: opened.caseId, playbook: opened.playbook, version: opened.version, status: opened.status, created: opened.created },
      };
  }
}

function listCasesRoute(app: FastifyInstance, deps: ApiDependencies): void {
  app.get<{ Querystring: CaseListFilter }>(
    '',
    {
      config: { roles: READERS },
      schema: {
        tags: TAGS,
        summary: 'Cases, newest first, filtered (playbook, status, order, outcome, reason, opening dates, breached) and paginated by cursor',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...CASE_FILTERS,
            ...PAGE_QUERY,
          },
        },
        response: responses({ 200: BODIES.cases }, ['invalid-cursor']),
      },
    },
    async (request, reply) => {
      const read = readQueryInstants(request.query, ['openedFrom', 'openedTo']);
      if ('problem' in read) return sendProblem(reply, read.problem);
      const { openedFrom, openedTo } = read.instants;
      return pageOrInvalidCursor(reply, await listCases(deps.pool, { ...request.query, openedFrom: openedFrom?.text, openedTo: openedTo?.text }));
    },
  );
}

function readCaseRoutes(app: FastifyInstance, deps: ApiDependencies): void {
  app.get<{ Params: { caseId: string } }>(
    '/:caseId',
    {
      config: { roles: READERS },
      schema: {
        tags: TAGS,
        summary: 'A case: where it is, what it waits for, its deadlines, data and outcome',
        params: caseParams,
        response: responses({ 200: BODIES.case }, ['unknown-case']),
      },
    },
    async (request, reply) => {
      const description = await deps.cases.describe(request.params.caseId);
      if (!description) return sendProblem(reply, problem('unknown-case', `no case ${request.params.caseId}`));
      return description satisfies CaseView;
    },
  );

  app.get<{ Params: { caseId: string } }>(
    '/:caseId/history',
    {
      config: { roles: READERS },
      schema: {
        tags: TAGS,
        summary: 'What happened to a case and why: every step, event, refund and escalation, under which playbook version',
        params: caseParams,
        response: responses({ 200: BODIES.history }, ['unknown-case']),
      },
    },
    async (request, reply) => {
      const history = await caseHistory(deps.pool, request.params.caseId);
      if (!history) return sendProblem(reply, problem('unknown-case', `no case ${request.params.caseId}`));
      return history satisfies CaseHistory;
    },
  );
}

function deliverEventRoute(app: FastifyInstance, deps: ApiDependencies): void {
  app.post<{ Params: { caseId: string }; Body: Omit<CaseEvent, 'by'> }>(
    '/:caseId/events',
    {
      config: { roles: ['agent', 'warehouse', 'admin'] },
      schema: {
        tags: TAGS,
        summary: 'Deliver an event to a case, through the event inbox: 202 accepted, 200 duplicate, 409 not expected, 422 invalid',
        params: caseParams,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['type', 'id', 'payload'],
          properties: {
            type: { type: 'string', pattern: '^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$', maxLength: 100 },
            id: { type: 'string', minLength: 1, maxLength: 200 },
            payload: { type: 'object' },
          },
        },
        response: responses({ 200: BODIES.delivery, 202: BODIES.delivery }, [
          ...WITH_BODY,
          'unknown-case',
          'event-not-expected',
          'case-closed',
          'invalid-event',
        ]),
      },
    },
    async (request, reply) => {
      if (request.apiKey?.role === 'warehouse' && !request.body.type.startsWith('warehouse.')) {
        return sendProblem(reply, problem('forbidden', `the warehouse role may deliver warehouse.* events only, not ${request.body.type}`));
      }
      const reserved = reservedEventReason(request.body.type);
      if (reserved) return sendProblem(reply, problem('forbidden', reserved));
      return sendDelivery(reply, request.params.caseId, await deps.inbox.deliverEvent(request.params.caseId, { ...request.body, by: actorOf(request) }));
    },
  );
}
