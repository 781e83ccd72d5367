/** Cases: search and filter the cases (#/cases), and one case (#/cases/<id>, see case.tsx). */
import { useEffect, useState } from 'preact/hooks';
import type { CaseList, CaseSummary } from '../../api-contract/cases.js';
import type { PublishedPlaybooks } from '../../api-contract/playbooks.js';
import { api, ApiProblem, queryOf } from '../api.js';
import { formatTime, startOfDay, zoneLabel } from '../format.js';
import { useT, type Messages } from '../i18n.js';
import type { PageProps } from '../pages.js';
import type { Session } from '../session.js';
import { CasePage } from './case.js';
import { CASE_STATUSES, isCaseStatus, STATUS_MESSAGES } from './case-status.js';

interface Filters {
  playbook: string;
  status: string;
  outcome: string;
  reason: string;
  orderId: string;
  openedFrom: string;
  openedTo: string;
  breached: boolean;
}

const NO_FILTERS: Filters = { playbook: '', status: '', outcome: '', reason: '', orderId: '', openedFrom: '', openedTo: '', breached: false };

export const CASES_MESSAGES: Messages<
  | 'title'
  | 'filters'
  | 'playbook'
  | 'anyPlaybook'
  | 'status'
  | 'anyStatus'
  | 'outcome'
  | 'reason'
  | 'orderId'
  | 'openedFrom'
  | 'openedTo'
  | 'breached'
  | 'search'
  | 'clear'
  | 'caseId'
  | 'step'
  | 'opened'
  | 'version'
  | 'none'
  | 'more'
  | 'loading'
  | 'count'
  | 'timesIn'
  | 'temporalQuery'
> = {
  en: {
    title: 'Cases',
    filters: 'Search cases',
    playbook: 'Playbook',
    anyPlaybook: 'Any playbook',
    status: 'Status',
    anyStatus: 'Any status',
    outcome: 'Outcome',
    reason: 'Reason',
    orderId: 'Order id',
    openedFrom: 'Opened from',
    openedTo: 'Opened to (inclusive)',
    breached: 'SLA breached',
    search: 'Search',
    clear: 'Clear',
    caseId: 'Case',
    step: 'Step',
    opened: 'Opened',
    version: 'v{version}',
    none: 'No case matches.',
    more: 'Show more',
    loading: 'Loading…',
    count: '{count} cases shown, newest first.',
    timesIn: 'Times in the shop’s time zone ({zone}).',
    temporalQuery: 'The same cases in the Temporal Web UI',
  },
  zh: {
    title: '工单',
    filters: '搜索工单',
    playbook: '剧本',
    anyPlaybook: '全部剧本',
    status: '状态',
    anyStatus: '全部状态',
    outcome: '结果',
    reason: '原因',
    orderId: '订单号',
    openedFrom: '创建日期起',
    openedTo: '创建日期止（含）',
    breached: '超出时限',
    search: '搜索',
    clear: '清除',
    caseId: '工单',
    step: '步骤',
    opened: '创建时间',
    version: '第 {version} 版',
    none: '没有符合条件的工单。',
    more: '显示更多',
    loading: '加载中…',
    count: '已显示 {count} 个工单，最新的在前。',
    timesIn: '时间为店铺所在时区（{zone}）。',
    temporalQuery: '在 Temporal Web UI 中查看相同的工单',
  },
};

export function CasesPage({ session, route }: PageProps) {
  if (route[1]) return <CasePage session={session} caseId={route[1]} />;
  return <CaseSearch session={session} />;
}

/** The list's query: the filters that are set, dates turned into the instants their days start at in the shop. */
function listQuery(filters: Filters, session: Session, cursor?: string): string {
  const nextDay = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return queryOf({
    playbook: filters.playbook,
    status: filters.status,
    outcome: filters.outcome.trim(),
    reason: filters.reason.trim(),
    orderId: filters.orderId.trim(),
    openedFrom: filters.openedFrom ? startOfDay(filters.openedFrom, session) : '',
    openedTo: filters.openedTo ? startOfDay(nextDay(filters.openedTo), session) : '',
    breached: filters.breached ? 'true' : '',
    cursor,
  });
}

/**
 * The Temporal visibility query for the filters its search attributes cover (Playbook, CaseStatus,
 * OrderId, and CaseOutcome and CaseReason of cases closed since history shape 3); Temporal's
 * CaseStatus says `open` for open and waiting cases alike.
 */
function temporalQuery(filters: Filters): string {
  const quote = (value: string) => `"${value.replace(/["\\]/g, '')}"`;
  return [
    filters.playbook && `Playbook=${quote(filters.playbook)}`,
    filters.status && `CaseStatus=${quote(filters.status === 'waiting' ? 'open' : filters.status)}`,
    filters.orderId.trim() && `OrderId=${quote(filters.orderId.trim())}`,
    filters.outcome.trim() && `CaseOutcome=${quote(filters.outcome.trim())}`,
    filters.reason.trim() && `CaseReason=${quote(filters.reason.trim())}`,
  ]
    .filter(Boolean)
    .join(' AND ');
}

