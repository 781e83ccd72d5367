/**
 * What the outside world and the case workflow share: its name and input, the view of a case and the
 * progress it reports. Importable from Node code (API, tests) and workflow code. The update, query and
 * sink declared with them are Temporal's, in src/case-contract/messages.ts.
 */
import type { ReceivedEvent } from './cel.js';
import type { CompletedStep } from './cancellation.js';
import type { ClockState } from './clocks.js';
import type { Plan } from './plan.js';

export const TASK_QUEUE = 'casebook';
export const workflowIdFor = (caseId: string): string => `case-${caseId}`;

/** The one workflow type; clients start it by this name with the signature below, so its arguments are checked. */
export const RUN_CASE_WORKFLOW = 'runCase';
export type RunCaseWorkflow = (input: CaseInput) => Promise<CaseResult>;

export interface PlaybookRef {
  name: string;
  version: number;
  hash: string;
}

/** Who did something: an API key (its id and name), or Casebook itself (`CASEBOOK_ACTOR`). */
export interface Actor {
  keyId: string | null;
  name: string;
}

/** The actor of what the interpreter does on its own: timers, refunds, escalations. */
export const CASEBOOK_ACTOR: Actor = { keyId: null, name: 'casebook' };

export interface CaseEvent {
  type: string;
  /** The sender's id for this event; the same id twice is the same event. */
  id: string;
  payload: Record<string, unknown>;
  /** Who delivered it; absent on events delivered before actors were recorded. */
  by?: Actor;
}

/**
 * The shape of history a new case records, carried in its input so that every case replays with the
 * shape it started with (docs/determinism.md): 1 (absent, cases started before shapes were numbered)
 * wrote progress reports as activities; 2 writes them as local activities, one marker event each; 3
 * also indexes a closed case's outcome and reason (CaseOutcome, CaseReason) in the upsert that sets its
 * CaseStatus; 4 runs the quick side effects (messages, order notes, tasks, escalations) as local
 * activities, and gives a refund its deadline as schedule-to-close timeout and its progress report as
 * input, instead of a marker and a racing timer; 5 lets a message, order note or escalation carry the
 * progress report of the wait or end the case reaches next (through branches) instead of a marker of
 * its own (`RidingReport`); 6 ends the case with its outcome and reason only, its step records in the
 * audit trail alone (the result carried them all again). Each number is an entry `{ since: n }` of HISTORY_CHANGES
 * (src/workflows/history-versions.ts), where the workflow asks it.
 */
export const HISTORY_SHAPE = 6;

export interface CaseInput {
  caseId: string;
  playbook: PlaybookRef;
  /** The plan is pinned here: publishing a new version never changes a running case. */
  plan: Plan;
  data: Record<string, unknown>;
  /** Who opened the case (an API key's name), read by expressions as `opened_by`. */
  openedBy?: string;
  /** Whether the namespace has Casebook's search attributes, so the case keeps CaseStatus current. */
  indexed?: boolean;
  /** Carried over by continue-as-new; absent on a fresh case. */
  resume?: CaseState;
  /** The history shape the case records (see HISTORY_SHAPE); absent: 1. */
  historyShape?: number;
  /**
   * A child case, run by a `playbook` step of its parent's workflow as a child workflow: the parent
   * case and step. A step of a child case that fails ends it `failed` (the parent takes its
   * `on_error`) instead of waiting for an admin's repair.
   */
  parent?: { caseId: string; step: string };
}

/** `failed`: a step failed at run time; the case waits for an admin to retry the step or close it. */
export type CaseStatus = 'open' | 'waiting' | 'failed' | 'closed';

export interface Deadline {
  kind: 'timeout' | 'refund' | 'task-sla' | 'reminder' | 'delay' | 'clock';
  /** The step, or for a clock its name. */
  step: string;
  /** When it runs out; for a paused clock, when it would if it resumed now. */
  at: string;
  /** A clock that does not count now, and the time it has left (`1d 3h`). */
  paused?: boolean;
  left?: string;
}

export interface StepRecord {
  step: string;
  kind: string;
  at: string;
  /** Why the interpreter went where it went: the branch taken, the event consumed, the timer fired... */
  detail?: Record<string, unknown>;
}

