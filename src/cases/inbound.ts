/**
 * Signed inbound events (POST /v1/inbound/{source}): systems post Standard Webhooks-signed events
 * instead of calling with an API key. An event is verified with its source's secrets (any of them, so
 * a rotation has no downtime) within the library's 5-minute timestamp tolerance, then written once per
 * `webhook-id` (a replay is answered with the first answer and stores nothing new), then handled:
 * - it opens a case of every published playbook whose current version `opens_on` it and whose
 *   condition holds, through CaseService.open like any other, under a case id derived from the source,
 *   the `webhook-id` and the playbook (sent five times, still one case);
 * - else, when it names a case, an order or a return tracking number, it goes into the event inbox and
 *   on to its case exactly as the events route and the warehouse webhook deliver;
 * - else nothing is done, and the answer says why.
 */
import { createHash } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { evaluateOpening } from '../plan/opening.js';
import { checkValues, type ValueProblem } from '../plan/values.js';
import type { Actor } from '../plan/case.js';
import {
  answerSignedEvent,
  playbooksOpeningOn,
  receiveSignedEvent,
  unansweredSignedEvents,
  type InboundEventRow,
  type OpeningPlaybook,
} from '../store/inbound-events.js';
import type { Pool } from '../store/pool.js';
import { reservedEventReason } from './agent-work.js';
import { INTERRUPTED_AFTER_MS, type EventInbox, type InboxOutcome } from './inbox.js';
import { repeatEvery } from './repeat.js';
import type { CaseService } from './service.js';

/**
 * The secrets a source signs with, read at each use (so a restart with a new variable rotates them);
 * undefined for a source the configuration does not have. Throws when a secret's variable is unset.
 */
export type SourceSecrets = (source: string) => string[] | undefined;

/** The payment provider settling a refund it answered `pending`: `key` is the `webhook-id` of its `refund.request`. */
export type RefundSettlement = { key: string; status: 'issued'; reference: string } | { key: string; status: 'declined'; reason: string };
/** Records a settlement in the ledger: `settled`, `unchanged` (settled before: the first answer stands) or `unknown` (no refund has the key). */
export type RefundSettler = (settlement: RefundSettlement) => Promise<{ result: 'settled' | 'unchanged' | 'unknown' }>;

/** The source whose `refund.settled` events settle refunds, and the event. */
export const PAYMENTS_SOURCE = 'payments';
export const REFUND_SETTLED = 'refund.settled';

/** Longest `webhook-id` kept. */
export const MAX_WEBHOOK_ID = 200;
const EVENT_TYPE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/;

/** A verified event, as its sender signed it. */
export interface SignedEvent {
  source: string;
  webhookId: string;
  /** The signed `webhook-timestamp`, RFC 3339. */
  sentAt: string;
  type: string;
  data: Record<string, unknown>;
}

/** Why a request is not a signed event of the source. */
export type Verification =
  | { verified: true; event: SignedEvent }
  /** Unknown source, missing header, no matching signature, timestamp outside the tolerance: 401. */
  | { verified: false; kind: 'unauthenticated'; reason: string }
  /** Signed, but not an event: not JSON, or not `{ "type", "data" }` (pointer into the body or headers). */
  | { verified: false; kind: 'malformed'; reason: string; pointer: string }
  /** The source's secret is not set on this server. */
  | { verified: false; kind: 'unconfigured'; reason: string };

/** A case an event opened (or had opened, `created: false`). */
export interface OpenedByEvent {
  caseId: string;
  playbook: string;
  version: number;
  created: boolean;
}

/** Why a playbook opening on an event did not open its case. */
export type Refusal = 'invalid-event' | 'invalid-case-data' | 'duplicate-case' | 'order-lines-conflict';

/** What a signed event came to; kept with it, so that a replay is answered the same. */
export type InboundAnswer =
  | { kind: 'opened'; cases: OpenedByEvent[] }
  | {
      kind: 'not-opened';
      problem: Refusal;
      playbook: string;
      version: number;
      message: string;
      errors: ValueProblem[];
      /** The open case a `one_open_case_per` conflict names. */
      caseId?: string;
      /** Cases other playbooks opened on the same event. */
      opened: OpenedByEvent[];
    }
  | { kind: 'delivered'; outcome: InboxOutcome }
  | { kind: 'settled'; key: string; result: 'settled' | 'unchanged' }
  | { kind: 'invalid-event'; message: string; errors: ValueProblem[] }
  | { kind: 'refused'; reason: string }
  | { kind: 'ignored'; reason: string };

export type Reception = { duplicate: boolean; answer: InboundAnswer };

