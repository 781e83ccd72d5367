/** A case's progress report, written as one unit: the projection and the audit events not yet written. */
import type { ProgressReport } from '../plan/case.js';
import { insertAuditEvent } from './audit.js';
import { updateCaseProgress } from './cases.js';
import type { Pool } from './pool.js';
import { withTransaction } from './transaction.js';

export async function recordProgress(pool: Pool, { audit, ...progress }: ProgressReport): Promise<void> {
  await withTransaction(pool, async (client) => {
    await updateCaseProgress(client, progress);
    for (const { seq, record } of audit) await insertAuditEvent(client, progress.caseId, seq, record);
  });
}
