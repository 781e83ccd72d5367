/** Playbook → diagnostics and plan: the three layers (YAML, schema, semantics) and the hash. */
import { canonicalJson, sha256Hex } from './canonical.js';
import { compilePlaybook } from './compile.js';
import { hasErrors, sortDiagnostics, type Diagnostic } from './diagnostics.js';
import type { Calendar } from '../plan/calendar.js';
import type { HashedPlan, Plan } from '../plan/plan.js';
import type { PublishedPlaybook } from '../plan/steps/playbook.js';
import { checkShape } from './schema-check.js';
import { readPlaybook } from './source.js';

export type { Diagnostic } from './diagnostics.js';
export { formatDiagnostic } from './diagnostics.js';
export { canonicalJson } from './canonical.js';
export { loadCalendars, type CalendarFile, type LoadedCalendars } from './calendars.js';

export interface ValidationResult {
  diagnostics: Diagnostic[];
  /** Present if and only if there is no error. */
  plan?: HashedPlan;
}

export interface CompileOptions {
  /** The most an expression may cost (see src/plan/cost.ts); lower or higher only to test the run-time budget. */
  maxExpressionCost?: number;
  /** The shared calendars a playbook may name (`calendar: shop`), read by the caller (see loadCalendars). */
  calendars?: Record<string, Calendar>;
  /** The published playbooks a `playbook` step may run (src/plan/steps/playbook.ts), looked up by the caller. */
  playbooks?: readonly PublishedPlaybook[];
}

export function validatePlaybook(source: string | Uint8Array, file: string, options: CompileOptions = {}): ValidationResult {
  const read = readPlaybook(source, file);
  if (!read.source) return { diagnostics: sortDiagnostics(read.diagnostics) };
  const shape = checkShape(read.source);
  if (shape.length > 0) return { diagnostics: sortDiagnostics(shape) };
  const compiled = compilePlaybook(read.source, options);
  const diagnostics = sortDiagnostics(compiled.diagnostics);
  if (!compiled.plan || hasErrors(diagnostics)) return { diagnostics };
  return { diagnostics, plan: { plan: compiled.plan, hash: hashPlan(compiled.plan) } };
}

export function hashPlan(plan: Plan): string {
  return sha256Hex(canonicalJson(plan));
}

/**
 * The names of the playbooks a playbook's `playbook` steps run, as written (nested bodies too), so the
 * caller can look up their published versions before compiling; none when it does not read.
 */
export function subPlaybookNames(source: string | Uint8Array, file: string): string[] {
  const read = readPlaybook(source, file);
  const names = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'playbook' && inner !== null && typeof inner === 'object' && typeof (inner as { name?: unknown }).name === 'string')
          names.add((inner as { name: string }).name);
        walk(inner);
      }
    }
  };
  walk((read.source?.value as { steps?: unknown } | undefined)?.steps);
  return [...names];
}
