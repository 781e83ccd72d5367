/**
 * Backtests (#/backtests, ops leads and admins): the recent backtests and their progress, and one's
 * report (#/backtests/<id>): the totals and what would change for each case (docs/backtest.md), next
 * to the diff of the tested version against its baseline (the version it was compared with, or the
 * playbook's current one when the backtest does not name it).
 */
import { useEffect, useState } from 'preact/hooks';
import type { BacktestList, KeptBacktest } from '../../api-contract/backtests.js';
import type { PlaybookVersions } from '../../api-contract/playbooks.js';
import { api } from '../api.js';
import { formatTime } from '../format.js';
import { useT, type Messages } from '../i18n.js';
import type { PageProps } from '../pages.js';
import type { Session } from '../session.js';
import { VersionDiff } from './playbook-diff.js';

type Key =
  | 'title'
  | 'none'
  | 'started'
  | 'playbook'
  | 'status'
  | 'progress'
  | 'by'
  | 'back'
  | 'summary'
  | 'money'
  | 'caseId'
  | 'changes'
  | 'noChange'
  | 'skipped'
  | 'problem'
  | 'of'
  | 'effects'
  | 'refused'
  | 'templates'
  | 'diffTitle'
  | 'fullDiff'
  | 'notPublished'
  | 'isBaseline';

const MESSAGES: Messages<Key> = {
  en: {
    title: 'Backtests',
    none: 'No backtest yet: start one with casebook backtest or POST /v1/backtests.',
    started: 'Started',
    playbook: 'Playbook',
    status: 'Status',
    progress: 'Cases re-run',
    by: 'By',
    back: 'All backtests',
    summary: '{changed} of {rerun} cases would change ({skipped} skipped); outcomes changed: {outcomes}',
    money: 'Refunds: {before} → {after}; money difference {difference}',
    caseId: 'Case',
    changes: 'What would change',
    noChange: 'no change',
    skipped: 'skipped: {why}',
    problem: 'Failed: {problem}',
    of: '{done} of {total}',
    effects:
      'Escalations: {escalationsBefore} → {escalationsAfter}; messages sent: {messagesBefore} → {messagesAfter}; deadlines missed: {missedBefore} → {missedAfter}',
    refused: 'Events the tested version no longer accepts: {count} (listed with their cases below)',
    templates: 'Messages by template, before → after: {list}',
    diffTitle: 'What changed: v{version} against v{base}',
    fullDiff: 'Open the diff on its own page',
    notPublished: 'The tested text is not a published version of {name} (plan {hash}): publish it to see its diff against v{base}.',
    isBaseline: 'The tested text is v{version}, the version it was compared with: nothing to diff.',
  },
  zh: {
    title: '回测',
    none: '还没有回测：用 casebook backtest 或 POST /v1/backtests 开始一个。',
    started: '开始时间',
    playbook: '剧本',
    status: '状态',
    progress: '已重跑工单',
    by: '发起人',
    back: '全部回测',
    summary: '{rerun} 个工单中有 {changed} 个会变化（跳过 {skipped} 个）；结果变化：{outcomes}',
    money: '退款：{before} → {after}；金额差 {difference}',
    caseId: '工单',
    changes: '会有什么变化',
    noChange: '无变化',
    skipped: '已跳过：{why}',
    problem: '失败：{problem}',
    of: '{done} / {total}',
    effects: '升级：{escalationsBefore} → {escalationsAfter}；发送消息：{messagesBefore} → {messagesAfter}；错过期限：{missedBefore} → {missedAfter}',
    refused: '回测版本不再接受的事件：{count} 个（见下方各工单）',
    templates: '各模板的消息数（之前 → 之后）：{list}',
    diffTitle: '改动：第 {version} 版对比第 {base} 版',
    fullDiff: '在单独页面打开对比',
    notPublished: '回测的文本不是 {name} 已发布的版本（计划 {hash}）：发布后才能查看它与第 {base} 版的对比。',
    isBaseline: '回测的文本就是作为比较基准的第 {version} 版：没有差异。',
  },
};