export interface CaseState {
  current: string;
  data: Record<string, unknown>;
  received: Record<string, ReceivedEvent>;
  inbox: (CaseEvent & { at: string })[];
  seenEventIds: string[];
  visits: Record<string, number>;
  /** The step records of this run (with those not yet audited carried from the run before). */
  history: StepRecord[];
  openedAt: string;
  /** How many of `history` are in the audit trail. */
  auditedUpTo: number;
  /** Records of earlier runs, in the audit trail and not carried (absent: none were dropped); sequence numbers go on after them. */
  recordsBefore?: number;
  /** The playbook's clocks (src/plan/clocks.ts), by name; absent when it has none. */
  clocks?: Record<string, ClockState>;
  /** The checked answer of each call step whose operation declares a response, by step id (the latest visit's); absent until one answers. */
  results?: Record<string, unknown>;
  /** What each collecting loop (`for_each` with `collect`) gathered, one value per item in the items' order (the latest visit's); absent until one ends. */
  collected?: Record<string, unknown[]>;
  /** Completed steps a cancel compensates or escalates (src/plan/cancellation.ts), in order; absent until one completes. */
  completed?: CompletedStep[];
}

export interface CaseView {
  caseId: string;
  playbook: PlaybookRef;
  status: CaseStatus;
  step: string | null;
  waitingFor: string[];
  deadlines: Deadline[];
  data: Record<string, unknown>;
  outcome: { outcome: string; reason: string } | null;
  /** The step records of the current run (since the case last continued as new). */
  steps: StepRecord[];
}

export interface CaseResult {
  outcome: string;
  reason: string;
  /**
   * The step records of the case's last run (since it last continued as new) in history shapes 1-5; none
   * from shape 6 on. The audit trail has them all.
   */
  steps: StepRecord[];
}

/** What the workflow writes to the cases projection: its view without the playbook and the full history. */
export type ProgressReport = Omit<CaseView, 'playbook' | 'steps'> & {
  /** The return parcel's tracking number, from the playbook's `return_tracking_field`, once known. */
  returnTracking: string | null;
  /** Steps not yet written to the audit trail, with their sequence numbers in the case. */
  audit: { seq: number; record: StepRecord }[];
  /**
   * The sequence number the report states the trail from: rows from it on that `audit` does not hold
   * are void. This and `decidedIn` are absent from a report an older build scheduled as an activity
   * before a rolling upgrade: it is written as before them (no row voided, never refused as late).
   */
  from?: number;
  /**
   * The workflow task that decided the report: when it started (workflow time), when its run started,
   * and its started event's id in the run; tasks are ordered by the three. A report from an older task
   * than the last that reported did not commit.
   */
  decidedIn?: { at: string; runStartedAt: string; task: number };
};

/**
 * History shape 5: the progress report of the wait or end a quick side effect leads to, carried by that
 * effect and written once the effect succeeded. The effect step's own record is in its audit at
 * `resultInto` (its sequence number) without the effect's answer, which `ridingReport` merges in.
 */
export interface RidingReport {
  report: ProgressReport;
  resultInto: number;
}

/** The report a riding effect writes: its answer (`{ messageId }`, `{ escalationId }`, none) merged first into its step's record. */
export function ridingReport({ report, resultInto }: RidingReport, result: unknown): ProgressReport {
  const answer = result !== null && typeof result === 'object' ? (result as Record<string, unknown>) : {};
  return {
    ...report,
    audit: report.audit.map((entry) =>
      entry.seq === resultInto ? { seq: entry.seq, record: { ...entry.record, detail: { ...answer, ...entry.record.detail } } } : entry,
    ),
  };
}

export type EventResult = { status: 'accepted' } | { status: 'duplicate' };

/** An admin's decision on a failed case: run the failed step again, or close the case. */
export interface CaseRepair {
  action: 'retry' | 'close';
  /** Who decided: the admin's key (a name alone in repairs recorded before actors were). */
  by: Actor | string;
  reason: string;
  /** The failed step it repairs; needed when several failed at once (strands). Absent: the only one. */
  step?: string;
  /** With `step` in a loop: the iteration as its records name it (`1`, `1@0` nested). */
  iteration?: string;
}

/** Which failed step a repair went to. */
export interface RepairedStep {
  status: CaseStatus;
  step: string;
  iteration?: string;
}

/**
 * Moving a waiting case to another version of its playbook (the `migrateCase` update and the
 * `migrationPreview` query): the new version's plan travels in the arguments, so a replay re-applies
 * the same swap without any I/O; `mapping` renames steps, old id → new id.
 */
export interface MigrationTarget {
  plan: Plan;
  playbook: PlaybookRef;
  mapping: Record<string, string>;
}

export interface CaseMigration extends MigrationTarget {
  by: Actor;
  reason: string;
}

/** What moving changes for the case: a deadline of the step it waits at, from and to (null: none). */
export interface MigrationChange {
  kind: 'deadline';
  step: string;
  from: string | null;
  to: string | null;
}

/** Whether the case can move, why not, where it waits now (`step`) and will (`toStep`), and what changes. */
export interface MigrationPreview {
  movable: boolean;
  reasons: string[];
  step: string | null;
  toStep: string | null;
  changes: MigrationChange[];
}
