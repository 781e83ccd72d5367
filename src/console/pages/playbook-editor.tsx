/**
 * The "validate" box of a playbook's page (ops leads and admins): edit the YAML, check it with
 * POST /v1/playbooks/validate, publish it with PUT /v1/playbooks/{name}. Each diagnostic is marked in
 * the editor's margin at its line, listed with its code and message, and a click selects it in the editor.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Diagnostic, Published, Validation } from '../../api-contract/playbooks.js';
import { api, ApiProblem } from '../api.js';
import { useT, type Messages } from '../i18n.js';
import type { Session } from '../session.js';

/** What the last check or publication said. */
type Outcome =
  | { kind: 'checked'; valid: boolean; diagnostics: Diagnostic[] }
  | { kind: 'published'; published: Published }
  | { kind: 'refused'; diagnostics: Diagnostic[] }
  | { kind: 'failed'; detail: string };

type Key =
  | 'title'
  | 'help'
  | 'editor'
  | 'validate'
  | 'publish'
  | 'checking'
  | 'publishing'
  | 'valid'
  | 'invalid'
  | 'refused'
  | 'created'
  | 'same'
  | 'notCurrent'
  | 'failed'
  | 'lineColumn'
  | 'error'
  | 'warning'
  | 'diagnostics'
  | 'jump'
  | 'showVersion';

const MESSAGES: Messages<Key> = {
  en: {
    title: 'Validate and publish',
    help: 'Edit the YAML, check it against the same rules the server publishes by, then publish it as a new version of {name}.',
    editor: 'Playbook YAML',
    validate: 'Validate',
    publish: 'Publish',
    checking: 'Checking…',
    publishing: 'Publishing…',
    valid: 'Valid: it can be published.',
    invalid: 'Not valid: {errors} error(s) to fix before publishing.',
    refused: 'Not published: {errors} error(s).',
    created: 'Published as version {version}.',
    same: 'Same content as version {version}: nothing new published.',
    notCurrent: 'New cases still take version {current} until version {version} is made current.',
    failed: 'The server refused it: {detail}',
    lineColumn: 'line {line}:{column}',
    error: 'error',
    warning: 'warning',
    diagnostics: 'Diagnostics',
    jump: 'Go to line {line}, column {column}',
    showVersion: 'Show version {version}',
  },
  zh: {
    title: '校验与发布',
    help: '编辑 YAML，先按服务器发布时的同一套规则校验，再作为 {name} 的新版本发布。',
    editor: '剧本 YAML',
    validate: '校验',
    publish: '发布',
    checking: '正在校验…',
    publishing: '正在发布…',
    valid: '校验通过，可以发布。',
    invalid: '校验未通过：发布前需修正 {errors} 个错误。',
    refused: '未发布：有 {errors} 个错误。',
    created: '已发布为第 {version} 版。',
    same: '内容与第 {version} 版相同，未发布新版本。',
    notCurrent: '在第 {version} 版被设为当前版本之前，新工单仍使用第 {current} 版。',
    failed: '服务器拒绝：{detail}',
    lineColumn: '第 {line} 行第 {column} 列',
    error: '错误',
    warning: '警告',
    diagnostics: '诊断',
    jump: '跳到第 {line} 行第 {column} 列',
    showVersion: '查看第 {version} 版',
  },
};

const errorsIn = (diagnostics: Diagnostic[]): number => diagnostics.filter((d) => d.severity === 'error').length;

/** The offset in `text` of a 1-based line and column (clamped to the text). */
function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let current = 1; current < line; current += 1) {
    const next = text.indexOf('\n', offset);
    if (next < 0) return text.length;
    offset = next + 1;
  }
  const end = text.indexOf('\n', offset);
  return Math.min(offset + Math.max(column - 1, 0), end < 0 ? text.length : end);
}

