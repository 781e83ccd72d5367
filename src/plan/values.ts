/**
 * Strict checking of JSON values (case data, event payloads) against declared fields.
 * Pure: used by the API (422 with JSON pointers) and by the workflow's event validator.
 */
import { MAX_LIST_ITEMS } from './cost.js';
import type { FieldSpec, FieldType } from './plan.js';

export interface ValueProblem {
  /** JSON pointer to the offending value, e.g. `/order_total/amount`. */
  pointer: string;
  message: string;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/;
const CURRENCY = /^[A-Z]{3}$/;
/** The largest amount of money the database holds: its checks keep every amount below 2^53 - 1 (migrations/302_order_ledger.sql). */
export const MAX_MONEY_AMOUNT = Number.MAX_SAFE_INTEGER - 1;

/** Text a person could have typed: no NUL, no half of a surrogate pair (which no encoder can write). */
export function isCleanText(text: string): boolean {
  return !text.includes('\u0000') && !LONE_SURROGATE.test(text);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether an RFC 3339 timestamp names a real instant: no February 30th, no 24:00, no year 0000. */
export function isTimestamp(text: string): boolean {
  const m = RFC3339.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = [m[1], m[2], m[3], m[4], m[5], m[6], m[8], m[9]].map((part) =>
    Number(part ?? 0),
  );
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  return (
    year! >= 1 &&
    month! >= 1 &&
    month! <= 12 &&
    day! >= 1 &&
    day! <= daysInMonth &&
    hour! <= 23 &&
    minute! <= 59 &&
    second! <= 59 &&
    offsetHours! <= 23 &&
    offsetMinutes! <= 59 &&
    !Number.isNaN(Date.parse(text))
  );
}

/** Checks values against declared fields; money must be in `currency` (the playbook's) when given. */
export function checkValues(fields: Record<string, FieldSpec>, value: unknown, pointer = '', currency?: string): ValueProblem[] {
  if (!isPlainObject(value)) return [{ pointer: pointer || '', message: `must be an object, not ${kindOf(value)}` }];
  const problems: ValueProblem[] = [];
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(fields, key)) {
      problems.push({
        pointer: `${pointer}/${escapePointerToken(key)}`,
        message: `unknown field '${key}'; declared: ${Object.keys(fields).join(', ') || 'none'}`,
      });
    }
  }
  for (const [name, spec] of Object.entries(fields)) {
    const here = `${pointer}/${escapePointerToken(name)}`;
    const present = Object.hasOwn(value, name) && value[name] !== undefined && value[name] !== null;
    if (!present) {
      if (spec.required) problems.push({ pointer: here, message: `required field '${name}' (${describe(spec)}) is missing` });
      continue;
    }
    problems.push(...checkValue(spec, value[name], here, currency));
  }
  return problems;
}

export function checkValue(type: FieldType, value: unknown, pointer: string, currency?: string): ValueProblem[] {
  const problem = (message: string): ValueProblem[] => [{ pointer, message }];
  switch (type.type) {
    case 'string':
      if (typeof value !== 'string') return problem(`must be a string, not ${kindOf(value)}`);
      return isCleanText(value) ? [] : problem('must be text without NUL characters or unpaired surrogates');
    case 'enum':
      return typeof value === 'string' && type.values.includes(value) ? [] : problem(`must be one of ${type.values.join(', ')}, not ${kindOf(value)}`);
    case 'integer':
      return Number.isSafeInteger(value) ? [] : problem(`must be a whole number, not ${kindOf(value)}`);
    case 'boolean':
      return typeof value === 'boolean' ? [] : problem(`must be true or false, not ${kindOf(value)}`);
    case 'timestamp':
      return typeof value === 'string' && isTimestamp(value)
        ? []
        : problem(`must be an RFC 3339 timestamp of a real date and time, such as 2026-11-24T09:30:00Z, not ${kindOf(value)}`);
    case 'duration':
      return Number.isSafeInteger(value) && (value as number) >= 0 ? [] : problem(`must be a duration in whole milliseconds, not ${kindOf(value)}`);
    case 'money': {
      if (!isPlainObject(value)) return problem(`must be money: { "amount": <integer minor units>, "currency": "CNY" }, not ${kindOf(value)}`);
      const problems: ValueProblem[] = [];
      for (const key of Object.keys(value)) {
        if (key !== 'amount' && key !== 'currency')
          problems.push({ pointer: `${pointer}/${escapePointerToken(key)}`, message: `unknown field '${key}'; money has amount and currency` });
      }
      const amount = value.amount;
      if (!Number.isSafeInteger(amount) || (amount as number) < 0) {
        problems.push({ pointer: `${pointer}/amount`, message: `must be a non-negative whole number of minor units (fen, cents), not ${kindOf(amount)}` });
      } else if ((amount as number) > MAX_MONEY_AMOUNT) {
        problems.push({
          pointer: `${pointer}/amount`,
          message: `must be at most ${MAX_MONEY_AMOUNT} minor units, the most the ledger holds, not ${amount as number}`,
        });
      }
      if (typeof value.currency !== 'string' || !CURRENCY.test(value.currency)) {
        problems.push({ pointer: `${pointer}/currency`, message: `must be an ISO 4217 code such as CNY, not ${kindOf(value.currency)}` });
      } else if (currency !== undefined && value.currency !== currency) {
        problems.push({
          pointer: `${pointer}/currency`,
          message: `must be ${currency}, the playbook's currency, not ${value.currency}: money is never mixed across currencies`,
        });
      }
      return problems;
    }
    case 'list':
      if (!Array.isArray(value)) return problem(`must be a list, not ${kindOf(value)}`);
      if (value.length > MAX_LIST_ITEMS) return problem(`holds ${value.length} items; a list holds at most ${MAX_LIST_ITEMS}`);
      return value.flatMap((item, index) => checkValue(type.items, item, `${pointer}/${index}`, currency));
    case 'object':
      return checkValues(type.fields, value, pointer, currency);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function describe(spec: FieldType): string {
  return spec.type === 'enum' ? `one of ${spec.values.join(', ')}` : spec.type;
}

/** A key as one token of a JSON pointer (RFC 6901: `~` as `~0`, `/` as `~1`). */
export function escapePointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
