/**
 * The local connectors, Casebook's embedded default: each keeps what it did in a Postgres table a
 * person can inspect (outbox_messages, provider_refunds, order_notes, integration_calls).
 */
import { createHash } from 'node:crypto';
import type { IntegrationRequest, MessageRequest, OrderNoteRequest, RefundRequest } from '../plan/activities.js';
import { logIntegrationCall } from '../store/integration-calls.js';
import { writeOrderNote } from '../store/order-notes.js';
import { markMessageSent } from '../store/outbox.js';
import type { Pool } from '../store/pool.js';
import { recordProviderRefund } from '../store/refunds.js';
import type { ChannelAdapter, IntegrationGateway, Notifier, OrderSystem, PaymentProvider, RefundOutcome } from './ports.js';

/** Marks the outbox row sent: the local "channel" is the outbox itself, read by agents and tests. */
export class LocalOutboxChannel implements ChannelAdapter {
  constructor(private readonly pool: Pool) {}

  async deliver(message: MessageRequest & { messageId: number }): Promise<void> {
    await markMessageSent(this.pool, message.messageId);
  }
}

/** A payment provider that pays into `provider_refunds`, once per key, and never declines. */
export class LocalPayments implements PaymentProvider {
  constructor(private readonly pool: Pool) {}

  async refund(request: RefundRequest): Promise<RefundOutcome> {
    const reference = `local-${createHash('md5').update(request.key).digest('hex')}`;
    return { issued: true, providerReference: await recordProviderRefund(this.pool, request, reference) };
  }
}

export class LocalOrderNotes implements OrderSystem {
  constructor(private readonly pool: Pool) {}

  async writeNote(request: OrderNoteRequest): Promise<void> {
    await writeOrderNote(this.pool, request);
  }
}

/** Records each request in `integration_calls` for the receiving team to act on; returns no data. */
export class LocalIntegrationLog implements IntegrationGateway {
  constructor(private readonly pool: Pool) {}

  async call(request: IntegrationRequest): Promise<unknown> {
    await logIntegrationCall(this.pool, request);
    return null;
  }
}

/**
 * Local notifications are the queues themselves: the `tasks` or `escalations` row the activity wrote
 * before calling this is what agents and admins are shown (GET /v1/tasks, GET /v1/escalations, the
 * console), so there is nothing further to write or send.
 */
export class LocalQueueNotifications implements Notifier {
  async notify(): Promise<void> {}
}
