/**
 * Moving running cases to another version (#/migrations[/<playbook>[/<version>]], ops leads and admins):
 * choose the playbook and the version to move its open cases to, map step ids the new version renamed,
 * preview what each case would go through (whether it can move, why not, how its deadlines change), and
 * confirm: the move runs as a bulk job, followed on the Bulk operations page (docs/console.md).
 */
import { useEffect, useState } from 'preact/hooks';
import type { BulkJob } from '../../api-contract/bulk.js';
import type { MigrationPreview } from '../../api-contract/migrations.js';
import type { PlaybookVersions, PublishedPlaybooks } from '../../api-contract/playbooks.js';
import { api, ApiProblem } from '../api.js';
import { useT, type Messages } from '../i18n.js';
import type { PageProps } from '../pages.js';
import type { Session } from '../session.js';
import './migrations.css';

type Key =
  | 'title'
  | 'intro'
  | 'form'
  | 'playbook'
  | 'choose'
  | 'toVersion'
  | 'fromVersion'
  | 'anyVersion'
  | 'version'
  | 'current'
  | 'mapping'
  | 'mappingHint'
  | 'oldStep'
  | 'newStep'
  | 'addMapping'
  | 'removeMapping'
  | 'limit'
  | 'preview'
  | 'loading'
  | 'failed'
  | 'summary'
  | 'casesCaption'
  | 'caseId'
  | 'from'
  | 'status'
  | 'step'
  | 'movable'
  | 'yes'
  | 'no'
  | 'what'
  | 'noChange'
  | 'nothing'
  | 'reason'
  | 'move'
  | 'diff';

const MESSAGES: Messages<Key> = {
  en: {
    title: 'Move cases to another version',
    intro:
      'Open cases keep the version they started on. Here they move to another one at the step they wait at; each move is recorded in the case’s history and the audit trail.',
    form: 'Choose the playbook and the version',
    playbook: 'Playbook',
    choose: 'Choose…',
    toVersion: 'Move to version',
    fromVersion: 'Only cases on version',
    anyVersion: 'any other version',
    version: 'v{version}',
    current: 'v{version} (current)',
    mapping: 'Step mapping',
    mappingHint: 'Where the new version renamed a step: the old id and the new one.',
    oldStep: 'Old step id',
    newStep: 'New step id',
    addMapping: 'Add a step mapping',
    removeMapping: 'Remove the mapping of {step}',
    limit: 'At most this many cases',
    preview: 'Preview',
    loading: 'Loading…',
    failed: 'Could not load: {detail}',
    summary: '{movable} of {count} open cases can move to v{version}.',
    casesCaption: 'The open cases of {name} and what moving them to v{version} does',
    caseId: 'Case',
    from: 'Version',
    status: 'Status',
    step: 'Step',
    movable: 'Can move',
    yes: 'yes',
    no: 'no',
    what: 'What changes, or why it stays',
    noChange: 'no deadline changes',
    nothing: 'No open case to move.',
    reason: 'Reason (recorded with your name)',
    move: 'Move {count} cases to v{version}',
    diff: 'What v{version} changes against v{base}',
  },
  zh: {
    title: '将工单迁移到其他版本',
    intro: '已开启的工单保持开启时的版本。在这里可以把它们在所等待的步骤迁移到另一个版本；每次迁移都记录在工单历史和审计记录中。',
    form: '选择剧本和版本',
    playbook: '剧本',
    choose: '请选择…',
    toVersion: '迁移到版本',
    fromVersion: '仅限该版本的工单',
    anyVersion: '其他任意版本',
    version: '第 {version} 版',
    current: '第 {version} 版（当前）',
    mapping: '步骤映射',
    mappingHint: '新版本中改了名的步骤：旧 id 和新 id。',
    oldStep: '旧步骤 id',
    newStep: '新步骤 id',
    addMapping: '添加步骤映射',
    removeMapping: '删除 {step} 的映射',
    limit: '最多工单数',
    preview: '预览',
    loading: '加载中…',
    failed: '加载失败：{detail}',
    summary: '{count} 个开启的工单中有 {movable} 个可以迁移到第 {version} 版。',
    casesCaption: '{name} 的开启工单，以及迁移到第 {version} 版的影响',
    caseId: '工单',
    from: '版本',
    status: '状态',
    step: '步骤',
    movable: '可迁移',
    yes: '是',
    no: '否',
    what: '变化，或不迁移的原因',
    noChange: '期限不变',
    nothing: '没有可迁移的开启工单。',
    reason: '原因（将与您的名字一起记录）',
    move: '将 {count} 个工单迁移到第 {version} 版',
    diff: '第 {version} 版相对第 {base} 版的改动',
  },
};

interface Draft {
  toVersion: string;
  fromVersion: string;
  mapping: { from: string; to: string }[];
  limit: string;
}