export class InboundEvents {
  constructor(
    private readonly pool: Pool,
    private readonly cases: CaseService,
    private readonly inbox: EventInbox,
    private readonly secretsOf: SourceSecrets,
    /** Absent: `refund.settled` is an event like any other. */
    private readonly settle?: RefundSettler,
  ) {}

  /** Checks the Standard Webhooks headers and signature of `body` (the bytes as received) with the source's secrets. */
  verify(source: string, body: string, headers: Record<string, string | string[] | undefined>): Verification {
    let secrets: string[] | undefined;
    try {
      secrets = this.secretsOf(source);
    } catch (error) {
      return { verified: false, kind: 'unconfigured', reason: `the signing secret of source ${source} is not set on this server: ${(error as Error).message}` };
    }
    if (!secrets || secrets.length === 0) return { verified: false, kind: 'unauthenticated', reason: `no inbound source named ${source}` };
    const signed: Record<string, string> = {};
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
      const value = headers[name];
      if (typeof value !== 'string' || value === '') return { verified: false, kind: 'unauthenticated', reason: `the ${name} header is missing` };
      signed[name] = value;
    }
    const failures = new Set<string>();
    let verified = false;
    for (const secret of secrets) {
      try {
        new Webhook(secret).verify(body, signed, { jsonParse: false });
        verified = true;
        break;
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) {
          return { verified: false, kind: 'unconfigured', reason: `a signing secret of source ${source} is not a Standard Webhooks secret (whsec_<base64>)` };
        }
        failures.add(error.message);
      }
    }
    if (!verified) return { verified: false, kind: 'unauthenticated', reason: unverifiedReason([...failures]) };
    const webhookId = signed['webhook-id']!;
    if (webhookId.length > MAX_WEBHOOK_ID) {
      return { verified: false, kind: 'malformed', reason: `webhook-id is longer than ${MAX_WEBHOOK_ID} characters`, pointer: '/headers/webhook-id' };
    }
    const parsed = parseEvent(body);
    if ('reason' in parsed) return { verified: false, kind: 'malformed', ...parsed };
    // Read as the library read it when it checked the signature (digits first: `1765000000x` is 1765000000).
    return {
      verified: true,
      event: { source, webhookId, sentAt: new Date(Number.parseInt(signed['webhook-timestamp']!, 10) * 1000).toISOString(), ...parsed },
    };
  }

  /**
   * Writes a verified event once and handles it. A replay of its `webhook-id` is answered with the
   * first answer; one that finds the event unanswered (handled at this moment, or cut short by a
   * crash) handles it again, which opens and delivers nothing twice, and is answered with the answer
   * that stands.
   */
  async receive(event: SignedEvent): Promise<Reception> {
    const { row, created } = await receiveSignedEvent(this.pool, event);
    if (!created && row.answer !== null) return { duplicate: true, answer: row.answer as InboundAnswer };
    const answer = await this.handle(row);
    return { duplicate: !created, answer: (await answerSignedEvent(this.pool, row.id, answer)) as InboundAnswer };
  }

  /**
   * Finishes events a crash left unanswered (written, then the process died while they were handled):
   * handled again as on arrival, without waiting for the sender to send them again, which opens and
   * delivers nothing twice. One that fails (Temporal down) is tried again at the next pass.
   */
  async settleUnanswered(batch = 100): Promise<{ settled: number; failed: string[] }> {
    const outcome = { settled: 0, failed: [] as string[] };
    for (const row of await unansweredSignedEvents(this.pool, INTERRUPTED_AFTER_MS, batch)) {
      try {
        await answerSignedEvent(this.pool, row.id, await this.handle(row));
        outcome.settled += 1;
      } catch (error) {
        outcome.failed.push(`${row.source} ${row.webhookId} (${(error as Error).message})`);
      }
    }
    return outcome;
  }

  /** Settles unanswered events every `intervalMs` until stopped; a failing pass is logged and tried again at the next. */
  startSettling(intervalMs: number, log: (line: string) => void = () => {}): () => Promise<void> {
    return repeatEvery(intervalMs, async () => {
      try {
        const { settled, failed } = await this.settleUnanswered();
        if (settled > 0) log(`casebook: finished ${settled} interrupted signed inbound events`);
        if (failed.length > 0) log(`casebook: could not finish signed inbound events ${failed.join(', ')}; trying again`);
      } catch (error) {
        log(`casebook: settling signed inbound events failed (${(error as Error).message}); trying again`);
      }
    });
  }

  private async handle(row: InboundEventRow): Promise<InboundAnswer> {
    const reserved = reservedEventReason(row.type);
    if (reserved) return { kind: 'refused', reason: reserved };
    if (row.source === PAYMENTS_SOURCE && row.type === REFUND_SETTLED && this.settle) return this.settleRefund(row.data, this.settle);
    const openers = await playbooksOpeningOn(this.pool, row.source, row.type);
    if (openers.length > 0) return this.open(row, openers);
    const data = row.data;
    if (data.caseId === undefined && data.orderId === undefined && data.returnTracking === undefined) {
      return {
        kind: 'ignored',
        reason: `no published playbook opens a case on ${row.type} from ${row.source}, and the event names no case (data.caseId, data.orderId or data.returnTracking)`,
      };
    }
    const outcome = await this.inbox.deliverInbound(
      {
        source: `inbound:${row.source}`,
        eventId: row.webhookId,
        type: row.type,
        payload: (data.payload as Record<string, unknown> | undefined) ?? {},
        ...(typeof data.caseId === 'string' ? { targetCaseId: data.caseId } : {}),
        ...(typeof data.orderId === 'string' ? { orderId: data.orderId } : {}),
        ...(typeof data.returnTracking === 'string' ? { returnTracking: data.returnTracking } : {}),
      },
      sourceActor(row.source),
    );
    return { kind: 'delivered', outcome };
  }

  /** `{ "key": ..., "status": "issued", "reference": ... }` or `{ "key": ..., "status": "declined", "reason": ... }`, recorded in the ledger. */
  private async settleRefund(data: Record<string, unknown>, settle: RefundSettler): Promise<InboundAnswer> {
    const settlement = settlementOf(data);
    if ('pointer' in settlement) return { kind: 'invalid-event', message: settlement.message, errors: [settlement] };
    const { result } = await settle(settlement);
    if (result === 'unknown') {
      const problem = { pointer: '/data/key', message: `no refund has the key ${settlement.key}: it is the webhook-id of the refund.request it settles` };
      return { kind: 'invalid-event', message: problem.message, errors: [problem] };
    }
    return { kind: 'settled', key: settlement.key, result };
  }

  /**
   * Opens a case of each playbook whose condition holds, each on its own: one refusing the event does
   * not stop the others. The first refusal answers (with the cases the others opened).
   */
  private async open(row: InboundEventRow, openers: OpeningPlaybook[]): Promise<InboundAnswer> {
    const opened: OpenedByEvent[] = [];
    const skipped: string[] = [];
    let refusal: Extract<InboundAnswer, { kind: 'not-opened' }> | undefined;
    for (const opener of openers) {
      const outcome = await this.openOne(row, opener);
      if (outcome.kind === 'opened') opened.push(outcome.opened);
      else if (outcome.kind === 'skipped') skipped.push(outcome.reason);
      else refusal ??= { ...outcome, kind: 'not-opened', playbook: opener.name, version: opener.version, opened };
    }
    if (refusal) return refusal;
    if (opened.length > 0) return { kind: 'opened', cases: opened };
    return { kind: 'ignored', reason: `no condition held: ${skipped.join('; ')}` };
  }

  private async openOne(
    row: InboundEventRow,
    { name, version, plan }: OpeningPlaybook,
  ): Promise<
    | { kind: 'opened'; opened: OpenedByEvent }
    | { kind: 'skipped'; reason: string }
    | { kind: 'refused'; problem: Refusal; message: string; errors: ValueProblem[]; caseId?: string }
  > {
    const opensOn = plan.opensOn!;
    const read = Object.fromEntries(Object.entries(row.data).filter(([key]) => Object.hasOwn(opensOn.payload, key)));
    const invalid = checkValues(opensOn.payload, read, '/data', plan.currency);
    if (invalid.length > 0)
      return { kind: 'refused', problem: 'invalid-event', message: `playbook ${name} cannot read the event: ${summary(invalid)}`, errors: invalid };
    const opening = evaluateOpening(opensOn, plan.fields, { source: row.source, type: row.type, id: row.webhookId, at: row.sentAt, data: read }, new Date());
    if ('failed' in opening) {
      return {
        kind: 'refused',
        problem: 'invalid-case-data',
        message: `playbook ${name}: ${opening.message}`,
        errors: [{ pointer: opening.pointer, message: opening.message }],
      };
    }
    if (!opening.opens) return { kind: 'skipped', reason: `${name} (${opensOn.when!.cel})` };
    const result = await this.cases.open({
      playbook: name,
      version,
      caseId: caseIdFor(row.source, row.webhookId, name),
      data: opening.data,
      openedBy: sourceActor(row.source).name,
      by: sourceActor(row.source),
    });
    switch (result.kind) {
      case 'opened':
        return { kind: 'opened', opened: { caseId: result.caseId, playbook: name, version: result.version, created: result.created } };
      case 'closed-case':
        // This event's own case, opened by an earlier delivery and closed since.
        return { kind: 'opened', opened: { caseId: result.caseId, playbook: name, version, created: false } };
      case 'invalid-data':
        return {
          kind: 'refused',
          problem: 'invalid-case-data',
          message: `playbook ${name} maps the event to case data its fields refuse: ${result.message}`,
          errors: result.problems,
        };
      case 'duplicate-case':
        return { kind: 'refused', problem: 'duplicate-case', message: result.message, errors: [], caseId: result.caseId };
      case 'order-lines-conflict':
        return { kind: 'refused', problem: 'order-lines-conflict', message: result.message, errors: result.problems };
      case 'unknown-playbook':
        return { kind: 'skipped', reason: `${name} (${result.message})` };
    }
  }
}

