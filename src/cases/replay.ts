/**
 * Replaying a case for an auditor: each run of its workflow, read from Temporal while Temporal has it
 * and from the archive afterwards, re-executed against the current workflow code and the plan pinned in
 * its history. The answer says whether the code still makes the same decisions, where it first does
 * not, and the timeline the replay re-derived.
 */
import type { Client } from '@temporalio/client';
import { isDeepStrictEqual } from 'node:util';
import type { ProgressReport } from '../plan/case.js';
import { archivedRuns, caseRunIdentity } from '../store/case-archive.js';
import { auditRowsOf } from '../store/case-export.js';
import type { Pool } from '../store/pool.js';
import { historyFromText, runsInTemporal, type History } from './archive.js';

export type TimelineEntry = ProgressReport['audit'][number];

/** Where the code, replaying a history, first did something else than what the history records. */
export interface Divergence {
  /** The history event the code disagreed with, when the replayer names it. */
  eventId: number | null;
  /** What that event records, e.g. `ActivityTaskScheduled sendMessage (key case-1/notify/1)`. */
  recorded: string | null;
  /** What the code did instead, in the replayer's words. */
  now: string;
  /** The step the code was running, and its visit. */
  step: string | null;
  visit: number | null;
}

export interface RunReplay {
  deterministic: boolean;
  divergence?: Divergence;
  /** What the run wrote to its audit trail, as the replay re-derived it. */
  timeline: TimelineEntry[];
  ms: number;
}

/** Re-executes one run's history against the current workflow code (src/stack/replayer.ts). */
export interface HistoryReplayer {
  replay(workflowId: string, history: History): Promise<RunReplay>;
}

export type HistorySource = 'temporal' | 'archive';

export interface ReplayedRun extends Omit<RunReplay, 'timeline'> {
  runId: string;
  source: HistorySource;
  events: number;
}

/**
 * The audit trail's workflow rows against the timeline the replay derives: each row must be re-derived
 * with the same step, kind and time, and every detail key it records with the same value (the code may
 * record more keys today: evidence keys are only ever added).
 */
export interface AuditTrailCheck {
  /** The workflow rows of the trail (those with a seq). */
  rows: number;
  matches: boolean;
  /** The first row that differs, or that one side lacks. */
  mismatch: { seq: number; step: string | null; problem: string } | null;
}

export type CaseReplay =
  | { kind: 'unknown-case'; message: string }
  | { kind: 'unavailable'; message: string }
  | {
      kind: 'replayed';
      caseId: string;
      workflowId: string;
      planHash: string;
      deterministic: boolean;
      /** Where the histories came from: every run from one place, or some from each. */
      source: HistorySource | 'temporal and archive';
      /** The first divergence, in the run it happened in. */
      divergence: (Divergence & { runId: string }) | null;
      runs: ReplayedRun[];
      timeline: TimelineEntry[];
      auditTrail: AuditTrailCheck;
    };

/** How long Temporal gets to answer before the archive alone is used. */
const TEMPORAL_DEADLINE_MS = 3_000;

interface RunHistory {
  runId: string;
  source: HistorySource;
  history: History;
}

