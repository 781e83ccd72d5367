/**
 * A version of a playbook against another (#/playbooks/<name>/<version>/diff[/<base>], the current
 * version when no base is named): the steps the version added, removed or changed, both flow graphs
 * side by side with those steps marked, and both YAML texts side by side, line by line. The Backtests
 * page shows the same view next to a backtest's report.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { FlowGraph, PlaybookVersionDetail, PlaybookVersions } from '../../api-contract/playbooks.js';
import { api, ApiProblem } from '../api.js';
import { FlowDiagram, type PathStep } from '../graph.js';
import { useT, type Messages, type Translate } from '../i18n.js';
import type { Session } from '../session.js';
import { diffRows, type DiffCell, stepChanges, type StepChange } from '../version-diff.js';
import './playbooks.css';

type Key =
  | 'title'
  | 'back'
  | 'compareWith'
  | 'current'
  | 'version'
  | 'versionCurrent'
  | 'loading'
  | 'failed'
  | 'noVersion'
  | 'same'
  | 'stepsTitle'
  | 'added'
  | 'removed'
  | 'changed'
  | 'noStepChange'
  | 'flowTitle'
  | 'flowRegion'
  | 'legend'
  | 'yamlTitle'
  | 'yamlCaption'
  | 'yamlRegion'
  | 'line'
  | 'text'
  | 'fold'
  | 'addedLine'
  | 'removedLine'
  | 'lineCounts';

export const DIFF_MESSAGES: Messages<Key> = {
  en: {
    title: '{name}: v{version} against v{base}',
    back: 'Back to {name} v{version}',
    compareWith: 'Compare with',
    current: 'current',
    version: 'v{version}',
    versionCurrent: 'v{version} (current)',
    loading: 'Loading…',
    failed: 'Could not load: {detail}',
    noVersion: 'Playbook {name} has no version {version}.',
    same: 'The two versions have the same plan.',
    stepsTitle: 'Steps',
    added: 'Added in v{version}',
    removed: 'Removed in v{version}',
    changed: 'Changed in v{version}',
    noStepChange: 'No step was added, removed or changed.',
    flowTitle: 'The flow of {name} version {version}: {steps} steps',
    flowRegion: 'Flow graph of v{version}, scrollable',
    legend: 'Marked: green added, red dashed removed, amber changed (its own settings, or a policy value it reads).',
    yamlTitle: 'YAML',
    yamlCaption: 'v{base} on the left, v{version} on the right; unchanged stretches folded',
    yamlRegion: 'The YAML of both versions, scrollable',
    line: 'Line',
    text: 'v{version}',
    fold: '{count} unchanged lines',
    addedLine: 'added',
    removedLine: 'removed',
    lineCounts: 'Lines: {added} added, {removed} removed.',
  },
  zh: {
    title: '{name}：第 {version} 版对比第 {base} 版',
    back: '返回 {name} 第 {version} 版',
    compareWith: '对比版本',
    current: '当前',
    version: '第 {version} 版',
    versionCurrent: '第 {version} 版（当前）',
    loading: '加载中…',
    failed: '加载失败：{detail}',
    noVersion: '剧本 {name} 没有第 {version} 版。',
    same: '两个版本的计划相同。',
    stepsTitle: '步骤',
    added: '第 {version} 版新增',
    removed: '第 {version} 版删除',
    changed: '第 {version} 版修改',
    noStepChange: '没有新增、删除或修改的步骤。',
    flowTitle: '{name} 第 {version} 版的流程：共 {steps} 个步骤',
    flowRegion: '第 {version} 版的流程图（可滚动）',
    legend: '标记：绿色为新增，红色虚线为删除，琥珀色为修改（步骤本身的设置，或它读取的策略值）。',
    yamlTitle: 'YAML',
    yamlCaption: '左侧为第 {base} 版，右侧为第 {version} 版；未改动的部分已折叠',
    yamlRegion: '两个版本的 YAML（可滚动）',
    line: '行',
    text: '第 {version} 版',
    fold: '{count} 行未改动',
    addedLine: '新增',
    removedLine: '删除',
    lineCounts: '行：新增 {added}，删除 {removed}。',
  },
};

const NO_PATH: PathStep[] = [];
const detailOf = (failure: unknown): string => (failure instanceof Error ? failure.message : String(failure));

interface Side {
  detail: PlaybookVersionDetail;
  graph: FlowGraph;
}

async function load(session: Session, name: string, version: number): Promise<Side> {
  const base = `/v1/playbooks/${encodeURIComponent(name)}/versions/${version}`;
  const [detail, graph] = await Promise.all([api<PlaybookVersionDetail>(session, 'GET', base), api<FlowGraph>(session, 'GET', `${base}/graph`)]);
  return { detail, graph };
}

/** The diff page: `base` named in the route, or the playbook's current version. */
export function PlaybookDiffPage({ session, name, version, base }: { session: Session; name: string; version: number; base: number | undefined }) {
  const t = useT(DIFF_MESSAGES);
  const [versions, setVersions] = useState<PlaybookVersions | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<PlaybookVersions>(session, 'GET', `/v1/playbooks/${encodeURIComponent(name)}`).then(setVersions, (failure) =>
      setError(t('failed', { detail: detailOf(failure) })),
    );
  }, [session, name]);
  const against = base ?? versions?.current;
  const encoded = encodeURIComponent(name);
  return (
    <article aria-labelledby="diff-title">
      <p>
        <a href={`#/playbooks/${encoded}/${version}`}>{t('back', { name, version })}</a>
      </p>
      <h1 id="diff-title">{against === undefined ? name : t('title', { name, version, base: against })}</h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {versions && against !== undefined && (
        <>
          <label class="compare-with">
            {t('compareWith')}{' '}
            <select
              value={String(against)}
              onChange={(event) => {
                location.hash = `#/playbooks/${encoded}/${version}/diff/${event.currentTarget.value}`;
              }}
            >
              {versions.versions.map((v) => (
                <option key={v.version} value={String(v.version)}>
                  {v.version === versions.current ? t('versionCurrent', { version: v.version }) : t('version', { version: v.version })}
                </option>
              ))}
            </select>
          </label>
          <VersionDiff session={session} name={name} base={against} version={version} currentVersion={versions.current} />
        </>
      )}
    </article>
  );
}

