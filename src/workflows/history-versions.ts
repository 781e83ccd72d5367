/**
 * Every version of the case's history shape that the workflow code still replays, in one place
 * (docs/determinism.md; docs/decisions/0011-history-shapes-two-ways.md says why there are two ways):
 * - the history shape in the case's input (`historyShape`, HISTORY_SHAPE in src/plan/case.ts): a
 *   change every new case records, for the case's whole life; cases already running keep theirs;
 * - a patch id asked with `patched()` only on a rare path: a change that must reach the cases already
 *   running, at the next point they pass it.
 */
import type { CaseInput } from '../plan/case.js';

/** What the case records, by the history shape it started with (absent: 1). */
export interface HistoryShape {
  /** Shape 2: progress reports are local activities, one marker each, and none at the start. */
  localProgress: boolean;
  /** Shape 3: the closing upsert also sets CaseOutcome and CaseReason. */
  outcomeIndexed: boolean;
  /** Shape 4: quick side effects are local activities; a refund carries its progress report and deadline. */
  effectsInTask: boolean;
}

export function historyShapeOf(input: Pick<CaseInput, 'historyShape'>): HistoryShape {
  const shape = input.historyShape ?? 1;
  return { localProgress: shape >= 2, outcomeIndexed: shape >= 3, effectsInTask: shape >= 4 };
}

/**
 * The history change that keeps a late refund going (it used to be cancelled at its deadline, and
 * finance paying by hand could pay twice). Cases started before it take the old path on replay.
 */
export const LATE_REFUNDS_KEEP_GOING = 'late-refunds-keep-going';

/**
 * The history change that holds a reminder due in quiet hours (or, with a calendar, outside working
 * hours) when it goes to the buyer by SMS, e-mail or phone, as sends are held; cases started before it
 * sent such reminders at once. Asked only when a reminder would be held, so other histories are unchanged.
 */
export const REMINDERS_RESPECT_QUIET_HOURS = 'reminders-respect-quiet-hours';

/**
 * The history change that leaves a failing case `failed` and escalated, waiting for an admin, instead of
 * failing its workflow. Cases started before it replay as they ran.
 */
export const FAILED_CASES_WAIT_FOR_REPAIR = 'failed-cases-wait-for-repair';

/**
 * The history change that carries a looping case's state across continue-as-new without its step
 * records (they grew its input by every step it ever ran, until the server refused it). Runs that
 * continued as new before it replay carrying everything.
 */
export const CONTINUE_AS_NEW_CARRIES_STATE = 'continue-as-new-carries-state';
