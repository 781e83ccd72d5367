/**
 * Reading a playbook: bytes → UTF-8 text → YAML document with positions → plain JSON value.
 * Everything that can go wrong becomes a diagnostic; nothing here throws on bad input.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair } from 'yaml';
import type { DiagnosticCode } from '../plan/diagnostic-codes.js';
import type { JsonPath } from '../plan/steps/kind.js';
import { diagnosticAt, type Diagnostic } from './diagnostics.js';
import { explainYamlErrors } from './yaml-mistakes.js';

export const MAX_PLAYBOOK_BYTES = 1024 * 1024;
export const MAX_NESTING_DEPTH = 64;

export type { JsonPath };

export interface Span {
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface PlaybookSource {
  file: string;
  text: string;
  value: unknown;
  /** Where a JSON path is in the file: the value node, or with `key`, the key of the pair. */
  locate(path: JsonPath, options?: { key?: boolean }): Span;
  /** Where an offset range inside the scalar at `path` is, for errors inside expressions. */
  locateInScalar(path: JsonPath, start: number, end: number): Span;
}

export type ReadResult = { source: PlaybookSource; diagnostics: Diagnostic[] } | { source?: undefined; diagnostics: Diagnostic[] };

const START: Span = { line: 1, column: 1, endLine: 1, endColumn: 1 };

export function readPlaybook(input: string | Uint8Array, file: string): ReadResult {
  const decoded = decode(input, file);
  if ('diagnostics' in decoded) return decoded;
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(decoded.text, file);
  } catch (error) {
    return failure(file, 'YAML001', `the YAML could not be parsed: ${(error as Error).message}`);
  }
  if (parsed.diagnostics.length > 0) return { diagnostics: parsed.diagnostics };
  const value = parsed.doc.toJS({ maxAliasCount: 0 }) as unknown;
  if (value === null || value === undefined) return failure(file, 'YAML013', 'the playbook is empty', 'start from one of the playbooks in playbooks/');
  return { source: locatable(file, decoded.text, value, parsed.doc, parsed.spanOf), diagnostics: [] };
}

function failure(file: string, code: DiagnosticCode, message: string, hint?: string, span: Span = START): ReadResult {
  return { diagnostics: [diagnosticAt(file, span, code, message, hint)] };
}

/** The text of a playbook, refused before parsing when it is too big, binary, empty or too deep. */
function decode(input: string | Uint8Array, file: string): { text: string } | ReadResult {
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.byteLength;
  if (size > MAX_PLAYBOOK_BYTES) {
    return failure(file, 'YAML010', `the playbook is ${size} bytes; the limit is ${MAX_PLAYBOOK_BYTES}`, 'split it or remove unused parts');
  }
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      return failure(file, 'YAML011', 'the file is not valid UTF-8 text', 'save the playbook as UTF-8');
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const nul = text.indexOf('\u0000');
  if (nul >= 0) {
    const lines = new LineCounter();
    for (let i = text.indexOf('\n'); i >= 0 && i < nul; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
    const pos = lines.linePos(nul);
    return failure(file, 'YAML012', 'the file contains a NUL byte: it looks binary, not YAML', 'save the playbook as plain text', {
      line: pos.line,
      column: pos.col,
      endLine: pos.line,
      endColumn: pos.col + 1,
    });
  }
  if (text.trim() === '' || /^(\s*#[^\n]*\n?)*\s*$/.test(text)) {
    return failure(file, 'YAML013', 'the playbook is empty', 'start from one of the playbooks in playbooks/');
  }
  const depth = flowNestingDepth(text);
  if (depth > MAX_NESTING_DEPTH) {
    return failure(file, 'YAML014', `nesting is ${depth} levels deep; the limit is ${MAX_NESTING_DEPTH}`, 'a playbook never needs deep nesting');
  }
  return { text };
}

type SpanOf = (start: number, end: number) => Span;

/** One YAML document with its syntax problems: errors, custom tags, anchors and aliases. */
function parse(text: string, file: string): { doc: Document.Parsed; spanOf: SpanOf; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, strict: true, prettyErrors: false, keepSourceTokens: false });
  const spanOf: SpanOf = (start, end) => {
    const a = lineCounter.linePos(start);
    const b = lineCounter.linePos(Math.max(start, end));
    return { line: a.line, column: a.col, endLine: b.line, endColumn: b.col };
  };
  const diagnostics: Diagnostic[] = [];
  const add = (code: DiagnosticCode, message: string, span: Span, hint?: string) => diagnostics.push(diagnosticAt(file, span, code, message, hint));
  const multiple = doc.errors.find((e) => e.code === 'MULTIPLE_DOCS');
  if (multiple) {
    add('YAML006', 'a playbook file holds exactly one YAML document; found more', spanOf(multiple.pos[0], multiple.pos[0] + 3), 'remove the `---` separators');
    return { doc, spanOf, diagnostics };
  }
  for (const mistake of explainYamlErrors(text, doc.errors, doc)) add(mistake.code, mistake.message, spanOf(mistake.start, mistake.end), mistake.hint);
  for (const warning of doc.warnings) {
    const [start, end] = warning.pos;
    add('YAML003', firstLine(warning.message), spanOf(start, end), 'playbooks use plain YAML: no custom tags');
  }
  // Anchors and aliases need `&` or `*` in the text; most playbooks have neither, so skip the walk.
  if (/[&*]/.test(text))
    visit(doc, {
      Alias(_key, node) {
        const [start, end] = node.range ?? [0, 0];
        add('YAML004', 'aliases (*name) are not allowed in playbooks', spanOf(start, end), 'write the value out in full');
      },
      Node(_key, node) {
        if (node.anchor) {
          const [start] = node.range ?? [0];
          add(
            'YAML004',
            `anchors (&${node.anchor}) are not allowed in playbooks`,
            spanOf(start, start + node.anchor.length + 1),
            'write the value out in full',
          );
        }
      },
    });
  return { doc, spanOf, diagnostics };
}

