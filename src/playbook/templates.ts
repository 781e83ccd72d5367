/** Compiling templates: each part (text, subject, html) one text or one per language, placeholders checked. */
import { DEFAULT_LANGUAGE, LANGUAGES, type Language, type MessagePart, type TemplateSpec, type TemplateText } from '../plan/plan.js';
import type { Reporter } from './diagnostics.js';
import type { ExpressionChecker } from './expressions.js';
import type { RawLocalized, RawTemplate } from './raw.js';

const PARTS: MessagePart[] = ['text', 'subject', 'html'];

export function compileTemplates(
  raw: Record<string, RawTemplate> | undefined,
  language: Language | undefined,
  expressions: ExpressionChecker,
  report: Reporter,
): Record<string, TemplateSpec> {
  const main = language ?? DEFAULT_LANGUAGE;
  const templates: Record<string, TemplateSpec> = {};
  for (const [name, template] of Object.entries(raw ?? {})) {
    const parts: Partial<Record<MessagePart, TemplateText>> = {};
    const languages: NonNullable<TemplateSpec['languages']> = {};
    let perLanguage = false;
    for (const part of PARTS) {
      const written: RawLocalized | undefined = template[part];
      if (written === undefined) continue;
      const path = ['templates', name, part];
      if (typeof written === 'string') {
        parts[part] = { text: written, placeholders: expressions.placeholders(written, path) };
        continue;
      }
      perLanguage = true;
      for (const other of LANGUAGES) {
        const text = written[other];
        if (text === undefined) continue;
        const compiled = { text, placeholders: expressions.placeholders(text, [...path, other]) };
        if (other === main) parts[part] = compiled;
        else languages[other] = { ...languages[other], [part]: compiled };
      }
      if (written[main] === undefined)
        report.error('PB161', `template '${name}' gives its ${part} without the playbook's language '${main}'`, path, {
          key: true,
          hint: `add ${main}: "...": a case in a language the template does not give reads the playbook's (language: ${main})`,
        });
    }
    if (template.channel === 'email' && template.subject === undefined)
      report.error('PB160', `template '${name}' is sent by e-mail but has no subject`, ['templates', name, 'channel'], {
        hint: 'add subject: "..." (one text, or one per language)',
      });
    templates[name] = {
      ...(template.channel ? { channel: template.channel } : {}),
      text: parts.text?.text ?? '',
      placeholders: parts.text?.placeholders ?? [],
      ...(parts.subject ? { subject: parts.subject } : {}),
      ...(parts.html ? { html: parts.html } : {}),
      ...(perLanguage ? { languages } : {}),
    };
  }
  return templates;
}
