/** A case's status in words, for the case list and the case page. */
import type { Messages } from '../i18n.js';

export const CASE_STATUSES = ['open', 'waiting', 'failed', 'closed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

export const STATUS_MESSAGES: Messages<CaseStatus> = {
  en: { open: 'Open', waiting: 'Waiting', failed: 'Failed', closed: 'Closed' },
  zh: { open: '进行中', waiting: '等待中', failed: '失败', closed: '已结束' },
};

export const isCaseStatus = (status: string): status is CaseStatus => (CASE_STATUSES as readonly string[]).includes(status);
