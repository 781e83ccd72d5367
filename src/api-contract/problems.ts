/** What every route answers when it refuses: a problem document (RFC 9457, application/problem+json; docs/api.md). */
import { exact, integer, list, open, optional, string, type Static } from './schema.js';

/** `type` is one of the catalogue's (src/api/problems.ts); a problem type may add members of its own (`diagnostics`, `claimed`...). */
export const Problem = open({
  type: string,
  title: string,
  status: integer,
  detail: optional(string),
  instance: optional(string),
  requestId: optional(string),
  /** Where the request was wrong: a JSON pointer into it, and what is wrong there. */
  errors: optional(list(exact({ pointer: string, message: string }))),
});
export type Problem = Static<typeof Problem>;
