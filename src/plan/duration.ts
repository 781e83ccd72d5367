const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000 } as const;
const DURATION = /^(?:[0-9]+[dhms])+$/;

export const MAX_DURATION_MS = 400 * UNIT_MS.d;

/** Parses `30m`, `24h`, `7d`, `1d12h` into milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION.test(text)) return undefined;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(/([0-9]+)([dhms])/g)) {
    ms += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return Number.isSafeInteger(ms) ? ms : undefined;
}

export function formatDuration(ms: number): string {
  let rest = ms;
  let out = '';
  for (const [unit, size] of Object.entries(UNIT_MS)) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out || '0s';
}

/** A duration counted in the working time of the playbook's calendar (src/plan/calendar.ts). */
export interface BusinessDuration {
  business: BusinessUnit;
  amount: number;
}

export type BusinessUnit = 'minutes' | 'hours' | 'days';

/** A plain duration in milliseconds, or a business duration. */
export type Span = number | BusinessDuration;

const BUSINESS = /^([1-9][0-9]{0,5}) business (minute|hour|day)s?$/;

/** Parses `30 business minutes`, `4 business hours`, `1 business day`; undefined when it is not one. */
export function parseBusinessDuration(text: string): BusinessDuration | undefined {
  const match = BUSINESS.exec(text);
  if (!match) return undefined;
  return { business: `${match[2]}s` as BusinessUnit, amount: Number(match[1]) };
}

export function formatBusinessDuration(duration: BusinessDuration): string {
  const unit = duration.business.slice(0, -1);
  return `${duration.amount} business ${unit}${duration.amount === 1 ? '' : 's'}`;
}

export const formatSpan = (span: Span): string => (typeof span === 'number' ? formatDuration(span) : formatBusinessDuration(span));

/** The span a plan stores as milliseconds or, for business time, as a tagged duration next to it. */
export const spanOf = (ms: number | null | undefined, business: BusinessDuration | undefined): Span | undefined => business ?? ms ?? undefined;

/** `times` repetitions of a span (the n-th reminder is due n intervals after the wait began). */
export const multiplySpan = (span: Span, times: number): Span =>
  typeof span === 'number' ? span * times : { business: span.business, amount: span.amount * times };
