/**
 * Query parameters that name a day or an instant (`openedFrom`, `closedFrom`...). The schema's formats
 * follow RFC 3339, which allows year 0000, offsets to ±23:59 and leap seconds; what the database
 * cannot hold is refused here with `400 invalid-request` and a pointer to the parameter.
 */
import { readInstant } from '../store/instants.js';
import { problem, type Problem } from './problems.js';

/** A day (from its start, UTC) or an RFC 3339 instant: `2026-11-01` or `2026-11-01T08:00:00+08:00`. */
export const INSTANT_QUERY = {
  anyOf: [
    { type: 'string', format: 'date' },
    { type: 'string', format: 'date-time' },
  ],
} as const;

/** The instant and the text to hand Postgres for it (a day as its UTC start). */
export interface QueryInstant {
  at: Date;
  text: string;
}

/** The given parameters read as instants, or the problem with the first the database cannot hold. */
export function readQueryInstants<Name extends string>(
  query: Partial<Record<Name, string>>,
  names: readonly Name[],
  /** Where the parameters are in the request: their pointers start with it (`/selection` in a body). */
  at = '',
): { instants: Partial<Record<Name, QueryInstant>> } | { problem: Problem } {
  const instants: Partial<Record<Name, QueryInstant>> = {};
  for (const name of names) {
    const text = query[name];
    if (text === undefined) continue;
    const reading = readInstant(text);
    if ('problem' in reading) {
      const pointer = `${at}/${name}`;
      return { problem: problem('invalid-request', `${pointer} ${reading.problem}`, { errors: [{ pointer, message: reading.problem }] }) };
    }
    instants[name] = reading;
  }
  return { instants };
}
