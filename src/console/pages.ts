/**
 * The console's pages, one entry each: `path` is the first part of the hash route (`#/cases/...`),
 * `roles` the API key roles that see it (the API refuses the others anyway), `render` the page.
 */
import type { ComponentType } from 'preact';
import type { Role } from '../api-contract/service.js';
import type { Language } from './i18n.js';
import { FiguresPage } from './pages/figures.js';
import type { Session } from './session.js';
import { QueuePage } from './pages/queue.js';
import { CasesPage } from './pages/cases.js';
import { PlaybooksPage } from './pages/playbooks.js';
import { BulkPage } from './pages/bulk.js';
import { BacktestsPage } from './pages/backtests.js';
import { MigrationsPage } from './pages/migrations.js';

export interface PageProps {
  session: Session;
  /** The hash route split at `/`, without its query: `#/cases/c-1` → ['cases', 'c-1']. */
  route: string[];
}

export interface Page {
  path: string;
  title: Record<Language, string>;
  roles: readonly Role[];
  render: ComponentType<PageProps>;
}

export const PAGES: Page[] = [
  { path: 'cases', title: { en: 'Cases', zh: '工单' }, roles: ['ops-lead', 'agent', 'auditor', 'admin'], render: CasesPage },
  { path: 'playbooks', title: { en: 'Playbooks', zh: '剧本' }, roles: ['ops-lead', 'agent', 'auditor', 'admin'], render: PlaybooksPage },
  { path: 'figures', title: { en: 'Figures', zh: '数据' }, roles: ['ops-lead', 'auditor', 'admin'], render: FiguresPage },
  { path: 'queue', title: { en: 'Queue', zh: '待办队列' }, roles: ['agent', 'ops-lead', 'admin'], render: QueuePage },
  { path: 'bulk', title: { en: 'Bulk operations', zh: '批量操作' }, roles: ['ops-lead', 'admin'], render: BulkPage },
  { path: 'backtests', title: { en: 'Backtests', zh: '回测' }, roles: ['ops-lead', 'admin'], render: BacktestsPage },
  { path: 'migrations', title: { en: 'Move cases', zh: '迁移工单' }, roles: ['ops-lead', 'admin'], render: MigrationsPage },
];
