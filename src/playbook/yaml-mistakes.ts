/**
 * The `yaml` parser's errors turned into the mistakes people make: where the mistake starts (the opening
 * quote, the misindented line, the tab, the colon, the bracket) and what to do, with the errors that
 * follow from the same mistake folded into it. Pure; when the text does not show where a mistake starts,
 * the parser's own position and message are kept.
 *
 * Folding: after a syntax mistake, every further YAML error up to the end of the block holding it is
 * dropped. The block ends at the first line, after both the mistake and the parser's error, indented no
 * deeper than the line that opens the block (the nearest line above the mistake indented less than it).
 */
import { isMap, Parser, visit, type Document, type YAMLError } from 'yaml';
import type { DiagnosticCode } from '../plan/diagnostic-codes.js';

export interface Mistake {
  code: DiagnosticCode;
  message: string;
  hint?: string;
  /** Offsets in the text of where the mistake is written. */
  start: number;
  end: number;
}

const MAX_EXPLAINED = 20;

interface Explained extends Mistake {
  /** The line (0-based) the mistake starts on; the block holding it folds the errors after it. */
  line: number;
}

/** One mistake per syntax mistake, in the order of the parser's errors. */
export function explainYamlErrors(text: string, errors: readonly YAMLError[], doc: Document.Parsed): Mistake[] {
  const lines = new Lines(text);
  const mistakes: Mistake[] = [];
  let foldEnd = -1;
  let misindented: Misindented[] | undefined;
  let tokens: CstToken[] | undefined;
  // Both read the whole text: once, and only when an error needs them.
  const context: Context = {
    misindented: () => {
      misindented ??= misindentedLines(lines);
      return misindented;
    },
    tokens: () => {
      tokens ??= tokensOf(text);
      return tokens;
    },
  };
  for (const error of errors) {
    const [at, to] = error.pos;
    if (at < foldEnd) continue;
    // Hostile files can hold thousands of errors: past the first ones, the parser's positions are enough.
    const explained = (mistakes.length < MAX_EXPLAINED && explainOne(error, text, lines, doc, context)) || parserPosition(error, lines);
    mistakes.push(explained);
    foldEnd = error.code === 'DUPLICATE_KEY' ? at + 1 : lines.blockEnd(explained.line, lines.lineOf(Math.max(at, to - 1)));
  }
  return mistakes;
}

interface Context {
  misindented(): Misindented[];
  tokens(): CstToken[];
}

function explainOne(error: YAMLError, text: string, lines: Lines, doc: Document.Parsed, context: Context): Explained | undefined {
  const [at, to] = error.pos;
  const message = error.message;
  if (error.code === 'DUPLICATE_KEY') return duplicateKey(at, to, text, lines, doc);
  if (error.code === 'TAB_AS_INDENT') return tabIndent(at, text, lines);
  if (error.code === 'MISSING_CHAR' && /^Missing closing ["']quote/.test(message)) return unclosedQuote(at, text, lines, context.tokens());
  if (/^Flow (sequence|map) in block collection|^Expected flow (sequence|map) to end/.test(message)) return unclosedFlow(at, lines, context.tokens());
  const indentation =
    /^All (mapping|sequence) items must start at the same column|^Sequence item without - indicator|^Implicit keys need to be on a single line|^Nested mappings are not allowed in compact mappings|^A block sequence may not be used as an implicit map key|^Implicit map keys need to be followed by map values/;
  if (!indentation.test(message)) return undefined;
  // A key or item indented too deep reads as the continuation of the value above it: the parser stops on that value.
  const end = lines.lineOf(Math.max(at, to - 1));
  const errorLines = [lines.lineOf(at), lines.nextContent(end) ?? end] as const;
  const colon = missingSpaceAfterColon(errorLines, lines);
  if (colon) return colon;
  // A misindented line explains this error only when the error is in the block that line is in.
  const line = context.misindented().find((m) => m.line <= errorLines[1] && lines.blockEnd(m.line, m.line) > at);
  return line && describeMisindented(line, lines);
}

/** The parser's own position and message, when the text does not show more. */
function parserPosition(error: YAMLError, lines: Lines): Explained {
  const [at, to] = error.pos;
  const code = error.code === 'TAG_RESOLVE_FAILED' ? 'YAML003' : 'YAML001';
  return { code, message: error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''), start: at, end: to, line: lines.lineOf(at) };
}

function unclosedQuote(at: number, text: string, lines: Lines, tokens: CstToken[]): Explained | undefined {
  const token = innermost(tokens, at, (t) => (t.type === 'double-quoted-scalar' || t.type === 'single-quoted-scalar') && !closedQuote(t.source));
  if (!token) return undefined;
  const quote = token.source[0]!;
  const line = lines.lineOf(token.offset);
  return {
    code: 'YAML020',
    message: `this string opened here is never closed${at >= text.length ? ': it runs on to the end of the file' : lines.lineOf(at) > line ? `: it runs on to line ${lines.lineOf(at) + 1}` : ''}`,
    hint: `add the closing ${quote} on the same line, or use a block scalar |`,
    start: token.offset,
    end: lines.endOf(line),
    line,
  };
}

function closedQuote(source: string): boolean {
  if (source.length < 2) return false;
  if (source[0] === "'") return /^'(?:[^']|'')*'$/.test(source);
  return /^"(?:[^"\\]|\\[\s\S])*"$/.test(source);
}

