/**
 * The outside world, behind small interfaces: one port per kind of side effect. The local
 * implementations (local.ts) keep their state in Postgres tables a person can inspect; the others carry
 * the effect to a shop's real systems. Each is built under a name in CONNECTORS (src/stack/compose.ts),
 * chosen by configuration.
 */
import type { IntegrationRequest, MessageRequest, OrderNoteRequest, RefundRequest } from '../plan/activities.js';

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
