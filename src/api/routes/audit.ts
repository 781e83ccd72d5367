/**
 * The auditor's routes: replay a case against the current code, and export cases as JSON Lines (one
 * case, or every case closed in a date range) with plan, audit rows, histories and their verification.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import { AuditBusy, AuditOverLimit } from '../../cases/audit.js';
import type { Role } from '../../services/keys.js';
import type { ApiDependencies } from '../dependencies.js';
import { INSTANT_QUERY, readQueryInstants } from '../instant-query.js';
import { problem, sendProblem } from '../problems.js';
import { BODIES, responses } from '../responses.js';
import { CASE_ID } from '../params.js';

const AUDITORS: readonly Role[] = ['auditor', 'ops-lead', 'admin'];
const TAGS = ['audit'];
const caseParams = { type: 'object', required: ['caseId'], properties: { caseId: { type: 'string', pattern: CASE_ID } } } as const;
const JSON_LINES = 'application/x-ndjson; charset=utf-8';

/** The problems of the audit threads: the queue is full (429), or the job went over a limit (503). */
const AUDIT_LIMITS = ['audit-busy', 'audit-over-limit'] as const;

/** What the audit threads answered instead of a result, as a problem; anything else is rethrown. */
async function bounded<T>(reply: FastifyReply, job: () => Promise<T>): Promise<{ value: T } | { sent: FastifyReply }> {
  try {
    return { value: await job() };
  } catch (error) {
    if (error instanceof AuditBusy) {
      reply.header('retry-after', String(error.retryAfterSeconds));
      return { sent: sendProblem(reply, problem('audit-busy', error.message, { running: error.running, queued: error.queued })) };
    }
    if (error instanceof AuditOverLimit) return { sent: sendProblem(reply, problem('audit-over-limit', error.message, { limit: error.limit })) };
    throw error;
  }
}

export const caseAuditRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Params: { caseId: string } }>(
      '/:caseId/replay',
      {
        config: { roles: AUDITORS },
        schema: {
          tags: TAGS,
          summary:
            "Re-execute a case's recorded history against the current workflow code: deterministic or the first divergence, and the timeline it re-derives",
          params: caseParams,
          response: responses({ 200: BODIES.replay }, ['unknown-case', 'history-unavailable', ...AUDIT_LIMITS]),
        },
      },
      async (request, reply) => {
        const answer = await bounded(reply, () => deps.audit.replay(request.params.caseId));
        if ('sent' in answer) return answer.sent;
        const replay = answer.value;
        if (replay.kind === 'unknown-case') return sendProblem(reply, problem('unknown-case', replay.message));
        if (replay.kind === 'unavailable') return sendProblem(reply, problem('history-unavailable', replay.message));
        return replay;
      },
    );

    app.get<{ Params: { caseId: string } }>(
      '/:caseId/export',
      {
        config: { roles: AUDITORS },
        schema: {
          tags: TAGS,
          summary: 'Download a case as JSON Lines: the case, its plan, its audit rows, the history of each run and their verification',
          params: caseParams,
          response: responses({ 200: BODIES.jsonLines }, ['unknown-case', ...AUDIT_LIMITS]),
        },
      },
      async (request, reply) => {
        const answer = await bounded(reply, () => deps.audit.exportCase(request.params.caseId));
        if ('sent' in answer) return answer.sent;
        const lines = answer.value;
        if (!lines) return sendProblem(reply, problem('unknown-case', `no case ${request.params.caseId}`));
        return reply.type(JSON_LINES).header('content-disposition', `attachment; filename="case-${request.params.caseId}.jsonl"`).send(Readable.from(lines));
      },
    );
  };

export const auditExportRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Querystring: { closedFrom: string; closedTo: string } }>(
      '/export',
      {
        config: { roles: AUDITORS },
        schema: {
          tags: TAGS,
          summary: 'Download every case closed in [closedFrom, closedTo) as JSON Lines, oldest close first (nothing when closedTo is not after closedFrom)',
          querystring: {
            type: 'object',
            additionalProperties: false,
            required: ['closedFrom', 'closedTo'],
            properties: {
              closedFrom: {
                ...INSTANT_QUERY,
                description: 'A day (from its start, UTC) or an instant (years 0001-9999, offsets within ±15:59, no leap second)',
              },
              closedTo: { ...INSTANT_QUERY, description: 'As closedFrom' },
            },
          },
          response: responses({ 200: BODIES.jsonLines }, [...AUDIT_LIMITS]),
        },
      },
      async (request, reply) => {
        const read = readQueryInstants(request.query, ['closedFrom', 'closedTo']);
        if ('problem' in read) return sendProblem(reply, read.problem);
        // A range that ends before it starts is empty.
        const from = read.instants.closedFrom!.at;
        const to = read.instants.closedTo!.at;
        const name = `cases-closed-${request.query.closedFrom}-to-${request.query.closedTo}.jsonl`.replace(/[^A-Za-z0-9._-]/g, '_');
        const answer = await bounded(reply, () => deps.audit.exportClosed(from, to));
        if ('sent' in answer) return answer.sent;
        return reply.type(JSON_LINES).header('content-disposition', `attachment; filename="${name}"`).send(Readable.from(answer.value));
      },
    );
  };
