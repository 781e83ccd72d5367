/**
 * What happened to a case through the API, a line each at INFO: the case, the key that did it
 * (`actor`), and the request id, which every line of a request carries (`reqId`).
 */
import type { FastifyRequest } from 'fastify';

export function logCase(request: FastifyRequest, message: string, caseId: string, fields: Record<string, unknown> = {}): void {
  const actor = request.apiKey ? { actor: { keyId: request.apiKey.id, name: request.apiKey.name } } : {};
  request.log.info({ caseId, ...actor, ...fields }, message);
}