/** Who a signed source's events are from, in the inbox, the case's events and the audit trail. */
export const sourceActor = (source: string): Actor => ({ keyId: null, name: `inbound:${source}` });

/** The case an event opens on a playbook: the same source, `webhook-id` and playbook always give the same id. */
export function caseIdFor(source: string, webhookId: string, playbook: string): string {
  const digest = createHash('sha256').update(`${source}\n${webhookId}\n${playbook}`).digest('base64url').slice(0, 22);
  return `${source}-${digest}`;
}

function settlementOf(data: Record<string, unknown>): RefundSettlement | ValueProblem {
  const text = (key: string, max: number) => {
    const value = data[key];
    return typeof value === 'string' && value.length > 0 && value.length <= max ? value : undefined;
  };
  const key = text('key', 500);
  if (key === undefined) return { pointer: '/data/key', message: 'key must be the webhook-id of the refund.request it settles (1 to 500 characters)' };
  if (data.status === 'issued') {
    const reference = text('reference', 200);
    return reference === undefined
      ? { pointer: '/data/reference', message: "an issued refund's reference (1 to 200 characters) is missing" }
      : { key, status: 'issued', reference };
  }
  if (data.status === 'declined') return { key, status: 'declined', reason: text('reason', 500) ?? 'declined' };
  return { pointer: '/data/status', message: 'status must be issued or declined' };
}

