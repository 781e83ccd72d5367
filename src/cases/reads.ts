/** What the edges read of cases and their inbound events: the case list, a case's history, activity and side effects, the inbox. */
export { caseActivity } from '../store/case-activity.js';
export { caseHistory, caseSideEffects } from '../store/case-history.js';
export { listCases, type CaseListFilter } from '../store/case-list.js';
export { findInboxEntry, INBOX_STATUSES, listInbox, type InboxListFilter } from '../store/inbox.js';
