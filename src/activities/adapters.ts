/**
 * The outside world, behind small interfaces. The local implementations are real: they keep their
 * state in Postgres tables a person can inspect (outbox_messages, provider_refunds, order_notes,
 * integration_calls). A shop replaces them with its chat/SMS gateway, payment provider, order system:
 * an implementation here, registered under a name in ADAPTERS (src/stack/compose.ts), chosen by its
 * variable (CASEBOOK_PAYMENTS=<name>, ...).
 */
import { createHash } from 'node:crypto';
import type { Pool } from '../store/pool.js';
import type { IntegrationRequest, MessageRequest, OrderNoteRequest, RefundRequest } from '../plan/activities.js';
import { writeOrderNote } from '../store/order-notes.js';
import { logIntegrationCall } from '../store/integration-calls.js';
import { markMessageSent } from '../store/outbox.js';
import { recordProviderRefund } from '../store/refunds.js';

export interface ChannelAdapter {
  /** Delivers one outbox message; called again after a crash, so delivery must tolerate repeats. */
  deliver(message: MessageRequest & { messageId: number }): Promise<void>;
}

/** A provider's answer: paid, with its reference, or why it declined. */
export type RefundOutcome = { issued: true; providerReference: string } | { issued: false; declineReason: string };

export interface PaymentProvider {
  /**
   * Refunds once per `key`: asking again with the same key returns the first outcome. Casebook asks
   * again with the same key after any failure whose outcome it did not hear (this is how an unknown
   * outcome is reconciled); it never asks under a new key.
   */
  refund(request: RefundRequest): Promise<RefundOutcome>;
}

export interface OrderSystem {
  writeNote(request: OrderNoteRequest): Promise<void>;
}

export interface IntegrationGateway {
  call(request: IntegrationRequest): Promise<unknown>;
}

export interface Adapters {
  channel: ChannelAdapter;
  payments: PaymentProvider;
  orders: OrderSystem;
  integrations: IntegrationGateway;
}

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
