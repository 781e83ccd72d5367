/** The workflow's own view of a case, for those who need where it is now rather than its last report. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { caseViewQuery } from '../case-contract/messages.js';
import { workflowIdFor, type CaseView } from '../plan/case.js';

/** How long a read waits for the workflow's own view (no worker may be polling) before using the projection. */
export const LIVE_VIEW_DEADLINE_MS = 2_000;

/**
 * The running workflow's view of the case; undefined once its workflow is gone (completed, or never
 * started), or when no worker answers within LIVE_VIEW_DEADLINE_MS: callers then read the projection.
 */
export async function liveCaseView(client: Client, caseId: string): Promise<CaseView | undefined> {
  const deadline = Date.now() + LIVE_VIEW_DEADLINE_MS;
  try {
    return await client.withDeadline(deadline, () => client.workflow.getHandle(workflowIdFor(caseId)).query(caseViewQuery));
  } catch (error) {
    // Some servers (the time-skipping test server) end a call past its deadline as cancelled instead.
    const late = isDeadlineExceeded(error) || (failedWith(error, GRPC.CANCELLED) && Date.now() >= deadline);
    if (isWorkflowGone(error) || late) return undefined;
    throw error;
  }
}

/** gRPC statuses the case use cases tell apart. */
export const GRPC = { CANCELLED: 1, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, UNIMPLEMENTED: 12, UNAVAILABLE: 14 } as const;

type ChainedError = { code?: unknown; cause?: unknown };

/** Whether `test` holds for the error or any error it wraps (a client error wraps the gRPC one). */
function inChain(error: unknown, test: (e: ChainedError) => boolean): boolean {
  for (let e = error as ChainedError | undefined; e; e = e.cause as ChainedError | undefined) if (test(e)) return true;
  return false;
}

/** Whether a call failed with gRPC status `code`, on its own or as the cause of a client error. */
export const failedWith = (error: unknown, code: number): boolean => inChain(error, (e) => e.code === code);

/** Whether a call ran out of its deadline. */
const isDeadlineExceeded = (error: unknown): boolean =>
  inChain(error, (e) => e.code === GRPC.DEADLINE_EXCEEDED || (e instanceof Error && /deadline exceeded/i.test(e.message)));

/** Whether a call failed because the case's workflow (or the run asked for) is not there any more, or never ran. */
export function isWorkflowGone(error: unknown): boolean {
  return (
    error instanceof WorkflowNotFoundError ||
    failedWith(error, GRPC.NOT_FOUND) ||
    (error instanceof Error && /already completed|workflow execution already finished|not found/i.test(error.message))
  );
}

/** Whether a call failed because the Temporal server cannot be reached (down, restarting, refused). */
export const isTemporalUnavailable = (error: unknown): boolean =>
  inChain(error, (e) => e.code === GRPC.UNAVAILABLE || (e instanceof Error && /failed to connect|connection refused|transport error/i.test(e.message)));
