/**
 * What a failed query says about its cause, for the API to answer it: the database could not be
 * reached (an outage: answer 503 and ask to retry), or it refused a value (a request's input the
 * route did not check: a client error), or neither.
 */

/** SQLSTATE classes and codes of a server that is not there, going away, or not taking connections. */
const UNAVAILABLE_STATES = /^(08...|57P0[1-3]|53300)$/;
/** Errors of the client side of a connection (Node's sockets and DNS, node-postgres and its pool), which carry no SQLSTATE. */
const UNAVAILABLE_SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
const UNAVAILABLE_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable)/;

/** The error and every error it was caused by (`cause`, an AggregateError's `errors`). */
function* chainOf(error: unknown, depth = 0): Generator<{ code?: unknown; message?: unknown }> {
  if (typeof error !== 'object' || error === null || depth > 8) return;
  yield error as { code?: unknown; message?: unknown };
  const { cause, errors } = error as { cause?: unknown; errors?: unknown };
  yield* chainOf(cause, depth + 1);
  if (Array.isArray(errors)) for (const inner of errors) yield* chainOf(inner, depth + 1);
}

/** Whether the error means Postgres could not be reached or dropped the connection: nothing to do but retry later. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const link of chainOf(error)) {
    const code = typeof link.code === 'string' ? link.code : '';
    if (UNAVAILABLE_STATES.test(code) || UNAVAILABLE_SOCKET_CODES.has(code)) return true;
    if (typeof link.message === 'string' && UNAVAILABLE_MESSAGES.test(link.message)) return true;
  }
  return false;
}

/**
 * The SQLSTATE and message when Postgres refused a value it was given: a data exception (class 22:
 * invalid text, a number or date out of range) or a check constraint (23514). A route hands Postgres
 * only what came in the request or was computed from it, so these are the request's to fix.
 */
export function refusedValue(error: unknown): { code: string; message: string } | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !/^(22...|23514)$/.test(code)) return undefined;
  return { code, message: String((error as { message?: unknown }).message ?? '') };
}
