/** How a refused event reads over HTTP, the same for the events route and the warehouse webhook. */
import type { DeliveryResult } from '../cases/service.js';
import { problem, type Problem } from './problems.js';

export type RefusedDelivery = Extract<DeliveryResult, { reason: string }>;

export function deliveryProblem(result: RefusedDelivery, extensions: Record<string, unknown> = {}): Problem {
  switch (result.status) {
    case 'invalid':
      return problem('invalid-event', result.reason, { errors: result.problems, ...extensions });
    case 'refused':
      return problem('event-not-expected', result.reason, extensions);
    case 'closed':
      return problem('case-closed', result.reason, extensions);
  }
}
