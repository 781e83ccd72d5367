import { ActivityFailure } from '@temporalio/workflow';

/**
 * An activity's own failure rather than the ActivityFailure wrapped around it; a local activity out of
 * attempts fails with its own failure, unwrapped, which is answered as it is.
 */
export function ownFailure(error: unknown): unknown {
  return error instanceof ActivityFailure && error.cause ? error.cause : error;
}

/** What went wrong, in words. */
export function failureMessage(error: unknown): string {
  return (ownFailure(error) as Error).message;
}