function unclosedFlow(at: number, lines: Lines, tokens: CstToken[]): Explained | undefined {
  const token = innermost(tokens, at, (t) => t.type === 'flow-collection' && !(t.end ?? []).some((e) => e.source === ']' || e.source === '}'));
  if (!token || token.start === undefined) return undefined;
  const open = token.start.source;
  const close = open === '[' ? ']' : '}';
  const line = lines.lineOf(token.offset);
  return {
    code: 'YAML024',
    message: `this ${open === '[' ? 'list' : 'mapping'} opened with ${open} on line ${line + 1} is never closed with ${close}`,
    hint: `add the closing ${close} (a ${open}…${close} spread over several lines needs its lines indented more than its key), or write it as an indented block`,
    start: token.offset,
    end: token.offset + 1,
    line,
  };
}

function tabIndent(at: number, text: string, lines: Lines): Explained {
  const line = lines.lineOf(at);
  const start = lines.startOf(line);
  const leading = /^[ \t]*/.exec(text.slice(start, lines.endOf(line)))![0];
  const tab = leading.includes('\t') ? start + leading.indexOf('\t') : at;
  return {
    code: 'YAML022',
    message: 'a tab is used for indentation: YAML indents with spaces only',
    hint: 'replace the tab with spaces (set the editor to insert spaces for YAML)',
    start: tab,
    end: tab + 1,
    line,
  };
}

function duplicateKey(at: number, to: number, text: string, lines: Lines, doc: Document.Parsed): Explained {
  const line = lines.lineOf(at);
  let first: number | undefined;
  let name = text.slice(at, to).trim();
  visit(doc, {
    Map(_key, map) {
      if (!isMap(map)) return;
      const keyAt = (item: (typeof map.items)[number]) => (item.key as { range?: [number, number] } | null)?.range;
      const second = map.items.find((item) => keyAt(item)?.[0] === at);
      if (!second) return;
      const same = map.items.find(
        (item) =>
          item !== second && String((item.key as { value?: unknown })?.value ?? item.key) === String((second.key as { value?: unknown })?.value ?? second.key),
      );
      const range = same && keyAt(same);
      if (range) {
        first = range[0];
        name = text.slice(range[0], range[1]).trim();
      }
      return visit.BREAK;
    },
  });
  const where = first === undefined ? '' : `: it is already on line ${lines.lineOf(first) + 1}, column ${first - lines.startOf(lines.lineOf(first)) + 1}`;
  return {
    code: 'YAML002',
    message: `duplicate key \`${name}\`${where}; a key may appear only once in a mapping`,
    hint: 'remove or rename one of the two keys',
    start: at,
    end: Math.max(to, at + 1),
    line,
  };
}

