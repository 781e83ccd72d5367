/**
 * Playbooks: the published playbooks (#/playbooks), and one playbook (#/playbooks/<name>[/<version>]):
 * its versions and which is current (what new cases take) with the changes that made it so, the
 * version's YAML with its warnings at their lines, its flow graph with the path a case took, and for
 * ops leads and admins the box that validates edited YAML and publishes it, and the form that makes
 * the version shown current.
 */
import { useEffect, useState } from 'preact/hooks';
import type { CaseHistory, CaseView } from '../../api-contract/cases.js';
import type {
  Approval,
  Approved,
  CurrentChange,
  Diagnostic,
  MadeCurrent,
  FlowGraph,
  PlaybookSummary,
  PlaybookVersion,
  PlaybookVersionDetail,
  PlaybookVersions,
  PublishedPlaybooks,
} from '../../api-contract/playbooks.js';
import { api, ApiProblem } from '../api.js';
import { formatTime } from '../format.js';
import { FlowDiagram, type PathStep } from '../graph.js';
import { useT, type Messages, type Translate } from '../i18n.js';
import type { PageProps } from '../pages.js';
import type { Session } from '../session.js';
import { PlaybookDiffPage } from './playbook-diff.js';
import { PlaybookEditor } from './playbook-editor.js';
import './playbooks.css';

/** Where a case took the flow: its steps in order, the step it is at now last. */
interface CasePath {
  caseId: string;
  version: number;
  steps: PathStep[];
}

type Key =
  | 'title'
  | 'caption'
  | 'name'
  | 'latest'
  | 'current'
  | 'currentMark'
  | 'approvalRequired'
  | 'approveLabel'
  | 'approve'
  | 'approved'
  | 'approvedBy'
  | 'currentTitle'
  | 'currentIs'
  | 'changesCaption'
  | 'changedAt'
  | 'change'
  | 'changedBy'
  | 'why'
  | 'noVersion'
  | 'reasonLabel'
  | 'makeCurrent'
  | 'madeCurrent'
  | 'versions'
  | 'publishedAt'
  | 'publishedBy'
  | 'unknownPublisher'
  | 'none'
  | 'loading'
  | 'version'
  | 'noPlaybook'
  | 'failed'
  | 'allPlaybooks'
  | 'versionsCaption'
  | 'selected'
  | 'flow'
  | 'flowTitle'
  | 'flowHelp'
  | 'caseLabel'
  | 'showPath'
  | 'clearPath'
  | 'pathOf'
  | 'pathOtherVersion'
  | 'noCase'
  | 'otherPlaybook'
  | 'yaml'
  | 'yamlRegion'
  | 'warnings'
  | 'noWarnings'
  | 'lineColumn'
  | 'flowRegion'
  | 'versionsTitle'
  | 'compare'
  | 'diffAgainst'
  | 'moveCases';

