/** What the bulk operation routes answer (`/v1/bulk-operations`): a dry run, a job with its progress, its report. */
import { exact, freeObject, integer, list, nullable, nullableString, oneOf, optional, recordOf, string, type Static } from './schema.js';
import { Actor } from './cases.js';

export const BulkOperation = oneOf('cancel', 'retry', 'escalate', 'migrate');
export const BulkCaseState = oneOf('pending', 'done', 'skipped', 'failed');

export const BulkDryRun = exact({
  operation: BulkOperation,
  count: integer,
  sample: list(exact({ caseId: string, playbook: string, version: integer, status: string, step: nullableString })),
  confirmation: string,
  limit: integer,
});
export type BulkDryRun = Static<typeof BulkDryRun>;

export const BulkJob = exact({
  id: string,
  operation: BulkOperation,
  selection: freeObject,
  params: exact({
    reason: string,
    queue: optional(string),
    severity: optional(oneOf('low', 'medium', 'high', 'critical')),
    /** migrate: the version the cases move to, and the step mapping (old id → new id). */
    toVersion: optional(integer),
    mapping: optional(recordOf(string)),
  }),
  ratePerSecond: integer,
  createdBy: Actor,
  status: oneOf('running', 'finished'),
  createdAt: string,
  finishedAt: nullableString,
  progress: exact({ total: integer, pending: integer, done: integer, skipped: integer, failed: integer }),
});
export type BulkJob = Static<typeof BulkJob>;

export const BulkJobList = exact({ jobs: list(BulkJob) });
export type BulkJobList = Static<typeof BulkJobList>;

/** A job's report: each case in the order it is reached, with what became of it and why. */
export const BulkReport = exact({
  cases: list(exact({ position: integer, caseId: string, state: BulkCaseState, detail: nullableString, at: nullableString })),
  /** The `after` of the next page; null on the last. */
  nextAfter: nullable(integer),
});
export type BulkReport = Static<typeof BulkReport>;
