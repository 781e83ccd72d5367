/**
 * Moving a running case to another version of its playbook (issue 25 point 2), in place: the
 * `migrateCase` update swaps the plan the case runs on, and the `migrationPreview` query answers what
 * the update would do, with the same code (`checkMigration`). Only a case waiting at a top-level `wait`
 * or `delay` moves: the step reads itself again from the new plan (src/workflows/steps/wait.ts,
 * delay.ts). Pure: the new plan travels in the arguments, so a replay re-applies the same swap.
 */
import type { CaseStatus, MigrationChange, MigrationPreview, MigrationTarget, PlaybookRef } from '../plan/case.js';
import type { ReceivedEvent } from '../plan/cel.js';
import type { Plan } from '../plan/plan.js';
import type { DelayStep } from '../plan/steps/index.js';
import type { WaitStep } from '../plan/steps/wait.js';
import { checkValues } from '../plan/values.js';
import { iso } from './time.js';

/** Where the case is, as the migration sees it. */
export interface MigrationPosition {
  status: CaseStatus;
  /** Whether strands run (a `parallel` or `for_each` block): the case waits inside a block. */
  inBlock: boolean;
  current: string;
  playbook: PlaybookRef;
  plan: Plan;
  /** When the step the case waits at started; undefined when it does not wait at a top-level step. */
  since: number | undefined;
  /** The latest event of each type the case took, which its expressions read as `events.<type>`. */
  received: Record<string, ReceivedEvent>;
}

/** The step kinds whose interpreter reads its step again when the case moves: a case waits at one of them to move. */
export const MOVABLE_KINDS = ['wait', 'delay'] as const;
export type MovableStep = WaitStep | DelayStep;

/** When a step of `plan` that started at `since` ends (a wait's timeout, a delay's end; null: never); throws what its expression throws. */
export type DeadlineIn = (plan: Plan, hash: string, step: MovableStep, since: number) => number | null;

const movable = (step: { kind: string } | undefined): step is MovableStep => (MOVABLE_KINDS as readonly string[]).includes(step?.kind ?? '');

/** Why the case can or cannot move to `target`, and what changes for it: what the query answers and the update's validator checks. */
export function checkMigration(position: MigrationPosition, target: MigrationTarget, deadlineIn: DeadlineIn): MigrationPreview {
  const reasons: string[] = [];
  const { plan, playbook, mapping } = target;
  const step = position.status === 'closed' ? null : position.current;
  const toStep = step === null ? null : (mapping[step] ?? step);
  if (playbook.name !== position.playbook.name) reasons.push(`the case runs playbook ${position.playbook.name}, not ${playbook.name}`);
  else if (playbook.hash === position.playbook.hash) reasons.push(`the case already runs this plan (version ${position.playbook.version})`);
  for (const [from, to] of Object.entries(mapping)) {
    if (!position.plan.steps[from]) reasons.push(`the mapping names step '${from}', which version ${position.playbook.version} does not have`);
    if (!plan.steps[to]) reasons.push(`the mapping maps '${from}' to step '${to}', which version ${playbook.version} does not have`);
  }
  // The new version's expressions read the events taken so far: each must fit its declaration there.
  for (const [type, event] of Object.entries(position.received)) {
    const spec = plan.events[type];
    const problems = spec ? checkValues(spec.payload, event.payload, '/payload', plan.currency) : [];
    if (problems.length > 0)
      reasons.push(`the ${type} event it took does not fit version ${playbook.version}: ${problems.map((p) => `${p.pointer} ${p.message}`).join('; ')}`);
  }
  if (position.status !== 'waiting') reasons.push(`the case is ${position.status}, not waiting at a step`);
  else if (position.inBlock) reasons.push(`the case waits inside a block (parallel or for_each) at '${step}': only a case waiting at a top-level step moves`);
  const now = step === null ? undefined : position.plan.steps[step];
  const next = toStep === null ? undefined : plan.steps[toStep];
  if (position.status === 'waiting' && !position.inBlock && now) {
    if (!movable(now))
      reasons.push(`the case waits at a ${now.kind} step ('${step}'): only a case at a wait or delay step moves (its step is read again from the new version)`);
    else if (!next)
      reasons.push(
        `version ${playbook.version} has no step '${toStep}'${toStep === step ? ' (removed or renamed: map it to its new id)' : ''}: the case would have nowhere to wait`,
      );
    else if (next.kind !== now.kind) reasons.push(`step '${toStep}' is a ${next.kind} step in version ${playbook.version}, not a ${now.kind}`);
  }
  const changes: MigrationChange[] = [];
  if (reasons.length === 0 && movable(now) && movable(next) && position.since !== undefined) {
    try {
      const from = deadlineIn(position.plan, position.playbook.hash, now, position.since);
      const to = deadlineIn(plan, playbook.hash, next, position.since);
      if (from !== to) changes.push({ kind: 'deadline', step: toStep!, from: from === null ? null : iso(from), to: to === null ? null : iso(to) });
    } catch (error) {
      reasons.push(`the ${next.kind}'s deadline cannot be computed in version ${playbook.version}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { movable: reasons.length === 0, reasons, step, toStep, changes };
}

/** A step's visits carried to the id the mapping gives it, so keys made under the new id never repeat an old one. */
export function carryVisits(visits: Record<string, number>, mapping: Record<string, string>): void {
  for (const [from, to] of Object.entries(mapping)) {
    if (from !== to && visits[from] !== undefined) visits[to] = Math.max(visits[to] ?? 0, visits[from]);
  }
}
