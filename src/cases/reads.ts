/** What the edges read of cases and their inbound events: the case list, a case's history and activity, the inbox. */
export { caseActivity } from '../store/case-activity.js';
export { caseHistory } from '../store/case-history.js';
export { listCases, type CaseListFilter } from '../store/case-list.js';
export { findInboxEntry, INBOX_STATUSES, listInbox, type InboxListFilter } from '../store/inbox.js';
