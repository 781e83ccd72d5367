/**
 * Plans by reference in case histories (docs/decisions/0018-plans-by-reference-in-histories.md): the
 * "claim check" pattern as a Temporal payload codec. A payload that carries a whole published plan (a
 * case's workflow input, a continue-as-new input, a child case's input, the `migrateCase` update's
 * argument: a JSON object with a `plan` object and a `playbook.hash` string) is sent with `"plan":null`
 * in the plan's place and the plan's hash in the payload's `casebook-plan` metadata; decoding puts the
 * published plan back. Published plans are immutable and content-addressed, so the hash is the plan.
 * The workflow only ever sees decoded payloads, on its first run and on replay alike.
 */
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import type { History } from '../cases/archive.js';
import type { Plan } from '../plan/plan.js';
import { hashPlan } from '../playbook/index.js';
import type { Pool } from '../store/pool.js';
import { publishedPlanByHash } from '../store/playbooks.js';

/** The payload metadata key naming the plan left out of the payload. */
export const PLAN_REFERENCE = 'casebook-plan';

/** How many plans a process keeps decoded: published versions in use at once are far fewer. */
const MAX_PLANS = 256;

const JSON_PLAIN = 'json/plain';
const PLAN_KEY = Buffer.from('"plan":{');
const HASH_KEY = Buffer.from('"hash":"');
const utf8 = new TextDecoder();
const encoder = new TextEncoder();

/** A history names a plan by hash that the database has not published: it cannot run or replay here. */
export class UnknownPlanError extends Error {
  override readonly name = 'UnknownPlanError';
  readonly code = 'unknown-plan';
  constructor(readonly hash: string) {
    super(`the history names plan ${hash} by its hash (metadata '${PLAN_REFERENCE}'), and no playbook version with that hash is published in this database`);
  }
}

interface Published {
  plan: Plan;
  /** Its JSON text, as the payload converter writes it: what a payload carrying this plan holds, and what decoding puts back. */
  text: Buffer;
}

const NULL = Buffer.from('null');

/**
 * JSON.stringify(value) around the value of its `plan` key, as bytes: the text before that value and the
 * text after it (the other keys are small: building them costs little next to the plan's tens of KB).
 */
function around(value: Record<string, unknown>): [Buffer, Buffer] {
  const before: string[] = [];
  const after: string[] = [];
  let seen = false;
  for (const [key, item] of Object.entries(value)) {
    if (key === 'plan') seen = true;
    else (seen ? after : before).push(`${JSON.stringify(key)}:${JSON.stringify(item)}`);
  }
  return [Buffer.from(`{${[...before, '"plan":'].join(',')}`), Buffer.from(`${after.map((entry) => `,${entry}`).join('')}}`)];
}

/** The hash a payload names its plan by, or undefined for a payload that carries its plan or has none. */
export function planReferenceOf(payload: Payload | null | undefined): string | undefined {
  const value = payload?.metadata?.[PLAN_REFERENCE];
  return value ? utf8.decode(value) : undefined;
}

export class PlanReferenceCodec implements PayloadCodec {
  /** Published plans by hash, least recently used first. */
  private readonly plans = new Map<string, Promise<Published | undefined>>();

