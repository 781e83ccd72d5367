/** The playbook's declarations: fields, events, policy values and the fields the engine treats specially. */
import { MAX_DURATION_MS, parseDuration } from '../plan/duration.js';
import {
  ORDER_FACT_OF_KIND,
  type CappedRefundKind,
  type EventSpec,
  type FieldSpec,
  type FieldType,
  type IntegrationSpec,
  type Plan,
  type PolicyValue,
  type RefundCapSources,
} from '../plan/plan.js';
import type { JsonPath } from '../plan/steps/kind.js';
import { concernedFieldProblem, lineShape, linesFieldProblem } from '../plan/order-lines.js';
import type { Reporter } from './diagnostics.js';
import { hintFor } from './hints.js';
import type { RawField, RawPlaybook } from './raw.js';

export function compileFields(raw: Record<string, RawField>, path: JsonPath, report: Reporter): Record<string, FieldSpec> {
  const out: Record<string, FieldSpec> = {};
  for (const [name, field] of Object.entries(raw)) {
    const type = fieldType(field, [...path, name], report);
    if (type) out[name] = { ...type, required: field.required ?? true, ...(field.description ? { description: field.description } : {}) };
  }
  return out;
}

function fieldType(field: RawField, path: JsonPath, report: Reporter): FieldType | undefined {
  const misplaced = (prop: 'values' | 'items' | 'fields', only: string) => {
    if (field[prop] !== undefined && field.type !== only)
      report.error('PB001', `'${prop}' is only meaningful for a field of type ${only}`, [...path, prop], {
        key: true,
        hint: `remove '${prop}' or change the type to ${only}`,
      });
  };
  misplaced('values', 'enum');
  misplaced('items', 'list');
  misplaced('fields', 'object');
  switch (field.type) {
    case 'enum':
      if (!field.values) {
        report.error('PB001', 'an enum field needs its list of values', [...path, 'type'], { hint: 'add values: [a, b, c]' });
        return undefined;
      }
      return { type: 'enum', values: field.values };
    case 'list': {
      if (!field.items) {
        report.error('PB001', 'a list field needs the type of its items', [...path, 'type'], { hint: 'add items: { type: string }' });
        return undefined;
      }
      const items = fieldType(field.items, [...path, 'items'], report);
      return items ? { type: 'list', items } : undefined;
    }
    case 'object':
      if (!field.fields) {
        report.error('PB001', 'an object field needs its fields', [...path, 'type'], { hint: 'add fields: { name: { type: string } }' });
        return undefined;
      }
      return { type: 'object', fields: compileFields(field.fields, [...path, 'fields'], report) };
    default:
      return { type: field.type } as FieldType;
  }
}

/** The fields the engine reads by role: what was paid, the order id, the return tracking number. */
export const SPECIAL_FIELDS = {
  paid_field: 'money',
  order_id_field: 'string',
  return_tracking_field: 'string',
} as const;

export function checkSpecialFields(raw: RawPlaybook, fields: Record<string, FieldSpec>, report: Reporter): void {
  for (const [prop, type] of Object.entries(SPECIAL_FIELDS) as [keyof typeof SPECIAL_FIELDS, string][]) {
    const name = raw[prop];
    if (name === undefined) continue;
    const field = fields[name];
    if (!field)
      report.error('PB002', `${prop} names '${name}', which is not a declared field`, [prop], {
        hint: hintFor(name, Object.keys(fields), `declare it under fields with type ${type}`),
      });
    else if (field.type !== type) report.error('PB002', `${prop} must name a ${type} field; '${name}' is ${field.type}`, [prop]);
  }
}

export function compileEvents(raw: RawPlaybook, report: Reporter): Record<string, EventSpec> {
  const out: Record<string, EventSpec> = {};
  const declared = raw.events ?? {};
  const names = Object.keys(declared);
  for (const [name, event] of Object.entries(declared)) {
    const clash = names.find((other) => other !== name && other.startsWith(name + '.'));
    if (clash)
      report.error('PB003', `event '${name}' is a prefix of event '${clash}'; expressions could not tell them apart`, ['events', name], {
        key: true,
        hint: `rename one, e.g. '${name}.done'`,
      });
    const payload = compileFields(event.payload ?? {}, ['events', name, 'payload'], report);
    if (payload.at)
      report.error(
        'PB003',
        `payload field 'at' of event '${name}' is reserved: events.${name}.at is the time the event arrived`,
        ['events', name, 'payload', 'at'],
        { key: true, hint: 'rename the field' },
      );
    out[name] = { ...(event.description ? { description: event.description } : {}), early: event.early ?? false, payload };
  }
  return out;
}

