/**
 * The messages between the case workflow and its clients, declared with Temporal's SDK where workflow
 * code (src/workflows/) and client code (src/cases/, src/stack/) meet: the update that delivers an
 * event, the repair, the cancel, the migration and its preview, the view query, and the sink a replayed case reports through. The shapes they
 * carry are the contract's (src/plan/case.ts).
 */
import { defineQuery, defineUpdate, type Sinks } from '@temporalio/workflow';
import type { CancelResult, CaseCancel } from '../plan/cancellation.js';
import type {
  CaseEvent,
  CaseMigration,
  CaseRepair,
  CaseView,
  EventResult,
  MigrationPreview,
  MigrationTarget,
  ProgressReport,
  RepairedStep,
} from '../plan/case.js';

export const deliverEventUpdate = defineUpdate<EventResult, [CaseEvent]>('deliverEvent');
/** Repairs answered `{ status }` alone before they named the step they went to. */
export const repairCaseUpdate = defineUpdate<RepairedStep, [CaseRepair]>('repairCase');
export const caseViewQuery = defineQuery<CaseView>('caseView');
/** A person cancels the case (src/workflows/cancellation.ts); its validator refuses a closed case. */
export const cancelCaseUpdate = defineUpdate<CancelResult, [CaseCancel]>('cancelCase');
/**
 * Moves a case waiting at a top-level wait or delay to another version of its playbook (src/workflows/migration.ts);
 * its validator refuses (NotMigratable, the reasons as details) what the preview calls not movable.
 */
export const migrateCaseUpdate = defineUpdate<MigrationPreview, [CaseMigration]>('migrateCase');
/** What `migrateCase` would do with the same target, computed by the same code. */
export const migrationPreviewQuery = defineQuery<MigrationPreview, [MigrationTarget]>('migrationPreview');

/** The sink through which a replayed case tells the replayer what it re-derives. */
export const REPLAY_SINK = 'casebookReplay';

export interface CaseSinks extends Sinks {
  [REPLAY_SINK]: {
    /** The case starts a step (its visit number): where a divergence is found. */
    step(stepId: string, visit: number): void;
    /** The steps the case writes to its audit trail, as a progress report carries them. */
    recorded(audit: ProgressReport['audit']): void;
  };
}
