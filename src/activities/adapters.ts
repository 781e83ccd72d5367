/**
 * The outside world, behind small interfaces. The local implementations are real: they keep their
 * state in Postgres tables a person can inspect (outbox_messages, refunds, order_notes,
 * integration_calls). A shop replaces them with its chat/SMS gateway, payment provider, order system.
 */
import type { Pool } from '../store/pool.js';
import type { IntegrationRequest, MessageRequest, OrderNoteRequest, RefundRequest } from '../plan/activities.js';

export interface ChannelAdapter {
  /** Delivers one outbox message; called again after a crash, so delivery must tolerate repeats. */
  deliver(message: MessageRequest & { messageId: number }): Promise<void>;
}

export type RefundOutcome = { issued: true; providerReference: string } | { issued: false; declineReason: string };

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
    await this.pool.query(`UPDATE outbox_messages SET status = 'sent', sent_at = now() WHERE id = $1 AND status = 'pending'`, [message.messageId]);
  }
}

/**
 * A payment provider whose ledger is the `refunds` table. It declines what a real provider would:
 * refunds that would exceed what was paid (enforced by the table's trigger) or in another currency.
 */
export class LocalLedgerPayments implements PaymentProvider {
  constructor(private readonly pool: Pool) {}

  async refund(request: RefundRequest): Promise<RefundOutcome> {
    const existing = await this.find(request.key);
    if (existing) return existing;
    try {
      await this.pool.query(
        `INSERT INTO refunds (idempotency_key, case_id, step_id, amount, currency, reason, covers, status, provider_reference, deadline_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'issued', 'local-' || md5($1), $8)
         ON CONFLICT (idempotency_key) DO NOTHING`,
        [request.key, request.caseId, request.stepId, request.amount, request.currency, request.reason, request.covers, request.deadlineAt],
      );
    } catch (error) {
      if ((error as { code?: string }).code !== '23514') throw error;
      await this.pool.query(
        `INSERT INTO refunds (idempotency_key, case_id, step_id, amount, currency, reason, covers, status, decline_reason, deadline_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'declined', $8, $9)
         ON CONFLICT (idempotency_key) DO NOTHING`,
        [request.key, request.caseId, request.stepId, request.amount, request.currency, request.reason, request.covers, (error as Error).message, request.deadlineAt],
      );
    }
    return (await this.find(request.key))!;
  }

  private async find(key: string): Promise<RefundOutcome | undefined> {
    const { rows } = await this.pool.query<{ status: string; provider_reference: string | null; decline_reason: string | null }>(
      `SELECT status, provider_reference, decline_reason FROM refunds WHERE idempotency_key = $1`, [key],
    );
    const row = rows[0];
    if (!row) return undefined;
    return row.status === 'issued'
      ? { issued: true, providerReference: row.provider_reference! }
      : { issued: false, declineReason: row.decline_reason ?? 'declined' };
  }
}

export class LocalOrderNotes implements OrderSystem {
  constructor(private readonly pool: Pool) {}

  async writeNote(request: OrderNoteRequest): Promise<void> {
    await this.pool.query(
      `INSERT INTO order_notes (idempotency_key, case_id, order_id, remark, flag) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (idempotency_key) DO NOTHING`,
      [request.key, request.caseId, request.orderId, request.remark, request.flag ?? null],
    );
  }
}

/** Records each request in `integration_calls` for the receiving team to act on; returns no data. */
export class LocalIntegrationLog implements IntegrationGateway {
  constructor(private readonly pool: Pool) {}

  async call(request: IntegrationRequest): Promise<unknown> {
    await this.pool.query(
      `INSERT INTO integration_calls (idempotency_key, case_id, step_id, integration, operation, input) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (idempotency_key) DO NOTHING`,
      [request.key, request.caseId, request.stepId, request.integration, request.operation, JSON.stringify(request.input)],
    );
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
