/**
 * What a step kind is in the contract: one module per kind (send.ts, wait.ts...) says what the kind
 * means, how it is written (its schema fragment), compiled, drawn and followed (its edges), and what
 * other stages ask of it. How it runs is its interpreter's, in src/workflows/steps/. The compiler,
 * the lint and the workflow reach a kind only through this interface and the index of kinds.
 */
import type { CaseEvent } from '../case.js';
import type { Calendar } from '../calendar.js';
import type { DiagnosticCode } from '../diagnostic-codes.js';
import type { Span } from '../duration.js';
import type { EventSpec, Expr, FieldSpec, FieldType, Plan, PolicyValue, Recipient, StepBase, TemplateSpec } from '../plan.js';
import type { PublishedPlaybook } from './playbook.js';

/** A place in the playbook document: keys and list indexes from its root. */
export type JsonPath = (string | number)[];

/** A way out of a step: the step it leads to, and what takes it there (for diagrams). */
export interface Edge {
  to: string;
  label?: string;
}

/**
 * A nested body (a parallel branch, a loop's iteration): its steps, in the order written, and the first.
 * Its steps go only to steps of the same body; a step that would go past the last one goes to BODY_END.
 */
export interface Body {
  start: string;
  steps: string[];
}

/** Where a body's last step goes: the body is done (never a step id: ids start with a letter). */
export const BODY_END = '$end';

/** A loop's item as a body's expressions name it, typed from its list (undefined: not known, `dyn`). */
export interface BodyItem {
  name: string;
  type: FieldType | undefined;
}

/** The type an expression must have where it is written. */
export type ExpectedType = 'bool' | 'int' | 'string' | 'any' | { field: FieldType };

/** What a timestamp expression is expected to be, for the compiler. */
export const TIMESTAMP = { field: { type: 'timestamp' } } as const;

/** The recipient as written in a playbook. */
export type RawRecipient = 'buyer' | 'agent' | { group: string };

/** What the playbook declares, as far as a step may refer to it. */
export interface Declarations {
  fields: Record<string, FieldSpec>;
  events: Record<string, EventSpec>;
  policy: Record<string, PolicyValue>;
  templates: Record<string, TemplateSpec>;
  integrations: Plan['integrations'];
  currency: string;
  timezone: string;
  paidField?: string;
  orderIdField?: string;
  /** The fields with the order's lines and the lines the case concerns (src/plan/order-lines.ts). */
  orderLinesField?: string;
  concernedLinesField?: string;
  refundCaps?: Plan['refundCaps'];
  /** The playbook's working calendar, which business durations count in. */
  calendar?: Calendar;
  /** The playbook's own name: a sub-playbook may not run it again (cycles). */
  playbook?: string;
  /** The published playbooks a `playbook` step may run, as the caller looked them up; absent: none can be looked up. */
  playbooks?: readonly PublishedPlaybook[];
}

