/** What the audit routes answer: a case replayed against its recorded history. */
import { boolean, freeObject, integer, list, nullable, nullableString, oneOf, open, string, type Static } from './schema.js';

export const Replay = open({
  kind: oneOf('replayed'),
  caseId: string,
  workflowId: string,
  planHash: string,
  deterministic: boolean,
  source: oneOf('temporal', 'archive', 'temporal and archive'),
  divergence: nullable(
    open({ runId: string, eventId: nullable(integer), recorded: nullableString, now: string, step: nullableString, visit: nullable(integer) }),
  ),
  runs: list(open({ runId: string, source: string, events: integer, deterministic: boolean, ms: integer })),
  timeline: list(open({ seq: integer, record: freeObject })),
  auditTrail: open({ rows: integer, matches: boolean, mismatch: nullable(open({ seq: integer, step: nullableString, problem: string })) }),
});
export type Replay = Static<typeof Replay>;
