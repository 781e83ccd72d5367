/** A case's status in words, for the case list and the case page. */
import type { CaseStatus } from '../../api-contract/cases.js';
import type { Messages } from '../i18n.js';

export const STATUS_MESSAGES: Messages<CaseStatus> = {
  en: { open: 'Open', waiting: 'Waiting', failed: 'Failed', closed: 'Closed' },
  zh: { open: '进行中', waiting: '等待中', failed: '失败', closed: '已结束' },
};

/** The statuses a case can have, in the order the filter lists them. */
export const CASE_STATUSES = Object.keys(STATUS_MESSAGES.en) as CaseStatus[];

export const isCaseStatus = (status: string): status is CaseStatus => (CASE_STATUSES as readonly string[]).includes(status);
