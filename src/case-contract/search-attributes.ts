/** The search attributes a case is indexed by, so it can be found in the Web UI and `temporal workflow list`. */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CASE_TYPE = defineSearchAttributeKey('CaseType', SearchAttributeType.KEYWORD);
export const PLAYBOOK = defineSearchAttributeKey('Playbook', SearchAttributeType.KEYWORD);
export const PLAYBOOK_VERSION = defineSearchAttributeKey('PlaybookVersion', SearchAttributeType.INT);
export const CASE_STATUS = defineSearchAttributeKey('CaseStatus', SearchAttributeType.KEYWORD);
export const ORDER_ID = defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD);
/** Set when the case closes (history shape 3): the `end` step's outcome and reason. */
export const CASE_OUTCOME = defineSearchAttributeKey('CaseOutcome', SearchAttributeType.KEYWORD);
export const CASE_REASON = defineSearchAttributeKey('CaseReason', SearchAttributeType.KEYWORD);

/** Set when the case is cancelled: who cancelled it (an API key's name, or `casebook` for an event without a sender). */
export const CASE_CANCELLED_BY = defineSearchAttributeKey('CaseCancelledBy', SearchAttributeType.KEYWORD);

export const CASE_SEARCH_ATTRIBUTES = [CASE_TYPE, PLAYBOOK, PLAYBOOK_VERSION, CASE_STATUS, ORDER_ID, CASE_OUTCOME, CASE_REASON, CASE_CANCELLED_BY];
