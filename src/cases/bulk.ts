/**
 * Operations on many cases at once (issue 25 point 4): select cases with the case list's filters, see
 * how many and a sample (a dry run, which answers a confirmation bound to the selection and the
 * operation), then run the operation on each, at a bounded rate, in the background. The job and each
 * case's result are kept (migration 323), so a restart resumes the job where it stopped; the
 * operations are the single-case ones (cancel, repair's retry, a migration to another playbook version) and an escalation, each idempotent per
 * case, so a second run skips what the first did. docs/decisions/0016-bulk-operations-without-temporal-batch.md
 * says why this is not Temporal's batch operations.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Actor } from '../plan/case.js';
import { CANCELLED_OUTCOME } from '../plan/cancellation.js';
import {
  bulkJobCases,
  escalationKeyTaken,
  findBulkJob,
  finishBulkJob,
  insertBulkJob,
  listBulkJobs,
  recordBulkCase,
  runningBulkJobs,
  type BulkCaseState,
  type BulkJob,
  type BulkOperation,
  type BulkParams,
} from '../store/bulk-jobs.js';
import { selectCases, type CaseSelection } from '../store/case-list.js';
import { findCase } from '../store/cases.js';
import { openBulkEscalation } from '../store/escalations.js';
import type { Pool } from '../store/pool.js';
import { migrateCase, previewMigration, type MigrationPreviewResult, type MigrationRequest } from './migration.js';
import type { CaseService, FailedStep } from './service.js';
import type { ClaimLease } from './leases.js';

export type { BulkCaseResult, BulkCaseState, BulkJob, BulkOperation, BulkParams } from '../store/bulk-jobs.js';
export type { CaseSelection } from '../store/case-list.js';

/** The most cases one job takes: a larger selection is refused (narrow it, or run it in parts). */
export const MAX_BULK_CASES = 10_000;
/** Cases per second: the default, and the most a job may ask for (each case is one Temporal update or one insert). */
export const DEFAULT_BULK_RATE = 10;
export const MAX_BULK_RATE = 50;
/** How many cases a dry run shows. */
export const BULK_SAMPLE_SIZE = 10;
/** How long a job whose database or Temporal call failed waits before it tries again. */
const RETRY_AFTER_MS = 5_000;

export interface BulkRequest {
  operation: BulkOperation;
  selection: CaseSelection;
  params: BulkParams;
}

export interface BulkSampleCase {
  caseId: string;
  playbook: string;
  version: number;
  status: string;
  step: string | null;
}

export interface DryRun {
  operation: BulkOperation;
  count: number;
  sample: BulkSampleCase[];
  /** What running it must send back: bound to the operation, its parameters and the selection. */
  confirmation: string;
  /** The most cases one job takes; a count above it cannot be run. */
  limit: number;
}

export type SubmitResult =
  | { kind: 'started' | 'existing'; job: BulkJob }
  | { kind: 'unconfirmed'; expected: string }
  | { kind: 'too-many'; count: number; limit: number }
  | { kind: 'key-reused'; jobId: string };

/**
 * The confirmation of a request: a digest of its operation, parameters and selection (keys sorted),
 * so a dry run's confirmation runs exactly what the dry run counted, and nothing else.
 */
export function confirmationOf(request: Pick<BulkRequest, 'operation' | 'params' | 'selection'>): string {
  // A migration's preview is asked without a reason: what it binds is the version and the mapping.
  const params = request.operation === 'migrate' ? { toVersion: request.params.toVersion, mapping: sorted(request.params.mapping ?? {}) } : request.params;
  const canonical = JSON.stringify([request.operation, sorted(params), sorted(request.selection)]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

const sorted = (object: object): [string, unknown][] =>
  Object.entries(object)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : 1));

/** A value as JSON with every object's keys in order: the same parameters however they were written (or stored, as jsonb reorders keys). */
const canonical = (value: unknown): string =>
  value && typeof value === 'object' && !Array.isArray(value)
    ? `{${sorted(value)
        .map(([key, inner]) => `${JSON.stringify(key)}:${canonical(inner)}`)
        .join(',')}}`
    : JSON.stringify(value);

export class BulkOperations {
  private readonly running = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();

