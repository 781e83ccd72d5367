/** The playbook as written, once it passed the JSON Schema (see schemas/playbook.schema.json). */
import type { Channel, FlagColor, Severity } from '../plan/plan.js';

export interface RawField {
  type: 'string' | 'integer' | 'boolean' | 'money' | 'timestamp' | 'duration' | 'enum' | 'list' | 'object';
  required?: boolean;
  description?: string;
  values?: string[];
  items?: RawField;
  fields?: Record<string, RawField>;
}

export type RawRecipient = 'buyer' | 'agent' | { group: string };

export interface RawStep {
  id: string;
  next?: string;
  description?: string;
  send?: { to: RawRecipient; template: string; channel?: Channel; quiet_hours?: boolean };
  wait?: {
    events: { event: string; where?: string; goto?: string }[];
    timeout?: string;
    on_timeout?: string;
    remind?: { every: string; times: number | string; template: string; to?: RawRecipient; channel?: Channel };
  };
  delay?: string | { until: string; timezone?: string };
  branch?: { cases: { when: string; goto: string }[]; otherwise?: string };
  refund?: { amount: string; reason: string; covers?: 'payment' | 'return_shipping'; within: string; from: string; on_breach: string; on_declined: string };
  escalate?: { queue: string; severity: Severity; reason: string; note?: string };
  task?: { role: string; title: string; sla: string; outcomes: Record<string, string>; on_sla_breach: string };
  set?: Record<string, string>;
  remark?: { text: string; flag?: FlagColor };
  call?: { integration: string; operation: string; input?: Record<string, string>; result_field?: string; on_error?: string };
  end?: { outcome: string; reason: string };
}

export interface RawPlaybook {
  playbook: string;
  title?: string;
  case_type: string;
  currency: string;
  timezone?: string;
  quiet_hours?: { start: string; end: string };
  fields: Record<string, RawField>;
  paid_field?: string;
  order_id_field?: string;
  events?: Record<string, { description?: string; early?: boolean; payload?: Record<string, RawField> }>;
  policy?: Record<string, string | number | boolean | { amount: number; currency: string }>;
  templates?: Record<string, { channel?: Channel; text: string }>;
  integrations?: Record<string, { description?: string; operations: string[] }>;
  steps: RawStep[];
}