/**
 * The integrations: each operation's name, and the response of those that declare one. Operations are a
 * list of names, or a map by name whose entries may declare a `response`; `responses` is left out when
 * none does, so a playbook without responses compiles to the plan (and hash) it always did.
 */
export function compileIntegrations(raw: RawPlaybook, report: Reporter): Record<string, IntegrationSpec> {
  const out: Record<string, IntegrationSpec> = {};
  for (const [name, integration] of Object.entries(raw.integrations ?? {})) {
    const written = integration.operations;
    const responses: Record<string, Record<string, FieldSpec>> = {};
    if (!Array.isArray(written)) {
      for (const [operation, spec] of Object.entries(written)) {
        if (spec.response) responses[operation] = compileFields(spec.response, ['integrations', name, 'operations', operation, 'response'], report);
      }
    }
    out[name] = {
      ...(integration.description ? { description: integration.description } : {}),
      operations: Array.isArray(written) ? written : Object.keys(written),
      ...(Object.keys(responses).length > 0 ? { responses } : {}),
    };
  }
  return out;
}

export function compilePolicy(raw: RawPlaybook, report: Reporter): Record<string, PolicyValue> {
  const out: Record<string, PolicyValue> = {};
  for (const [name, value] of Object.entries(raw.policy ?? {})) {
    if (typeof value === 'string') {
      const ms = parseDuration(value);
      if (ms === undefined) out[name] = { type: 'string', value };
      else {
        checkDurationRange(ms, ['policy', name], report);
        out[name] = { type: 'duration', ms };
      }
    } else if (typeof value === 'number') {
      out[name] = { type: 'integer', value };
    } else if (typeof value === 'boolean') {
      out[name] = { type: 'boolean', value };
    } else {
      if (value.currency !== raw.currency)
        report.error('PB031', `policy ${name} is in ${value.currency}, the playbook in ${raw.currency}`, ['policy', name, 'currency']);
      out[name] = { type: 'money', amount: value.amount, currency: value.currency };
    }
  }
  return out;
}

export function checkDurationRange(ms: number, path: JsonPath, report: Reporter): boolean {
  if (ms <= 0 || ms > MAX_DURATION_MS) {
    report.error('PB030', 'duration must be more than 0 and at most 400d', path, { hint: 'durations are written 30m, 24h, 7d' });
    return false;
  }
  return true;
}

const knownTimeZones = new Map<string, boolean>();

export function isTimeZone(zone: string): boolean {
  let known = knownTimeZones.get(zone);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      known = true;
    } catch {
      known = false;
    }
    if (knownTimeZones.size < 1000) knownTimeZones.set(zone, known);
  }
  return known;
}

/** A time zone that must be an IANA name; reported where it is written when it is not. */
export function checkTimeZone(zone: string, path: JsonPath, report: Reporter): string {
  if (!isTimeZone(zone)) report.error('PB020', `unknown time zone '${zone}'`, path, { hint: 'use an IANA name such as Asia/Shanghai' });
  return zone;
}

/**
 * Each capped kind's cap sources: money policy values resolved to their amounts, or the order fact of
 * the kind (`order.paid`, `order.advanced_return_shipping`). A case field is refused: whoever opens a
 * case would set what it may give back.
 */
