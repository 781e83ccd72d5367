/**
 * The plan: the compiled, immutable form of a playbook and the only thing a case workflow reads.
 * It is plain JSON (no functions, no Dates) so it can travel in a workflow input and be replayed
 * from history years later. Expressions stay as CEL source text and are evaluated by the workflow.
 *
 * Changing the shape of a plan is a breaking change for running cases: bump PLAN_VERSION and keep
 * the interpreter able to run every version still alive.
 */
import type { ClockSpec } from './clocks.js';
import type { RefundKind } from './activities.js';
import type { Calendar } from './calendar.js';
import type { Step } from './steps/index.js';
import type { OpensOn } from './opening.js';
import type { CancelHandler } from './cancellation.js';

export const PLAN_VERSION = 1 as const;

/** A CEL expression as written in the playbook, with its position for runtime error reports. */
export interface Expr {
  cel: string;
  at?: SourcePosition;
}

export interface SourcePosition {
  line: number;
  column: number;
}

export type FieldType =
  | { type: 'string' }
  | { type: 'integer' }
  | { type: 'boolean' }
  | { type: 'money' } // { amount: integer minor units, currency: ISO 4217 } in case data
  | { type: 'timestamp' } // RFC 3339 string in case data
  | { type: 'duration' } // milliseconds in case data
  | { type: 'enum'; values: string[] }
  | { type: 'list'; items: FieldType }
  | { type: 'object'; fields: Record<string, FieldSpec> };

export type FieldSpec = FieldType & { required: boolean; description?: string };

export interface EventSpec {
  description?: string;
  payload: Record<string, FieldSpec>;
  /**
   * Whether the event may arrive before the plan waits for it (a warehouse receipt before the
   * buyer's tracking number). Early events are kept and consumed by the first wait that names them.
   */
  early: boolean;
}

/** Policy values, already resolved: durations in milliseconds, money in minor units. */
export type PolicyValue =
  | { type: 'duration'; ms: number }
  | { type: 'integer'; value: number }
  | { type: 'boolean'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'money'; amount: number; currency: string };

export type Channel = 'chat' | 'inbox' | 'sms' | 'email' | 'phone';

/** The languages templates are written in; a case's is its `language` field, else the playbook's `language`. */
export const LANGUAGES = ['zh', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];
/** A playbook's language when it names none. */
export const DEFAULT_LANGUAGE: Language = 'zh';

/** A text with `{{ expression }}` placeholders; each placeholder is a CEL expression. */
export interface TemplateText {
  text: string;
  placeholders: Expr[];
}

/** The parts of a template a language can give. */
export type MessagePart = 'text' | 'subject' | 'html';

export interface TemplateSpec {
  channel?: Channel;
  /** Text with `{{ expression }}` placeholders; in the playbook's language when written per language. */
  text: string;
  placeholders: Expr[];
  /** An e-mail's subject and HTML body (the HTML's placeholder values HTML-escaped); in the playbook's language when written per language. */
  subject?: TemplateText;
  html?: TemplateText;
  /**
   * Present when a part is written per language: what the other languages give (a part a language does
   * not give, or gives as one string for all, is the playbook language's).
   */
  languages?: Partial<Record<Language, Partial<Record<MessagePart, TemplateText>>>>;
}

export interface IntegrationSpec {
  description?: string;
  operations: string[];
  /**
   * The answer each operation returns, by operation, for those that declare one (`call` checks the body
   * against it and later steps read it as `steps.<id>.result`); absent when none does.
   */
  responses?: Record<string, Record<string, FieldSpec>>;
}

/** A window of local time during which buyers are not messaged; sends wait until `end`. */
export interface QuietHours {
  start: string; // HH:MM
  end: string; // HH:MM
  timezone: string; // IANA
}

export type Recipient = { kind: 'buyer' } | { kind: 'agent'; id?: Expr } | { kind: 'group'; name: string };

/** What every step has; each kind's own form is in steps/<kind>.ts. */
export interface StepBase {
  id: string;
  at?: SourcePosition;
  /** The step of `compensations` that undoes this one when the case is cancelled after it completed (src/plan/cancellation.ts). */
  compensate?: string;
}

