/**
 * The archive of case histories: every closed run of a case's workflow (the last one, and each one that
 * continued as new) is copied from Temporal into Postgres with its digest, and the digest is written to
 * the hash-chained audit trail, so a case can be replayed and checked after Temporal's retention.
 */
import type { Client } from '@temporalio/client';
import { repeatEvery } from './repeat.js';
import proto from '@temporalio/proto';
import { createHash } from 'node:crypto';
import { RUN_CASE_WORKFLOW } from '../plan/case.js';
import { recordArchived } from '../store/audit-chain.js';
import {
  archivedRunIds,
  caseRunIdentity,
  closedCasesToArchive,
  insertArchivedRuns,
  lastArchivedCloseTime,
  markHistoryArchives,
  type ArchivedRun,
  type CaseRunIdentity,
  type RunStatus,
} from '../store/case-archive.js';
import type { Pool } from '../store/pool.js';
import { withTransaction } from '../store/transaction.js';
import { failedWith, GRPC, isWorkflowGone } from './live-view.js';

export type History = proto.temporal.api.history.v1.IHistory;
const { temporal } = proto;
const EventType = temporal.api.enums.v1.EventType;

/** How a run's last event says it closed; null while it runs. */
const CLOSING_EVENTS = new Map<number, RunStatus>([
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, 'completed'],
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW, 'continued-as-new'],
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, 'failed'],
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, 'terminated'],
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, 'timed-out'],
  [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, 'canceled'],
]);

export interface TemporalRun {
  runId: string;
  history: History;
  /** How it closed; null while it runs. */
  closed: RunStatus | null;
}

const timeOf = (event: proto.temporal.api.history.v1.IHistoryEvent | undefined) => {
  const seconds = Number(event?.eventTime?.seconds ?? 0);
  return new Date(seconds * 1000 + Math.floor((event?.eventTime?.nanos ?? 0) / 1e6)).toISOString();
};

/**
 * The runs of a workflow Temporal still has, first run first, followed back from the latest through
 * each run's `continuedExecutionRunId`; [] when Temporal has none (never started, or past retention).
 */
export async function runsInTemporal(client: Client, workflowId: string): Promise<TemporalRun[]> {
  const runs: TemporalRun[] = [];
  let runId: string | undefined;
  for (;;) {
    let history: History;
    try {
      history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    } catch (error) {
      if (isWorkflowGone(error)) break;
      throw error;
    }
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const last = history.events?.[history.events.length - 1];
    runs.unshift({ runId: runId ?? started?.originalExecutionRunId ?? '', history, closed: CLOSING_EVENTS.get(Number(last?.eventType)) ?? null });
    runId = started?.continuedExecutionRunId || undefined;
    if (!runId) break;
  }
  return runs;
}

const HistoryMessage = temporal.api.history.v1.History;

/**
 * A history as JSON text: protobuf's object form (field names as in the API, enums by name, 64-bit
 * integers as strings, bytes in base64), which reads back to exactly the same protobuf bytes. (The
 * SDK's `historyToJSON` fails on this install: its protobufjs is another copy than the proto package's.)
 */
export function historyToText(history: History): string {
  return JSON.stringify(HistoryMessage.toObject(HistoryMessage.fromObject(history), { longs: String, enums: String, bytes: String }));
}

export function historyFromText(text: string): History {
  return HistoryMessage.fromObject(JSON.parse(text));
}

/** The history as JSON text and its digest. */
function historyRecord(history: History): { json: string; sha256: Buffer; events: number; startedAt: string; closedAt: string } {
  const json = historyToText(history);
  const events = history.events ?? [];
  return {
    json,
    sha256: createHash('sha256').update(json, 'utf8').digest(),
    events: events.length,
    startedAt: timeOf(events[0]),
    closedAt: timeOf(events[events.length - 1]),
  };
}

export class HistoryArchiver {
  /** Set when the server cannot list runs by status (the time-skipping test server): only closed cases are archived. */
  private listingUnsupported = false;

