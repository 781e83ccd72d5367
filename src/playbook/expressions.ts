/** Checking CEL expressions at publish time: syntax, names and result type, reported inside the expression. */
import { eventConditionEnvironment, itemEnvironment, MAX_EXPRESSION_LENGTH, parseExpression, regularExpression, type CelEnvironment } from '../plan/cel.js';
import { estimateCost, LINEAR_MATCHES, MAX_LIST_ITEMS, type CelNode } from '../plan/cost.js';
import type { EventSpec, Expr, FieldSpec, FieldType } from '../plan/plan.js';
import type { ExpectedType, JsonPath } from '../plan/steps/kind.js';
import { parseTemplate } from '../plan/template.js';
import type { Reporter } from './diagnostics.js';
import { hintFor } from './hints.js';
import type { PlaybookSource } from './source.js';

/** What `steps.<id>.result` may read: each call step's declared response, and every call step's operation. */
export interface CallAnswers {
  results: Record<string, Record<string, FieldSpec>>;
  /** `integration.operation` by call step id. */
  calls: Record<string, string>;
  /** The loops that collect (`steps.<id>.results`), by step id. */
  collected?: string[];
}

export class ExpressionChecker {
  constructor(
    private readonly source: PlaybookSource,
    private readonly report: Reporter,
    private readonly env: CelEnvironment,
    private readonly maxCost: number,
    private readonly answers: CallAnswers = { results: {}, calls: {} },
    /** The call steps whose answer each expression checked reads (`steps.<id>`), by its text. */
    readonly answerReads = new Map<string, Set<string>>(),
  ) {}

  /** The checker of a loop's body: its expressions also see the loops' items. */
  scoped(...items: { name: string; type: FieldType | undefined }[]): ExpressionChecker {
    return new ExpressionChecker(this.source, this.report, itemEnvironment(this.env, items), this.maxCost, this.answers, this.answerReads);
  }

  /** The expression at `path` (at `offset` inside its scalar), checked to have the `expected` type. */
  check(cel: string, path: JsonPath, expected: ExpectedType, event?: EventSpec, offset = 0): Expr {
    const span = this.source.locate(path);
    const expr: Expr = { cel, at: { line: span.line, column: span.column } };
    if (cel.length > MAX_EXPRESSION_LENGTH) {
      this.report.error('PB201', `expression is ${cel.length} characters; the limit is ${MAX_EXPRESSION_LENGTH}`, path);
      return expr;
    }
    const env = event ? eventConditionEnvironment(this.env, event) : this.env;
    if (this.checkAnswerReads(env, cel, path, offset)) return expr;
    let result: ReturnType<typeof env.check>;
    try {
      result = env.check(cel);
    } catch (error) {
      this.report.error('PB201', `expression could not be checked: ${firstLine((error as Error).message)}`, path);
      return expr;
    }
    if (!result.valid) {
      const error = result.error!;
      const range = (error as { range?: { start: number; end: number } }).range;
      const at = range ? this.source.locateInScalar(path, offset + range.start, offset + range.end) : span;
      this.report.error('PB201', `expression error: ${firstLine(error.message)}`, path, { span: at, hint: expressionHint(error.message, cel) });
      return expr;
    }
    const actual = result.type ?? 'dyn';
    if (!matchesType(expected, actual)) {
      this.report.error('PB202', `expression has type ${friendlyType(actual)}; ${describeExpected(expected)} is needed here`, path, {
        hint: typeHint(expected),
      });
    }
    const ast = (parseExpression(env, cel) as unknown as { ast: CelNode }).ast;
    this.checkPatterns(ast, path, offset);
    const estimate = estimateCost(ast);
    if (estimate.cost > this.maxCost) {
      const at = estimate.at ? this.source.locateInScalar(path, offset + estimate.at.start, offset + estimate.at.end) : span;
      this.report.error('PB203', `expression may cost ${estimate.cost} evaluation steps; the limit is ${this.maxCost}`, path, {
        span: at,
        hint: `nested comprehensions multiply: a list of the case's data may hold ${MAX_LIST_ITEMS} items`,
      });
    }
    return expr;
  }

