/** `{{ expression }}` placeholders in message templates and remarks. Pure; used by compiler and workflow. */
import { jsonValue } from './cel.js';
import { formatLocal } from './local-time.js';
import { DEFAULT_LANGUAGE, LANGUAGES, type Language, type Plan, type MessagePart, type TemplateSpec, type TemplateText } from './plan.js';

export interface TemplatePart {
  cel: string;
  /** Offset of the expression text inside the template. */
  offset: number;
  /** Offsets of the whole `{{ ... }}` in the template. */
  start: number;
  end: number;
}

export type ParsedTemplate = { placeholders: TemplatePart[] } | { error: string; offset: number };

export function parseTemplate(text: string): ParsedTemplate {
  const placeholders: TemplatePart[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{{', i);
    const strayClose = text.indexOf('}}', i);
    if (strayClose >= 0 && (open < 0 || strayClose < open)) return { error: "'}}' without a matching '{{'", offset: strayClose };
    if (open < 0) break;
    const close = text.indexOf('}}', open + 2);
    if (close < 0) return { error: "'{{' is never closed with '}}'", offset: open };
    const inner = text.slice(open + 2, close);
    const lead = inner.length - inner.trimStart().length;
    const cel = inner.trim();
    if (cel === '') return { error: 'empty placeholder {{ }}', offset: open };
    placeholders.push({ cel, offset: open + 2 + lead, start: open, end: close + 2 });
    i = close + 2;
  }
  return { placeholders };
}

/** Fills a template, given each placeholder's already-evaluated text, in order. */
export function fillTemplate(text: string, values: string[]): string {
  const parsed = parseTemplate(text);
  if ('error' in parsed) throw new Error(parsed.error);
  let out = '';
  let last = 0;
  parsed.placeholders.forEach((p, index) => {
    out += text.slice(last, p.start) + (values[index] ?? '');
    last = p.end;
  });
  return out + text.slice(last);
}

/** How an expression's value reads in a message: timestamps in the playbook's zone, money with its currency. */
export function displayValue(value: unknown, timeZone: string): string {
  if (value instanceof Date) return formatLocal(value.getTime(), timeZone);
  if (typeof value === 'bigint') return value.toString();
  const get = (key: string) => (value instanceof Map ? value.get(key) : (value as Record<string, unknown>)?.[key]);
  if (value && typeof value === 'object' && get('amount') !== undefined && typeof get('currency') === 'string') {
    const currency = get('currency') as string;
    const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    return `${(Number(get('amount')) / 10 ** digits).toFixed(digits)} ${currency}`;
  }
  if (value && typeof value === 'object' && 'seconds' in value) return `${String((value as { seconds: bigint }).seconds)}s`;
  return typeof value === 'string' ? value : JSON.stringify(jsonValue(value));
}

/** What a message of a template says in a case: its language (when the template is written per language) and each part. */
export interface LocalizedTemplate {
  language?: Language;
  text: TemplateText;
  subject?: TemplateText;
  html?: TemplateText;
}

/**
 * The template's parts in the case's language: the case field `language` when the playbook declares it
 * and the template gives that language, else the playbook's `language`.
 */
export function localize(plan: Plan, template: TemplateSpec, data: Record<string, unknown>): LocalizedTemplate {
  const base: LocalizedTemplate = {
    text: { text: template.text, placeholders: template.placeholders },
    ...(template.subject ? { subject: template.subject } : {}),
    ...(template.html ? { html: template.html } : {}),
  };
  if (!template.languages) return base;
  const wanted = plan.fields.language ? data.language : undefined;
  const language = LANGUAGES.find((l) => l === wanted && template.languages?.[l]) ?? plan.language ?? DEFAULT_LANGUAGE;
  const own = template.languages[language] ?? {};
  const part = (name: MessagePart) => own[name] ?? base[name];
  return { language, text: part('text')!, ...(part('subject') ? { subject: part('subject')! } : {}), ...(part('html') ? { html: part('html')! } : {}) };
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** A value as it may stand in HTML: what the case's data says never becomes markup. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}