/** `client` undefined: Temporal is not reachable at all (the CLI could not connect). */
export async function replayCase(pool: Pool, client: Client | undefined, replayer: HistoryReplayer, caseId: string): Promise<CaseReplay> {
  const identity = await caseRunIdentity(pool, { caseId });
  if (!identity) return { kind: 'unknown-case', message: `no case ${caseId}` };
  const { runs, temporalProblem } = await runHistories(pool, client, identity);
  const archiveComplete = identity.historyArchive === 'archived';
  if (runs.length === 0 || (temporalProblem && !archiveComplete)) {
    const why = temporalProblem
      ? `Temporal is unreachable (${temporalProblem})`
      : identity.historyArchive === 'lost'
        ? 'Temporal dropped its history before it was archived'
        : 'Temporal has no history of it';
    const archive = runs.length === 0 ? 'nothing is archived for it' : 'its archive is not complete (the case is not closed and archived)';
    return { kind: 'unavailable', message: `case ${caseId} cannot be replayed: ${why}, and ${archive}` };
  }
  const replayed: ReplayedRun[] = [];
  const timeline = new Map<number, TimelineEntry>();
  let divergence: (Divergence & { runId: string }) | null = null;
  for (const run of runs) {
    const result = await replayer.replay(identity.workflowId, run.history);
    for (const entry of result.timeline) timeline.set(entry.seq, entry);
    const { timeline: _, ...outcome } = result;
    replayed.push({ runId: run.runId, source: run.source, events: run.history.events?.length ?? 0, ...outcome });
    if (result.divergence && !divergence) divergence = { runId: run.runId, ...result.divergence };
  }
  const sources = new Set(runs.map((run) => run.source));
  const derived = [...timeline.values()].sort((a, b) => a.seq - b.seq);
  const deterministic = replayed.every((run) => run.deterministic);
  return {
    kind: 'replayed',
    caseId,
    workflowId: identity.workflowId,
    planHash: identity.planHash,
    deterministic,
    source: sources.size === 2 ? 'temporal and archive' : runs[0]!.source,
    divergence,
    runs: replayed,
    timeline: derived,
    auditTrail: checkAuditTrail(
      (await auditRowsOf(pool, caseId)).filter((row) => row.seq !== null && row.voidedBy === null),
      derived,
      deterministic,
    ),
  };
}

/** A diverged replay stops early: only the rows it got to are compared then. */
function checkAuditTrail(rows: Awaited<ReturnType<typeof auditRowsOf>>, derived: TimelineEntry[], complete: boolean): AuditTrailCheck {
  // Through JSON: what the workflow's sandbox made has another realm's prototypes, and compares by value only this way.
  const bySeq = new Map(derived.map((entry) => [entry.seq, JSON.parse(JSON.stringify(entry.record)) as TimelineEntry['record']]));
  const mismatch = (seq: number, step: string | null, problem: string) => ({ rows: rows.length, matches: false, mismatch: { seq, step, problem } });
  for (const row of rows) {
    const record = bySeq.get(row.seq!);
    if (!record) {
      if (!complete) break;
      return mismatch(row.seq!, row.step, 'the trail has this row; the replay does not derive it');
    }
    if (record.step !== row.step || record.kind !== row.kind)
      return mismatch(row.seq!, row.step, `the trail records ${row.kind} at step ${row.step}; the replay derives ${record.kind} at step ${record.step}`);
    if (Date.parse(record.at) !== Date.parse(row.at)) return mismatch(row.seq!, row.step, `the trail records it at ${row.at}; the replay derives ${record.at}`);
    for (const [key, value] of Object.entries(row.detail)) {
      if (!isDeepStrictEqual(value, record.detail?.[key])) {
        return mismatch(
          row.seq!,
          row.step,
          `the trail records ${key} = ${JSON.stringify(value)}; the replay derives ${JSON.stringify(record.detail?.[key] ?? null)}`,
        );
      }
    }
  }
  const recorded = new Set(rows.map((row) => row.seq));
  const unrecorded = derived.find((entry) => !recorded.has(entry.seq));
  if (unrecorded) return mismatch(unrecorded.seq, unrecorded.record.step, 'the replay derives this row; the trail does not have it');
  return { rows: rows.length, matches: true, mismatch: null };
}

/** Every run, first first: Temporal's copy while it has the run, the archive's otherwise. */
async function runHistories(pool: Pool, client: Client | undefined, identity: { caseId: string; workflowId: string }) {
  const archived = await archivedRuns(pool, identity.caseId);
  let inTemporal: RunHistory[] = [];
  let temporalProblem: string | undefined = client ? undefined : 'no connection';
  if (client) {
    try {
      const runs = await client.connection.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => runsInTemporal(client, identity.workflowId));
      inTemporal = runs.map((run) => ({ runId: run.runId, source: 'temporal', history: run.history }));
    } catch (error) {
      temporalProblem = (error as Error).message.split('\n')[0];
    }
  }
  const known = new Set(inTemporal.map((run) => run.runId));
  // Runs Temporal dropped come before the ones it still has: retention counts from each run's close.
  const fromArchive: RunHistory[] = archived
    .filter((run) => !known.has(run.runId))
    .map((run) => ({ runId: run.runId, source: 'archive', history: historyFromText(run.history) }));
  return { runs: [...fromArchive, ...inTemporal], temporalProblem };
}
