/** What the migration routes answer (`/v1/playbooks/{name}/migrations`): the preview of moving open cases to another version. */
import { boolean, exact, integer, list, nullableString, oneOf, string, type Static } from './schema.js';

const STEP_ID = '^[A-Za-z_][A-Za-z0-9_-]{0,99}$';

/**
 * A request's step mapping: old step id → new step id, for steps whose id changed between the versions.
 * Its keys are not constrained here (OpenAPI 3.0 has no `propertyNames`): one that is no step of the
 * cases' versions is refused as such, 422 invalid-migration-mapping at its pointer.
 */
export const StepMapping = {
  type: 'object',
  maxProperties: 200,
  additionalProperties: { type: 'string', pattern: STEP_ID },
  description: 'migrate: old step id → new step id, for steps whose id changed',
} as const;

/** A change moving brings to a case: a deadline of the step it waits at, from and to (null: none), in words too. */
export const MigrationChange = exact({ kind: oneOf('deadline'), step: string, from: nullableString, to: nullableString, text: string });
export type MigrationChange = Static<typeof MigrationChange>;

export const MigrationPreview = exact({
  playbook: string,
  toVersion: integer,
  /** The open cases not on `toVersion` (on `fromVersion` when given); `cases` shows the first `limit`. */
  count: integer,
  /** How many of the cases shown can move. */
  movable: integer,
  cases: list(
    exact({
      caseId: string,
      fromVersion: integer,
      status: string,
      step: nullableString,
      movable: boolean,
      /** Why it cannot move (empty when it can). */
      reasons: list(string),
      /** Where it will wait in the new version. */
      toStep: nullableString,
      changes: list(MigrationChange),
    }),
  ),
  /** What `POST /v1/playbooks/{name}/migrations` must send back to run it: bound to the version, the mapping and the selection. */
  confirmation: string,
});
export type MigrationPreview = Static<typeof MigrationPreview>;
