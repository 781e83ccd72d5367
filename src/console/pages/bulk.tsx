/**
 * Bulk operations (#/bulk, ops leads and admins): choose cases with the case list's filters and an
 * operation, see the dry run's count and sample, run it with the dry run's confirmation, and follow the
 * job (#/bulk/<id>): its progress, then each case skipped or failed and why, and for a move to another
 * version (started from the Move cases page) each case moved too, with what changed for it
 * (docs/bulk-operations.md).
 */
import { useEffect, useState } from 'preact/hooks';
import type { BulkDryRun, BulkJob, BulkJobList, BulkReport } from '../../api-contract/bulk.js';
import { api, ApiProblem } from '../api.js';
import { formatTime } from '../format.js';
import { useT, type Messages } from '../i18n.js';
import type { PageProps } from '../pages.js';
import type { Session } from '../session.js';
import { CASE_STATUSES, STATUS_MESSAGES } from './case-status.js';

type Key =
  | 'title'
  | 'form'
  | 'operation'
  | 'cancel'
  | 'retry'
  | 'escalate'
  | 'selection'
  | 'playbook'
  | 'version'
  | 'step'
  | 'status'
  | 'anyStatus'
  | 'breached'
  | 'reason'
  | 'queue'
  | 'severity'
  | 'rate'
  | 'dryRun'
  | 'matches'
  | 'sample'
  | 'caseId'
  | 'run'
  | 'nothing'
  | 'tooMany'
  | 'job'
  | 'progress'
  | 'counts'
  | 'running'
  | 'finished'
  | 'report'
  | 'migrateReport'
  | 'state'
  | 'why'
  | 'at'
  | 'recent'
  | 'by'
  | 'none'
  | 'back';

const MESSAGES: Messages<Key> = {
  en: {
    title: 'Bulk operations',
    form: 'Choose the cases and the operation',
    operation: 'Operation',
    cancel: 'Cancel (with a reason)',
    retry: 'Retry the failed step',
    escalate: 'Escalate',
    selection: 'Cases',
    playbook: 'Playbook',
    version: 'Version',
    step: 'Current step',
    status: 'Status',
    anyStatus: 'Any status',
    breached: 'Breached a deadline',
    reason: 'Reason (recorded with your name)',
    queue: 'Queue',
    severity: 'Severity',
    rate: 'Cases per second',
    dryRun: 'Dry run',
    matches: '{count} cases match.',
    sample: 'The first cases',
    caseId: 'Case',
    run: 'Run on {count} cases',
    nothing: 'No case matches: nothing to run.',
    tooMany: 'More than {limit} cases match: narrow the selection.',
    job: 'Job {id}: {operation}',
    progress: 'Progress',
    counts: '{reached} of {total} reached: {done} done, {skipped} skipped, {failed} failed',
    running: 'Running',
    finished: 'Finished',
    report: 'Cases not done, and why',
    migrateReport: 'Each case: moved and what changed for it, or why it stayed',
    state: 'Result',
    why: 'Why',
    at: 'When',
    recent: 'Recent jobs',
    by: 'By',
    none: 'No bulk job yet.',
    back: 'All bulk operations',
  },
  zh: {
    title: '批量操作',
    form: '选择工单与操作',
    operation: '操作',
    cancel: '取消（需填写原因）',
    retry: '重试失败步骤',
    escalate: '升级',
    selection: '工单',
    playbook: '剧本',
    version: '版本',
    step: '当前步骤',
    status: '状态',
    anyStatus: '任意状态',
    breached: '已超时',
    reason: '原因（将与您的名字一起记录）',
    queue: '队列',
    severity: '严重程度',
    rate: '每秒处理工单数',
    dryRun: '试运行',
    matches: '共 {count} 个工单符合条件。',
    sample: '前几个工单',
    caseId: '工单',
    run: '对 {count} 个工单执行',
    nothing: '没有符合条件的工单。',
    tooMany: '符合条件的工单超过 {limit} 个：请缩小范围。',
    job: '任务 {id}：{operation}',
    progress: '进度',
    counts: '已处理 {reached}/{total}：完成 {done}，跳过 {skipped}，失败 {failed}',
    running: '进行中',
    finished: '已完成',
    report: '未完成的工单及原因',
    migrateReport: '每个工单：已迁移及其变化，或未迁移的原因',
    state: '结果',
    why: '原因',
    at: '时间',
    recent: '最近的任务',
    by: '执行人',
    none: '暂无批量任务。',
    back: '全部批量操作',
  },
};

interface Draft {
  operation: 'cancel' | 'retry' | 'escalate';
  playbook: string;
  version: string;
  step: string;
  status: string;
  breached: boolean;
  reason: string;
  queue: string;
  severity: string;
  rate: string;
}

const EMPTY: Draft = {
  operation: 'cancel',
  playbook: '',
  version: '',
  step: '',
  status: '',
  breached: false,
  reason: '',
  queue: '',
  severity: 'medium',
  rate: '10',
};

