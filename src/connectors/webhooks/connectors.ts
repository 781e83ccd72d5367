/**
 * The ports carried by outbound webhooks, one small class per port over a destination's sender. What
 * each sends (`data` of the envelope) and what it expects back is in docs/connectors.md.
 */
import type { IntegrationRequest, MessageRequest, OrderNoteRequest, RefundRequest } from '../../plan/activities.js';
import { markMessageSent } from '../../store/outbox.js';
import type { Pool } from '../../store/pool.js';
import type { ChannelAdapter, EffectAttempt, IntegrationGateway, Notice, Notifier, OrderSystem, PaymentProvider, RefundOutcome } from '../ports.js';
import type { HttpAnswer } from './http.js';
import { DeliveryRefused, type Reading, type WebhookSender } from './sender.js';

const delivered = (): Reading<void> => ({ result: undefined });

/** The answer's body as JSON; undefined when it is not JSON. An empty body is null. */
function json(answer: HttpAnswer): { value: unknown } | undefined {
  const text = answer.body.toString('utf8').trim();
  if (text === '') return { value: null };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/** Messages on a channel: the outbox row is marked sent once the receiver took it (a 2xx). */
export class WebhookChannel implements ChannelAdapter {
  constructor(
    private readonly sender: WebhookSender,
    private readonly pool: Pool,
  ) {}

  async deliver(message: MessageRequest & { messageId: number }, attempt?: EffectAttempt): Promise<void> {
    await this.sender.deliver(
      {
        type: 'message.send',
        webhookId: message.key,
        caseId: message.caseId,
        stepId: message.stepId,
        data: {
          caseId: message.caseId,
          stepId: message.stepId,
          channel: message.channel,
          recipient: message.recipient,
          template: message.template,
          body: message.body,
        },
      },
      attempt,
      delivered,
    );
    await markMessageSent(this.pool, message.messageId);
  }
}

/**
 * Refunds at the shop's payment provider. The 2xx answer is `{"status":"issued","reference":"..."}`,
 * `{"status":"declined","reason":"..."}` or `{"status":"pending"}`; pending, or anything else, is asked
 * again under the same key (a `refund.settled` event from the payments source settles the ledger in
 * between, and the next ask finds it settled). A refund is never out of attempts: it goes on until paid.
 * A request the provider refuses for good (a 4xx) is a decline.
 */
export class WebhookPayments implements PaymentProvider {
  constructor(private readonly sender: WebhookSender) {}

  async refund(request: RefundRequest, attempt?: EffectAttempt): Promise<RefundOutcome> {
    try {
      return await this.sender.deliver(
        {
          type: 'refund.request',
          webhookId: request.key,
          caseId: request.caseId,
          stepId: request.stepId,
          endless: true,
          data: {
            caseId: request.caseId,
            stepId: request.stepId,
            order: request.orderId,
            amount: request.amount,
            currency: request.currency,
            reason: request.reason,
            covers: request.covers,
            deadline: request.deadlineAt,
          },
        },
        attempt,
        readRefund,
      );
    } catch (error) {
      if (error instanceof DeliveryRefused) return { issued: false, declineReason: `the payment provider refused the request (HTTP ${error.status})` };
      throw error;
    }
  }
}

function readRefund(answer: HttpAnswer): Reading<RefundOutcome> {
  const body = json(answer)?.value as { status?: unknown; reference?: unknown; reason?: unknown } | null | undefined;
  if (body?.status === 'issued' && typeof body.reference === 'string' && body.reference !== '')
    return { result: { issued: true, providerReference: body.reference.slice(0, 200) } };
  if (body?.status === 'declined')
    return { result: { issued: false, declineReason: typeof body.reason === 'string' && body.reason !== '' ? body.reason.slice(0, 500) : 'declined' } };
  if (body?.status === 'pending') return { pending: 'the payment provider has the refund pending' };
  return { unreadable: 'the answer is not {"status":"issued","reference":...}, {"status":"declined",...} or {"status":"pending"}' };
}

export class WebhookOrderSystem implements OrderSystem {
  constructor(private readonly sender: WebhookSender) {}

  async writeNote(request: OrderNoteRequest, attempt?: EffectAttempt): Promise<void> {
    await this.sender.deliver(
      {
        type: 'order.note',
        webhookId: request.key,
        caseId: request.caseId,
        // A remark's key is its step's (case/step/visit); the request names no step of its own.
        stepId: request.key.split('/')[1] ?? null,
        data: { caseId: request.caseId, order: request.orderId, remark: request.remark, flag: request.flag ?? null },
      },
      attempt,
      delivered,
    );
  }
}

/** An integration's operation: the 2xx answer's JSON body is its result (an empty body is null). */
export class WebhookIntegrations implements IntegrationGateway {
  constructor(private readonly sender: WebhookSender) {}

  call(request: IntegrationRequest, attempt?: EffectAttempt): Promise<unknown> {
    return this.sender.deliver(
      {
        type: 'integration.call',
        webhookId: request.key,
        caseId: request.caseId,
        stepId: request.stepId,
        data: { caseId: request.caseId, stepId: request.stepId, integration: request.integration, operation: request.operation, input: request.input },
      },
      attempt,
      (answer) => {
        const body = json(answer);
        return body ? { result: body.value } : { unreadable: 'the answer is not JSON' };
      },
    );
  }
}

/**
 * Tasks and escalations opened, as a `notification` whose `data.event` is `task.opened` or
 * `escalation.opened`, under the row's key with `/notified`. A task's notice is not sent after the
 * task is due.
 */
export class WebhookNotifications implements Notifier {
  constructor(private readonly sender: WebhookSender) {}

  async notify(notice: Notice, attempt?: EffectAttempt): Promise<void> {
    const { key, ...data } = notice;
    await this.sender.deliver(
      {
        type: 'notification',
        webhookId: `${key}/notified`,
        caseId: notice.caseId,
        stepId: notice.stepId,
        data,
        ...(notice.event === 'task.opened' ? { deadline: Date.parse(notice.dueAt) } : {}),
      },
      attempt,
      delivered,
    );
  }
}
