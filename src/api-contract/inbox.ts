/** What the event inbox routes answer (`/v1/inbox`). */
import { exact, freeObject, integer, list, nullableString, open, string, type Static } from './schema.js';

export const InboxEvent = open({
  id: integer,
  source: string,
  eventId: string,
  type: string,
  payload: freeObject,
  receivedAt: string,
  status: string,
  routedCaseId: nullableString,
  reason: nullableString,
  updatedAt: string,
});
export type InboxEvent = Static<typeof InboxEvent>;

export const InboxPage = exact({ events: list(InboxEvent), nextCursor: nullableString });
export type InboxPage = Static<typeof InboxPage>;
