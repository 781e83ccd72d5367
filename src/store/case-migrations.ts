/** The cases a migration looks at, and the projection's version once a case moved (the `migrated` record is its audit row). */
import type { CaseStatus } from '../plan/case.js';
import type { Queryable } from './transaction.js';

export interface MigrationCandidate {
  caseId: string;
  version: number;
  status: CaseStatus;
  step: string | null;
}

/** The open cases of `playbook` not on `toVersion` (on `fromVersion` alone when given), oldest first: how many, and the first `limit`. */
export async function migrationCandidates(
  db: Queryable,
  selection: { playbook: string; toVersion: number; fromVersion?: number; limit: number },
): Promise<{ count: number; cases: MigrationCandidate[] }> {
  const { rows } = await db.query(
    `SELECT case_id, version, status, current_step, count(*) OVER () AS count FROM cases
     WHERE playbook = $1 AND status <> 'closed' AND version <> $2 AND ($3::integer IS NULL OR version = $3)
     ORDER BY opened_at, case_id LIMIT $4`,
    [selection.playbook, selection.toVersion, selection.fromVersion ?? null, selection.limit],
  );
  return {
    count: rows[0] ? Number(rows[0].count) : 0,
    cases: rows.map((row) => ({ caseId: row.case_id, version: row.version, status: row.status, step: row.current_step })),
  };
}

/** The case runs on another version now: its projection says which, with that version's plan hash. */
export async function recordCaseMigrated(db: Queryable, caseId: string, to: { version: number; hash: string }): Promise<void> {
  await db.query(`UPDATE cases SET version = $2, plan_hash = $3, updated_at = now() WHERE case_id = $1`, [caseId, to.version, to.hash]);
}
