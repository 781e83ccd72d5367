/**
 * Idempotency-Key on POST: the same key (per API key) with the same body gets the first answer again,
 * marked `idempotent-replayed: true`; with another body, 422; while the first is still running, 409.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { canonicalJson } from '../playbook/canonical.js';
import { claimIdempotencyKey, recordIdempotentAnswer, releaseIdempotencyKey } from '../services/idempotency.js';
import type { Pool } from '../store/pool.js';
import { problem, type Problem } from './problems.js';

/** An answer a route computed: a status and a JSON body (a problem's whole body for errors). */
export interface Answer {
  status: number;
  body: unknown;
}

/** What an Idempotency-Key looks like: 1 to 200 visible ASCII characters (the header's schema pattern too). */
export const IDEMPOTENCY_KEY = '^[\\x21-\\x7e]{1,200}$';
const KEY = new RegExp(IDEMPOTENCY_KEY);

/** The headers schema of a route taking an Idempotency-Key; `description` says what a retry under it gets. */
export function idempotencyHeaders(description = 'Retries with this key and the same body get the first answer (see docs/api.md)') {
  return { type: 'object', properties: { 'idempotency-key': { type: 'string', pattern: IDEMPOTENCY_KEY, description } } } as const;
}

export function answerOf(p: Problem, reply: FastifyReply): Answer {
  return { status: p.status, body: { ...p, instance: reply.request.url, requestId: reply.request.id } };
}

export function sendAnswer(reply: FastifyReply, answer: Answer, replayed = false): FastifyReply {
  const isProblem = answer.status >= 400;
  if (replayed) reply.header('idempotent-replayed', 'true');
  return reply
    .code(answer.status)
    .type(isProblem ? 'application/problem+json' : 'application/json')
    .send(answer.body);
}

/** The request's Idempotency-Key, undefined when none was sent; a malformed one is a problem. */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined | Problem {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || !KEY.test(key)) {
    return problem('invalid-request', 'Idempotency-Key must be 1 to 200 visible ASCII characters', {
      errors: [{ pointer: '/headers/idempotency-key', message: 'malformed' }],
    });
  }
  return key;
}

/** A stable id made from the API key and the Idempotency-Key, for what the request creates. */
export function idFromIdempotencyKey(apiKeyId: string, key: string): string {
  const hex = createHash('sha256').update(`${apiKeyId}\u0000${key}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Runs `compute` once per key and body; a retry gets the recorded answer. */
export async function idempotently(
  pool: Pool,
  reply: FastifyReply,
  apiKeyId: string,
  key: string,
  body: unknown,
  compute: () => Promise<Answer>,
): Promise<FastifyReply> {
  const sha = createHash('sha256').update(canonicalJson(body)).digest('hex');
  const claim = await claimIdempotencyKey(pool, apiKeyId, key, sha);
  switch (claim.kind) {
    case 'other-request':
      return sendAnswer(
        reply,
        answerOf(
          problem('idempotency-key-reused', 'this Idempotency-Key was used with another request body', {
            errors: [{ pointer: '/headers/idempotency-key', message: 'already used for another body' }],
          }),
          reply,
        ),
      );
    case 'in-progress':
      return sendAnswer(
        reply,
        answerOf(problem('idempotency-key-in-use', 'a request with this Idempotency-Key is still being answered; retry shortly'), reply),
      );
    case 'answered':
      return sendAnswer(reply, { status: claim.status, body: claim.body }, true);
    case 'new':
      break;
  }
  let answer: Answer;
  try {
    answer = await compute();
  } catch (error) {
    await releaseIdempotencyKey(pool, apiKeyId, key);
    throw error;
  }
  await recordIdempotentAnswer(pool, apiKeyId, key, answer.status, answer.body);
  return sendAnswer(reply, answer);
}
