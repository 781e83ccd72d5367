/**
 * Input no route should ever see: strings or property names with NUL or half a surrogate pair (which
 * Postgres and every encoder refuse), and JSON nested deeper than MAX_DEPTH. Refused at the edge, before
 * the route's schema, as `400 invalid-request` with a JSON pointer to the first offender.
 */
import type { FastifyInstance } from 'fastify';
import { problem, sendProblem } from './problems.js';
import { escapePointerToken } from '../plan/values.js';

export const MAX_DEPTH = 64;

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is one of the characters the cleaner refuses
const UNCLEAN = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The first place in `value` that is not clean, as a JSON pointer under `pointer` with the reason. */
export function firstUnclean(value: unknown, pointer = '', depth = 0): { pointer: string; message: string } | undefined {
  if (typeof value === 'string') return UNCLEAN.test(value) ? { pointer, message: 'must be text without NUL characters or unpaired surrogates' } : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_DEPTH) return { pointer, message: `is nested deeper than ${MAX_DEPTH} levels` };
  for (const [key, item] of Object.entries(value)) {
    const at = `${pointer}/${escapePointerToken(key)}`;
    if (UNCLEAN.test(key)) return { pointer: at, message: 'has a property name with NUL characters or unpaired surrogates' };
    const found = firstUnclean(item, at, depth + 1);
    if (found) return found;
  }
  return undefined;
}

export function refuseUncleanInput(app: FastifyInstance): void {
  app.addHook('preValidation', async (request, reply) => {
    const found = firstUnclean(request.params) ?? firstUnclean(request.query) ?? firstUnclean(request.body);
    if (found) return sendProblem(reply, problem('invalid-request', `${found.pointer || '/'} ${found.message}`, { errors: [found] }));
  });
}
