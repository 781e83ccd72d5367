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
  insertArchivedRun,
  lastArchivedCloseTime,
  markHistoryArchive,
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
    const runs = await runsInTemporal(this.client, identity.workflowId);
    const stored = await archivedRunIds(
      this.pool,
      runs.map((run) => run.runId),
    );
    let archived = 0;
    for (const run of runs) {
      if (run.closed && !stored.has(run.runId) && (await this.store(identity, run, run.closed))) archived += 1;
    }
    const finished = runs.length > 0 && runs[runs.length - 1]!.closed !== null && runs[runs.length - 1]!.closed !== 'continued-as-new';
    if (identity.status === 'closed' && identity.historyArchive === null) {
      if (finished) await markHistoryArchive(this.pool, caseId, 'archived');
      else if (runs.length === 0) {
        await markHistoryArchive(this.pool, caseId, 'lost');
        this.log(`casebook: case ${caseId} closed before its history could be archived, and Temporal no longer has it`);
      }
    }
    return archived;
  }

  /** One pass: closed cases not archived yet, and runs that continued as new since the last pass. */
  async archivePending(batch = 100): Promise<number> {
    let archived = 0;
    for (const caseId of await closedCasesToArchive(this.pool, batch)) archived += await this.archiveCase(caseId);
    return archived + (await this.archiveContinuedRuns());
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
    let archived = 0;
    for (const { workflowId, runId } of candidates.filter((run) => !stored.has(run.runId))) {
      const identity = await caseRunIdentity(this.pool, { workflowId });
      if (!identity) continue;
      const history = await this.client.workflow.getHandle(workflowId, runId).fetchHistory();
      if (await this.store(identity, { runId, history, closed: 'continued-as-new' }, 'continued-as-new')) archived += 1;
    }
    return archived;
  }

  /** Runs passes every `intervalMs` until stopped; a failing pass is logged and retried at the next. */
  start(intervalMs: number): () => Promise<void> {
    return repeatEvery(intervalMs, async () => {
      await this.archivePending().catch((error: Error) => this.log(`casebook: archiving case histories failed (${error.message}); trying again`));
    });
  }

  private async store(identity: { caseId: string; workflowId: string; planHash: string }, run: TemporalRun, runStatus: RunStatus): Promise<boolean> {
    const record = historyRecord(run.history);
    return withTransaction(this.pool, async (tx) => {
      const inserted = await insertArchivedRun(tx, {
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
      });
      if (inserted) await recordArchived(tx, { caseId: identity.caseId, runId: run.runId, sha256Hex: record.sha256.toString('hex'), events: record.events });
      return inserted;
    });
  }
}
