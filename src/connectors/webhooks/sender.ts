/**
 * Delivers side effects to one configured destination as Standard Webhooks 1.0: a JSON envelope
 * `{ type, timestamp, data }` POSTed with `webhook-id` (the side effect's idempotency key, the same on
 * every attempt), `webhook-timestamp` and `webhook-signature` (one `v1,` signature per configured
 * secret, read from the environment at each send, so that two are sent during a rotation). Every
 * attempt is recorded in `webhook_attempts`; retries follow Svix's schedule, carried by the activity.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { Webhook } from 'standardwebhooks';
import type { Pool } from '../../store/pool.js';
import type { Actor } from '../../plan/case.js';
import {
  type AttemptOutcome,
  attemptsOf,
  beginAttempt,
  EXCERPT_BYTES,
  finishAttempt,
  latestAttempt,
  type WebhookAttempt,
} from '../../store/webhook-attempts.js';
import { beginRedelivery, type KeptRequest, keepRequest } from '../../store/webhook-requests.js';
import { type Destination, MissingSecretError, secretsOf } from '../config.js';
import { DeliveryFailure, type EffectAttempt } from '../ports.js';
import { DestinationGate, GATE_DEFAULTS, type GateSettings } from './gate.js';
import { AttemptError, type HttpAnswer, postOnce } from './http.js';

export type WebhookType = 'message.send' | 'refund.request' | 'order.note' | 'notification' | 'integration.call' | 'casebook.ping';

/**
 * Svix's schedule: the delay before each attempt, the first at once. Eight attempts in all, over about
 * 27 hours; a refund goes on after them, every 10 hours, until it is paid.
 */
export const RETRY_SCHEDULE_MS: readonly number[] = [0, 5_000, 5 * 60_000, 30 * 60_000, 2 * 3_600_000, 5 * 3_600_000, 10 * 3_600_000, 10 * 3_600_000];

/**
 * How often a refund the provider answered `pending` is asked again at most: the receiver is up, and a
 * settlement it posts (`refund.settled`) is found at the next ask, so the case notices within minutes
 * instead of at the schedule's next step (up to 10 hours).
 */
export const PENDING_ASK_MS = 5 * 60_000;

/**
 * The longest an attempt made inside a case's workflow task may take: one that takes longer is
 * abandoned there and made again by the activity (same `webhook-id`), so a slow receiver never holds
 * the case's workflow task for the destination's whole timeout.
 */
export const IN_TASK_TIMEOUT_MS = 3_000;

/** The longest any attempt may take, whatever the destination's timeout: within the activity's 30 s start-to-close timeout. */
export const MAX_ATTEMPT_MS = 25_000;

/** One side effect to deliver. */
export interface Outbound {
  type: Exclude<WebhookType, 'casebook.ping'>;
  webhookId: string;
  caseId: string | null;
  stepId: string | null;
  data: Record<string, unknown>;
  /** No attempt starts after this instant (epoch ms): the step's deadline. */
  deadline?: number;
  /** Never out of attempts: after the schedule, one every 10 hours (refunds, which go on until paid). */
  endless?: boolean;
}

/** What a 2xx answer means to the side effect: its result, still pending at the receiver, or unreadable (asked again). */
export type Reading<T> = { result: T } | { pending: string } | { unreadable: string };

/** An answer the receiver refused for good (4xx other than 408, 409 and 429). */
export class DeliveryRefused extends DeliveryFailure {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message, undefined);
    this.name = 'DeliveryRefused';
  }
}

export interface PingResult {
  ok: boolean;
  status: number | null;
  latencyMs: number;
  /** Why not ok; never a secret. */
  problem?: string;
}

/** A signing secret unset, or not a Standard Webhooks secret: names the variable, never the value. */
class SecretError extends Error {}

type Classified = { outcome: AttemptOutcome; healthy: boolean; errorKind: string | null; message: string };

export class WebhookSender {
  private readonly gate: DestinationGate;
  private readonly agent: http.Agent;
  private readonly url: URL;