  constructor(
    private readonly client: Client,
    private readonly pool: Pool,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /**
   * Archives every closed run of a case that Temporal has and the archive lacks; answers how many. A
   * closed case whose workflow has finished is then marked archived; one Temporal no longer has, lost.
   */
  async archiveCase(caseId: string): Promise<number> {
    const identity = await caseRunIdentity(this.pool, { caseId });
    if (!identity) throw new Error(`no case ${caseId}`);
    return this.archiveCases([identity]);
  }

  /** One pass: closed cases not archived yet, CASES_PER_WRITE at a time, and runs that continued as new since the last pass. */
  async archivePending(batch = 100): Promise<number> {
    const identities = await closedCasesToArchive(this.pool, batch);
    let archived = 0;
    for (let i = 0; i < identities.length; i += CASES_PER_WRITE) archived += await this.archiveCases(identities.slice(i, i + CASES_PER_WRITE));
    return archived + (await this.archiveContinuedRuns());
  }

  /** Fetches the cases' runs from Temporal (a few at a time) and writes what is new in one transaction. */
  private async archiveCases(identities: CaseRunIdentity[]): Promise<number> {
    const fetched = await mapLimited(identities, FETCHES_AT_ONCE, async (identity) => ({
      identity,
      runs: await runsInTemporal(this.client, identity.workflowId),
    }));
    const stored = await archivedRunIds(
      this.pool,
      fetched.flatMap(({ runs }) => runs.map((run) => run.runId)),
    );
    const toStore = fetched.flatMap(({ identity, runs }) =>
      runs.filter((run) => run.closed !== null && !stored.has(run.runId)).map((run) => archivedRun(identity, run, run.closed!)),
    );
    const marks: { caseId: string; state: 'archived' | 'lost' }[] = [];
    for (const { identity, runs } of fetched) {
      if (identity.status !== 'closed' || identity.historyArchive !== null) continue;
      const last = runs[runs.length - 1];
      if (last && last.closed !== null && last.closed !== 'continued-as-new') marks.push({ caseId: identity.caseId, state: 'archived' });
      else if (runs.length === 0) marks.push({ caseId: identity.caseId, state: 'lost' });
    }
    const archived = await this.store(toStore, marks);
    for (const { caseId } of marks.filter((mark) => mark.state === 'lost'))
      this.log(`casebook: case ${caseId} closed before its history could be archived, and Temporal no longer has it`);
    return archived;
  }

  /**
   * Archives the runs of still-open cases that continued as new (their retention counts from then),
   * listed by Temporal's visibility since a little before the newest archived close.
   */
  private async archiveContinuedRuns(): Promise<number> {
    if (this.listingUnsupported) return 0;
    const since = new Date(((await lastArchivedCloseTime(this.pool))?.getTime() ?? 0) - 24 * 3600_000);
    const query = `WorkflowType = '${RUN_CASE_WORKFLOW}' AND ExecutionStatus = 'ContinuedAsNew' AND CloseTime > '${since.toISOString()}'`;
    const candidates: { workflowId: string; runId: string }[] = [];
    try {
      for await (const run of this.client.workflow.list({ query })) candidates.push({ workflowId: run.workflowId, runId: run.runId });
    } catch (error) {
      if (!failedWith(error, GRPC.UNIMPLEMENTED)) throw error;
      this.listingUnsupported = true;
      return 0;
    }
    const stored = await archivedRunIds(
      this.pool,
      candidates.map((run) => run.runId),
    );
    const toStore: ArchivedRun[] = [];
    for (const { workflowId, runId } of candidates.filter((run) => !stored.has(run.runId))) {
      const identity = await caseRunIdentity(this.pool, { workflowId });
      if (!identity) continue;
      const history = await this.client.workflow.getHandle(workflowId, runId).fetchHistory();
      toStore.push(archivedRun(identity, { runId, history, closed: 'continued-as-new' }, 'continued-as-new'));
    }
    return this.store(toStore, []);
  }

  /** Runs passes every `intervalMs` until stopped; a failing pass is logged and retried at the next. */
  start(intervalMs: number): () => Promise<void> {
    return repeatEvery(intervalMs, async () => {
      await this.archivePending().catch((error: Error) => this.log(`casebook: archiving case histories failed (${error.message}); trying again`));
    });
  }

  /**
   * Writes the runs, their `archived` audit rows and the cases' archive marks in one transaction; the
   * audit rows last, so the audit chain's lock is held only for them and the commit.
   */
  private async store(runs: ArchivedRun[], marks: { caseId: string; state: 'archived' | 'lost' }[]): Promise<number> {
    if (runs.length === 0 && marks.length === 0) return 0;
    return withTransaction(this.pool, async (tx) => {
      const inserted = await insertArchivedRuns(tx, runs);
      await markHistoryArchives(tx, marks);
      const audited = runs
        .filter((run) => inserted.has(run.runId))
        .map((run) => ({ caseId: run.caseId, runId: run.runId, sha256Hex: run.sha256.toString('hex'), events: run.eventCount }));
      await recordArchived(tx, ...audited);
      return inserted.size;
    });
  }
}

/** Cases whose new runs are written in one transaction: bounds the histories held in memory at once. */
const CASES_PER_WRITE = 20;
/** Histories fetched from Temporal at once. */
const FETCHES_AT_ONCE = 4;

function archivedRun(identity: CaseRunIdentity, run: TemporalRun, runStatus: RunStatus): ArchivedRun {
  const record = historyRecord(run.history);
  return {
    runId: run.runId,
    caseId: identity.caseId,
    workflowId: identity.workflowId,
    planHash: identity.planHash,
    runStatus,
    startedAt: record.startedAt,
    closedAt: record.closedAt,
    eventCount: record.events,
    history: record.json,
    sha256: record.sha256,
  };
}

/** `fn` over the items, at most `limit` at a time; the results in the items' order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