/** The document's value with a way back from a JSON path to where it is written. */
function locatable(file: string, text: string, value: unknown, doc: Document.Parsed, spanOf: SpanOf): PlaybookSource {
  const nodeAt = (path: JsonPath): { node?: Node; pair?: Pair; parent?: Node } => {
    let node: unknown = doc.contents;
    let pair: Pair | undefined;
    let parent: Node | undefined;
    for (const segment of path) {
      if (isMap(node)) {
        const found = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(segment));
        if (!found) return { parent: node };
        parent = node;
        pair = found;
        node = found.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment];
        if (item === undefined) return { parent: node };
        parent = node;
        pair = undefined;
        node = item;
      } else {
        return { parent: (node as Node) ?? parent };
      }
    }
    return { node: node as Node, pair, parent };
  };
  const rangeSpan = (node: Node | undefined): Span | undefined => (node?.range ? spanOf(node.range[0], node.range[1]) : undefined);
  const source: PlaybookSource = {
    file,
    text,
    value,
    locate(path, options) {
      const { node, pair, parent } = nodeAt(path);
      if (options?.key && pair?.key && typeof pair.key === 'object') {
        return rangeSpan(pair.key as Node) ?? START;
      }
      return rangeSpan(node) ?? (parent?.range ? spanOf(parent.range[0], parent.range[0] + 1) : START);
    },
    locateInScalar(path, start, end) {
      const { node } = nodeAt(path);
      if (!node || !isScalar(node) || !node.range) return source.locate(path);
      const raw = text.slice(node.range[0], node.range[1]);
      const quoted = raw.startsWith('"') || raw.startsWith("'") ? 1 : 0;
      const scalar = String(node.value);
      // Offsets map exactly for plain and quoted single-line scalars; otherwise point at the scalar.
      if (raw.length - 2 * quoted !== scalar.length || raw.includes('\n')) return spanOf(node.range[0], node.range[1]);
      return spanOf(node.range[0] + quoted + start, node.range[0] + quoted + end);
    },
  };
  return source;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/** The deepest bracket nesting outside quotes and comments, found without recursion. */
function flowNestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let quote: string | null = null;
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (comment) {
      if (c === '\n') comment = false;
      continue;
    }
    if (quote) {
      if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) comment = true;
    else if (c === '[' || c === '{') max = Math.max(max, ++depth);
    else if (c === ']' || c === '}') depth = Math.max(0, depth - 1);
  }
  return Math.max(max, indentationDepth(text));
}

function indentationDepth(text: string): number {
  let max = 0;
  for (const line of text.split('\n')) {
    const indent = line.length - line.trimStart().length;
    if (line.trim() !== '') max = Math.max(max, Math.floor(indent / 2));
  }
  return max;
}
