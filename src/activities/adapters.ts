/**
 * The outside world, behind small interfaces. The local implementations are real: they keep their
 * state in Postgres tables a person can inspect (outbox_messages, refunds, order_notes,
 * integration_calls). A shop replaces them with its chat/SMS gateway, payment provider, order system.
 */
import { createHash } from 'node:crypto';
import type { Pool } from '../store/pool.js';
import type { IntegrationRequest, MessageRequest, OrderNoteRequest, RefundReceipt, RefundRequest } from '../plan/activities.js';
import { writeOrderNote } from '../store/order-notes.js';
import { logIntegrationCall } from '../store/integration-calls.js';
import { markMessageSent } from '../store/outbox.js';
import { findRefund, isLedgerRefusal, recordRefund, type LedgerRefund } from '../store/refunds.js';

export interface ChannelAdapter {
  /** Delivers one outbox message; called again after a crash, so delivery must tolerate repeats. */
  deliver(message: MessageRequest & { messageId: number }): Promise<void>;
}

/** A provider's answer: the receipt the refund activity returns, or why the refund was declined. */
export type RefundOutcome = ({ issued: true } & RefundReceipt) | { issued: false; declineReason: string };

export interface PaymentProvider {
  /** Refunds once per `key`: asking again with the same key returns the first outcome. */
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

/**
 * A payment provider whose ledger is the `refunds` table. It declines what a real provider would:
 * refunds that would exceed what was paid (enforced by the table's trigger) or in another currency.
 */
export class LocalLedgerPayments implements PaymentProvider {
  constructor(private readonly pool: Pool) {}

  async refund(request: RefundRequest): Promise<RefundOutcome> {
    const existing = await findRefund(this.pool, request.key);
    if (existing) return outcomeOf(existing);
    try {
      const providerReference = `local-${createHash('md5').update(request.key).digest('hex')}`;
      await recordRefund(this.pool, request, { status: 'issued', providerReference });
    } catch (error) {
      if (!isLedgerRefusal(error)) throw error;
      await recordRefund(this.pool, request, { status: 'declined', declineReason: error.message });
    }
    return outcomeOf((await findRefund(this.pool, request.key))!);
  }
}

const outcomeOf = (refund: LedgerRefund): RefundOutcome =>
  refund.status === 'issued'
    ? { issued: true, refundId: refund.id, providerReference: refund.providerReference }
    : { issued: false, declineReason: refund.declineReason };

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

export function localAdapters(pool: Pool): Adapters {
  return {
    channel: new LocalOutboxChannel(pool),
    payments: new LocalLedgerPayments(pool),
    orders: new LocalOrderNotes(pool),
    integrations: new LocalIntegrationLog(pool),
  };
}