  constructor(
    readonly destination: Destination,
    private readonly pool: Pool,
    gate: GateSettings = GATE_DEFAULTS,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.gate = new DestinationGate(gate);
    this.url = new URL(destination.url);
    const options = { keepAlive: true, maxSockets: gate.maxInFlight };
    this.agent = this.url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
  }

  /**
   * Delivers once per call, recording the attempt; answers what `read` makes of a 2xx answer, or throws
   * a DeliveryFailure that says when to try again (never when refused, out of attempts or past the
   * deadline). The first attempt of an activity that follows a failed one waits its turn in the schedule.
   */
  async deliver<T>(outbound: Outbound, attempt: EffectAttempt | undefined, read: (answer: HttpAnswer) => Reading<T>): Promise<T> {
    const latest = await latestAttempt(this.pool, outbound.webhookId);
    const made = latest?.attempt ?? 0;
    if (!outbound.endless && made >= RETRY_SCHEDULE_MS.length) throw this.outOfAttempts(outbound, made);
    if (attempt && !attempt.inWorkflowTask && attempt.activityAttempt === 1 && latest && latest.outcome !== 'delivered')
      throw this.retryLater(outbound, attempt, made, `${outbound.type} ${outbound.webhookId} waits for its next attempt`);
    // What every attempt sends, kept before the first: what an admin's redelivery sends again.
    if (!latest) await keepRequest(this.pool, { ...this.started(outbound), data: JSON.stringify(outbound.data) });

    let signers: Webhook[];
    try {
      signers = this.signers();
    } catch (error) {
      if (!(error instanceof SecretError)) throw error;
      const missing = await beginAttempt(this.pool, this.started(outbound));
      await finishAttempt(this.pool, missing.id, { latencyMs: 0, httpStatus: null, errorKind: 'secret', responseExcerpt: null, outcome: 'failed' });
      throw this.retryLater(outbound, attempt, missing.scheduled, `${this.destination.name}: ${error.message}`);
    }

    const now = attempt?.scheduledAt ?? Date.now();
    const admission = await this.gate.admit(now, attempt?.inWorkflowTask ? 0 : undefined);
    // Every request in flight taken inside the workflow task: no attempt was made; the activity makes
    // it at once, waiting for a slot there.
    if (!admission.admitted && admission.kind === 'busy' && attempt?.inWorkflowTask) throw new DeliveryFailure(admission.message, 0);
    let started: { id: number; attempt: number; scheduled: number };
    try {
      started = await beginAttempt(this.pool, this.started(outbound));
    } catch (error) {
      if (admission.admitted) this.gate.cancel(admission);
      throw error;
    }
    if (!admission.admitted) {
      await finishAttempt(this.pool, started.id, { latencyMs: 0, httpStatus: null, errorKind: admission.kind, responseExcerpt: null, outcome: 'failed' });
      throw this.retryLater(outbound, attempt, started.scheduled, `${this.destination.name}: ${admission.message}`);
    }
    const begun = performance.now();
    let answer: HttpAnswer | undefined;
    let classified: Classified = { outcome: 'failed', healthy: false, errorKind: 'connection', message: 'no answer' };
    let result: { value: T } | undefined;
    let unexpected: { error: unknown } | undefined;
    try {
      const timeoutMs = Math.min(this.destination.timeoutMs, attempt?.inWorkflowTask ? IN_TASK_TIMEOUT_MS : MAX_ATTEMPT_MS);
      answer = await this.post(outbound.type, outbound.webhookId, outbound.data, signers, timeoutMs);
      classified = classify(answer.status);
      if (classified.outcome === 'delivered') {
        const reading = read(answer);
        if ('result' in reading) result = { value: reading.result };
        else if ('pending' in reading) classified = { outcome: 'pending', healthy: true, errorKind: null, message: reading.pending };
        else classified = { outcome: 'failed', healthy: true, errorKind: 'unreadable', message: reading.unreadable };
      }
    } catch (error) {
      if (error instanceof AttemptError) {
        classified = { outcome: 'failed', healthy: false, errorKind: error.kind, message: error.message };
        if (error.status !== null) answer = { status: error.status, headers: {}, body: Buffer.alloc(0) };
      } else {
        // Not the receiver's doing (the request could not be made): the attempt is closed, the error goes on.
        classified = { outcome: 'failed', healthy: true, errorKind: 'internal', message: 'the request could not be made' };
        unexpected = { error };
      }
    } finally {
      this.gate.release(admission, classified.healthy, now + (performance.now() - begun));
    }
    await finishAttempt(this.pool, started.id, {
      latencyMs: performance.now() - begun,
      httpStatus: answer?.status ?? null,
      errorKind: classified.errorKind,
      responseExcerpt: answer ? excerpt(answer.body) : null,
      outcome: classified.outcome,
    });
    if (unexpected) throw unexpected.error;
    if (result) return result.value;
    const what = `${this.destination.name}: ${outbound.type} attempt ${started.attempt}: ${classified.message}`;
    if (classified.outcome === 'refused') throw new DeliveryRefused(what, answer!.status);
    throw this.retryLater(outbound, attempt, started.scheduled, what, classified.outcome === 'pending');
  }

