/**
 * What every route answers, for its `schema.response`: the success bodies and the problems it may
 * send (application/problem+json, one entry per status, the catalogue's types for that status).
 * These schemas document and are checked by the fuzzer (test/api/fuzz.test.ts); they never rewrite
 * a body: `buildApi` serializes with JSON.stringify, so nothing is dropped.
 */
import { Replay } from '../api-contract/audit.js';
import { CaseActivity, CaseHistory, CaseList, CaseView, Cancelled, Delivery, DeliveryAttempt, OpenedCase, Repaired } from '../api-contract/cases.js';
import { InboxPage } from '../api-contract/inbox.js';
import { Ledger } from '../api-contract/orders.js';
import {
  Approved,
  FlowGraph,
  MadeCurrent,
  PlaybookSettings,
  PublishedPlaybooks,
  PlaybookVersionDetail,
  PlaybookVersions,
  Published,
  Validation,
} from '../api-contract/playbooks.js';
import { Problem } from '../api-contract/problems.js';
import { ApiKeyList, CreatedApiKey, Health, Me, Readiness } from '../api-contract/service.js';
import { PROBLEM_BASE, PROBLEM_TYPES, type ProblemType } from './problems.js';

/** Problems every route with a key may send, whatever else it declares. */
const EVERY_ROUTE: readonly ProblemType[] = ['invalid-request', 'rate-limited', 'internal', 'service-unavailable'];
const WITH_KEY: readonly ProblemType[] = ['unauthorized', 'forbidden'];
/** Problems of routes that read a request body. */
export const WITH_BODY: readonly ProblemType[] = ['malformed-json', 'body-too-large', 'unsupported-media-type'];

/** A problem document whose `type` is one of these. */
const problemSchema = (types: ProblemType[]) => ({
  ...Problem,
  properties: { ...Problem.properties, type: { type: 'string', enum: types.map((t) => PROBLEM_BASE + t) } },
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
  return Object.fromEntries(
    [...byStatus].map(([status, ts]) => [
      status,
      {
        description: ts.map((t) => `\`${t}\``).join(', '),
        content: { 'application/problem+json': { schema: problemSchema(ts) } },
      },
    ]),
  );
}

/** A route's `schema.response`: its success bodies by status, and its problems. */
export function responses(success: Record<number, unknown>, problems: readonly ProblemType[], options?: { isPublic?: boolean }): Record<number, unknown> {
  return { ...problemResponses(problems, options), ...success };
}

export const BODIES = {
  health: Health,
  ready: Readiness,
  validation: Validation,
  published: Published,
  madeCurrent: MadeCurrent,
  approved: Approved,
  playbookSettings: PlaybookSettings,
  playbooks: PublishedPlaybooks,
  versions: PlaybookVersions,
  version: PlaybookVersionDetail,
  graph: FlowGraph,
  opened: OpenedCase,
  cases: CaseList,
  case: CaseView,
  history: CaseHistory,
  delivery: Delivery,
  ledger: Ledger,
  inbox: InboxPage,
  activity: CaseActivity,
  deliveryAttempt: DeliveryAttempt,
  me: Me,
  keys: ApiKeyList,
  createdKey: CreatedApiKey,
  repaired: Repaired,
  cancelled: Cancelled,
  replay: Replay,
  jsonLines: {
    description: 'JSON Lines: one JSON object per line (docs/auditing.md, "Exporting cases")',
    content: { 'application/x-ndjson': { schema: { type: 'string' } } },
  },
  noContent: { type: 'null', description: 'No content' },
} as const;