  /**
   * Each `steps.<id>.result.<property>` read, against the response the step's operation declares: PB145
   * at the first name that is not declared (CEL alone would only say "No such key"). True when reported.
   */
  private checkAnswerReads(env: CelEnvironment, cel: string, path: JsonPath, offset: number): boolean {
    let ast: CelNode;
    try {
      ast = (env.parse(cel) as unknown as { ast: CelNode }).ast;
    } catch {
      return false; // the syntax error is reported by the check
    }
    let reported = false;
    const visit = (node: CelNode): void => {
      const chain = stepsChain(node);
      if (chain) {
        if (chain[1]) this.answerReads.set(cel, (this.answerReads.get(cel) ?? new Set()).add(chain[1].name));
        const problem = this.answerProblem(chain);
        if (problem) {
          const segment = chain[problem.at]!;
          this.report.error('PB145', problem.message, path, {
            span: this.source.locateInScalar(path, offset + segment.start, offset + segment.end),
            hint: problem.hint,
          });
          reported = true;
        }
        return;
      }
      const args = Array.isArray(node.args) ? (node.args as unknown[]) : [];
      // A comprehension whose variable is named `steps` (`data.items.all(steps, ...)`) hides the answers in its body.
      const bound = node.op === 'rcall' && COMPREHENSIONS.has(args[0] as string) ? (args[2] as CelNode[] | undefined)?.[0] : undefined;
      const children = bound?.op === 'id' && bound.args === 'steps' ? [args[1]] : args.flat();
      for (const child of children) if (child && typeof child === 'object' && 'op' in child) visit(child as CelNode);
    };
    visit(ast);
    return reported;
  }

  private answerProblem(chain: Segment[]): { at: number; message: string; hint: string } | undefined {
    const { results, calls } = this.answers;
    const withAnswers = Object.keys(results);
    const id = chain[1];
    if (!id) return { at: 0, message: '`steps` is read by step id: steps.<id>.result', hint: `steps with an answer: ${withAnswers.join(', ') || 'none'}` };
    const fields = results[id.name];
    if (this.answers.collected?.includes(id.name)) {
      const read = chain[2];
      return read && read.name !== 'results' ? { at: 2, message: `steps.${id.name} has only 'results'`, hint: `write steps.${id.name}.results` } : undefined;
    }
    if (!fields) {
      const call = calls[id.name];
      return {
        at: 1,
        message: call
          ? `step '${id.name}' calls ${call}, which declares no response to read`
          : `'${id.name}' is not a call step whose operation declares a response`,
        hint: call
          ? `declare it: integrations: { ${call.split('.')[0]}: { operations: { ${call.split('.')[1]}: { response: { <property>: { type: string } } } } } }`
          : hintFor(id.name, withAnswers, `steps with an answer: ${withAnswers.join(', ') || 'none'}`),
      };
    }
    const result = chain[2];
    if (!result) return undefined;
    if (result.name !== 'result') return { at: 2, message: `steps.${id.name} has only 'result'`, hint: `write steps.${id.name}.result.<property>` };
    let declared: Record<string, FieldType> | undefined = fields;
    for (let i = 3; i < chain.length && declared; i++) {
      const segment = chain[i]!;
      const field: FieldType | undefined = declared[segment.name];
      if (!field) {
        const names = Object.keys(declared);
        return {
          at: i,
          message: `the answer of step '${id.name}' (${calls[id.name]}) declares no property '${chain
            .slice(3, i + 1)
            .map((s) => s.name)
            .join('.')}'`,
          hint: hintFor(segment.name, names, `its response declares: ${names.join(', ')}`),
        };
      }
      declared = field.type === 'object' ? field.fields : undefined;
    }
    return undefined;
  }

