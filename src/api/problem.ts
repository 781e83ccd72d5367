/** RFC 9457 problem details: every error the API returns has this shape. */
import type { FastifyReply } from 'fastify';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not found', 409: 'Conflict', 413: 'Payload too large',
  415: 'Unsupported media type', 422: 'Unprocessable content', 429: 'Too many requests', 500: 'Internal server error', 503: 'Service unavailable',
};

export function problem(status: number, slug: string, detail?: string, extensions: Record<string, unknown> = {}): Problem {
  return { type: `https://casebook.dev/problems/${slug}`, title: TITLES[status] ?? 'Error', status, ...(detail ? { detail } : {}), ...extensions };
}

export function sendProblem(reply: FastifyReply, p: Problem): FastifyReply {
  return reply.code(p.status).type('application/problem+json').send({ ...p, instance: reply.request.url, requestId: reply.request.id });
}

export const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' },
    instance: { type: 'string' }, requestId: { type: 'string' },
  },
  additionalProperties: true,
} as const;