export function PlaybookEditor({
  session,
  name,
  initial,
  onPublished,
}: {
  session: Session;
  name: string;
  initial: string;
  onPublished: (version: number) => void;
}) {
  const t = useT(MESSAGES);
  const [text, setText] = useState(initial);
  const [busy, setBusy] = useState<'checking' | 'publishing' | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const gutter = useRef<HTMLDivElement>(null);

  // Another version shown: its YAML to edit; what a publication said stays (the version published is the one shown next).
  useEffect(() => {
    setText(initial);
    setOutcome((last) => (last?.kind === 'published' ? last : null));
  }, [initial]);

  const diagnostics =
    outcome?.kind === 'checked' || outcome?.kind === 'refused' ? outcome.diagnostics : outcome?.kind === 'published' ? outcome.published.diagnostics : [];
  const marks = new Map<number, Diagnostic[]>();
  for (const d of diagnostics) marks.set(d.line, [...(marks.get(d.line) ?? []), d]);
  const lineCount = text.split('\n').length;

  const validate = async () => {
    setBusy('checking');
    try {
      const result = await api<Validation>(session, 'POST', '/v1/playbooks/validate', text);
      setOutcome({ kind: 'checked', ...result });
    } catch (failure) {
      setOutcome({ kind: 'failed', detail: failure instanceof Error ? failure.message : String(failure) });
    } finally {
      setBusy(null);
    }
  };

  const publish = async () => {
    setBusy('publishing');
    try {
      const published = await api<Published>(session, 'PUT', `/v1/playbooks/${encodeURIComponent(name)}`, text);
      setOutcome({ kind: 'published', published });
      if (published.created) onPublished(published.version);
    } catch (failure) {
      if (failure instanceof ApiProblem && failure.problem.type.endsWith('/invalid-playbook')) {
        setOutcome({ kind: 'refused', diagnostics: failure.problem.diagnostics as Diagnostic[] });
      } else {
        setOutcome({ kind: 'failed', detail: failure instanceof Error ? failure.message : String(failure) });
      }
    } finally {
      setBusy(null);
    }
  };

  const jumpTo = (d: Diagnostic) => {
    const editor = area.current;
    if (!editor) return;
    const start = offsetOf(text, d.line, d.column);
    const end = d.endLine > d.line || d.endColumn > d.column ? offsetOf(text, d.endLine, d.endColumn) : start;
    editor.focus();
    editor.setSelectionRange(start, Math.max(end, start));
    const lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 20;
    editor.scrollTop = Math.max(0, (d.line - 4) * lineHeight);
  };

  return (
    <section class="validate-box" aria-labelledby="validate-title">
      <h2 id="validate-title">{t('title')}</h2>
      <p class="hint" id="editor-help">
        {t('help', { name })}
      </p>
      <label for="playbook-editor">{t('editor')}</label>
      <div class="editor">
        <div class="gutter" ref={gutter} aria-hidden="true">
          {Array.from({ length: lineCount }, (_, index) => {
            const here = marks.get(index + 1);
            const worst = here?.some((d) => d.severity === 'error') ? 'error' : here ? 'warning' : '';
            return (
              <div key={index} data-line={index + 1} class={worst} title={here?.map((d) => `${d.code}: ${d.message}`).join('\n')}>
                {here && (
                  <>
                    <span class="codes">{here.map((d) => d.code).join(' ')}</span>{' '}
                  </>
                )}
                <span class="n">{index + 1}</span>
              </div>
            );
          })}
        </div>
        <textarea
          id="playbook-editor"
          ref={area}
          value={text}
          rows={24}
          wrap="off"
          spellcheck={false}
          aria-describedby="editor-help"
          onInput={(event) => setText(event.currentTarget.value)}
          onScroll={(event) => {
            if (gutter.current) gutter.current.scrollTop = event.currentTarget.scrollTop;
          }}
        />
      </div>
      <div class="actions">
        <button type="button" onClick={validate} disabled={busy !== null}>
          {busy === 'checking' ? t('checking') : t('validate')}
        </button>
        <button type="button" class="secondary" onClick={publish} disabled={busy !== null}>
          {busy === 'publishing' ? t('publishing') : t('publish')}
        </button>
      </div>
      <div role="status" class="validate-outcome">
        {outcome?.kind === 'checked' && (
          <p class={outcome.valid ? 'ok' : 'error'}>{outcome.valid ? t('valid') : t('invalid', { errors: errorsIn(outcome.diagnostics) })}</p>
        )}
        {outcome?.kind === 'refused' && <p class="error">{t('refused', { errors: errorsIn(outcome.diagnostics) })}</p>}
        {outcome?.kind === 'published' && (
          <p class="ok">
            {outcome.published.created ? t('created', { version: outcome.published.version }) : t('same', { version: outcome.published.version })}{' '}
            {outcome.published.current !== outcome.published.version &&
              t('notCurrent', { version: outcome.published.version, current: outcome.published.current })}{' '}
            <a href={`#/playbooks/${encodeURIComponent(name)}/${outcome.published.version}`}>{t('showVersion', { version: outcome.published.version })}</a>
          </p>
        )}
        {outcome?.kind === 'failed' && <p class="error">{t('failed', { detail: outcome.detail })}</p>}
      </div>
      {diagnostics.length > 0 && (
        <>
          <h3 id="diagnostics-title">{t('diagnostics')}</h3>
          <ul class="diagnostics" aria-labelledby="diagnostics-title">
            {diagnostics.map((d, index) => (
              <li key={index} class={d.severity} data-code={d.code} data-line={d.line}>
                <button type="button" class="link" onClick={() => jumpTo(d)} title={t('jump', { line: d.line, column: d.column })}>
                  {t('lineColumn', { line: d.line, column: d.column })}
                </button>{' '}
                <span class="severity">{t(d.severity)}</span> <strong>{d.code}</strong> {d.message}
                {d.hint && <span class="hint"> ({d.hint})</span>}
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