  /** `claim`: a job runs only in the process that holds its lease (src/cases/leases.ts); unset, wherever it is started. */
  constructor(
    private readonly pool: Pool,
    private readonly cases: CaseService,
    private readonly claim?: ClaimLease,
  ) {}

  async dryRun(request: BulkRequest): Promise<DryRun> {
    const { count, caseIds } = await selectCases(this.pool, request.selection, BULK_SAMPLE_SIZE);
    const sample: BulkSampleCase[] = [];
    for (const caseId of caseIds) {
      const stored = await findCase(this.pool, caseId);
      if (stored) sample.push({ caseId, playbook: stored.playbook, version: stored.version, status: stored.status, step: stored.step });
    }
    return { operation: request.operation, count, sample, confirmation: confirmationOf(request), limit: MAX_BULK_CASES };
  }

  /**
   * Makes the job with the cases its selection matches now, and starts it; with an idempotency key
   * already used by the same key holder, answers that job (nothing is selected again).
   */
  async submit(request: BulkRequest & { confirmation: string; ratePerSecond: number; by: Actor; idempotencyKey?: string }): Promise<SubmitResult> {
    const expected = confirmationOf(request);
    if (request.confirmation !== expected) return { kind: 'unconfirmed', expected };
    const { count, caseIds } = await selectCases(this.pool, request.selection, MAX_BULK_CASES + 1);
    if (count > MAX_BULK_CASES) return { kind: 'too-many', count, limit: MAX_BULK_CASES };
    const { confirmation: _, ...job } = request;
    const { id, created } = await insertBulkJob(this.pool, job, caseIds);
    const made = (await findBulkJob(this.pool, id))!;
    if (!created && canonical(made.params) !== canonical(request.params)) return { kind: 'key-reused', jobId: id };
    if (!created && confirmationOf(made) !== expected) return { kind: 'key-reused', jobId: id };
    this.start(id);
    return { kind: created ? 'started' : 'existing', job: made };
  }

  /** What moving the open cases of `playbook` to another version would do (src/cases/migration.ts), for `casebook migrate`. */
  previewMigration(playbook: string, request: MigrationRequest & { limit: number }): Promise<MigrationPreviewResult> {
    return previewMigration(this.pool, this.cases, playbook, request);
  }

  job(id: string): Promise<BulkJob | undefined> {
    return findBulkJob(this.pool, id);
  }

  /** The newest jobs first. */
  async jobs(limit: number): Promise<BulkJob[]> {
    const ids = await listBulkJobs(this.pool, limit);
    return (await Promise.all(ids.map((id) => findBulkJob(this.pool, id)))).filter((job) => job !== undefined);
  }

  /** The job's cases in order, after the position `after`; `state` narrows them. */
  report(id: string, options: { after: number; limit: number; state?: BulkCaseState }) {
    return bulkJobCases(this.pool, id, options);
  }

  /** Starts the jobs left running (by a process that stopped or died), but those another process runs now (it holds their leases). */
  async resume(): Promise<void> {
    for (const id of await runningBulkJobs(this.pool)) this.start(id);
  }

  /** Resolves when the job has run its cases (or was stopped by `close`); at once when it is not running here. */
  async wait(id: string): Promise<void> {
    await this.running.get(id);
  }

