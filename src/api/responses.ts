/**
 * What every route answers, for its `schema.response`: the success bodies and the problems it may
 * send (application/problem+json, one entry per status, the catalogue's types for that status).
 * These schemas document and are checked by the fuzzer (test/api/fuzz.test.ts); they never rewrite
 * a body: `buildApi` serializes with JSON.stringify, so nothing is dropped.
 */
import { PROBLEM_BASE, PROBLEM_TYPES, type ProblemType } from './problems.js';

const string = { type: 'string' } as const;
const nullableString = { type: 'string', nullable: true } as const;
const integer = { type: 'integer' } as const;
const freeObject = { type: 'object', additionalProperties: true } as const;

/** An object whose properties are all listed and all present. */
const exact = (properties: Record<string, unknown>, optional: string[] = []) => ({
  type: 'object', additionalProperties: false, properties, required: Object.keys(properties).filter((k) => !optional.includes(k)),
});
/** An object with these properties present; others may be added (cases and their history grow with the workflow). */
const open = (properties: Record<string, unknown>) => ({ ...exact(properties), additionalProperties: true });
const list = (items: unknown) => ({ type: 'array', items });
const nullable = (schema: object) => ({ ...schema, nullable: true });

/** The building blocks of the response schemas, for the routes that declare their own bodies. */
export const SCHEMA = { string, nullableString, integer, freeObject, exact, open, list, nullable } as const;

/** Problems every route with a key may send, whatever else it declares. */
const EVERY_ROUTE: readonly ProblemType[] = ['invalid-request', 'rate-limited', 'internal', 'service-unavailable'];
const WITH_KEY: readonly ProblemType[] = ['unauthorized', 'forbidden'];
/** Problems of routes that read a request body. */
export const WITH_BODY: readonly ProblemType[] = ['malformed-json', 'body-too-large', 'unsupported-media-type'];

const problemSchema = (types: ProblemType[]) => ({
  type: 'object', required: ['type', 'title', 'status'], additionalProperties: true,
  properties: {
    type: { type: 'string', enum: types.map((t) => PROBLEM_BASE + t) },
    title: string, status: integer, detail: string, instance: string, requestId: string,
    errors: list(exact({ pointer: string, message: string })),
  },
});

/**
 * The problem responses of a route: the given types plus those every route may send (`public`:
 * without the key problems), grouped by status.
 */
export function problemResponses(types: readonly ProblemType[], { isPublic = false }: { isPublic?: boolean } = {}): Record<number, unknown> {
  const byStatus = new Map<number, ProblemType[]>();
  const all = new Set<ProblemType>([...EVERY_ROUTE, ...(isPublic ? [] : WITH_KEY), ...types]);
  for (const type of all) {
    for (const status of PROBLEM_TYPES[type].status) byStatus.set(status, [...(byStatus.get(status) ?? []), type]);
  }
  return Object.fromEntries([...byStatus].map(([status, ts]) => [status, {
    description: ts.map((t) => `\`${t}\``).join(', '),
    content: { 'application/problem+json': { schema: problemSchema(ts) } },
  }]));
}

/** A route's `schema.response`: its success bodies by status, and its problems. */
export function responses(success: Record<number, unknown>, problems: readonly ProblemType[], options?: { isPublic?: boolean }): Record<number, unknown> {
  return { ...problemResponses(problems, options), ...success };
}

const DIAGNOSTIC = exact({
  severity: { type: 'string', enum: ['error', 'warning'] }, code: string, message: string,
  line: integer, column: integer, endLine: integer, endColumn: integer, hint: string,
}, ['hint']);
const PLAYBOOK_VERSION = exact({ name: string, version: integer, hash: string, publishedAt: string, publishedBy: nullableString });

