/**
 * An admin delivers an outbound webhook once more (`POST /v1/deliveries/{webhookId}/redeliver`): the
 * request its side effect sent, kept when its first attempt started, sent again now under the same
 * `webhook-id` by the sender of its destination. The case is not touched: it took its path (on_error,
 * an escalation) when the delivery ran out of attempts; the receiver deduplicates by `webhook-id`.
 */
import type { Actor } from '../plan/case.js';
import type { Pool } from '../store/pool.js';
import type { WebhookAttempt } from '../store/webhook-attempts.js';
import { deliveryState, type KeptRequest } from '../store/webhook-requests.js';

export type { WebhookAttempt };

/** What sends a kept request again to one destination (the destination's webhook sender). */
export interface Redeliverer {
  redeliver(request: KeptRequest, by: Actor): Promise<WebhookAttempt>;
}

/** The redeliverer of each configured destination, by its name; undefined for a name no longer configured. */
export type Redeliverers = (destination: string) => Redeliverer | undefined;

/** How long an attempt may be in flight (the sender cuts any at 25 s): a newer unfinished one is still going. */
const IN_FLIGHT_MS = 30_000;

export type Redelivery =
  | { kind: 'redelivered'; attempt: WebhookAttempt }
  | { kind: 'unknown' }
  | { kind: 'delivered' }
  | { kind: 'not-redeliverable'; message: string };

/**
 * Sends the delivery again, unless: no attempt was ever made under this id (`unknown`); one was
 * delivered (`delivered`: nothing to do); or it cannot be sent again (`not-redeliverable`): a refund
 * (never: the ledger is the one road for money, and its activity asks the provider again under the
 * same key until the refund is settled, docs/api.md), a request not kept (made before migration
 * 319), an attempt still in flight, or a destination no longer in the configuration.
 */
export async function redeliverWebhook(pool: Pool, redeliverers: Redeliverers, webhookId: string, by: Actor, now = Date.now()): Promise<Redelivery> {
  const state = await deliveryState(pool, webhookId);
  if (!state) return { kind: 'unknown' };
  if (state.delivered) return { kind: 'delivered' };
  if (state.type === 'refund.request')
    return {
      kind: 'not-redeliverable',
      message: `${webhookId} is a refund: refunds are never delivered again by hand; the case's refund asks the provider again under the same key until it is issued or declined`,
    };
  if (!state.request)
    return { kind: 'not-redeliverable', message: `what ${webhookId} sent was not kept (it was first attempted before redeliveries were possible)` };
  if (state.latestOutcome === null && now - Date.parse(state.latestStartedAt) < IN_FLIGHT_MS)
    return { kind: 'not-redeliverable', message: `attempt ${state.attempts} of ${webhookId} is still in flight` };
  const redeliverer = redeliverers(state.request.destination);
  if (!redeliverer) return { kind: 'not-redeliverable', message: `the destination ${state.request.destination} is no longer in the configuration` };
  return { kind: 'redelivered', attempt: await redeliverer.redeliver(state.request, by) };
}