  /** Stops every job after the case it is at; they stay `running` in the database and resume at the next start. */
  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.running.values());
  }

  private start(id: string): void {
    if (this.running.has(id) || this.stopping.signal.aborted) return;
    this.running.set(
      id,
      this.claimAndRun(id).finally(() => this.running.delete(id)),
    );
  }

  /** Runs the job while this process holds its lease; stops after its current case when the lease is lost. */
  private async claimAndRun(id: string): Promise<void> {
    if (!this.claim) return this.run(id, this.stopping.signal);
    const claim = await this.claim(`bulk-job:${id}`);
    if (!claim) return;
    try {
      await this.run(id, AbortSignal.any([this.stopping.signal, claim.signal]));
    } finally {
      await claim.release();
    }
  }

  /** Runs the job's pending cases in order, one at a time, no faster than its rate. */
  private async run(id: string, signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        const job = (await findBulkJob(this.pool, id))!;
        const pending = await bulkJobCases(this.pool, id, { state: 'pending', limit: 100 });
        if (pending.length === 0) return await finishBulkJob(this.pool, id);
        const interval = 1_000 / job.ratePerSecond;
        for (const { caseId } of pending) {
          if (signal.aborted) return;
          const began = Date.now();
          const [state, detail] = await this.apply(job, caseId);
          await recordBulkCase(this.pool, id, caseId, state, detail);
          await pause(interval - (Date.now() - began), signal);
        }
      } catch {
        // The database or Temporal did not answer: the case stays pending and is tried again.
        await pause(RETRY_AFTER_MS, signal);
      }
    }
  }

  /** Several steps of the case failed at once (branches, loop items): each is retried, as its own repair. */
  private async retryEach(
    caseId: string,
    failed: FailedStep[],
    reason: string,
    by: Actor,
    unclear: string,
  ): Promise<[Exclude<BulkCaseState, 'pending'>, string]> {
    const retried: string[] = [];
    for (const { step, iteration } of failed) {
      const result = await this.cases.repair(caseId, { action: 'retry', reason, by, step, ...(iteration !== undefined ? { iteration } : {}) });
      if (result.kind === 'repaired') retried.push(iteration !== undefined ? `${step} (${iteration})` : step);
    }
    return retried.length > 0 ? ['done', `retried ${retried.join(', ')}`] : ['skipped', unclear];
  }

  /** What became of one case: done, skipped (and why: nothing to do) or failed (and why). */
  private async apply(job: BulkJob, caseId: string): Promise<[Exclude<BulkCaseState, 'pending'>, string]> {
    const stored = await findCase(this.pool, caseId);
    if (!stored) return ['failed', 'no such case'];
    const by = job.createdBy;
    const { reason } = job.params;
    switch (job.operation) {
      case 'cancel': {
        if (stored.status === 'closed') {
          const outcome = stored.outcome?.outcome;
          return ['skipped', outcome === CANCELLED_OUTCOME ? 'already cancelled' : `closed (${outcome ?? 'ended'})`];
        }
        const result = await this.cases.cancel(caseId, { by, reason });
        if (result.kind === 'accepted') return ['done', 'cancelled'];
        if (result.kind === 'duplicate') return ['skipped', 'already being cancelled'];
        return result.kind === 'closed' ? ['skipped', result.message] : ['failed', 'no such case'];
      }
      case 'retry': {
        if (stored.status !== 'failed') return ['skipped', `not failed (${stored.status})`];
        const result = await this.cases.repair(caseId, { action: 'retry', reason, by });
        if (result.kind === 'repaired') return ['done', `retried ${result.step}: ${result.status}`];
        if (result.kind === 'target-unclear') return this.retryEach(caseId, result.failed, reason, by, result.message);
        return result.kind === 'not-failed' ? ['skipped', result.message] : ['failed', 'no such case'];
      }
      case 'escalate': {
        if (stored.status === 'closed') return ['skipped', `closed (${stored.outcome?.outcome ?? 'ended'})`];
        const queue = job.params.queue!;
        // One escalation per case, queue and reason, whichever job asks: a second run finds it.
        const key = `bulk/${caseId}/${createHash('sha256')
          .update(JSON.stringify([queue, reason]))
          .digest('base64url')
          .slice(0, 16)}`;
        if (await escalationKeyTaken(this.pool, key)) return ['skipped', `already escalated to ${queue} for this reason`];
        const escalationId = await openBulkEscalation(
          this.pool,
          { key, caseId, stepId: stored.step ?? 'bulk', queue, severity: job.params.severity ?? 'medium', reason, note: `bulk job ${job.id} by ${by.name}` },
          { id: job.id, by },
        );
        return ['done', `escalation ${escalationId}`];
      }
      case 'migrate': {
        const { toVersion, mapping = {} } = job.params;
        const moved = await migrateCase(this.pool, this.cases, caseId, {
          ...(job.selection.playbook ? { playbook: job.selection.playbook } : {}),
          toVersion: toVersion!,
          mapping,
          by,
          reason,
        });
        return [moved.kind === 'migrated' ? 'done' : moved.kind, moved.detail];
      }
    }
  }
}

/** Waits `ms` (nothing when not positive), or until the signal aborts. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return;
  await sleep(ms, undefined, { signal }).catch(() => {});
}