export const PLAYBOOKS_MESSAGES: Messages<Key> = {
  en: {
    title: 'Playbooks',
    caption: 'Published playbooks and their latest versions; times in the shop’s time zone.',
    name: 'Playbook',
    latest: 'Latest version',
    current: 'Current version',
    currentMark: 'current',
    currentTitle: 'Current version',
    currentIs: 'Version {version} is current: new cases take it. Cases already open keep their version.',
    changesCaption: 'Changes of the current version of {name}, latest first',
    changedAt: 'When',
    change: 'Change',
    changedBy: 'By',
    why: 'Reason',
    noVersion: 'none',
    reasonLabel: 'Why make version {version} current',
    makeCurrent: 'Make v{version} current',
    madeCurrent: 'Version {version} is now current.',
    approvalRequired: 'A version becomes current only once an ops lead other than its publisher approved it.',
    approveLabel: 'Why approve version {version}',
    approve: 'Approve v{version}',
    approved: 'Version {version} is approved.',
    approvedBy: 'v{version} approved by {name}: {reason}',
    versions: 'Versions',
    publishedAt: 'Published',
    publishedBy: 'Published by',
    unknownPublisher: 'not recorded',
    none: 'No playbook is published yet.',
    loading: 'Loading…',
    version: 'v{version}',
    noPlaybook: 'No playbook named {name} is published.',
    failed: 'Could not load: {detail}',
    allPlaybooks: 'All playbooks',
    versionsCaption: 'The versions of {name}, oldest first',
    selected: '(shown)',
    flow: 'Flow',
    flowTitle: 'The flow of {name} version {version}: {steps} steps',
    flowRegion: 'Flow graph, scrollable',
    flowHelp: 'Boxes act, hexagons decide, slanted boxes wait, rounded ends close the case. Enter a case id to mark the path it took.',
    caseLabel: 'Case id',
    showPath: 'Show its path',
    clearPath: 'Clear',
    pathOf: 'Case {caseId} went: {path}',
    pathOtherVersion: 'Case {caseId} runs version {version}: showing that version.',
    noCase: 'No case {caseId}.',
    otherPlaybook: 'Case {caseId} runs playbook {playbook}, not {name}.',
    yaml: 'YAML',
    yamlRegion: 'The YAML of version {version}, scrollable',
    warnings: '{count} diagnostic(s) when checked now, marked at their lines:',
    noWarnings: 'No diagnostics when checked now.',
    lineColumn: 'line {line}:{column}',
    versionsTitle: 'Versions',
    compare: 'Compare',
    diffAgainst: 'Diff against v{version}',
    moveCases: 'Move open cases to v{version}',
  },
  zh: {
    title: '剧本',
    caption: '已发布的剧本及其最新版本；时间为店铺所在时区。',
    name: '剧本',
    latest: '最新版本',
    current: '当前版本',
    currentMark: '当前',
    currentTitle: '当前版本',
    currentIs: '当前版本为第 {version} 版：新工单使用此版本，已开启的工单保持原版本。',
    changesCaption: '{name} 当前版本的变更记录（最新在前）',
    changedAt: '时间',
    change: '变更',
    changedBy: '操作人',
    why: '原因',
    noVersion: '无',
    reasonLabel: '将第 {version} 版设为当前版本的原因',
    makeCurrent: '将第 {version} 版设为当前版本',
    madeCurrent: '第 {version} 版已成为当前版本。',
    approvalRequired: '版本须经发布人以外的运营主管批准后才能成为当前版本。',
    approveLabel: '批准第 {version} 版的理由',
    approve: '批准第 {version} 版',
    approved: '第 {version} 版已批准。',
    approvedBy: '第 {version} 版由 {name} 批准：{reason}',
    versions: '版本数',
    publishedAt: '发布时间',
    publishedBy: '发布人',
    unknownPublisher: '未记录',
    none: '尚未发布任何剧本。',
    loading: '加载中…',
    version: '第 {version} 版',
    noPlaybook: '没有已发布的剧本 {name}。',
    failed: '加载失败：{detail}',
    allPlaybooks: '全部剧本',
    versionsCaption: '{name} 的各个版本（按发布先后）',
    selected: '（当前显示）',
    flow: '流程',
    flowTitle: '{name} 第 {version} 版的流程：共 {steps} 个步骤',
    flowRegion: '流程图（可滚动）',
    flowHelp: '方框为动作，六边形为判断，斜框为等待，圆角框为结束。输入工单号可标出该工单走过的路径。',
    caseLabel: '工单号',
    showPath: '显示路径',
    clearPath: '清除',
    pathOf: '工单 {caseId} 的路径：{path}',
    pathOtherVersion: '工单 {caseId} 运行的是第 {version} 版，已切换到该版本。',
    noCase: '没有工单 {caseId}。',
    otherPlaybook: '工单 {caseId} 运行的是剧本 {playbook}，不是 {name}。',
    yaml: 'YAML',
    yamlRegion: '第 {version} 版的 YAML（可滚动）',
    warnings: '按当前规则检查有 {count} 条诊断，已标在对应行：',
    noWarnings: '按当前规则检查没有诊断。',
    lineColumn: '第 {line} 行第 {column} 列',
    versionsTitle: '版本',
    compare: '对比',
    diffAgainst: '与第 {version} 版对比',
    moveCases: '将开启的工单迁移到第 {version} 版',
  },
};

const NO_PATH: PathStep[] = [];

const detailOf = (failure: unknown): string => (failure instanceof Error ? failure.message : String(failure));