/** Version `version` of the playbook against version `base`: the step changes, the two flows, the two YAML texts. */
export function VersionDiff({
  session,
  name,
  base,
  version,
  currentVersion,
  headingLevel = 2,
}: {
  session: Session;
  name: string;
  base: number;
  version: number;
  currentVersion?: number;
  headingLevel?: 2 | 3;
}) {
  const t = useT(DIFF_MESSAGES);
  const [sides, setSides] = useState<{ before: Side; after: Side } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setSides(null);
    setError(null);
    Promise.all([load(session, name, base), load(session, name, version)]).then(
      ([before, after]) => setSides({ before, after }),
      (failure) =>
        setError(
          failure instanceof ApiProblem && failure.status === 404
            ? t('noVersion', { name, version: `${base}/${version}` })
            : t('failed', { detail: detailOf(failure) }),
        ),
    );
  }, [session, name, base, version]);
  const changes = useMemo(() => (sides ? stepChanges(sides.before.detail.plan, sides.after.detail.plan) : null), [sides]);
  const rows = useMemo(() => (sides ? diffRows(sides.before.detail.yaml, sides.after.detail.yaml) : null), [sides]);
  if (error)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (!sides || !changes || !rows) return <p role="status">{t('loading')}</p>;

  const H = headingLevel === 2 ? 'h2' : 'h3';
  const H3 = headingLevel === 2 ? 'h3' : 'h4';
  const label = (v: number) => (v === currentVersion ? t('versionCurrent', { version: v }) : t('version', { version: v }));
  const byKind = (kind: StepChange) => [...changes].filter(([, change]) => change === kind).map(([step]) => step);
  const leftMarks = new Map([...changes].filter(([, change]) => change !== 'added'));
  const rightMarks = new Map([...changes].filter(([, change]) => change !== 'removed'));
  const added = rows.filter((row) => row.kind === 'changed' && row.right).length;
  const removed = rows.filter((row) => row.kind === 'changed' && row.left).length;
  const titles = { added: t('added', { version }), removed: t('removed', { version }), changed: t('changed', { version }) };

  return (
    <div class="version-diff" data-base={base} data-version={version}>
      <section aria-label={t('stepsTitle')}>
        <H>{t('stepsTitle')}</H>
        {sides.before.detail.hash === sides.after.detail.hash && <p>{t('same')}</p>}
        {changes.size === 0 ? (
          <p>{t('noStepChange')}</p>
        ) : (
          <dl class="step-changes">
            {(['added', 'removed', 'changed'] as const).map(
              (kind) =>
                byKind(kind).length > 0 && (
                  <div key={kind} data-step-change={kind}>
                    <dt>{titles[kind]}</dt>
                    <dd>
                      {byKind(kind).map((step, i) => (
                        <span key={step}>
                          {i > 0 && ', '}
                          <code>{step}</code>
                        </span>
                      ))}
                    </dd>
                  </div>
                ),
            )}
          </dl>
        )}
      </section>
      <section aria-label={t('flowRegion', { version })}>
        <p class="hint">{t('legend')}</p>
        <div class="side-by-side">
          {[
            { side: sides.before, v: base, marks: leftMarks },
            { side: sides.after, v: version, marks: rightMarks },
          ].map(({ side, v, marks }) => (
            <div key={v} class="diff-side" data-side={v === version ? 'after' : 'before'}>
              <H3>{label(v)}</H3>
              <FlowDiagram
                graph={side.graph}
                path={NO_PATH}
                marks={marks}
                focusStep={side.graph.nodes.find((node) => marks.has(node.id))?.id}
                regionLabel={t('flowRegion', { version: v })}
                title={t('flowTitle', { name, version: v, steps: side.graph.nodes.length })}
              />
            </div>
          ))}
        </div>
      </section>
      <section aria-label={t('yamlTitle')}>
        <H>{t('yamlTitle')}</H>
        <p data-line-counts>{t('lineCounts', { added, removed })}</p>
        <YamlDiff rows={rows} base={base} version={version} t={t} />
      </section>
    </div>
  );
}