interface Totals {
  cases: number;
  rerun: number;
  skipped: number;
  changed: number;
  outcomesChanged: number;
  refundsBefore: number;
  refundsAfter: number;
  moneyDifference: number;
  /** Absent from reports kept before they were counted. */
  escalationsBefore?: number;
  escalationsAfter?: number;
  messagesBefore?: number;
  messagesAfter?: number;
  messagesByTemplate?: Record<string, { before: number; after: number }>;
  deadlinesMissedBefore?: number;
  deadlinesMissedAfter?: number;
  refusedEvents?: number;
}
interface Report {
  currency: string;
  totals: Totals;
  cases: { caseId: string; version: number; skipped?: string; changes: string[] }[];
}

export function BacktestsPage({ session, route }: PageProps) {
  return route[1] ? <BacktestView session={session} id={route[1]} /> : <BacktestListView session={session} />;
}

function BacktestListView({ session }: { session: Session }) {
  const t = useT(MESSAGES);
  const [list, setList] = useState<BacktestList['backtests'] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<BacktestList>(session, 'GET', '/v1/backtests')
      .then((answer) => setList(answer.backtests))
      .catch((failure) => setError(String((failure as Error).message)));
  }, [session]);
  return (
    <section>
      <h1>{t('title')}</h1>
      {error && <p role="alert">{error}</p>}
      {list && list.length === 0 && <p>{t('none')}</p>}
      {list && list.length > 0 && (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('started')}</th>
              <th scope="col">{t('playbook')}</th>
              <th scope="col">{t('status')}</th>
              <th scope="col">{t('progress')}</th>
              <th scope="col">{t('by')}</th>
            </tr>
          </thead>
          <tbody>
            {list.map((b) => (
              <tr key={b.id} data-backtest={b.id}>
                <td>
                  <a href={`#/backtests/${b.id}`}>{formatTime(b.startedAt, session)}</a>
                </td>
                <td>
                  {b.playbook} {b.candidateVersion !== null && `v${b.candidateVersion} `}
                  <code>{b.candidateHash.slice(0, 12)}</code>
                </td>
                <td>{b.status}</td>
                <td>{t('of', { done: b.done, total: b.total })}</td>
                <td>{b.startedBy}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function BacktestView({ session, id }: { session: Session; id: string }) {
  const t = useT(MESSAGES);
  const [kept, setKept] = useState<KeptBacktest | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = () =>
      api<KeptBacktest>(session, 'GET', `/v1/backtests/${id}`)
        .then((answer) => {
          setKept(answer);
          // Its progress while it runs.
          if (answer.status === 'running') timer = setTimeout(read, 1_000);
        })
        .catch((failure) => setError(String((failure as Error).message)));
    void read();
    return () => clearTimeout(timer);
  }, [session, id]);
  const report = kept?.report as Report | null | undefined;
  const money = (minor: number, currency: string) => `${minor > 0 ? '+' : ''}${(minor / 100).toFixed(2)} ${currency}`;
  return (
    <section>
      <p>
        <a href="#/backtests">{t('back')}</a>
      </p>
      <h1>
        {t('title')}: {kept ? `${kept.playbook} ${kept.planHash.slice(0, 12)}` : id}
      </h1>
      {error && <p role="alert">{error}</p>}
      {kept && (
        <p data-backtest-status={kept.status}>
          {t('status')}: {kept.status} · {t('progress')}: <progress max={Math.max(kept.total, 1)} value={kept.done} aria-label={t('progress')} />{' '}
          {t('of', { done: kept.done, total: kept.total })}
        </p>
      )}
      {kept?.problem && <p role="alert">{t('problem', { problem: kept.problem })}</p>}
      {report && (
        <>
          <p data-totals="summary">
            {t('summary', {
              changed: report.totals.changed,
              rerun: report.totals.rerun,
              skipped: report.totals.skipped,
              outcomes: report.totals.outcomesChanged,
            })}
          </p>
          <p data-totals="money">
            {t('money', {
              before: report.totals.refundsBefore,
              after: report.totals.refundsAfter,
              difference: money(report.totals.moneyDifference, report.currency),
            })}
          </p>
          {report.totals.messagesBefore !== undefined && (
            <p data-totals="effects">
              {t('effects', {
                escalationsBefore: report.totals.escalationsBefore ?? 0,
                escalationsAfter: report.totals.escalationsAfter ?? 0,
                messagesBefore: report.totals.messagesBefore,
                messagesAfter: report.totals.messagesAfter ?? 0,
                missedBefore: report.totals.deadlinesMissedBefore ?? 0,
                missedAfter: report.totals.deadlinesMissedAfter ?? 0,
              })}
            </p>
          )}
          {report.totals.messagesByTemplate && Object.keys(report.totals.messagesByTemplate).length > 0 && (
            <p data-totals="templates">
              {t('templates', {
                list: Object.entries(report.totals.messagesByTemplate)
                  .map(([template, { before, after }]) => `${template} ${before} → ${after}`)
                  .join(', '),
              })}
            </p>
          )}
          {(report.totals.refusedEvents ?? 0) > 0 && <p data-totals="refused">{t('refused', { count: report.totals.refusedEvents ?? 0 })}</p>}
          {report.cases.length > 0 && (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('caseId')}</th>
                  <th scope="col">{t('changes')}</th>
                </tr>
              </thead>
              <tbody>
                {report.cases.map((c) => (
                  <tr key={c.caseId} data-case={c.caseId}>
                    <td>
                      {c.caseId} (v{c.version})
                    </td>
                    <td>
                      {c.skipped ? (
                        t('skipped', { why: c.skipped })
                      ) : c.changes.length === 0 ? (
                        t('noChange')
                      ) : (
                        <ul>
                          {c.changes.map((change) => (
                            <li key={change}>{change}</li>
                          ))}
                        </ul>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
      {kept && <BacktestDiff session={session} kept={kept} />}
    </section>
  );
}

/**
 * The tested version against its baseline. A candidate published after its backtest started is found
 * by its plan's hash; a backtest kept before baselines were recorded is compared with the current version.
 */
function BacktestDiff({ session, kept }: { session: Session; kept: KeptBacktest }) {
  const t = useT(MESSAGES);
  const [versions, setVersions] = useState<PlaybookVersions | null>(null);
  useEffect(() => {
    // No diff when the playbook cannot be read: the report stands on its own.
    api<PlaybookVersions>(session, 'GET', `/v1/playbooks/${encodeURIComponent(kept.playbook)}`).then(setVersions, () => setVersions(null));
  }, [session, kept.playbook]);
  if (!versions) return null;
  const base = kept.baseline?.version ?? versions.current;
  const tested = kept.candidateVersion ?? versions.versions.find((v) => v.hash === kept.candidateHash)?.version;
  return (
    <section class="backtest-diff" aria-labelledby="backtest-diff-title">
      <h2 id="backtest-diff-title">{tested === undefined ? t('diffTitle', { version: '?', base }) : t('diffTitle', { version: tested, base })}</h2>
      {tested === undefined ? (
        <p data-diff="unpublished">{t('notPublished', { name: kept.playbook, hash: kept.planHash.slice(0, 12), base })}</p>
      ) : tested === base ? (
        <p data-diff="baseline">{t('isBaseline', { version: tested })}</p>
      ) : (
        <>
          <p>
            <a href={`#/playbooks/${encodeURIComponent(kept.playbook)}/${tested}/diff/${base}`}>{t('fullDiff')}</a>
          </p>
          <VersionDiff session={session} name={kept.playbook} base={base} version={tested} currentVersion={versions.current} headingLevel={3} />
        </>
      )}
    </section>
  );
}
