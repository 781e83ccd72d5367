import type { Pool } from 'pg';
import type { StepRecord } from '../../src/plan/case.js';

/**
 * A case's step records as the audit trail holds them, in order: every run's (the workflow's result
 * no longer carries them from history shape 6 on), without the rows of a workflow task that did not
 * commit (voided by its retry's report, migrations/329_audit_voided.sql).
 */
export async function caseRecords(pool: Pool, caseId: string): Promise<StepRecord[]> {
  const { rows } = await pool.query<{ step_id: string; kind: string; at: Date; detail: Record<string, unknown> | null }>(
    'SELECT step_id, kind, at, detail FROM audit_trail WHERE case_id = $1 AND seq IS NOT NULL ORDER BY seq',
    [caseId],
  );
  return rows.map((row) => ({ step: row.step_id, kind: row.kind, at: row.at.toISOString(), ...(row.detail ? { detail: row.detail } : {}) }));
}