function Cell({ cell, kind, t }: { cell: DiffCell | null; kind: 'same' | 'added' | 'removed'; t: Translate<Key> }) {
  if (!cell)
    return (
      <>
        <td class="ln empty" />
        <td class="empty" />
      </>
    );
  return (
    <>
      <td class="ln">{cell.line}</td>
      <td class={kind === 'same' ? undefined : kind}>
        {kind !== 'same' && (
          <span class="sign" title={t(kind === 'added' ? 'addedLine' : 'removedLine')}>
            <span aria-hidden="true">{kind === 'added' ? '+' : '−'}</span>
            <span class="visually-hidden">{t(kind === 'added' ? 'addedLine' : 'removedLine')}</span>
          </span>
        )}
        <code>{cell.text || ' '}</code>
      </td>
    </>
  );
}

function YamlDiff({ rows, base, version, t }: { rows: ReturnType<typeof diffRows>; base: number; version: number; t: Translate<Key> }) {
  return (
    <div class="yaml yaml-diff" role="region" aria-label={t('yamlRegion')} tabIndex={0}>
      <table>
        <caption>{t('yamlCaption', { base, version })}</caption>
        <thead>
          <tr>
            <th scope="col">{t('line')}</th>
            <th scope="col">{t('text', { version: base })}</th>
            <th scope="col">{t('line')}</th>
            <th scope="col">{t('text', { version })}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) =>
            row.kind === 'fold' ? (
              <tr key={i} class="fold">
                <td colSpan={4}>{t('fold', { count: row.count })}</td>
              </tr>
            ) : (
              <tr key={i} class={row.kind}>
                <Cell cell={row.left} kind={row.kind === 'same' ? 'same' : 'removed'} t={t} />
                <Cell cell={row.right} kind={row.kind === 'same' ? 'same' : 'added'} t={t} />
              </tr>
            ),
          )}
        </tbody>
      </table>
    </div>
  );
}
