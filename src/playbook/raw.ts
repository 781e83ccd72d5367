/** The playbook as written, once it passed the JSON Schema (see schemas/playbook.schema.json). */
import type { RawClock } from './clocks.js';
import type { Channel, Language } from '../plan/plan.js';
import type { RawActions } from '../plan/steps/index.js';
import type { RawCalendar } from './calendars.js';
import type { RawMarketplace } from './marketplace.js';
import type { RawOpensOn } from './opens-on.js';

export interface RawField {
  type: 'string' | 'integer' | 'boolean' | 'money' | 'timestamp' | 'duration' | 'enum' | 'list' | 'object';
  required?: boolean;
  description?: string;
  values?: string[];
  items?: RawField;
  fields?: Record<string, RawField>;
}

/** An integration: its operations as a list of names, or by name with the answer each returns. */
export interface RawIntegration {
  description?: string;
  operations: string[] | Record<string, { description?: string; response?: Record<string, RawField> }>;
}

/** A template's part: one text for every language, or one per language. */
export type RawLocalized = string | Partial<Record<Language, string>>;

export interface RawTemplate {
  channel?: Channel;
  text: RawLocalized;
  subject?: RawLocalized;
  html?: RawLocalized;
}

/** A step: its id, how it goes on, and exactly one action (the schema guarantees one). */
export type RawStep = { id: string; next?: string; description?: string; compensate?: string } & Partial<RawActions>;

export interface RawPlaybook {
  playbook: string;
  title?: string;
  case_type: string;
  currency: string;
  timezone?: string;
  language?: Language;
  quiet_hours?: { start: string; end: string };
  /** A calendar file's name, or the calendar itself. */
  calendar?: string | RawCalendar;
  fields: Record<string, RawField>;
  paid_field?: string;
  order_id_field?: string;
  return_tracking_field?: string;
  order_lines_field?: string;
  concerned_lines_field?: string;
  one_open_case_per?: string[];
  refund_caps?: Partial<Record<'return_shipping' | 'price_difference' | 'goodwill', string | string[]>>;
  events?: Record<string, { description?: string; early?: boolean; payload?: Record<string, RawField> }>;
  policy?: Record<string, string | number | boolean | { amount: number; currency: string }>;
  shop?: Record<string, string>;
  templates?: Record<string, RawTemplate>;
  integrations?: Record<string, RawIntegration>;
  marketplace?: RawMarketplace;
  steps: RawStep[];
  clocks?: Record<string, RawClock>;
  /** The signed inbound event that opens a case by itself. */
  opens_on?: RawOpensOn;
  /** Events that cancel the case at any step (src/playbook/cancellation.ts). */
  cancel_on?: Record<string, { where?: string; reason?: string }>;
  /** Steps that undo completed ones when the case is cancelled, named by a step's `compensate`. */
  compensations?: RawStep[];
}
