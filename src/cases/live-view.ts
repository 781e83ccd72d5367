/** The workflow's own view of a case, for those who need where it is now rather than its last report. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { caseViewQuery, workflowIdFor, type CaseView } from '../plan/case.js';

/** The running workflow's view of the case; undefined once its workflow is gone (completed, or never started). */
export async function liveCaseView(client: Client, caseId: string): Promise<CaseView | undefined> {
  try {
    return await client.workflow.getHandle(workflowIdFor(caseId)).query(caseViewQuery);
  } catch (error) {
    if (isWorkflowGone(error)) return undefined;
    throw error;
  }
}

/** Whether a call failed because the case's workflow is not running any more (or never ran). */
export function isWorkflowGone(error: unknown): boolean {
  return error instanceof WorkflowNotFoundError
    || (error instanceof Error && /already completed|workflow execution already finished|not found/i.test(error.message));
}
