/**
 * How a route answers the bulk job it asked for: the job (202 when started, 200 when the Idempotency-Key
 * found it), or why not. What a confirmation and a too-large selection are differs per route, so the
 * route says it.
 */
import type { FastifyReply } from 'fastify';
import type { BulkJob as BulkJobBody } from '../api-contract/bulk.js';
import type { SubmitResult } from '../cases/bulk.js';
import { problem, sendProblem, type Problem } from './problems.js';

export interface SubmitRefusals {
  unconfirmed: Problem;
  tooMany: (count: number, limit: number) => Problem;
}

export function sendSubmitted(reply: FastifyReply, result: SubmitResult, key: string | undefined, refusals: SubmitRefusals): FastifyReply {
  switch (result.kind) {
    case 'unconfirmed':
      return sendProblem(reply, refusals.unconfirmed);
    case 'too-many':
      return sendProblem(reply, refusals.tooMany(result.count, result.limit));
    case 'key-reused':
      return sendProblem(
        reply,
        problem('idempotency-key-reused', `Idempotency-Key ${key} already made job ${result.jobId} with another request`, {
          errors: [{ pointer: '/headers/idempotency-key', message: 'already used with another request' }],
        }),
      );
    case 'started':
    case 'existing':
      reply.header('location', `/v1/bulk-operations/${result.job.id}`);
      return reply.code(result.kind === 'started' ? 202 : 200).send(result.job satisfies BulkJobBody);
  }
}
