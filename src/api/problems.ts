/**
 * RFC 9457 problem details: every error the API returns has this shape, and its `type` is one of
 * the closed catalogue below. docs/api.md ("Problem types") lists the same types; a test keeps the
 * two in step. A retired type is never reused.
 */
import type { FastifyReply } from 'fastify';

/** HTTP statuses the API answers errors with, and the title each problem with that status carries. */
const TITLES = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
} as const;

export type ProblemStatus = keyof typeof TITLES;

/** Every problem type and the statuses it is sent with: the first, unless a route names another (docs/api.md says when). */
export const PROBLEM_TYPES = {
  'invalid-request': { status: [400] },
  'malformed-json': { status: [400] },
  'invalid-cursor': { status: [400] },
  'bad-request': { status: [400] },
  unauthorized: { status: [401] },
  'invalid-signature': { status: [401] },
  forbidden: { status: [403] },
  'own-version-approval': { status: [403] },
  'not-found': { status: [404] },
  'method-not-allowed': { status: [405] },
  'unknown-case': { status: [404] },
  'unknown-key': { status: [404] },
  'unknown-playbook': { status: [422, 404] },
  'unknown-playbook-version': { status: [404] },
  'unknown-inbox-event': { status: [404] },
  'unknown-order': { status: [404] },
  'unknown-task': { status: [404] },
  'unknown-escalation': { status: [404] },
  'unknown-delivery': { status: [404] },
  'unknown-bulk-job': { status: [404] },
  'unknown-backtest': { status: [404] },
  'event-not-expected': { status: [409] },
  'case-closed': { status: [409] },
  'duplicate-case': { status: [409] },
  'order-lines-conflict': { status: [409] },
  'case-not-failed': { status: [409] },
  'repair-target-unclear': { status: [409] },
  'idempotency-key-in-use': { status: [409] },
  'idempotency-key-reused': { status: [422] },
  'ambiguous-event': { status: [409] },
  'last-admin-key': { status: [409] },
  'task-claimed': { status: [409] },
  'task-not-open': { status: [409] },
  'escalation-handled': { status: [409] },
  'delivery-delivered': { status: [409] },
  'delivery-not-redeliverable': { status: [409] },
  'bulk-unconfirmed': { status: [409] },
  'version-cannot-be-current': { status: [409] },
  'body-too-large': { status: [413] },
  'unsupported-media-type': { status: [415] },
  'invalid-playbook': { status: [422] },
  'name-mismatch': { status: [422] },
  'invalid-case-data': { status: [422] },
  'invalid-advance': { status: [422] },
  'invalid-event': { status: [422] },
  'unknown-outcome': { status: [422] },
  'bulk-selection-too-large': { status: [422] },
  'invalid-migration-mapping': { status: [422] },
  'rate-limited': { status: [429] },
  'audit-busy': { status: [429] },
  internal: { status: [500] },
  'not-ready': { status: [503] },
  'history-unavailable': { status: [503] },
  'audit-over-limit': { status: [503] },
  'service-unavailable': { status: [503] },
} as const satisfies Record<string, { status: readonly [ProblemStatus, ...ProblemStatus[]] }>;

export type ProblemType = keyof typeof PROBLEM_TYPES;

export const PROBLEM_BASE = 'https://casebook.dev/problems/';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export const titleOf = (status: number): string => (TITLES as Record<number, string>)[status] ?? 'Error';

/** A problem of a catalogued type, with the type's status (or another of its statuses). */
export function problem<T extends ProblemType>(
  type: T,
  detail?: string,
  extensions: Record<string, unknown> = {},
  status: (typeof PROBLEM_TYPES)[T]['status'][number] = PROBLEM_TYPES[type].status[0],
): Problem {
  return { type: PROBLEM_BASE + type, title: titleOf(status), status, ...(detail ? { detail } : {}), ...extensions };
}

/** A client error the HTTP layer raised with a status of its own: a `bad-request` with that status. */
export function clientError(status: number, detail: string): Problem {
  return { ...problem('bad-request', detail), title: titleOf(status), status };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply
    .code(p.status)
    .type('application/problem+json')
    .send({ ...p, instance: reply.request.url, requestId: reply.request.id });
}

/** 429 `rate-limited` with Retry-After: `seconds` until the caller may try again, and whose rate `tooMany` names. */
export function sendRateLimited(reply: FastifyReply, seconds: number, tooMany: string): FastifyReply {
  reply.header('retry-after', String(seconds));
  return sendProblem(reply, problem('rate-limited', `${tooMany}; retry after ${seconds} s`));
}