function CaseSearch({ session }: { session: Session }) {
  const t = useT(CASES_MESSAGES);
  const tStatus = useT(STATUS_MESSAGES);
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [playbooks, setPlaybooks] = useState<string[]>([]);
  const [cases, setCases] = useState<CaseSummary[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api<PublishedPlaybooks>(session, 'GET', '/v1/playbooks').then(
      (answer) => setPlaybooks(answer.playbooks.map((p) => p.name)),
      () => setPlaybooks([]),
    );
  }, [session]);

  const load = async (cursor?: string) => {
    setError(null);
    try {
      const page = await api<CaseList>(session, 'GET', `/v1/cases${listQuery(filters, session, cursor)}`);
      setCases((shown) => (cursor && shown ? [...shown, ...page.cases] : page.cases));
      setNextCursor(page.nextCursor);
    } catch (failure) {
      setError(failure instanceof ApiProblem ? failure.message : String(failure));
    }
  };
  useEffect(() => {
    setCases(null);
    void load();
  }, [filters]);

  const field = (name: keyof Filters) => ({
    id: `filter-${name}`,
    name,
    value: draft[name] as string,
    onInput: (event: Event) => setDraft({ ...draft, [name]: (event.currentTarget as HTMLInputElement).value }),
  });
  const statusLabel = (status: string) => (isCaseStatus(status) ? tStatus(status) : status);
  const query = temporalQuery(filters);
  const ui = session.settings.temporalUiUrl;

  return (
    <section aria-labelledby="cases-title">
      <h1 id="cases-title">{t('title')}</h1>
      <form
        class="filters"
        role="search"
        aria-label={t('filters')}
        onSubmit={(event) => {
          event.preventDefault();
          setFilters(draft);
        }}
      >
        <label for="filter-playbook">
          {t('playbook')}
          <select {...field('playbook')} onChange={(event) => setDraft({ ...draft, playbook: event.currentTarget.value })}>
            <option value="">{t('anyPlaybook')}</option>
            {playbooks.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label for="filter-status">
          {t('status')}
          <select {...field('status')} onChange={(event) => setDraft({ ...draft, status: event.currentTarget.value })}>
            <option value="">{t('anyStatus')}</option>
            {CASE_STATUSES.map((status) => (
              <option key={status} value={status}>
                {tStatus(status)}
              </option>
            ))}
          </select>
        </label>
        <label for="filter-orderId">
          {t('orderId')}
          <input type="search" {...field('orderId')} maxLength={100} />
        </label>
        <label for="filter-outcome">
          {t('outcome')}
          <input type="text" {...field('outcome')} maxLength={100} />
        </label>
        <label for="filter-reason">
          {t('reason')}
          <input type="text" {...field('reason')} maxLength={200} />
        </label>
        <label for="filter-openedFrom">
          {t('openedFrom')}
          <input type="date" {...field('openedFrom')} />
        </label>
        <label for="filter-openedTo">
          {t('openedTo')}
          <input type="date" {...field('openedTo')} />
        </label>
        <label class="check" for="filter-breached">
          <input
            type="checkbox"
            id="filter-breached"
            name="breached"
            checked={draft.breached}
            onChange={(event) => setDraft({ ...draft, breached: event.currentTarget.checked })}
          />
          {t('breached')}
        </label>
        <div class="actions">
          <button type="submit">{t('search')}</button>
          <button
            type="button"
            class="secondary"
            onClick={() => {
              setDraft(NO_FILTERS);
              setFilters(NO_FILTERS);
            }}
          >
            {t('clear')}
          </button>
        </div>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {cases === null && !error ? (
        <p role="status">{t('loading')}</p>
      ) : cases && cases.length === 0 ? (
        <p role="status">{t('none')}</p>
      ) : (
        cases && (
          <>
            <table>
              <caption>
                {t('count', { count: cases.length })} {t('timesIn', { zone: zoneLabel(session) })}
              </caption>
              <thead>
                <tr>
                  <th scope="col">{t('caseId')}</th>
                  <th scope="col">{t('playbook')}</th>
                  <th scope="col">{t('status')}</th>
                  <th scope="col">{t('step')}</th>
                  <th scope="col">{t('orderId')}</th>
                  <th scope="col">{t('outcome')}</th>
                  <th scope="col">{t('opened')}</th>
                </tr>
              </thead>
              <tbody>
                {cases.map((c) => (
                  <tr key={c.caseId}>
                    <td>
                      <a href={`#/cases/${encodeURIComponent(c.caseId)}`}>{c.caseId}</a>
                    </td>
                    <td>
                      {c.playbook} <span class="muted">{t('version', { version: c.version })}</span>
                    </td>
                    <td>
                      <span class={`status ${c.status}`}>{statusLabel(c.status)}</span>
                    </td>
                    <td class="mono">{c.step ?? '—'}</td>
                    <td class="mono">{c.orderId ?? '—'}</td>
                    <td>{c.outcome ?? '—'}</td>
                    <td>{formatTime(c.openedAt, session)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {nextCursor && (
              <button type="button" class="secondary" onClick={() => void load(nextCursor)}>
                {t('more')}
              </button>
            )}
          </>
        )
      )}
      {ui && query && (
        <p>
          <a
            href={`${ui}/namespaces/${encodeURIComponent(session.settings.namespace)}/workflows?query=${encodeURIComponent(query)}`}
            target="_blank"
            rel="noopener noreferrer"
          >
            {t('temporalQuery')}
          </a>{' '}
          <code>{query}</code>
        </p>
      )}
    </section>
  );
}
