import type { DiagnosticCode } from '../plan/diagnostic-codes.js';
import type { JsonPath } from '../plan/steps/kind.js';
import type { PlaybookSource, Span } from './source.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  severity: Severity;
  /** Stable code from the catalogue (src/plan/diagnostic-codes.ts, docs/playbook-language.md). */
  code: DiagnosticCode;
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

/** A diagnostic at a span of a file, for problems found before or without a document tree. */
export function diagnosticAt(file: string, span: Span, code: DiagnosticCode, message: string, hint?: string, severity: Severity = 'error'): Diagnostic {
  return { severity, code, message, file, ...span, ...(hint ? { hint } : {}) };
}

export interface ReportOptions {
  hint?: string;
  /** Point at the key of the pair at `path` rather than its value. */
  key?: boolean;
  /** An exact span, e.g. inside an expression. */
  span?: Span;
}

/** Collects the diagnostics of one playbook, placing each where the path points in the source. */
export class Reporter {
  readonly diagnostics: Diagnostic[] = [];

  constructor(private readonly source: PlaybookSource) {}

  error(code: DiagnosticCode, message: string, path: JsonPath, options: ReportOptions = {}): void {
    this.add('error', code, message, path, options);
  }

  warning(code: DiagnosticCode, message: string, path: JsonPath, hint?: string): void {
    this.add('warning', code, message, path, { key: true, ...(hint ? { hint } : {}) });
  }

  locate(path: JsonPath): Span {
    return this.source.locate(path);
  }

  reported(codes: DiagnosticCode[]): boolean {
    return this.diagnostics.some((d) => codes.includes(d.code));
  }

  private add(severity: Severity, code: DiagnosticCode, message: string, path: JsonPath, options: ReportOptions) {
    const span = options.span ?? this.source.locate(path, { key: options.key });
    this.diagnostics.push(diagnosticAt(this.source.file, span, code, message, options.hint, severity));
  }
}