  /**
   * An admin's redelivery: one attempt now of the request kept for its webhook id, with the same id,
   * type and data (signed now, with the secrets configured now), recorded with who asked and in the
   * audit trail. It skips the schedule and the circuit breaker (one request a person asked for, most
   * often because the receiver is back; the breaker guards cases' deliveries from a dead endpoint, and
   * this answer does not feed it), never the safety of the request: the configured URL, no redirect,
   * the address checked at connect time, the answer's size and the destination's timeout (at most
   * MAX_ATTEMPT_MS). Answers the attempt as recorded.
   */
  async redeliver(request: KeptRequest, by: Actor): Promise<WebhookAttempt> {
    const started = await beginRedelivery(this.pool, request, by);
    const begun = performance.now();
    let answer: HttpAnswer | undefined;
    let classified: Classified;
    try {
      answer = await this.post(
        request.type as WebhookType,
        request.webhookId,
        JSON.parse(request.data) as Record<string, unknown>,
        this.signers(),
        Math.min(this.destination.timeoutMs, MAX_ATTEMPT_MS),
      );
      classified = classify(answer.status);
    } catch (error) {
      if (error instanceof AttemptError) {
        classified = { outcome: 'failed', healthy: false, errorKind: error.kind, message: error.message };
        if (error.status !== null) answer = { status: error.status, headers: {}, body: Buffer.alloc(0) };
      } else if (error instanceof SecretError) classified = { outcome: 'failed', healthy: true, errorKind: 'secret', message: error.message };
      else {
        await this.finish(started.id, begun, undefined, { outcome: 'failed', healthy: true, errorKind: 'internal', message: 'the request could not be made' });
        throw error;
      }
    }
    await this.finish(started.id, begun, answer, classified);
    const recorded = (await attemptsOf(this.pool, request.webhookId)).find((a) => a.attempt === started.attempt);
    if (!recorded) throw new Error(`attempt ${started.attempt} of ${request.webhookId} is not recorded`);
    return recorded;
  }

  private finish(id: number, begun: number, answer: HttpAnswer | undefined, classified: Classified): Promise<void> {
    return finishAttempt(this.pool, id, {
      latencyMs: performance.now() - begun,
      httpStatus: answer?.status ?? null,
      errorKind: classified.errorKind,
      responseExcerpt: answer ? excerpt(answer.body) : null,
      outcome: classified.outcome,
    });
  }

