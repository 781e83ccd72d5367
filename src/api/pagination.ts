/** Lists paginated by cursor (`/v1/cases`, `/v1/inbox`): the same query parameters and the same refusal of a cursor we did not issue. */
import type { FastifyReply } from 'fastify';
import { problem, sendProblem } from './problems.js';

/** The query parameters of every paginated list: up to 100 a page, and the `nextCursor` of the page before. */
export const PAGE_QUERY = {
  limit: { type: 'string', pattern: '^(?:[1-9]|[1-9][0-9]|100)$' },
  cursor: { type: 'string', maxLength: 300 },
} as const;

/** The page, or `400 invalid-cursor` when the store did not recognise the cursor (it answers undefined). */
export function pageOrInvalidCursor<T>(reply: FastifyReply, page: T | undefined): T | FastifyReply {
  return (
    page ??
    sendProblem(reply, problem('invalid-cursor', 'the cursor is not one this API returned', { errors: [{ pointer: '/cursor', message: 'unknown cursor' }] }))
  );
}
