/**
 * An auditor's export, as JSON Lines: for each case, a `case` line, its pinned `plan`, its `audit` rows
 * (the evidence and actors, with their chain links), the `history` of each run (from the archive, or
 * from Temporal for a run not archived yet), and the `verification` of its rows and archives.
 */
import type { Client } from '@temporalio/client';
import { verifyAuditTrail } from '../store/audit-chain.js';
import { archivedRuns } from '../store/case-archive.js';
import { auditRowsOf, casesClosedBetween, exportedCase, planOf, type ExportedCase } from '../store/case-export.js';
import type { Pool } from '../store/pool.js';
import { historyToText, runsInTemporal } from './archive.js';

/** How many cases a date-range export reads at a time. */
const PAGE = 50;

const line = (value: Record<string, unknown>) => JSON.stringify(value) + '\n';

/** The lines of one case. Temporal is asked only for runs the archive does not have. */
async function* caseLines(pool: Pool, client: Client | undefined, exported: ExportedCase): AsyncGenerator<string> {
  const { caseId } = exported;
  yield line({ type: 'case', ...exported });
  yield line({ type: 'plan', caseId, hash: exported.playbook.hash, plan: (await planOf(pool, exported.playbook)) ?? null });
  for (const row of await auditRowsOf(pool, caseId)) yield line({ type: 'audit', caseId, ...row });
  const archived = await archivedRuns(pool, caseId);
  for (const run of archived) {
    yield line({
      type: 'history',
      caseId,
      runId: run.runId,
      source: 'archive',
      runStatus: run.runStatus,
      events: run.eventCount,
      sha256: run.sha256.toString('hex'),
      history: JSON.parse(run.history),
    });
  }
  if (exported.historyArchive === null && client) {
    const known = new Set(archived.map((run) => run.runId));
    const live = await runsInTemporal(client, exported.workflowId).catch(() => []);
    for (const run of live.filter((r) => !known.has(r.runId))) {
      const text = historyToText(run.history);
      yield line({
        type: 'history',
        caseId,
        runId: run.runId,
        source: 'temporal',
        runStatus: run.closed ?? 'running',
        events: run.history.events?.length ?? 0,
        history: JSON.parse(text),
      });
    }
  }
  const verification = await verifyAuditTrail(pool, { caseId });
  yield line({ type: 'verification', caseId, ...verification });
}

/** One case's export; undefined when there is no such case. */
export async function exportCase(pool: Pool, client: Client | undefined, caseId: string): Promise<AsyncGenerator<string> | undefined> {
  const exported = await exportedCase(pool, caseId);
  return exported && caseLines(pool, client, exported);
}

/** Every case closed in [from, to), oldest close first. */
export async function* exportClosedCases(pool: Pool, client: Client | undefined, from: Date, to: Date): AsyncGenerator<string> {
  let after: { closedAt: string; caseId: string } | undefined;
  for (;;) {
    const page = await casesClosedBetween(pool, from, to, PAGE, after);
    for (const exported of page) yield* caseLines(pool, client, exported);
    if (page.length < PAGE) return;
    const last = page[page.length - 1]!;
    after = { closedAt: last.closedAt!, caseId: last.caseId };
  }
}