export const BODIES = {
  health: exact({ status: { type: 'string', enum: ['ok'] } }),
  ready: exact({ status: { type: 'string', enum: ['ready'] }, database: { type: 'boolean' }, temporal: { type: 'boolean' } }),
  validation: exact({ valid: { type: 'boolean' }, diagnostics: list(DIAGNOSTIC) }),
  published: exact({ name: string, version: integer, hash: string, created: { type: 'boolean' }, diagnostics: list(DIAGNOSTIC) }),
  playbooks: exact({ playbooks: list(exact({ name: string, version: integer, hash: string, publishedAt: string, publishedBy: nullableString, versions: integer })) }),
  versions: exact({ name: string, versions: list(PLAYBOOK_VERSION) }),
  version: exact({ name: string, version: integer, hash: string, publishedAt: string, publishedBy: nullableString, yaml: string, plan: freeObject, diagnostics: list(DIAGNOSTIC) }),
  graph: exact({
    name: string, version: integer, start: string,
    nodes: list(exact({ id: string, kind: string, shape: { type: 'string', enum: ['box', 'decision', 'wait', 'end'] }, label: string, line: { type: 'integer', nullable: true } })),
    edges: list(exact({ from: string, to: string, label: nullableString })),
  }),
  opened: exact({ caseId: string, playbook: string, version: integer, status: string, created: { type: 'boolean' } }),
  cases: exact({
    cases: list(open({
      caseId: string, playbook: string, version: integer, status: string, step: nullableString, orderId: nullableString,
      outcome: nullableString, openedAt: string, updatedAt: string,
    })),
    nextCursor: nullableString,
  }),
  case: open({
    caseId: string, playbook: string, version: integer, status: string, step: nullableString, waitingFor: list(string),
    deadlines: list(open({ kind: string, step: string, at: string })), data: freeObject,
    outcome: { ...open({ outcome: string, reason: string }), nullable: true },
  }),
  history: open({
    caseId: string, workflowId: string, playbook: open({ name: string, version: integer, hash: string }), status: string,
    outcome: { ...open({ outcome: string, reason: string }), nullable: true },
    steps: list(freeObject), events: list(freeObject), refunds: list(freeObject), escalations: list(freeObject), messages: list(freeObject),
  }),
  /** Where a delivered event went: accepted, duplicate, or kept unrouted in the inbox. */
  delivery: exact({ status: { type: 'string', enum: ['accepted', 'duplicate', 'unrouted'] }, caseId: string, inboxId: integer, reason: string }, ['caseId', 'inboxId', 'reason']),
  ledger: open({
    orderId: string, currency: string, paid: integer, advanced: integer, canOwe: integer, givenBack: integer,
    kinds: list(open({ kind: string, cap: integer, policyCap: nullable(integer), refunded: integer, requested: integer })),
    advances: list(exact({ kind: string, amount: integer, evidence: string, recordedBy: string, recordedAt: string })),
    refunds: list(open({
      caseId: string, stepId: string, covers: string, amount: integer, reason: string, status: string,
      deadlineAt: nullableString, answeredAt: nullableString, key: string,
    })),
  }),
  inbox: exact({
    events: list(open({
      id: integer, source: string, eventId: string, type: string, payload: freeObject, receivedAt: string, status: string,
      routedCaseId: nullableString, reason: nullableString, updatedAt: string,
    })),
    nextCursor: nullableString,
  }),
  activity: exact({
    tasks: list(exact({
      stepId: string, role: string, title: string, outcomes: list(string), dueAt: string, status: string, outcome: nullableString,
      createdAt: string, completedAt: nullableString,
    })),
    remarks: list(exact({ stepId: string, orderId: nullableString, remark: nullableString, flag: nullableString, at: string })),
  }),
  me: exact({
    keyId: string, name: string, role: string,
    settings: exact({ timeZone: string, temporalUiUrl: nullableString, namespace: string }),
  }),
  keys: exact({ keys: list(exact({ id: string, name: string, role: string, createdAt: string, revokedAt: nullableString, lastUsedAt: nullableString })) }),
  createdKey: exact({ id: string, name: string, role: string, createdAt: string, revokedAt: nullableString, lastUsedAt: nullableString, key: string }),
  repaired: exact({ status: string }),
  replay: open({
    kind: { type: 'string', enum: ['replayed'] }, caseId: string, workflowId: string, planHash: string, deterministic: { type: 'boolean' },
    source: { type: 'string', enum: ['temporal', 'archive', 'temporal and archive'] },
    divergence: { ...open({ runId: string, eventId: { type: 'integer', nullable: true }, recorded: nullableString, now: string, step: nullableString, visit: { type: 'integer', nullable: true } }), nullable: true },
    runs: list(open({ runId: string, source: string, events: integer, deterministic: { type: 'boolean' }, ms: integer })),
    timeline: list(open({ seq: integer, record: freeObject })),
    auditTrail: open({ rows: integer, matches: { type: 'boolean' }, mismatch: { ...open({ seq: integer, step: nullableString, problem: string }), nullable: true } }),
  }),
  jsonLines: {
    description: 'JSON Lines: one JSON object per line (docs/auditing.md, "Exporting cases")',
    content: { 'application/x-ndjson': { schema: { type: 'string' } } },
  },
  noContent: { type: 'null', description: 'No content' },
} as const;