  constructor(private readonly lookup: (hash: string) => Promise<Plan | undefined>) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(payloads.map((payload) => this.encodeOne(payload)));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.all(payloads.map((payload) => this.decodeOne(payload)));
  }

  /** The published plan with this hash (looked up once, then kept), or undefined when none is published. */
  async published(hash: string): Promise<Published | undefined> {
    const known = this.plans.get(hash);
    if (known) {
      this.plans.delete(hash);
      this.plans.set(hash, known);
      return known;
    }
    const found = this.lookup(hash).then((plan) => (plan ? { plan, text: Buffer.from(JSON.stringify(plan)) } : undefined));
    this.plans.set(hash, found);
    // Not kept when unpublished (it may be published later) or when the lookup failed (the next payload asks again).
    found.then(
      (published) => published ?? this.forget(hash, found),
      () => this.forget(hash, found),
    );
    if (this.plans.size > MAX_PLANS) this.plans.delete(this.plans.keys().next().value!);
    return found;
  }

  /** The plan a payload names, for a caller that must fail clearly before a replay does (src/stack/replayer.ts). */
  async require(hash: string): Promise<Plan> {
    const published = await this.published(hash);
    if (!published) throw new UnknownPlanError(hash);
    return published.plan;
  }

  private forget(hash: string, entry: Promise<Published | undefined>): void {
    if (this.plans.get(hash) === entry) this.plans.delete(hash);
  }

  private async encodeOne(payload: Payload): Promise<Payload> {
    // Every payload the worker and the client send passes here: byte checks before any parsing.
    const data = payload.data;
    if (!data || data.length < 64 || payload.metadata?.[PLAN_REFERENCE]) return payload;
    const encoding = payload.metadata?.encoding;
    if (!encoding || utf8.decode(encoding) !== JSON_PLAIN) return payload;
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (bytes.indexOf(PLAN_KEY) < 0 || bytes.indexOf(HASH_KEY) < 0) return payload;
    const value = JSON.parse(bytes.toString('utf8')) as { plan?: unknown; playbook?: { hash?: unknown } };
    const { plan, playbook } = value ?? {};
    const hash = playbook?.hash;
    if (typeof hash !== 'string' || !plan || typeof plan !== 'object' || Array.isArray(plan)) return payload;
    const published = await this.published(hash);
    if (!published) return payload;
    const [before, after] = around(value);
    // The payload converter's text is `before`, the plan's text, `after`: the plan is the published one
    // when its bytes are; another text of it (keys in another order) is checked by its hash.
    const carried =
      bytes.length >= before.length + after.length &&
      bytes.subarray(0, before.length).equals(before) &&
      bytes.subarray(bytes.length - after.length).equals(after)
        ? bytes.subarray(before.length, bytes.length - after.length)
        : undefined;
    // A payload whose hash is not its plan's (a hand-made input) keeps its plan.
    if (!carried?.equals(published.text) && hashPlan(plan as Plan) !== hash) return payload;
    return { ...payload, metadata: { ...payload.metadata, [PLAN_REFERENCE]: encoder.encode(hash) }, data: Buffer.concat([before, NULL, after]) };
  }

  private async decodeOne(payload: Payload): Promise<Payload> {
    const hash = planReferenceOf(payload);
    if (hash === undefined) return payload;
    const published = await this.published(hash);
    if (!published) throw new UnknownPlanError(hash);
    const [before, after] = around(JSON.parse(utf8.decode(payload.data!)) as Record<string, unknown>);
    const { [PLAN_REFERENCE]: _reference, ...metadata } = payload.metadata!;
    return { ...payload, metadata, data: Buffer.concat([before, published.text, after]) };
  }
}

/** The payload lists of a history that may name a plan: each run's input, each update's arguments (a migration's). */
export function* planCarriers(history: History): Generator<Payload[]> {
  for (const event of history.events ?? []) {
    const payloads =
      event.workflowExecutionStartedEventAttributes?.input?.payloads ??
      event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.args?.payloads;
    if (payloads) yield payloads as Payload[];
  }
}

/**
 * The history with every plan it names by hash put back inline, as the replayer decodes it: a history
 * that replays without the database (golden histories, the replay bench's long history). Changes `history`.
 */
export async function withPlansInline<H extends History>(history: H, plans: PlanReferenceCodec): Promise<H> {
  for (const payloads of planCarriers(history)) {
    if (payloads.some((payload) => planReferenceOf(payload) !== undefined)) payloads.splice(0, payloads.length, ...(await plans.decode(payloads)));
  }
  return history;
}

/** The codec of everything that talks to Temporal for cases, finding plans in `pool` (built by compose.ts). */
export function planReferencesIn(pool: Pool): PlanReferenceCodec {
  return new PlanReferenceCodec((hash) => publishedPlanByHash(pool, hash));
}

/** The data converter a Client, Worker or replay worker takes: plans by reference, the SDK's payload converter. */
export const withPlanReferences = (plans: PlanReferenceCodec): DataConverter => ({ payloadCodecs: [plans] });