function unverifiedReason(failures: string[]): string {
  if (failures.includes('Message timestamp too old')) return 'the webhook-timestamp is more than 5 minutes old';
  if (failures.includes('Message timestamp too new')) return 'the webhook-timestamp is more than 5 minutes in the future';
  if (failures.includes('Invalid Signature Headers')) return 'the webhook-timestamp is not a number of seconds';
  return 'no webhook-signature matches the body with any of the source’s secrets';
}

/** `{ "type": "...", "timestamp"?: "...", "data": {...} }`, as Standard Webhooks payloads are; routing keys checked when given. */
function parseEvent(body: string): { type: string; data: Record<string, unknown> } | { reason: string; pointer: string } {
  let value: unknown;
  try {
    value = JSON.parse(body, (key, item) => {
      if (key === '__proto__' || key === 'constructor') throw new SyntaxError(`a ${key} key`);
      return item;
    });
  } catch {
    return { reason: 'the body is not valid JSON', pointer: '' };
  }
  if (!isObject(value)) return { reason: 'the body must be an object { "type": ..., "data": {...} }', pointer: '' };
  const unknown = Object.keys(value).find((key) => !['type', 'timestamp', 'data'].includes(key));
  if (unknown !== undefined) return { reason: `unknown property '${unknown}'; an event has type, timestamp and data`, pointer: `/${unknown}` };
  if (typeof value.type !== 'string' || !EVENT_TYPE.test(value.type)) {
    return { reason: 'type must be an event type such as refund.requested (letters, digits, . _ : -, at most 200)', pointer: '/type' };
  }
  if (value.timestamp !== undefined && typeof value.timestamp !== 'string') return { reason: 'timestamp must be a string', pointer: '/timestamp' };
  if (!isObject(value.data)) return { reason: 'data must be an object', pointer: '/data' };
  for (const key of ['caseId', 'orderId', 'returnTracking'] as const) {
    const hint = value.data[key];
    if (hint !== undefined && (typeof hint !== 'string' || hint.length === 0 || hint.length > 100)) {
      return { reason: `${key} must be a string of 1 to 100 characters`, pointer: `/data/${key}` };
    }
  }
  if (value.data.payload !== undefined && !isObject(value.data.payload)) return { reason: 'payload must be an object', pointer: '/data/payload' };
  return { type: value.type, data: value.data };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const summary = (problems: ValueProblem[]) => problems.map((p) => `${p.pointer} ${p.message}`).join('; ');
