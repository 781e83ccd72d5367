/**
 * `opens_on`: the inbound event that opens a case by itself. Its payload is declared like an event's,
 * its condition and mapping are CEL checked in the opening environment (src/plan/opening.ts), each
 * mapping against the type of the case field it fills; every required case field must be filled.
 */
import { openingEnvironment, type OpensOn } from '../plan/opening.js';
import type { Expr, FieldSpec } from '../plan/plan.js';
import { compileFields } from './declarations.js';
import type { Reporter } from './diagnostics.js';
import { ExpressionChecker } from './expressions.js';
import { hintFor } from './hints.js';
import type { RawField } from './raw.js';
import type { PlaybookSource } from './source.js';

export interface RawOpensOn {
  source: string;
  event: string;
  payload?: Record<string, RawField>;
  when?: string;
  data: Record<string, string>;
}

export function compileOpensOn(
  raw: RawOpensOn | undefined,
  fields: Record<string, FieldSpec>,
  source: PlaybookSource,
  report: Reporter,
  maxCost: number,
): OpensOn | undefined {
  if (!raw) return undefined;
  const payload = compileFields(raw.payload ?? {}, ['opens_on', 'payload'], report);
  const expressions = new ExpressionChecker(source, report, openingEnvironment(payload), maxCost);
  const when = raw.when === undefined ? undefined : expressions.check(raw.when, ['opens_on', 'when'], 'bool');
  const data: Record<string, Expr> = {};
  for (const [name, cel] of Object.entries(raw.data)) {
    const field = fields[name];
    if (!field) {
      report.error('PB170', `opens_on.data sets '${name}', which is not a declared case field`, ['opens_on', 'data', name], {
        key: true,
        hint: hintFor(name, Object.keys(fields), 'declare it under fields, or remove it'),
      });
      continue;
    }
    data[name] = expressions.check(cel, ['opens_on', 'data', name], { field });
  }
  const missing = Object.entries(fields)
    .filter(([name, field]) => field.required && !(name in raw.data))
    .map(([name]) => name);
  if (missing.length > 0) {
    report.error(
      'PB171',
      `opens_on.data leaves required case field${missing.length > 1 ? 's' : ''} ${missing.join(', ')} without a value`,
      ['opens_on', 'data'],
      {
        key: true,
        hint: `map ${missing[0]} from the event, e.g. ${missing[0]}: event.data.${missing[0]}, or make the field required: false`,
      },
    );
  }
  return { source: raw.source, event: raw.event, payload, ...(when ? { when } : {}), data };
}