  /** One signed `casebook.ping`, recorded nowhere: whether the destination answers 2xx (`config check`). */
  async ping(): Promise<PingResult> {
    const begun = performance.now();
    const latency = () => Math.round(performance.now() - begun);
    try {
      const answer = await this.post('casebook.ping', `ping_${randomUUID()}`, {}, this.signers(), this.destination.timeoutMs);
      const ok = answer.status >= 200 && answer.status < 300;
      return { ok, status: answer.status, latencyMs: latency(), ...(ok ? {} : { problem: `answered HTTP ${answer.status}` }) };
    } catch (error) {
      if (error instanceof AttemptError || error instanceof SecretError) return { ok: false, status: null, latencyMs: latency(), problem: error.message };
      throw error;
    }
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  /** One signer per configured secret, read from the environment now (a restart with new values rotates them). */
  private signers(): Webhook[] {
    const { secretVariables } = this.destination;
    let values: string[];
    try {
      values = secretsOf(secretVariables, this.env);
    } catch (error) {
      if (error instanceof MissingSecretError) throw new SecretError(error.message);
      throw error;
    }
    return values.map((value, i) => {
      try {
        return new Webhook(value);
      } catch {
        throw new SecretError(`the environment variable ${secretVariables[i]} does not hold a Standard Webhooks secret (whsec_ and base64)`);
      }
    });
  }

  private post(type: WebhookType, webhookId: string, data: Record<string, unknown>, signers: Webhook[], timeoutMs: number): Promise<HttpAnswer> {
    const now = new Date();
    const body = JSON.stringify({ type, timestamp: now.toISOString(), data });
    const signature = signers.map((signer) => signer.sign(webhookId, now, body)).join(' ');
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Casebook-Webhooks/1',
      'webhook-id': webhookId,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signature,
    };
    const limits = { timeoutMs, maxResponseBytes: this.destination.maxResponseBytes, allowPrivateAddress: this.destination.allowPrivateAddress };
    return postOnce(this.url, headers, body, limits, this.agent);
  }

  private started(outbound: Outbound) {
    return { destination: this.destination.name, webhookId: outbound.webhookId, caseId: outbound.caseId, stepId: outbound.stepId, type: outbound.type };
  }

  /**
   * The failure that asks for the next attempt of the schedule after `made` attempts: at once inside the
   * workflow task (the activity makes it, after its own turn), never past the deadline or the schedule.
   */
  private retryLater(outbound: Outbound, attempt: EffectAttempt | undefined, made: number, message: string, pending = false): DeliveryFailure {
    if (attempt?.inWorkflowTask) return new DeliveryFailure(message, 0);
    if (!outbound.endless && made >= RETRY_SCHEDULE_MS.length) return this.outOfAttempts(outbound, made, message);
    const scheduled = RETRY_SCHEDULE_MS[made] ?? RETRY_SCHEDULE_MS.at(-1)!;
    const delay = pending ? Math.min(scheduled, PENDING_ASK_MS) : scheduled;
    const now = attempt?.scheduledAt ?? Date.now();
    if (outbound.deadline !== undefined && now + delay > outbound.deadline)
      return new DeliveryFailure(`${message}; the next attempt would start after the step's deadline ${new Date(outbound.deadline).toISOString()}`, undefined);
    return new DeliveryFailure(message, delay);
  }

  private outOfAttempts(outbound: Outbound, made: number, last?: string): DeliveryFailure {
    return new DeliveryFailure(
      `${last ? `${last}; ` : ''}${outbound.type} ${outbound.webhookId} to ${this.destination.name} is out of attempts (${made})`,
      undefined,
    );
  }
}

/** What an HTTP status means for the attempt: 2xx delivered; 4xx refused for good, but 408, 409 and 429; the rest retried. */
function classify(status: number): Classified {
  if (status >= 200 && status < 300) return { outcome: 'delivered', healthy: true, errorKind: null, message: `HTTP ${status}` };
  if (status >= 300 && status < 400) return { outcome: 'failed', healthy: true, errorKind: 'redirect', message: `HTTP ${status}: redirects are not followed` };
  if (status === 408 || status === 429) return { outcome: 'failed', healthy: false, errorKind: 'status', message: `HTTP ${status}` };
  if (status === 409) return { outcome: 'failed', healthy: true, errorKind: 'status', message: `HTTP ${status}` };
  if (status >= 400 && status < 500) return { outcome: 'refused', healthy: true, errorKind: 'status', message: `HTTP ${status}: refused` };
  return { outcome: 'failed', healthy: false, errorKind: 'status', message: `HTTP ${status}` };
}

/** The first EXCERPT_BYTES of an answer as text (no NUL, which Postgres text refuses), or null when empty. */
function excerpt(body: Buffer): string | null {
  if (body.length === 0) return null;
  let text = body.subarray(0, EXCERPT_BYTES).toString('utf8').replaceAll('\u0000', '');
  while (Buffer.byteLength(text) > EXCERPT_BYTES) text = text.slice(0, -1);
  return text;
}
