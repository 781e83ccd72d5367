/** The workflow's own view of a case, for those who need where it is now rather than its last report. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { caseViewQuery, workflowIdFor, type CaseView } from '../plan/case.js';

/** How long a read waits for the workflow's own view (no worker may be polling) before using the projection. */
export const LIVE_VIEW_DEADLINE_MS = 2_000;

/**
 * The running workflow's view of the case; undefined once its workflow is gone (completed, or never
 * started), or when no worker answers within LIVE_VIEW_DEADLINE_MS: callers then read the projection.
 */
export async function liveCaseView(client: Client, caseId: string): Promise<CaseView | undefined> {
  try {
    return await client.withDeadline(Date.now() + LIVE_VIEW_DEADLINE_MS, () => client.workflow.getHandle(workflowIdFor(caseId)).query(caseViewQuery));
  } catch (error) {
    if (isWorkflowGone(error) || isDeadlineExceeded(error)) return undefined;
    throw error;
  }
}

/** Whether a call ran out of its deadline (gRPC DEADLINE_EXCEEDED), on its own or as the cause of a client error. */
function isDeadlineExceeded(error: unknown): boolean {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as typeof e) {
    if (e.code === 4 || (e instanceof Error && /deadline exceeded/i.test(e.message))) return true;
  }
  return false;
}

/** Whether a call failed because the case's workflow is not running any more (or never ran). */
export function isWorkflowGone(error: unknown): boolean {
  return error instanceof WorkflowNotFoundError
    || (error instanceof Error && /already completed|workflow execution already finished|not found/i.test(error.message));
}
