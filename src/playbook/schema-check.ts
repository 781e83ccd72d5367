/** Layer 2: the playbook's shape, checked against schemas/playbook.schema.json with ajv (draft 2020-12). */
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import schema from '../../schemas/playbook.schema.json' with { type: 'json' };
import type { DiagnosticCode } from '../plan/diagnostic-codes.js';
import { diagnosticAt, type Diagnostic } from './diagnostics.js';
import { closest } from './hints.js';
import type { JsonPath, PlaybookSource } from './source.js';

export const playbookSchema: Record<string, unknown> = schema;

const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, verbose: true });

const stepSchema = (playbookSchema.$defs as Record<string, { properties: Record<string, unknown> }>).step;
const STEP_ACTIONS = Object.keys(stepSchema?.properties ?? {}).filter((k) => !['id', 'next', 'description', 'compensate'].includes(k));

/** A checker of YAML documents against a JSON Schema, reporting at the documents' positions; `root` names the whole document. */
export function shapeChecker(schema: Record<string, unknown>, root = 'the playbook'): (source: PlaybookSource) => Diagnostic[] {
  const validate = ajv.compile(schema);
  return (source) => (validate(source.value) ? [] : toDiagnostics(validate.errors ?? [], source, root));
}

export const checkShape = shapeChecker(playbookSchema);

/** Whether an error at a compiled schema's root `oneOf` is the step's "exactly one action": the oneOf itself, or a branch requiring an action. */
function isStepOneOf(error: ErrorObject): boolean {
  const parent = error.parentSchema as { title?: string; required?: string[] } | undefined;
  return error.keyword === 'oneOf' ? parent?.title === 'Step' : (STEP_ACTIONS as readonly string[]).includes(parent?.required?.[0] ?? '');
}

function toDiagnostics(errors: ErrorObject[], source: PlaybookSource, root: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const diagnostic = toDiagnostic(error, source, root);
    if (!diagnostic) continue;
    const key = `${diagnostic.line}:${diagnostic.column}:${diagnostic.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    diagnostics.push(diagnostic);
  }
  return diagnostics;
}

function pathOf(pointer: string): JsonPath {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function describePath(path: JsonPath, root: string): string {
  return path.length === 0
    ? root
    : path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`))
        .join('')
        .slice(1)
        .replace(/^\[/, '[');
}

function toDiagnostic(error: ErrorObject, source: PlaybookSource, root: string): Diagnostic | undefined {
  const path = pathOf(error.instancePath);
  const at = (p: JsonPath, key = false) => source.locate(p, { key });
  const make = (code: DiagnosticCode, message: string, span = at(path), hint?: string): Diagnostic => diagnosticAt(source.file, span, code, message, hint);
  const where = describePath(path, root);
  // A step schema that is referenced recursively (bodies of steps) is compiled on its own: its paths start at `#/oneOf`.
  const inStepOneOf = /#\/\$defs\/step\/oneOf/.test(error.schemaPath) || (/^#\/oneOf(\/|$)/.test(error.schemaPath) && isStepOneOf(error));
  if (inStepOneOf) {
    if (error.keyword !== 'oneOf') return undefined;
    const step = valueAt(source.value, path) as Record<string, unknown>;
    const actions = STEP_ACTIONS.filter((a) => step && a in step);
    return actions.length === 0
      ? make('SCHEMA006', `step ${where} has no action`, at(path), `add one of: ${STEP_ACTIONS.join(', ')}`)
      : make(
          'SCHEMA006',
          `step ${where} has ${actions.length} actions (${actions.join(', ')}); a step does exactly one thing`,
          at(path),
          'split it into several steps',
        );
  }
  if (error.schemaPath.includes('/oneOf/')) return undefined;
  if (error.propertyName !== undefined) {
    return make(
      'SCHEMA009',
      `'${error.propertyName}' is not a valid name in ${where}`,
      at([...path, error.propertyName], true),
      'names are lower_snake_case: letters, digits and _, starting with a letter',
    );
  }
  switch (error.keyword) {
    case 'additionalProperties': {
      const extra = String(error.params.additionalProperty);
      const schema = error.parentSchema as { properties?: Record<string, unknown> } | undefined;
      const allowed = Object.keys(schema?.properties ?? {});
      const suggestion = closest(extra, allowed);
      return make(
        'SCHEMA001',
        `unknown property '${extra}' in ${where}`,
        at([...path, extra], true),
        suggestion ? `did you mean '${suggestion}'?` : `allowed here: ${allowed.join(', ')}`,
      );
    }
    case 'required':
      return make(
        'SCHEMA002',
        `${where} is missing the required property '${String(error.params.missingProperty)}'`,
        at(path, path.length > 0 && typeof path[path.length - 1] === 'string'),
      );
    case 'type':
      return make('SCHEMA003', `${where} must be ${article(String(error.params.type))}, not ${kindOf(valueAt(source.value, path))}`);
    case 'enum':
      return make('SCHEMA004', `${where} must be one of: ${(error.params.allowedValues as unknown[]).map(String).join(', ')}`);
    case 'pattern':
    case 'format': {
      const schema = error.parentSchema as { title?: string; description?: string } | undefined;
      return make(
        'SCHEMA005',
        `${where}: '${String(valueAt(source.value, path))}' is not a valid ${(schema?.title ?? 'value').toLowerCase()}`,
        at(path),
        schema?.description,
      );
    }
    case 'propertyNames':
      return undefined; // reported by the nested `pattern` error on the name itself
    case 'oneOf': {
      const schema = error.parentSchema as { title?: string; description?: string } | undefined;
      return make('SCHEMA007', `${where} is not a valid ${(schema?.title ?? 'value').toLowerCase()}`, at(path), schema?.description);
    }
    default:
      return make('SCHEMA008', `${where} ${error.message ?? 'is invalid'}`);
  }
}

function valueAt(value: unknown, path: JsonPath): unknown {
  let v = value;
  for (const p of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[p as string] : undefined;
  return v;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function article(type: string): string {
  const names: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    string: 'a string',
    integer: 'an integer',
    boolean: 'true or false',
    number: 'a number',
  };
  return type
    .split(',')
    .map((t) => names[t] ?? t)
    .join(' or ');
}
