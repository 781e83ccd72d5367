/**
 * The outside world, behind small interfaces: one port per kind of side effect. The local
 * implementations (local.ts) keep their state in Postgres tables a person can inspect; the others carry
 * the effect to a shop's real systems. Each is built under a name in CONNECTORS (src/stack/compose.ts),
 * chosen by configuration.
 */
import type { EscalationRequest, IntegrationRequest, MessageRequest, OrderNoteRequest, RefundRequest, TaskRequest } from '../plan/activities.js';

/**
 * Which try of a side effect a connector is making, as the activity that carries it knows: what a
 * connector that may be slow (a remote one) needs to keep a case's workflow task short and to follow
 * its retry schedule. Absent outside an activity.
 */
export interface EffectAttempt {
  /** Inside the case's workflow task (a local activity): a slow connector gives up soon and lets the activity carry it. */
  inWorkflowTask: boolean;
  /** The activity's attempt, 1 first. */
  activityAttempt: number;
  /** When this attempt was scheduled, by Temporal's clock (which a time-skipping test server moves). */
  scheduledAt: number;
}

/**
 * A side effect a connector could not carry, and when to try again: `retryInMs` (0: at once; the
 * activity's retry follows it), or undefined: never (refused for good, or out of attempts), and the
 * playbook's failure path is taken. The message never holds a secret.
 */
export class DeliveryFailure extends Error {
  constructor(
    message: string,
    readonly retryInMs: number | undefined,
  ) {
    super(message);
    this.name = 'DeliveryFailure';
  }
}

export interface ChannelAdapter {
  /** Delivers one outbox message; called again after a crash, so delivery must tolerate repeats. */
  deliver(message: MessageRequest & { messageId: number }, attempt?: EffectAttempt): Promise<void>;
}

/** A provider's answer: paid, with its reference, or why it declined. */
export type RefundOutcome = { issued: true; providerReference: string } | { issued: false; declineReason: string };

export interface PaymentProvider {
  /**
   * Refunds once per `key`: asking again with the same key returns the first outcome. Casebook asks
   * again with the same key after any failure whose outcome it did not hear (this is how an unknown
   * outcome is reconciled); it never asks under a new key.
   */
  refund(request: RefundRequest, attempt?: EffectAttempt): Promise<RefundOutcome>;
}

export interface OrderSystem {
  writeNote(request: OrderNoteRequest, attempt?: EffectAttempt): Promise<void>;
}

export interface IntegrationGateway {
  call(request: IntegrationRequest, attempt?: EffectAttempt): Promise<unknown>;
}

/** What people are told when a case opens a task or an escalation, each after its row is written. */
export type Notice = ({ event: 'task.opened'; taskId: number } & TaskRequest) | ({ event: 'escalation.opened'; escalationId: number } & EscalationRequest);

export interface Notifier {
  /** Tells once per notice (its `key`); called again after a crash, so it must tolerate repeats. */
  notify(notice: Notice, attempt?: EffectAttempt): Promise<void>;
}

export interface Adapters {
  channel: ChannelAdapter;
  payments: PaymentProvider;
  orders: OrderSystem;
  integrations: IntegrationGateway;
  notifications: Notifier;
}
