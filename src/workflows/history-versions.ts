/**
 * Every change of the case's history shape that the workflow code still replays, in one table, asked
 * one way: `versions.has(change)` (docs/determinism.md; decision record 0011). A change says how far it
 * reaches, and that alone decides how it is recorded:
 * - `since: n`, new cases only: the case's input carries the shape it started with (`historyShape`,
 *   HISTORY_SHAPE in src/plan/case.ts), at no event; cases already running keep theirs for life;
 * - `running: true`, cases already running too, at the next point they pass it: a `patched()` marker,
 *   asked only on the path that changes, so other histories are untouched.
 */
import { patched } from '@temporalio/workflow';
import type { CaseInput } from '../plan/case.js';

const HISTORY_CHANGES = {
  /** Progress reports are local activities, one marker each, and none at the start. */
  'progress-as-local-activities': { since: 2 },
  /** The closing upsert also sets CaseOutcome and CaseReason. */
  'outcome-indexed': { since: 3 },
  /** Quick side effects are local activities; a refund carries its progress report and deadline. */
  'effects-in-task': { since: 4 },
  /**
   * A message, order note or escalation carries the progress report of the wait or end the case
   * reaches next, through branches only (run-case.ts `rideAhead`), instead of a marker of its own; the
   * records up to there carry the effect's time, and such a wait counts from it.
   */
  'reports-ride-effects': { since: 5 },
  /** The result is the outcome and reason alone: the step records are in the audit trail, not again in the completion event. */
  'lean-result': { since: 6 },
  /**
   * A late refund keeps going (it used to be cancelled at its deadline, and finance paying by hand
   * could pay twice).
   */
  'late-refunds-keep-going': { running: true },
  /**
   * A reminder due in quiet hours (or, with a calendar, outside working hours) to the buyer by SMS,
   * e-mail or phone is held, as sends are; asked only when a reminder would be held.
   */
  'reminders-respect-quiet-hours': { running: true },
  /** A failing case stays `failed` and escalated, waiting for an admin, instead of failing its workflow. */
  'failed-cases-wait-for-repair': { running: true },
  /**
   * A looping case carries its state across continue-as-new without its step records (they grew its
   * input by every step it ever ran, until the server refused it).
   */
  'continue-as-new-carries-state': { running: true },
  /**
   * A case whose workflow is cancelled in Temporal (its parent case was cancelled, or an operator
   * cancelled it) is cancelled as a person's cancel is: compensated, refunds escalated, ended
   * `cancelled` (it used to end at once, nothing undone); asked only when such a cancel arrives.
   */
  'workflow-cancel-compensates': { running: true },
} as const satisfies Record<string, { since: number } | { running: true }>;

export type HistoryChange = keyof typeof HISTORY_CHANGES;

/** The newest shape this build runs (HISTORY_SHAPE in src/plan/case.ts gives new cases the same). */
export const NEWEST_SHAPE = Math.max(...Object.values(HISTORY_CHANGES).map((reach) => ('since' in reach ? reach.since : 1)));

/**
 * Which history changes one case's run takes. Deterministic: the input's shape, or a marker in its history.
 * A case of a shape newer than `newest` fails its workflow task instead of running: a worker of an older
 * build, still running during a rolling upgrade, would record it as the older shape and a newer worker
 * would not replay it. The server retries the task until a worker that knows the shape takes it.
 */
export class HistoryVersions {
  private readonly shape: number;

  constructor(input: Pick<CaseInput, 'historyShape'>, newest = NEWEST_SHAPE) {
    this.shape = input.historyShape ?? 1;
    if (this.shape > newest)
      throw new Error(`this case records history shape ${this.shape}, newer than this worker runs (up to ${newest}): a worker of a newer build will run it`);
  }

  has(change: HistoryChange): boolean {
    const reach: { since: number } | { running: true } = HISTORY_CHANGES[change];
    return 'since' in reach ? this.shape >= reach.since : patched(change);
  }
}