export function PlaybooksPage({ session, route }: PageProps) {
  if (!route[1]) return <PlaybookList session={session} />;
  const versionIn = (part: string | undefined) => (part && /^[1-9][0-9]{0,8}$/.test(part) ? Number(part) : undefined);
  const version = versionIn(route[2]);
  if (version !== undefined && route[3] === 'diff')
    return <PlaybookDiffPage key={route[1]} session={session} name={route[1]} version={version} base={versionIn(route[4])} />;
  // Another playbook is another page: nothing of the one before (its versions, a case's path) carries over.
  return <PlaybookDetail key={route[1]} session={session} name={route[1]} version={version} />;
}

function PlaybookList({ session }: { session: Session }) {
  const t = useT(PLAYBOOKS_MESSAGES);
  const [playbooks, setPlaybooks] = useState<PlaybookSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<PublishedPlaybooks>(session, 'GET', '/v1/playbooks').then(
      (body) => setPlaybooks(body.playbooks),
      (failure) => setError(detailOf(failure)),
    );
  }, [session]);
  return (
    <section aria-labelledby="playbooks-title">
      <h1 id="playbooks-title">{t('title')}</h1>
      {error ? (
        <p class="error" role="alert">
          {t('failed', { detail: error })}
        </p>
      ) : !playbooks ? (
        <p role="status">{t('loading')}</p>
      ) : playbooks.length === 0 ? (
        <p>{t('none')}</p>
      ) : (
        <table class="playbooks">
          <caption>{t('caption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('name')}</th>
              <th scope="col">{t('latest')}</th>
              <th scope="col">{t('current')}</th>
              <th scope="col" class="num">
                {t('versions')}
              </th>
              <th scope="col">{t('publishedAt')}</th>
              <th scope="col">{t('publishedBy')}</th>
            </tr>
          </thead>
          <tbody>
            {playbooks.map((playbook) => (
              <tr key={playbook.name} data-playbook={playbook.name}>
                <td>
                  <a href={`#/playbooks/${encodeURIComponent(playbook.name)}`}>{playbook.name}</a>
                </td>
                <td>{t('version', { version: playbook.version })}</td>
                <td>{t('version', { version: playbook.current })}</td>
                <td class="num">{playbook.versions}</td>
                <td>{formatTime(playbook.publishedAt, session)}</td>
                <td>{playbook.publishedBy ?? <span class="muted">{t('unknownPublisher')}</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function PlaybookDetail({ session, name, version }: { session: Session; name: string; version: number | undefined }) {
  const t = useT(PLAYBOOKS_MESSAGES);
  const [versions, setVersions] = useState<PlaybookVersion[] | null>(null);
  const [currency, setCurrency] = useState<Pick<PlaybookVersions, 'current' | 'changes' | 'approvalRequired' | 'approvals'> | null>(null);
  const [shown, setShown] = useState<{ detail: PlaybookVersionDetail; graph: FlowGraph } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [path, setPath] = useState<CasePath | null>(null);
  // Publishing a version, or making one current, reloads the list of versions (each request a new
  // object). A new version is shown only once the list holds it, so the page never shows a version
  // its list lacks.
  const [reload, setReload] = useState<{ thenShow?: number }>({});
  const mayPublish = session.role === 'ops-lead' || session.role === 'admin';

  useEffect(() => {
    setError(null);
    const showNew = () => {
      if (reload.thenShow !== undefined) location.hash = `#/playbooks/${encodeURIComponent(name)}/${reload.thenShow}`;
    };
    api<PlaybookVersions>(session, 'GET', `/v1/playbooks/${encodeURIComponent(name)}`).then(
      (body) => {
        setVersions(body.versions);
        setCurrency({ current: body.current, changes: body.changes, approvalRequired: body.approvalRequired, approvals: body.approvals });
        showNew();
      },
      (failure) => {
        setError(failure instanceof ApiProblem && failure.status === 404 ? t('noPlaybook', { name }) : t('failed', { detail: detailOf(failure) }));
        showNew();
      },
    );
  }, [session, name, reload]);

  const selected = version ?? versions?.[versions.length - 1]?.version;
  useEffect(() => {
    // The version shown stays until the next one is loaded, so the editor keeps what it last said.
    if (selected === undefined) return;
    const base = `/v1/playbooks/${encodeURIComponent(name)}/versions/${selected}`;
    Promise.all([api<PlaybookVersionDetail>(session, 'GET', base), api<FlowGraph>(session, 'GET', `${base}/graph`)]).then(
      ([detail, graph]) => setShown({ detail, graph }),
      (failure) => setError(t('failed', { detail: detailOf(failure) })),
    );
  }, [session, name, selected]);

  return (
    <article aria-labelledby="playbook-title">
      <p>
        <a href="#/playbooks">{t('allPlaybooks')}</a>
      </p>
      <h1 id="playbook-title">{name}</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {versions && (
        <section aria-labelledby="versions-title">
          <h2 id="versions-title">{t('versionsTitle')}</h2>
          <table class="versions">
            <caption>{t('versionsCaption', { name })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('name')}</th>
                <th scope="col">{t('publishedAt')}</th>
                <th scope="col">{t('publishedBy')}</th>
                <th scope="col">{t('current')}</th>
                <th scope="col">{t('compare')}</th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr key={v.version} data-version={v.version} class={v.version === selected ? 'selected' : undefined}>
                  <td>
                    <a href={`#/playbooks/${encodeURIComponent(name)}/${v.version}`} aria-current={v.version === selected ? 'true' : undefined}>
                      {t('version', { version: v.version })}
                    </a>
                    {v.version === selected && <span class="muted"> {t('selected')}</span>}
                  </td>
                  <td>{formatTime(v.publishedAt, session)}</td>
                  <td>{v.publishedBy ?? <span class="muted">{t('unknownPublisher')}</span>}</td>
                  <td>{v.version === currency?.current && <strong class="current-mark">{t('currentMark')}</strong>}</td>
                  <td>
                    {currency && v.version !== currency.current && (
                      <a href={`#/playbooks/${encodeURIComponent(name)}/${v.version}/diff`} data-diff={v.version}>
                        {t('diffAgainst', { version: currency.current })}
                      </a>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {mayPublish && selected !== undefined && (
            <p>
              <a href={`#/migrations/${encodeURIComponent(name)}/${selected}`}>{t('moveCases', { version: selected })}</a>
            </p>
          )}
        </section>
      )}
      {currency && (
        <CurrentVersion
          session={session}
          name={name}
          current={currency.current}
          changes={currency.changes}
          approvalRequired={currency.approvalRequired}
          approvals={currency.approvals}
          selected={mayPublish ? selected : undefined}
          onChanged={() => setReload({})}
          t={t}
        />
      )}
      {(!shown || shown.detail.version !== selected) && !error && <p role="status">{t('loading')}</p>}
      {shown && (
        <>
          <section aria-labelledby="flow-title">
            <h2 id="flow-title">
              {t('flow')} · {t('version', { version: shown.detail.version })}
            </h2>
            <p class="hint">{t('flowHelp')}</p>
            <CasePathForm session={session} name={name} shown={shown.graph} t={t} path={path} onPath={setPath} />
            <FlowDiagram
              graph={shown.graph}
              path={path && path.version === shown.detail.version ? path.steps : NO_PATH}
              regionLabel={t('flowRegion')}
              title={t('flowTitle', { name, version: shown.detail.version, steps: shown.graph.nodes.length })}
            />
          </section>
          <section aria-labelledby="yaml-title">
            <h2 id="yaml-title">
              {t('yaml')} · {t('version', { version: shown.detail.version })}
            </h2>
            <p>{shown.detail.diagnostics.length === 0 ? t('noWarnings') : t('warnings', { count: shown.detail.diagnostics.length })}</p>
            <YamlListing yaml={shown.detail.yaml} diagnostics={shown.detail.diagnostics} label={t('yamlRegion', { version: shown.detail.version })} t={t} />
          </section>
          {mayPublish && (
            <PlaybookEditor session={session} name={name} initial={shown.detail.yaml} onPublished={(newVersion) => setReload({ thenShow: newVersion })} />
          )}
        </>
      )}
    </article>
  );
}

/**
 * Which version is current and the changes that made it so; for ops leads and admins (`selected` set),
 * a form that makes the version shown current, with a reason.
 */
function CurrentVersion({
  session,
  name,
  current,
  changes,
  approvalRequired,
  approvals,
  selected,
  onChanged,
  t,
}: {
  session: Session;
  name: string;
  current: number;
  changes: CurrentChange[];
  approvalRequired: boolean;
  approvals: Approval[];
  selected: number | undefined;
  onChanged: () => void;
  t: Translate<Key>;
}) {
  const [reason, setReason] = useState('');
  const [message, setMessage] = useState<{ text: string; error: boolean } | null>(null);
  const makeCurrent = async (event: Event) => {
    event.preventDefault();
    if (selected === undefined || !reason.trim()) return;
    try {
      const made = await api<MadeCurrent>(session, 'POST', `/v1/playbooks/${encodeURIComponent(name)}/current`, { version: selected, reason: reason.trim() });
      setReason('');
      setMessage({ text: t('madeCurrent', { version: made.current }), error: false });
      onChanged();
    } catch (failure) {
      setMessage({ text: t('failed', { detail: detailOf(failure) }), error: true });
    }
  };
  const [approveReason, setApproveReason] = useState('');
  const approve = async (event: Event) => {
    event.preventDefault();
    if (selected === undefined || !approveReason.trim()) return;
    try {
      await api<Approved>(session, 'POST', `/v1/playbooks/${encodeURIComponent(name)}/versions/${selected}/approve`, { reason: approveReason.trim() });
      setApproveReason('');
      setMessage({ text: t('approved', { version: selected }), error: false });
      onChanged();
    } catch (failure) {
      setMessage({ text: t('failed', { detail: detailOf(failure) }), error: true });
    }
  };
  const versionOrNone = (version: number | null) => (version === null ? t('noVersion') : t('version', { version }));
  return (
    <section aria-labelledby="current-title">
      <h2 id="current-title">{t('currentTitle')}</h2>
      <p data-current={current}>{t('currentIs', { version: current })}</p>
      {approvalRequired && <p>{t('approvalRequired')}</p>}
      {approvals.length > 0 && (
        <ul class="approvals">
          {approvals.map((a) => (
            <li key={a.id} data-approval={a.version}>
              {t('approvedBy', { version: a.version, name: a.by.name, reason: a.reason })}
            </li>
          ))}
        </ul>
      )}
      {approvalRequired && selected !== undefined && selected !== current && !approvals.some((a) => a.version === selected) && (
        <form class="make-current" onSubmit={approve}>
          <label for="approve-reason">{t('approveLabel', { version: selected })}</label>
          <input
            id="approve-reason"
            name="reason"
            value={approveReason}
            maxLength={500}
            required
            onInput={(event) => setApproveReason(event.currentTarget.value)}
          />
          <button type="submit">{t('approve', { version: selected })}</button>
        </form>
      )}
      {selected !== undefined && selected !== current && (
        <form class="make-current" onSubmit={makeCurrent}>
          <label for="current-reason">{t('reasonLabel', { version: selected })}</label>
          <input id="current-reason" name="reason" value={reason} maxLength={500} required onInput={(event) => setReason(event.currentTarget.value)} />
          <button type="submit">{t('makeCurrent', { version: selected })}</button>
        </form>
      )}
      <div role="status">{message && <p class={message.error ? 'error' : undefined}>{message.text}</p>}</div>
      <table class="current-changes">
        <caption>{t('changesCaption', { name })}</caption>
        <thead>
          <tr>
            <th scope="col">{t('changedAt')}</th>
            <th scope="col">{t('change')}</th>
            <th scope="col">{t('changedBy')}</th>
            <th scope="col">{t('why')}</th>
          </tr>
        </thead>
        <tbody>
          {changes.map((change) => (
            <tr key={change.id} data-change={change.id}>
              <td>{formatTime(change.at, session)}</td>
              <td>
                {versionOrNone(change.from)} → {t('version', { version: change.to })}
              </td>
              <td>{change.by.name}</td>
              <td>{change.reason}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/**
 * The steps a case went through, in the order it decided them, then the step it is at; a step recorded
 * twice in a row (a clock's breach there) counted once, with its first record.
 */
function stepsTaken(history: CaseHistory, current: string | null, known: Set<string>): PathStep[] {
  const recorded: PathStep[] = [...history.steps]
    .sort((a, b) => a.seq - b.seq)
    .flatMap((entry) => (entry.step === null ? [] : [{ step: entry.step, detail: entry.detail }]));
  const steps: PathStep[] = [];
  for (const entry of current === null ? recorded : [...recorded, { step: current }]) {
    if (known.has(entry.step) && steps[steps.length - 1]?.step !== entry.step) steps.push(entry);
  }
  return steps;
}

function CasePathForm({
  session,
  name,
  shown,
  t,
  path,
  onPath,
}: {
  session: Session;
  name: string;
  shown: FlowGraph;
  t: Translate<Key>;
  path: CasePath | null;
  onPath: (path: CasePath | null) => void;
}) {
  const [caseId, setCaseId] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const find = async (event: Event) => {
    event.preventDefault();
    const id = caseId.trim();
    if (!id) return;
    setMessage(null);
    try {
      const encoded = encodeURIComponent(id);
      const [history, view] = await Promise.all([
        api<CaseHistory>(session, 'GET', `/v1/cases/${encoded}/history`),
        api<CaseView>(session, 'GET', `/v1/cases/${encoded}`),
      ]);
      if (history.playbook.name !== name) {
        onPath(null);
        setMessage(t('otherPlaybook', { caseId: id, playbook: history.playbook.name, name }));
        return;
      }
      const { version } = history.playbook;
      const graph =
        version === shown.version ? shown : await api<FlowGraph>(session, 'GET', `/v1/playbooks/${encodeURIComponent(name)}/versions/${version}/graph`);
      const current = view.status === 'closed' ? null : view.step;
      onPath({ caseId: id, version, steps: stepsTaken(history, current, new Set(graph.nodes.map((node) => node.id))) });
      if (version !== shown.version) {
        setMessage(t('pathOtherVersion', { caseId: id, version }));
        location.hash = `#/playbooks/${encodeURIComponent(name)}/${version}`;
      }
    } catch (failure) {
      onPath(null);
      setMessage(failure instanceof ApiProblem && failure.status === 404 ? t('noCase', { caseId: id }) : t('failed', { detail: detailOf(failure) }));
    }
  };
  return (
    <>
      <form class="case-path" onSubmit={find}>
        <label for="path-case">{t('caseLabel')}</label>
        <input id="path-case" name="case" value={caseId} onInput={(event) => setCaseId(event.currentTarget.value)} spellcheck={false} />
        <button type="submit">{t('showPath')}</button>
        {path && (
          <button
            type="button"
            class="secondary"
            onClick={() => {
              onPath(null);
              setMessage(null);
            }}
          >
            {t('clearPath')}
          </button>
        )}
      </form>
      <div role="status" class="path-status">
        {message && <p>{message}</p>}
        {path && (
          <p class="path" data-case={path.caseId}>
            {t('pathOf', { caseId: path.caseId, path: path.steps.map((entry) => entry.step).join(' → ') })}
          </p>
        )}
      </div>
    </>
  );
}

/** The YAML with line numbers, each diagnostic under the line it is at. */
function YamlListing({ yaml, diagnostics, label, t }: { yaml: string; diagnostics: Diagnostic[]; label: string; t: Translate<Key> }) {
  const lines = yaml.replace(/\n$/, '').split('\n');
  const atLine = new Map<number, Diagnostic[]>();
  for (const diagnostic of diagnostics) {
    const line = Math.min(Math.max(diagnostic.line, 1), lines.length);
    atLine.set(line, [...(atLine.get(line) ?? []), diagnostic]);
  }
  return (
    <div class="yaml" role="region" aria-label={label} tabIndex={0}>
      <ol class="yaml-lines">
        {lines.map((text, index) => {
          const marks = atLine.get(index + 1);
          const worst = marks?.some((d) => d.severity === 'error') ? 'error' : marks ? 'warning' : '';
          return (
            <li key={index} data-line={index + 1} class={worst}>
              <span class="ln" aria-hidden="true">
                {index + 1}
              </span>
              <code>{text || ' '}</code>
              {marks?.map((d) => (
                <p key={`${d.code}:${d.column}`} class={`diagnostic ${d.severity}`} data-code={d.code}>
                  <span class="where">{t('lineColumn', { line: d.line, column: d.column })}</span> <strong>{d.code}</strong> {d.message}
                  {d.hint && <span class="hint"> ({d.hint})</span>}
                </p>
              ))}
            </li>
          );
        })}
      </ol>
    </div>
  );
}