/** The request the dry run and the run send, from the form. */
function requestOf(draft: Draft): Record<string, unknown> {
  const selection: Record<string, unknown> = {};
  if (draft.playbook.trim()) selection.playbook = draft.playbook.trim();
  if (draft.version.trim()) selection.version = Number(draft.version);
  if (draft.step.trim()) selection.step = draft.step.trim();
  if (draft.status) selection.status = draft.status;
  if (draft.breached) selection.breached = 'true';
  return {
    operation: draft.operation,
    selection,
    reason: draft.reason.trim(),
    ...(draft.operation === 'escalate' ? { queue: draft.queue.trim(), severity: draft.severity } : {}),
  };
}

const why = (failure: unknown) =>
  failure instanceof ApiProblem
    ? [failure.message, ...((failure.problem.errors as { pointer: string; message: string }[] | undefined) ?? []).map((e) => `${e.pointer} ${e.message}`)].join(
        ' · ',
      )
    : String(failure);

export function BulkPage({ session, route }: PageProps) {
  return route[1] ? <JobView session={session} id={route[1]} /> : <BulkForm session={session} />;
}

function BulkForm({ session }: { session: Session }) {
  const t = useT(MESSAGES);
  const tStatus = useT(STATUS_MESSAGES);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [dry, setDry] = useState<{ answer: BulkDryRun; request: Record<string, unknown> } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [jobs, setJobs] = useState<BulkJob[] | null>(null);

  useEffect(() => {
    api<BulkJobList>(session, 'GET', '/v1/bulk-operations')
      .then((list) => setJobs(list.jobs))
      .catch((failure) => setError(why(failure)));
  }, [session]);

  const set = (patch: Partial<Draft>) => {
    setDraft({ ...draft, ...patch });
    setDry(null);
  };
  const text = (name: 'playbook' | 'version' | 'step' | 'reason' | 'queue' | 'rate') => ({
    id: `bulk-${name}`,
    name,
    value: draft[name],
    onInput: (event: Event) => set({ [name]: (event.currentTarget as HTMLInputElement).value }),
  });

  const dryRun = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const request = requestOf(draft);
    try {
      setDry({ answer: await api<BulkDryRun>(session, 'POST', '/v1/bulk-operations/dry-run', request), request });
    } catch (failure) {
      setError(why(failure));
    }
    setBusy(false);
  };

  const run = async () => {
    if (!dry) return;
    setBusy(true);
    try {
      const job = await api<BulkJob>(session, 'POST', '/v1/bulk-operations', {
        ...dry.request,
        confirmation: dry.answer.confirmation,
        ratePerSecond: Number(draft.rate) || 10,
      });
      location.hash = `#/bulk/${job.id}`;
    } catch (failure) {
      setError(why(failure));
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="bulk-title">
      <h1 id="bulk-title">{t('title')}</h1>
      <form class="filters" aria-label={t('form')} onSubmit={(event) => void dryRun(event)}>
        <label for="bulk-operation">
          {t('operation')}
          <select
            id="bulk-operation"
            name="operation"
            value={draft.operation}
            onChange={(event) => set({ operation: event.currentTarget.value as Draft['operation'] })}
          >
            <option value="cancel">{t('cancel')}</option>
            <option value="retry">{t('retry')}</option>
            <option value="escalate">{t('escalate')}</option>
          </select>
        </label>
        <label for="bulk-playbook">
          {t('playbook')}
          <input type="text" {...text('playbook')} maxLength={64} />
        </label>
        <label for="bulk-version">
          {t('version')}
          <input type="number" min={1} {...text('version')} />
        </label>
        <label for="bulk-step">
          {t('step')}
          <input type="text" {...text('step')} maxLength={100} />
        </label>
        <label for="bulk-status">
          {t('status')}
          <select id="bulk-status" name="status" value={draft.status} onChange={(event) => set({ status: event.currentTarget.value })}>
            <option value="">{t('anyStatus')}</option>
            {CASE_STATUSES.map((status) => (
              <option key={status} value={status}>
                {tStatus(status)}
              </option>
            ))}
          </select>
        </label>
        <label class="check" for="bulk-breached">
          <input
            type="checkbox"
            id="bulk-breached"
            name="breached"
            checked={draft.breached}
            onChange={(event) => set({ breached: event.currentTarget.checked })}
          />
          {t('breached')}
        </label>
        <label for="bulk-reason">
          {t('reason')}
          <input type="text" {...text('reason')} maxLength={500} required />
        </label>
        {draft.operation === 'escalate' && (
          <>
            <label for="bulk-queue">
              {t('queue')}
              <input type="text" {...text('queue')} maxLength={100} required />
            </label>
            <label for="bulk-severity">
              {t('severity')}
              <select id="bulk-severity" name="severity" value={draft.severity} onChange={(event) => set({ severity: event.currentTarget.value })}>
                {['low', 'medium', 'high', 'critical'].map((severity) => (
                  <option key={severity} value={severity}>
                    {severity}
                  </option>
                ))}
              </select>
            </label>
          </>
        )}
        <label for="bulk-rate">
          {t('rate')}
          <input type="number" min={1} max={50} {...text('rate')} />
        </label>
        <div class="actions">
          <button type="submit" disabled={busy || draft.reason.trim() === ''}>
            {t('dryRun')}
          </button>
        </div>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {dry && (
        <div class="bulk-dry-run">
          <p role="status">{t('matches', { count: dry.answer.count })}</p>
          {dry.answer.sample.length > 0 && (
            <table>
              <caption>{t('sample')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('caseId')}</th>
                  <th scope="col">{t('playbook')}</th>
                  <th scope="col">{t('status')}</th>
                  <th scope="col">{t('step')}</th>
                </tr>
              </thead>
              <tbody>
                {dry.answer.sample.map((c) => (
                  <tr key={c.caseId}>
                    <td>
                      <a href={`#/cases/${encodeURIComponent(c.caseId)}`}>{c.caseId}</a>
                    </td>
                    <td>
                      {c.playbook} v{c.version}
                    </td>
                    <td>{c.status}</td>
                    <td class="mono">{c.step ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {dry.answer.count === 0 ? (
            <p>{t('nothing')}</p>
          ) : dry.answer.count > dry.answer.limit ? (
            <p class="error">{t('tooMany', { limit: dry.answer.limit })}</p>
          ) : (
            <button type="button" onClick={() => void run()} disabled={busy}>
              {t('run', { count: dry.answer.count })}
            </button>
          )}
        </div>
      )}
      <h2>{t('recent')}</h2>
      {jobs && jobs.length === 0 && <p>{t('none')}</p>}
      {jobs && jobs.length > 0 && (
        <ul class="bulk-jobs">
          {jobs.map((job) => (
            <li key={job.id}>
              <a href={`#/bulk/${job.id}`}>{t('job', { id: job.id, operation: job.operation })}</a>{' '}
              <span class="muted">
                {job.createdBy.name} · {formatTime(job.createdAt, session)} · {job.progress.total - job.progress.pending}/{job.progress.total}
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function JobView({ session, id }: { session: Session; id: string }) {
  const t = useT(MESSAGES);
  const [job, setJob] = useState<BulkJob | null>(null);
  const [report, setReport] = useState<BulkReport['cases'] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    const read = async () => {
      try {
        const shown = await api<BulkJob>(session, 'GET', `/v1/bulk-operations/${encodeURIComponent(id)}`);
        if (stopped) return;
        setJob(shown);
        if (shown.status === 'running') {
          setTimeout(() => void read(), 1_000);
          return;
        }
        const notDone: BulkReport['cases'] = [];
        // A move to another version says for each case moved what changed for it: those are listed too.
        for (const state of shown.operation === 'migrate' ? (['done', 'skipped', 'failed'] as const) : (['skipped', 'failed'] as const)) {
          notDone.push(...(await api<BulkReport>(session, 'GET', `/v1/bulk-operations/${encodeURIComponent(id)}/cases?state=${state}&limit=1000`)).cases);
        }
        if (!stopped) setReport(notDone.sort((a, b) => a.position - b.position));
      } catch (failure) {
        if (!stopped) setError(why(failure));
      }
    };
    void read();
    return () => {
      stopped = true;
    };
  }, [session, id]);

  const reached = job ? job.progress.total - job.progress.pending : 0;
  return (
    <section aria-labelledby="bulk-job-title">
      <p>
        <a href="#/bulk">{t('back')}</a>
      </p>
      <h1 id="bulk-job-title">{job ? t('job', { id: job.id, operation: job.operation }) : id}</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {job && (
        <>
          <p>
            {t('by')}: {job.createdBy.name} · {formatTime(job.createdAt, session)} · <q>{job.params.reason}</q>
          </p>
          <label for="bulk-progress">{t('progress')}</label>{' '}
          <progress id="bulk-progress" max={Math.max(job.progress.total, 1)} value={job.progress.total === 0 ? 1 : reached} />
          <p role="status" class="bulk-counts">
            {job.status === 'running' ? t('running') : t('finished')}:{' '}
            {t('counts', { reached, total: job.progress.total, done: job.progress.done, skipped: job.progress.skipped, failed: job.progress.failed })}
          </p>
        </>
      )}
      {report && report.length > 0 && (
        <table>
          <caption>{job?.operation === 'migrate' ? t('migrateReport') : t('report')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('caseId')}</th>
              <th scope="col">{t('state')}</th>
              <th scope="col">{t('why')}</th>
              <th scope="col">{t('at')}</th>
            </tr>
          </thead>
          <tbody>
            {report.map((c) => (
              <tr key={c.caseId} data-case={c.caseId}>
                <td>
                  <a href={`#/cases/${encodeURIComponent(c.caseId)}`}>{c.caseId}</a>
                </td>
                <td>{c.state}</td>
                <td>{c.detail ?? '—'}</td>
                <td>{c.at ? formatTime(c.at, session) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
