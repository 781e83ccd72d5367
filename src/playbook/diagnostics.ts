export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  /** Stable code: YAML### syntax, SCHEMA### shape, PB### semantics (see docs/playbook-language.md). */
  code: string;
  message: string;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  hint?: string;
}

/** `path:line:column: severity code: message`, the format compilers use. */
export function formatDiagnostic(d: Diagnostic): string {
  const hint = d.hint ? ` (hint: ${d.hint})` : '';
  return `${d.file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}${hint}`;
}

export const hasErrors = (diagnostics: Diagnostic[]): boolean => diagnostics.some((d) => d.severity === 'error');

export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => a.line - b.line || a.column - b.column || a.code.localeCompare(b.code));
}