/** `key:value` written without the space YAML needs to read a key and its value. */
function missingSpaceAfterColon(errorLines: readonly [number, number], lines: Lines): Explained | undefined {
  const candidates = [errorLines[0], errorLines[1], lines.previousContent(errorLines[0])];
  for (const line of candidates) {
    if (line === undefined) continue;
    const content = lines.content(line);
    const match = /^(-\s+)?([A-Za-z_][\w.-]*):([^\s:/][^:]*)$/.exec(content.replace(/\s+#.*$/, ''));
    if (!match) continue;
    const colon = lines.startOf(line) + lines.indentOf(line) + (match[1]?.length ?? 0) + match[2]!.length;
    return {
      code: 'YAML023',
      message: `a space is missing after the colon: \`${match[2]}:${match[3]}\` reads as one word, not a key and its value`,
      hint: `write \`${match[2]}: ${match[3]!.trim()}\``,
      start: colon,
      end: colon + 1,
      line,
    };
  }
  return undefined;
}

interface Misindented {
  line: number;
  indent: number;
  sibling: { indent: number; line: number; key?: string };
}

function describeMisindented(found: Misindented, lines: Lines): Explained {
  const start = lines.startOf(found.line) + found.indent;
  const { sibling } = found;
  const spaces = (n: number) => `${n} space${n === 1 ? '' : 's'}`;
  const like = sibling.key ? `\`${sibling.key}\` on line ${sibling.line + 1}` : `the item on line ${sibling.line + 1}`;
  return {
    code: 'YAML021',
    message: `this line is indented ${spaces(found.indent)}, its siblings ${spaces(sibling.indent)} (${like})`,
    hint: `indent it ${spaces(sibling.indent)} like ${like}; in YAML the indentation says what belongs to what`,
    start,
    end: Math.max(start + 1, lines.endOf(found.line)),
    line: found.line,
  };
}

type Kind = 'map' | 'seq' | 'scalar';
interface Level {
  indent: number;
  kind: 'map' | 'seq';
  line: number;
  key?: string;
}

const KEY = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"[\]{},][^#]*?)\s*:(?:\s+|$)/;
const BLOCK_SCALAR = /^[|>][1-9+-]{0,2}\s*(#.*)?$/;

/**
 * The lines whose indentation matches no block open above them, read from the lines alone (lines inside
 * block scalars, quotes and brackets spread over lines are skipped); each is then read as if indented
 * like its siblings. The reading stops where the file uses what it does not follow (tabs, `?` keys).
 * Two cases are judged by the lines below: a block's first line indented unlike the rest of the block,
 * and a line that leaves the key above it empty while the lines after it are indented for that key.
 */
function misindentedLines(lines: Lines): Misindented[] {
  const found: Misindented[] = [];
  const stack: Level[] = [];
  const all = [...lines.structural()];
  let opener: { indent: number; kind: 'key' | 'seq'; line: number } | undefined;
  let leftEmpty: { opener: number; indent: number; next: StructuralLine } | undefined;
  let dedent: { line: StructuralLine; restore: Level[] } | undefined;
  for (let i = 0; i < all.length && found.length < MAX_EXPLAINED; i++) {
    const line = all[i]!;
    const { index, indent, content } = line;
    if (/^\t/.test(lines.leading(index)) || content.startsWith('? ')) return found;
    const kind = kindOf(content);
    const open = opener;
    const closedBy = dedent;
    opener = undefined;
    dedent = undefined;
    const top = stack.at(-1);
    const compact = open?.kind === 'key' && indent === open.indent && kind === 'seq';
    if (stack.length === 0 || (open && indent > open.indent) || compact) {
      if (kind === 'scalar') continue;
      const odd = open && !compact ? oddFirstLine(all, i, open.indent) : undefined;
      if (odd) found.push({ line: index, indent, sibling: odd });
      const at = odd ? odd.indent : indent;
      stack.push({ indent: at, kind, line: index });
      opener = inner(stack, { index, indent: at, content });
      continue;
    }
    if (open?.kind === 'key') leftEmpty = { opener: open.line, indent: open.indent, next: line };
    if (kind === 'scalar' && top && indent > top.indent) continue; // a plain text spread over lines
    const want = kind === 'scalar' ? 'map' : kind;
    const before = [...stack];
    if (continuesBlock(stack, indent, want, index)) {
      opener = inner(stack, line);
      if (stack.length < before.length && !opener) dedent = { line, restore: before };
      continue;
    }
    const here = { indent, line: index, ...keyOf(content) };
    // The line just above closed the block this line continues: that line is the one out of place.
    if (
      closedBy &&
      all[i - 1] === closedBy.line &&
      kindOf(closedBy.line.content) === kind &&
      closedBy.restore.some((l) => l.indent === indent && l.kind === want)
    ) {
      found.push({ line: closedBy.line.index, indent: closedBy.line.indent, sibling: here });
      stack.splice(0, stack.length, ...closedBy.restore);
      if (!continuesBlock(stack, indent, want, index)) return found;
      opener = inner(stack, line);
      continue;
    }
    const next = leftEmpty?.next;
    if (
      leftEmpty &&
      next &&
      indent > leftEmpty.indent &&
      next.indent < indent &&
      kindOf(next.content) === kind &&
      all.slice(all.indexOf(next) + 1, i).every((l) => l.indent > next.indent)
    ) {
      found.push({ line: next.index, indent: next.indent, sibling: here });
    } else {
      const sibling = before
        .filter((l) => l.kind === want)
        .reduce<Level | undefined>((best, l) => (!best || Math.abs(l.indent - indent) <= Math.abs(best.indent - indent) ? l : best), undefined);
      if (!sibling) return found;
      found.push({ line: index, indent, sibling: { indent: sibling.indent, line: sibling.line, ...(sibling.key ? { key: sibling.key } : {}) } });
    }
    leftEmpty = undefined;
    const sibling = found.at(-1)!.line === index ? found.at(-1)!.sibling.indent : indent;
    stack.splice(0, stack.length, ...before);
    if (sibling === indent || !continuesBlock(stack, sibling, want, index)) return found;
    opener = inner(stack, { index, indent: sibling, content });
  }
  return found;
}

const kindOf = (content: string): Kind => (/^-(\s|$)/.test(content) ? 'seq' : KEY.test(content) ? 'map' : 'scalar');

/** `key:` with nothing after it but a comment: what follows, indented deeper, is its value. */
const opensBlock = (content: string): boolean => /^\s*(#.*)?$/.test(content.slice(KEY.exec(content)?.[0].length ?? content.length));

/** The key a line starts with; none for a list item, named by its line. */
function keyOf(content: string): { key?: string } {
  const key = kindOf(content) === 'map' ? KEY.exec(content) : null;
  return key ? { key: key[1]!.replace(/^["']|["']$/g, '') } : {};
}

/**
 * The first line of a block (the line at `first`, under an opener indented `parent`) is the odd one when
 * no later line of its kind in the block shares its indentation and at least two share another one:
 * shallower than the first, deeper than a key holding its value on its line, or, for list items,
 * between the first's dash and its content.
 */
function oddFirstLine(all: StructuralLine[], first: number, parent: number): Misindented['sibling'] | undefined {
  const { indent, content } = all[first]!;
  const kind = kindOf(content);
  const contentColumn = kind === 'seq' ? indent + /^-\s*/.exec(content)![0].length : indent;
  // A key with its value on its line has nothing under it: a deeper key after it is beside it.
  const valued = kind === 'map' && !opensBlock(content);
  // Read until a line beside the first or a key that opens a block (the lines after it may be its own).
  const others: StructuralLine[] = [];
  for (let j = first + 1; j < all.length && all[j]!.indent > parent; j++) {
    const later = all[j]!;
    if (kindOf(later.content) !== kind) continue;
    if (later.indent === indent) break;
    if (later.indent < indent || (kind === 'seq' && later.indent < contentColumn) || (kind === 'map' && valued && later.indent > indent)) {
      others.push(later);
      if (kind === 'map' && opensBlock(later.content)) break;
    }
  }
  const sibling = others[0];
  if (!sibling || others.filter((l) => l.indent === sibling.indent).length < 2) return undefined;
  return { indent: sibling.indent, line: sibling.index, ...keyOf(sibling.content) };
}

/** Closes the blocks deeper than `indent`; true when the line then continues the block left open. */
function continuesBlock(stack: Level[], indent: number, want: 'map' | 'seq', index: number): boolean {
  while (stack.length > 0 && stack.at(-1)!.indent > indent) stack.pop();
  const level = stack.at(-1);
  if (level?.indent === indent && level.kind === 'seq' && want === 'map' && stack.at(-2)?.indent === indent) stack.pop();
  const fits = stack.at(-1);
  if (fits?.indent !== indent || fits.kind !== want) return false;
  fits.line = index;
  return true;
}

/** The levels a line opens inside itself (`- key: value` opens a mapping), and what it opens below. */
function inner(stack: Level[], line: StructuralLine): { indent: number; kind: 'key' | 'seq'; line: number } | undefined {
  let rest = line.content;
  let column = line.indent;
  for (;;) {
    const top = stack.at(-1)!;
    if (top.kind === 'seq' && column === top.indent) {
      const dash = /^-(\s+|$)/.exec(rest);
      if (!dash) return undefined;
      if (rest.length === dash[0].length || rest.slice(dash[0].length).startsWith('#')) return { indent: column, kind: 'seq', line: line.index };
      column += dash[0].length;
      rest = rest.slice(dash[0].length);
      const nested = /^-(\s|$)/.test(rest) ? 'seq' : KEY.test(rest) ? 'map' : undefined;
      if (!nested) return undefined;
      stack.push({ indent: column, kind: nested, line: line.index });
      continue;
    }
    const key = KEY.exec(rest);
    if (!key) return undefined;
    top.key = key[1]!.replace(/^["']|["']$/g, '');
    const value = rest.slice(key[0].length);
    if (value === '' || value.startsWith('#')) return { indent: column, kind: 'key', line: line.index };
    return undefined;
  }
}

interface StructuralLine {
  index: number;
  indent: number;
  content: string;
}

/** The text's lines, with offsets. */
class Lines {
  private readonly starts: number[] = [0];
  /** For each line, the indentation of the nearest line above it indented less (-1: none). */
  private readonly opening: number[] = [];

  constructor(private readonly text: string) {
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.starts.push(i + 1);
    const above: number[] = [];
    for (let l = 0; l < this.starts.length; l++) {
      const indent = this.indentOf(l);
      if (this.blank(l)) {
        this.opening.push(-1);
        continue;
      }
      while (above.length > 0 && above.at(-1)! >= indent) above.pop();
      this.opening.push(above.at(-1) ?? -1);
      above.push(indent);
    }
  }

  lineOf(offset: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  startOf(line: number): number {
    return this.starts[line] ?? this.text.length;
  }

  endOf(line: number): number {
    const next = this.starts[line + 1];
    return next === undefined ? this.text.length : this.text[next - 2] === '\r' ? next - 2 : next - 1;
  }

  raw(line: number): string {
    return this.text.slice(this.startOf(line), this.endOf(line));
  }

  leading(line: number): string {
    return /^[ \t]*/.exec(this.raw(line))![0];
  }

  indentOf(line: number): number {
    return this.leading(line).length;
  }

  content(line: number): string {
    return this.raw(line).slice(this.indentOf(line));
  }

  private blank(line: number): boolean {
    const content = this.content(line);
    return content === '' || content.startsWith('#');
  }

  nextContent(line: number): number | undefined {
    for (let l = line + 1; l < this.starts.length; l++) if (!this.blank(l)) return l;
    return undefined;
  }

  previousContent(line: number): number | undefined {
    for (let l = line - 1; l >= 0; l--) if (!this.blank(l)) return l;
    return undefined;
  }

  /** Where the block holding `line` ends, read on from `after`: the offset of the first line after it indented no deeper than the block's opening line. */
  blockEnd(line: number, after: number): number {
    const opening = this.opening[line] ?? -1;
    for (let l = Math.max(line, after) + 1; l < this.starts.length; l++) {
      if (!this.blank(l) && this.indentOf(l) <= opening) return this.startOf(l);
    }
    return this.text.length + 1;
  }

  /** The lines that carry structure: not blank, not comments, not inside block scalars, quotes or brackets. */
  *structural(): Generator<StructuralLine> {
    let quote: string | null = null;
    let depth = 0;
    let blockScalarAbove: number | undefined;
    for (let index = 0; index < this.starts.length; index++) {
      const indent = this.indentOf(index);
      const content = this.content(index);
      if (blockScalarAbove !== undefined) {
        if (content === '' || indent > blockScalarAbove) continue;
        blockScalarAbove = undefined;
      }
      const inside = quote !== null || depth > 0;
      let afterIndicator = true;
      let valueStart = -1;
      for (let i = 0; i < content.length; i++) {
        const c = content[i]!;
        if (quote === '"') {
          if (c === '\\') i++;
          else if (c === '"') quote = null;
          continue;
        }
        if (quote === "'") {
          if (c === "'" && content[i + 1] === "'") i++;
          else if (c === "'") quote = null;
          continue;
        }
        if (c === '#' && (i === 0 || /\s/.test(content[i - 1]!))) break;
        if (c === ' ') continue;
        if ((c === '"' || c === "'") && afterIndicator) quote = c;
        else if ((c === '[' || c === '{') && (afterIndicator || depth > 0)) depth++;
        else if ((c === ']' || c === '}') && depth > 0) depth--;
        const spaced = /\s|^$/.test(content[i + 1] ?? '');
        const indicator: boolean =
          (c === ':' && spaced) || ((c === '-' || c === '?') && spaced && afterIndicator) || (depth > 0 && (c === ',' || c === '[' || c === '{'));
        if (indicator && (c === ':' || c === '-') && depth === 0) valueStart = i + 1;
        afterIndicator = indicator;
      }
      if (inside || content === '' || content.startsWith('#') || /^(---|\.\.\.|%)/.test(content)) continue;
      if (valueStart >= 0 && BLOCK_SCALAR.test(content.slice(valueStart).trim())) blockScalarAbove = this.blockScalarParent(index, content);
      yield { index, indent, content };
    }
  }

  /** A block scalar's lines are those indented deeper than the mapping (or item) that holds its key. */
  private blockScalarParent(index: number, content: string): number {
    let column = this.indentOf(index);
    let rest = content;
    for (let dash = /^-\s+/.exec(rest); dash; dash = /^-\s+/.exec(rest)) {
      column += dash[0].length;
      rest = rest.slice(dash[0].length);
    }
    return column;
  }
}

interface CstToken {
  type: string;
  offset: number;
  source: string;
  start?: { source: string };
  end?: { source: string }[];
}

/** The deepest token of the text's syntax tree that starts at or before `at` and passes `test`. */
function innermost(tokens: CstToken[], at: number, test: (token: CstToken) => boolean): CstToken | undefined {
  let found: CstToken | undefined;
  for (const token of tokens) if (token.offset <= at && test(token) && (!found || token.offset >= found.offset)) found = token;
  return found;
}

/** The text's syntax tree tokens, flattened. */
function tokensOf(text: string): CstToken[] {
  const tokens: CstToken[] = [];
  const walk = (node: unknown): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    const token = node as Partial<CstToken> & Record<string, unknown>;
    if (typeof token.type === 'string' && typeof token.offset === 'number') tokens.push(token as CstToken);
    for (const key of ['value', 'items', 'key', 'sep', 'start']) if (key in token) walk(token[key]);
  };
  for (const token of new Parser().parse(text)) walk(token);
  return tokens;
}