  /** The regular expressions written as literals in `matches(...)`, each compiled by RE2 as it will be at run time. */
  private checkPatterns(node: CelNode, path: JsonPath, offset: number): void {
    const args = Array.isArray(node.args) ? (node.args as unknown[]) : [];
    const pattern = node.op === 'rcall' && args[0] === LINEAR_MATCHES ? (args[2] as CelNode[] | undefined)?.[0] : undefined;
    if (pattern?.op === 'value' && typeof pattern.args === 'string') {
      try {
        regularExpression(pattern.args);
      } catch (error) {
        const at =
          pattern.start !== undefined && pattern.end !== undefined
            ? this.source.locateInScalar(path, offset + pattern.start, offset + pattern.end)
            : this.source.locate(path);
        this.report.error('PB204', firstLine((error as Error).message), path, {
          span: at,
          hint: 'matches() uses RE2 syntax, matched in linear time: no backreferences (\\1) or lookaround ((?=, (?<=), repeats up to {1000}',
        });
      }
    }
    for (const child of args.flat()) if (child && typeof child === 'object' && 'op' in child) this.checkPatterns(child as CelNode, path, offset);
  }

  /** The `{{ expression }}` placeholders of the text at `path`, each checked (reading `event`, its payload, when given). */
  placeholders(text: string, path: JsonPath, event?: EventSpec): Expr[] {
    const parsed = parseTemplate(text);
    if ('error' in parsed) {
      this.report.error('PB210', parsed.error, path, {
        span: this.source.locateInScalar(path, parsed.offset, parsed.offset + 2),
        hint: 'placeholders are written {{ expression }}',
      });
      return [];
    }
    return parsed.placeholders.map((p) => this.check(p.cel, path, 'any', event, p.offset));
  }
}

/** The macros that bind a variable over their body. */
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);

interface Segment {
  name: string;
  start: number;
  end: number;
}

/** The names of a member chain rooted at the variable `steps` (`steps.extend.result.ticket`), with their positions. */
function stepsChain(node: CelNode): Segment[] | undefined {
  const names: Segment[] = [];
  let current = node;
  while (current.op === '.' && Array.isArray(current.args) && typeof current.args[1] === 'string') {
    const at = (current as { pos?: number }).pos ?? current.start ?? 0;
    names.unshift({ name: current.args[1], start: at, end: current.end ?? at });
    current = current.args[0] as CelNode;
  }
  if (current.op !== 'id' || current.args !== 'steps') return undefined;
  names.unshift({ name: 'steps', start: current.start ?? 0, end: current.end ?? 0 });
  return names;
}

const CEL_TYPE_OF_FIELD: Record<string, string> = {
  string: 'string',
  enum: 'string',
  integer: 'int',
  boolean: 'bool',
  timestamp: 'google.protobuf.Timestamp',
  duration: 'google.protobuf.Duration',
};

function matchesType(expected: ExpectedType, actual: string): boolean {
  if (expected === 'any' || actual === 'dyn') return true;
  if (typeof expected === 'string') return actual === expected;
  const field = expected.field;
  const wanted = CEL_TYPE_OF_FIELD[field.type];
  if (wanted) return actual === wanted;
  if (field.type === 'list') return actual.startsWith('list');
  return (
    actual === 'map' ||
    (!['string', 'int', 'bool', 'double', 'uint', 'bytes', 'null_type'].includes(actual) && !actual.startsWith('list') && !actual.startsWith('google.'))
  );
}

function describeExpected(expected: ExpectedType): string {
  if (expected === 'any') return 'any value';
  if (typeof expected === 'string') return friendlyType(expected);
  return `a value of the field's type (${expected.field.type})`;
}

function friendlyType(type: string): string {
  return (
    (
      {
        bool: 'a boolean',
        int: 'an integer',
        string: 'a string',
        double: 'a decimal number',
        'google.protobuf.Timestamp': 'a timestamp',
        'google.protobuf.Duration': 'a duration',
      } as Record<string, string>
    )[type] ?? type
  );
}

function typeHint(expected: ExpectedType): string | undefined {
  if (expected === 'int') return 'money is integer minor units: use data.<field>.amount, and integers only (no decimals)';
  if (expected === 'bool') return 'a condition compares, e.g. data.amount.amount > 0 or now - data.signed_at <= policy.window';
  return undefined;
}

function expressionHint(message: string, cel: string): string | undefined {
  if (/No such key/.test(message)) return 'check the name against the declared fields, events and policy values';
  if (/double/.test(message)) return 'money and counts are integers: write 100, not 100.0';
  if (/timestamp - timestamp|Duration/.test(message) && /"\d+d"/.test(cel))
    return 'CEL durations have no days: use policy values or hours, e.g. duration("168h")';
  return undefined;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!;
}