/** What the compiler offers a step kind while it compiles one step: checks that report where they fail. */
export interface StepCompiler {
  readonly stepId: string;
  /** The step's own `next`, if written. */
  readonly writtenNext: string | undefined;
  /** The step's action in the document, e.g. ['steps', 3, 'refund']. */
  readonly path: JsonPath;
  readonly declarations: Declarations;
  /** The step after this one: `explicit` if given, else the step's `next`, else the following step. */
  next(explicit?: string, path?: JsonPath): string;
  /** A step id that must exist. */
  ref(target: string, path: JsonPath): string;
  /** A CEL expression checked for its type; in a wait condition on `event`, `event` is its payload. */
  expression(cel: string, path: JsonPath, expected: ExpectedType, event?: EventSpec): Expr;
  /** The `{{ expression }}` placeholders of a text. */
  placeholders(text: string, path: JsonPath): Expr[];
  /** A duration written `24h` or `policy.<name>`, in milliseconds. */
  duration(text: string, path: JsonPath): number | undefined;
  /** A duration that may also be business time (`4 business hours`, or `policy.<name>` holding one): a business one needs a calendar. */
  span(text: string, path: JsonPath): Span | undefined;
  /** A reminder count written as a number or `policy.<name>`. */
  count(value: number | string, path: JsonPath): number | undefined;
  template(name: string, path: JsonPath): TemplateSpec | undefined;
  recipient(raw: RawRecipient): Recipient;
  timezone(zone: string, path: JsonPath): string;
  error(code: DiagnosticCode, message: string, path: JsonPath, options?: { hint?: string; key?: boolean }): void;
  warning(code: DiagnosticCode, message: string, path: JsonPath, hint?: string): void;
  /** "did you mean 'x'?" when `name` is close to a candidate, else `otherwise`. */
  hint(name: string, candidates: string[], otherwise: string): string;
  /** Compiles a nested body written at `path` (its steps' expressions also see `item`); undefined when it has no step. */
  body(raw: unknown[], path: JsonPath, item?: BodyItem): Body | undefined;
  /** An expression evaluated in a loop's iteration: it also sees `item`. */
  scopedExpression(cel: string, path: JsonPath, expected: ExpectedType, item: BodyItem): Expr;
  /** The loop items in scope here (enclosing loops' `as`), innermost last. */
  readonly items: readonly BodyItem[];
  /** The type of the items of the list a CEL expression names, when it is a declared list field (`data.lines`). */
  itemTypeOf(cel: string): FieldType | undefined;
}

/** `fork`: a parallel block (its branches drawn inside it); `loop`: a for_each (its body drawn inside it). */
export type DiagramShape = 'box' | 'decision' | 'wait' | 'end' | 'fork' | 'loop';

/** A step's deadline, as the marketplace lint bounds it: what it is, where it is written, how long it can last. */
export interface StepDeadline {
  what: string;
  /** Where the step writes it, from the step: e.g. ['refund', 'within']. */
  key: JsonPath;
  /** A span from its start, a bound in milliseconds, or 'unbounded' when the plan alone does not bound it. */
  lasts: { span: Span } | { ms: number } | 'unbounded';
}

/** A list a playbook scenario's `expect` compares with the case's history. */
export type ScenarioList = 'remarks' | 'tasks';

export interface StepKind<S extends StepBase & { kind: string }, Raw> {
  kind: S['kind'];
  /** The action's fragment of schemas/playbook.schema.json, as a JSON pointer. */
  schema: string;
  /** Whether the step waits (for an event, a time or a person): a loop must pass through such a step. */
  waits: boolean;
  shape: DiagramShape;
  /** The step's plan form, without id and position; undefined when it cannot be compiled. */
  compile(raw: Raw, compiler: StepCompiler): Omit<S, 'id' | 'at'> | undefined;
  edges(step: S): Edge[];
  /** The bodies the step runs (parallel branches and cleanups, a loop's iteration); absent for plain steps. */
  bodies?(step: S): { label: string; body: Body }[];
  /** One line for diagrams. */
  describe(step: S): string;
  /** Events a playbook with a step of this kind declares without writing them (unless it writes them itself). */
  declares?: Record<string, EventSpec>;
  /** Event types the step takes (early events for a later step are kept for it). */
  awaits?(step: S): string[];
  /** Why the step, waiting, refuses an event of a type it awaits; undefined when it takes it. */
  refuses?(step: S, event: CaseEvent): string | undefined;
  /** Whether the case ends at the step: every path of a playbook must reach such a step. */
  ends?: true;
  /** The step's deadline, for the marketplace rules; kinds without one leave it out. */
  deadline?(step: S, plan: Plan): StepDeadline;
  /** What a scenario counts of the step's records: the list it goes in, and the entry each record makes. */
  scenario?: { list: ScenarioList; entry(record: { step: string | null; detail: Record<string, unknown> }): string };
}