export type Severity = 'low' | 'medium' | 'high' | 'critical';

export type FlagColor = 'grey' | 'red' | 'blue' | 'yellow' | 'purple';

export interface Plan {
  planVersion: typeof PLAN_VERSION;
  name: string;
  title?: string;
  caseType: string;
  currency: string;
  timezone: string;
  /** The language templates written per language default to (`DEFAULT_LANGUAGE` when absent). */
  language?: Language;
  quietHours?: QuietHours;
  /** The working calendar business durations count in, resolved and embedded (a shared file's content at compile time). */
  calendar?: Calendar;
  fields: Record<string, FieldSpec>;
  /** The money field holding what the buyer paid: the ceiling for the sum of refunds. */
  paidField?: string;
  /** The string field holding the order id, used to find cases and route warehouse webhooks. */
  orderIdField?: string;
  /** The string field holding the return parcel's tracking number, also used to route warehouse receipts. */
  returnTrackingField?: string;
  /** The list field holding the order's lines (id, item, quantity, paid per line): the ledger records them once per order. */
  orderLinesField?: string;
  /** The list of line ids the case concerns: a refund may name only one of them. */
  concernedLinesField?: string;
  /** Fields whose values identify an open case of this case type: no second open case with the same values. */
  oneOpenCasePer?: string[];
  /** Where each capped kind of refund gets its cap per order: the shop's policy amounts and the order's facts. */
  refundCaps?: Partial<Record<CappedRefundKind, RefundCapSources>>;
  events: Record<string, EventSpec>;
  policy: Record<string, PolicyValue>;
  /** The shop's profile (name, return address...), read by expressions as `shop.<key>`. */
  shop?: Record<string, string>;
  /** The marketplace the playbook runs on: its rules were checked at publish time (marketplaces/<name>.yaml). */
  marketplace?: string;
  templates: Record<string, TemplateSpec>;
  integrations: Record<string, IntegrationSpec>;
  start: string;
  steps: Record<string, Step>;
  /** SLAs over several steps that pause (src/plan/clocks.ts); absent in plans without. */
  clocks?: Record<string, ClockSpec>;
  /** The signed inbound event that opens a case of this playbook by itself (src/plan/opening.ts); absent in plans without. */
  opensOn?: OpensOn;
  /** Events that cancel the case at any step, by type (src/plan/cancellation.ts); absent in plans without. */
  cancelOn?: Record<string, CancelHandler>;
  /** The steps that undo completed steps of a cancelled case, by id; absent in plans without. */
  compensations?: Record<string, Step>;
}

export type CappedRefundKind = Exclude<RefundKind, 'payment'>;

/**
 * What caps a kind of refund per order: policy amounts (already resolved; the smallest stands) and the
 * order's recorded facts, which the database applies to their kind whatever the playbook says. Never
 * the case's data: whoever opens a case does not set what it may give back.
 */
export interface RefundCapSources {
  amounts: number[];
  orderFacts: OrderFact[];
}

/**
 * The order's facts a refund cap may name, each bounding its own kind: what was paid (price differences
 * and goodwill), what the buyer advanced for return shipping, recorded with its evidence.
 */
export const ORDER_FACT_OF_KIND = { price_difference: 'paid', goodwill: 'paid', return_shipping: 'advanced_return_shipping' } as const satisfies Record<
  CappedRefundKind,
  string
>;
export type OrderFact = (typeof ORDER_FACT_OF_KIND)[CappedRefundKind];

/** The case's order id, from the playbook's `order_id_field`; null when it has none. */
export function orderIdOf(plan: Plan, data: Record<string, unknown>): string | null {
  const value = plan.orderIdField ? data[plan.orderIdField] : undefined;
  return typeof value === 'string' ? value : null;
}

/** The return's tracking number, from the playbook's `return_tracking_field`; null until it is known. */
export function returnTrackingOf(plan: Plan, data: Record<string, unknown>): string | null {
  const value = plan.returnTrackingField ? data[plan.returnTrackingField] : undefined;
  return typeof value === 'string' ? value : null;
}

/** A plan with its content hash (sha256 of the canonical JSON of the plan). */
export interface HashedPlan {
  plan: Plan;
  hash: string;
}