export function compileRefundCaps(
  raw: RawPlaybook,
  fields: Record<string, FieldSpec>,
  policy: Record<string, PolicyValue>,
  report: Reporter,
): Plan['refundCaps'] {
  const caps: Partial<Record<CappedRefundKind, RefundCapSources>> = {};
  for (const [kind, written] of Object.entries(raw.refund_caps ?? {}) as [CappedRefundKind, string | string[]][]) {
    const sources: RefundCapSources = { amounts: [], orderFacts: [] };
    const orderFact = `order.${ORDER_FACT_OF_KIND[kind]}`;
    (Array.isArray(written) ? written : [written]).forEach((source, index) => {
      const path = Array.isArray(written) ? ['refund_caps', kind, index] : ['refund_caps', kind];
      if (source.startsWith('policy.')) {
        const value = policy[source.slice('policy.'.length)];
        if (value?.type === 'money') sources.amounts.push(value.amount);
        else
          report.error('PB126', `${source} is not a money policy value`, path, {
            hint: hintFor(source.slice(7), Object.keys(policy), 'declare it under policy as { amount, currency }'),
          });
      } else if (source === orderFact) {
        sources.orderFacts.push(ORDER_FACT_OF_KIND[kind]);
      } else if (source.startsWith('order.')) {
        report.error('PB128', `${source} does not bound ${kind} refunds; the order fact that does is ${orderFact}`, path, {
          hint: `write ${orderFact} or a money policy value`,
        });
      } else if (fields[source]) {
        report.error(
          'PB128',
          `'${source}' is a case field: a cap comes from the shop's policy or the order's recorded facts, never from the data a case is opened with`,
          path,
          { hint: `write ${orderFact} or a money policy value, e.g. policy.max_${kind}` },
        );
      } else {
        report.error('PB126', `'${source}' is neither a money policy value nor an order fact`, path, {
          hint: hintFor(
            source,
            Object.keys(policy).map((name) => `policy.${name}`),
            `name policy.<money value> or ${orderFact}`,
          ),
        });
      }
    });
    caps[kind] = sources;
  }
  return Object.keys(caps).length > 0 ? caps : undefined;
}

/** The fields that make an open case unique: declared, always present, and plain values. */
export function compileOneOpenCasePer(raw: RawPlaybook, fields: Record<string, FieldSpec>, report: Reporter): string[] | undefined {
  const names = raw.one_open_case_per;
  names?.forEach((name, index) => {
    const field = fields[name];
    if (!field)
      report.error('PB127', `one_open_case_per names '${name}', which is not a declared field`, ['one_open_case_per', index], {
        hint: hintFor(name, Object.keys(fields), 'declare it under fields'),
      });
    else if (!field.required || !['string', 'enum', 'integer'].includes(field.type)) {
      report.error('PB127', `one_open_case_per needs required string, enum or integer fields; '${name}' is ${field.required ? field.type : 'optional'}`, [
        'one_open_case_per',
        index,
      ]);
    }
  });
  return names;
}

/**
 * `order_lines_field` names a list of lines (id, item, quantity, paid), `concerned_lines_field` a list of
 * line ids; lines are recorded per order, so they need `order_id_field`, and the concerned lines need
 * the lines they are taken from.
 */
export function checkLineFields(raw: RawPlaybook, fields: Record<string, FieldSpec>, report: Reporter): void {
  const linesName = raw.order_lines_field;
  if (linesName !== undefined) {
    const field = fields[linesName];
    if (!field) {
      report.error('PB300', `order_lines_field names '${linesName}', which is not a declared field`, ['order_lines_field'], {
        hint: hintFor(linesName, Object.keys(fields), `declare it under fields as a list of objects with ${lineShape()}`),
      });
    } else {
      const problem = linesFieldProblem(field);
      if (problem) {
        const members = ['fields', linesName, 'items', 'fields'];
        const path = !problem.member
          ? ['fields', linesName, 'type']
          : raw.fields[linesName]?.items?.fields?.[problem.member]
            ? [...members, problem.member]
            : members;
        report.error('PB301', `order_lines_field '${linesName}' ${problem.message}`, path, {
          key: problem.member !== undefined,
          hint: `declare ${linesName} as { type: list, items: { type: object, fields: { id: { type: string }, item: { type: string }, quantity: { type: integer }, paid: { type: money } } } }`,
        });
      }
    }
    if (raw.order_id_field === undefined)
      report.error('PB304', "order_lines_field needs order_id_field: an order's lines are recorded once per order, for all its cases", ['order_lines_field'], {
        key: true,
        hint: 'add order_id_field: <string field> at the top of the playbook',
      });
  }
  const concernedName = raw.concerned_lines_field;
  if (concernedName === undefined) return;
  const concerned = fields[concernedName];
  if (!concerned) {
    report.error('PB302', `concerned_lines_field names '${concernedName}', which is not a declared field`, ['concerned_lines_field'], {
      hint: hintFor(concernedName, Object.keys(fields), 'declare it under fields as { type: list, items: { type: string } }'),
    });
  } else {
    const problem = concernedFieldProblem(concerned);
    if (problem) report.error('PB302', `concerned_lines_field '${concernedName}' ${problem}`, ['fields', concernedName, 'type']);
  }
  if (linesName === undefined)
    report.error('PB303', 'concerned_lines_field names lines of the order, but the playbook has no order_lines_field', ['concerned_lines_field'], {
      key: true,
      hint: "add order_lines_field: <list field with the order's lines>",
    });
}