const why = (failure: unknown) =>
  failure instanceof ApiProblem
    ? [failure.message, ...((failure.problem.errors as { pointer: string; message: string }[] | undefined) ?? []).map((e) => `${e.pointer} ${e.message}`)].join(
        ' · ',
      )
    : String(failure);

/** The request body the preview and the move send, from the form. */
function requestOf(draft: Draft): Record<string, unknown> {
  const mapping = Object.fromEntries(draft.mapping.filter((m) => m.from.trim() && m.to.trim()).map((m) => [m.from.trim(), m.to.trim()]));
  return {
    toVersion: Number(draft.toVersion),
    ...(Object.keys(mapping).length > 0 ? { mapping } : {}),
    ...(draft.fromVersion ? { fromVersion: Number(draft.fromVersion) } : {}),
  };
}

export function MigrationsPage({ session, route }: PageProps) {
  const name = route[1];
  const version = route[2] && /^[1-9][0-9]{0,8}$/.test(route[2]) ? route[2] : '';
  return <MigrationForm key={name ?? ''} session={session} name={name} initialVersion={version} />;
}

function MigrationForm({ session, name, initialVersion }: { session: Session; name: string | undefined; initialVersion: string }) {
  const t = useT(MESSAGES);
  const [playbooks, setPlaybooks] = useState<string[] | null>(null);
  const [versions, setVersions] = useState<PlaybookVersions | null>(null);
  const [draft, setDraft] = useState<Draft>({ toVersion: initialVersion, fromVersion: '', mapping: [], limit: '100' });
  const [preview, setPreview] = useState<{ answer: MigrationPreview; request: Record<string, unknown> } | null>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api<PublishedPlaybooks>(session, 'GET', '/v1/playbooks').then(
      (list) => setPlaybooks(list.playbooks.map((p) => p.name)),
      (failure) => setError(t('failed', { detail: why(failure) })),
    );
  }, [session]);
  useEffect(() => {
    if (!name) return;
    api<PlaybookVersions>(session, 'GET', `/v1/playbooks/${encodeURIComponent(name)}`).then(
      (found) => {
        setVersions(found);
        setDraft((d) => (d.toVersion ? d : { ...d, toVersion: String(found.current) }));
      },
      (failure) => setError(t('failed', { detail: why(failure) })),
    );
  }, [session, name]);

  const set = (patch: Partial<Draft>) => {
    setDraft({ ...draft, ...patch });
    setPreview(null);
  };
  const setMapping = (index: number, patch: Partial<Draft['mapping'][number]>) =>
    set({ mapping: draft.mapping.map((m, i) => (i === index ? { ...m, ...patch } : m)) });

  const runPreview = async (event: Event) => {
    event.preventDefault();
    if (!name || !draft.toVersion) return;
    setBusy(true);
    setError(null);
    const request = requestOf(draft);
    try {
      const answer = await api<MigrationPreview>(session, 'POST', `/v1/playbooks/${encodeURIComponent(name)}/migrations/preview`, {
        ...request,
        limit: Math.min(Math.max(Number(draft.limit) || 100, 1), 500),
      });
      setPreview({ answer, request });
    } catch (failure) {
      setError(why(failure));
    }
    setBusy(false);
  };

  const move = async () => {
    if (!name || !preview) return;
    setBusy(true);
    setError(null);
    try {
      const job = await api<BulkJob>(session, 'POST', `/v1/playbooks/${encodeURIComponent(name)}/migrations`, {
        ...preview.request,
        reason: reason.trim(),
        confirmation: preview.answer.confirmation,
      });
      location.hash = `#/bulk/${job.id}`;
    } catch (failure) {
      setError(why(failure));
      setBusy(false);
    }
  };

  const label = (v: number) => (v === versions?.current ? t('current', { version: v }) : t('version', { version: v }));
  const to = Number(draft.toVersion);
  return (
    <section aria-labelledby="migrations-title">
      <h1 id="migrations-title">{t('title')}</h1>
      <p>{t('intro')}</p>
      <form class="filters migration-form" aria-label={t('form')} onSubmit={(event) => void runPreview(event)}>
        <label for="migration-playbook">
          {t('playbook')}
          <select
            id="migration-playbook"
            value={name ?? ''}
            onChange={(event) => {
              location.hash = `#/migrations/${encodeURIComponent(event.currentTarget.value)}`;
            }}
          >
            <option value="">{t('choose')}</option>
            {playbooks?.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        {name && versions && (
          <>
            <label for="migration-to">
              {t('toVersion')}
              <select id="migration-to" value={draft.toVersion} onChange={(event) => set({ toVersion: event.currentTarget.value })}>
                {versions.versions.map((v) => (
                  <option key={v.version} value={String(v.version)}>
                    {label(v.version)}
                  </option>
                ))}
              </select>
            </label>
            <label for="migration-from">
              {t('fromVersion')}
              <select id="migration-from" value={draft.fromVersion} onChange={(event) => set({ fromVersion: event.currentTarget.value })}>
                <option value="">{t('anyVersion')}</option>
                {versions.versions
                  .filter((v) => v.version !== to)
                  .map((v) => (
                    <option key={v.version} value={String(v.version)}>
                      {label(v.version)}
                    </option>
                  ))}
              </select>
            </label>
            <label for="migration-limit">
              {t('limit')}
              <input id="migration-limit" type="number" min={1} max={500} value={draft.limit} onInput={(event) => set({ limit: event.currentTarget.value })} />
            </label>
            <fieldset class="migration-mapping">
              <legend>{t('mapping')}</legend>
              <p class="hint">{t('mappingHint')}</p>
              {draft.mapping.map((m, i) => (
                <div key={i} class="mapping-row" data-mapping={i}>
                  <label>
                    {t('oldStep')}
                    <input value={m.from} spellcheck={false} maxLength={100} onInput={(event) => setMapping(i, { from: event.currentTarget.value })} />
                  </label>
                  <span aria-hidden="true">→</span>
                  <label>
                    {t('newStep')}
                    <input value={m.to} spellcheck={false} maxLength={100} onInput={(event) => setMapping(i, { to: event.currentTarget.value })} />
                  </label>
                  <button
                    type="button"
                    class="secondary"
                    aria-label={t('removeMapping', { step: m.from || String(i + 1) })}
                    onClick={() => set({ mapping: draft.mapping.filter((_, k) => k !== i) })}
                  >
                    ×
                  </button>
                </div>
              ))}
              <button type="button" class="secondary" onClick={() => set({ mapping: [...draft.mapping, { from: '', to: '' }] })}>
                {t('addMapping')}
              </button>
            </fieldset>
            <div class="actions">
              <button type="submit" disabled={busy || !draft.toVersion}>
                {t('preview')}
              </button>
              {draft.toVersion && to !== versions.current && (
                <a href={`#/playbooks/${encodeURIComponent(name)}/${to}/diff`}>{t('diff', { version: to, base: versions.current })}</a>
              )}
            </div>
          </>
        )}
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {busy && !preview && <p role="status">{t('loading')}</p>}
      {preview && name && (
        <div class="migration-preview">
          <p role="status" data-summary>
            {t('summary', { movable: preview.answer.movable, count: preview.answer.count, version: preview.answer.toVersion })}
          </p>
          {preview.answer.cases.length === 0 ? (
            <p>{t('nothing')}</p>
          ) : (
            <table>
              <caption>{t('casesCaption', { name, version: preview.answer.toVersion })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('caseId')}</th>
                  <th scope="col">{t('from')}</th>
                  <th scope="col">{t('status')}</th>
                  <th scope="col">{t('step')}</th>
                  <th scope="col">{t('movable')}</th>
                  <th scope="col">{t('what')}</th>
                </tr>
              </thead>
              <tbody>
                {preview.answer.cases.map((c) => (
                  <tr key={c.caseId} data-case={c.caseId} data-movable={String(c.movable)}>
                    <td>
                      <a href={`#/cases/${encodeURIComponent(c.caseId)}`}>{c.caseId}</a>
                    </td>
                    <td>{t('version', { version: c.fromVersion })}</td>
                    <td>{c.status}</td>
                    <td class="mono">
                      {c.step ?? '—'}
                      {c.toStep && c.toStep !== c.step ? ` → ${c.toStep}` : ''}
                    </td>
                    <td>{c.movable ? t('yes') : <strong class="unmovable">{t('no')}</strong>}</td>
                    <td>
                      {c.movable ? (
                        c.changes.length === 0 ? (
                          <span class="muted">{t('noChange')}</span>
                        ) : (
                          <ul>
                            {c.changes.map((change) => (
                              <li key={`${change.kind}:${change.step}`} data-change={change.kind}>
                                {change.text}
                              </li>
                            ))}
                          </ul>
                        )
                      ) : (
                        <ul>
                          {c.reasons.map((reasonText) => (
                            <li key={reasonText} data-reason>
                              {reasonText}
                            </li>
                          ))}
                        </ul>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {preview.answer.movable > 0 && (
            <form
              class="filters"
              onSubmit={(event) => {
                event.preventDefault();
                void move();
              }}
            >
              <label for="migration-reason">
                {t('reason')}
                <input id="migration-reason" value={reason} maxLength={500} required onInput={(event) => setReason(event.currentTarget.value)} />
              </label>
              <div class="actions">
                <button type="submit" disabled={busy || reason.trim() === ''}>
                  {t('move', { count: preview.answer.movable, version: preview.answer.toVersion })}
                </button>
              </div>
            </form>
          )}
        </div>
      )}
    </section>
  );
}
