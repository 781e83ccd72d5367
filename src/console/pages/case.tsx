/** One case (#/cases/<id>): where it is, what it waits for and until when, and what happened and why. */
import { Fragment } from 'preact';
import type { CaseActivity, CaseHistory, CaseView, DeliveryAttempt } from '../../api-contract/cases.js';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiProblem } from '../api.js';
import { formatLeft, formatMoney, formatTime, TIME_LEFT_MESSAGES, zoneLabel } from '../format.js';
import { useT, type Messages, type Translate } from '../i18n.js';
import type { Session } from '../session.js';
import { CancelCase, MAY_CANCEL } from './case-cancel.js';
import { isCaseStatus, STATUS_MESSAGES } from './case-status.js';

type Key =
  | 'back'
  | 'loading'
  | 'notFound'
  | 'playbook'
  | 'status'
  | 'step'
  | 'outcome'
  | 'opened'
  | 'openedBy'
  | 'parentCase'
  | 'childCases'
  | 'atStep'
  | 'temporal'
  | 'summary'
  | 'waitsFor'
  | 'nothing'
  | 'deadlines'
  | 'kind'
  | 'at'
  | 'left'
  | 'paused'
  | 'data'
  | 'timeline'
  | 'timelineEmpty'
  | 'evidence'
  | 'record'
  | 'by'
  | 'took'
  | 'otherwise'
  | 'received'
  | 'ended'
  | 'timedOut'
  | 'slaMet'
  | 'slaBreached'
  | 'refunds'
  | 'amount'
  | 'covers'
  | 'orderLine'
  | 'reason'
  | 'deadline'
  | 'messages'
  | 'template'
  | 'channel'
  | 'recipient'
  | 'body'
  | 'remarks'
  | 'flag'
  | 'tasks'
  | 'title'
  | 'role'
  | 'due'
  | 'deliveredBy'
  | 'payload'
  | 'events'
  | 'eventType'
  | 'escalations'
  | 'queue'
  | 'severity'
  | 'none'
  | 'timesIn'
  | 'goesTo'
  | 'waitedFor'
  | 'when'
  | 'deliveries'
  | 'deliveryType'
  | 'destination'
  | 'attempt'
  | 'latency'
  | 'answer'
  | 'inFlight'
  | 'deliverAgain'
  | 'deliverAgainLabel'
  | 'redelivering'
  | 'redelivered'
  | 'redeliveryFailed'
  | 'redeliveryRefused'
  | 'requestedBy'
  | 'cancelledWhy'
  | 'migratedWhy'
  | 'migratedStep'
  | 'migratedDeadline'
  | 'migratedMapping'
  | 'compensates'
  | 'loopItem'
  | 'repairedWhy';

const MESSAGES: Messages<Key> = {
  en: {
    back: 'All cases',
    loading: 'Loading…',
    notFound: 'There is no case {caseId}.',
    playbook: 'Playbook',
    status: 'Status',
    step: 'Step',
    outcome: 'Outcome',
    opened: 'Opened',
    openedBy: 'Opened by',
    parentCase: 'Opened by the case',
    childCases: 'Sub-playbook cases',
    atStep: 'at step {step}',
    temporal: 'Open in the Temporal Web UI',
    summary: 'Summary',
    waitsFor: 'Waits for',
    nothing: 'Nothing',
    deadlines: 'Deadlines',
    kind: 'Kind',
    at: 'At',
    left: 'Time left',
    paused: 'paused',
    data: 'Case data',
    timeline: 'Timeline',
    timelineEmpty: 'Nothing happened yet.',
    evidence: 'Evidence',
    record: 'Full record',
    by: 'by {name}',
    took: 'went to {goto}: {when} was true',
    otherwise: 'went to {goto}: none of {conditions} was true',
    received: 'took the event {event}',
    ended: 'ended: {outcome} ({reason})',
    timedOut: 'timed out at {at}, went to {goto}',
    slaMet: 'within its SLA ({margin} to spare)',
    slaBreached: 'SLA breached (late by {lateBy})',
    refunds: 'Refunds',
    amount: 'Amount',
    covers: 'Covers',
    orderLine: 'Order line',
    reason: 'Reason',
    deadline: 'Deadline',
    messages: 'Messages',
    template: 'Template',
    channel: 'Channel',
    recipient: 'To',
    body: 'Text',
    remarks: 'Order remarks',
    flag: 'Flag',
    tasks: 'Tasks',
    title: 'Task',
    role: 'Queue',
    due: 'Due',
    deliveredBy: 'Delivered by',
    payload: 'Payload',
    events: 'Events received',
    eventType: 'Event',
    escalations: 'Escalations',
    queue: 'Queue',
    severity: 'Severity',
    none: 'None.',
    timesIn: 'Times in the shop’s time zone ({zone}).',
    goesTo: 'went to {goto}',
    waitedFor: 'waited {waited}',
    when: 'When',
    deliveries: 'Webhook deliveries',
    deliveryType: 'Sent',
    destination: 'Destination',
    attempt: 'Attempt',
    latency: 'Took',
    answer: 'Answer',
    inFlight: 'in flight, or cut short',
    deliverAgain: 'Deliver again',
    deliverAgainLabel: 'Deliver again: {webhookId}',
    redelivering: 'Delivering {webhookId} again…',
    redelivered: '{webhookId} delivered (attempt {attempt}, {status}).',
    redeliveryFailed: '{webhookId} failed again (attempt {attempt}: {why}).',
    redeliveryRefused: '{webhookId} was not delivered again: {why}',
    requestedBy: 'asked by {name}',
    cancelledWhy: 'cancelled: {reason}',
    migratedWhy: 'moved from v{from} to v{to}: {reason}',
    migratedStep: 'now at {to} (was {from})',
    migratedDeadline: 'the deadline of {step} moved from {from} to {to}',
    migratedMapping: 'steps mapped: {mapping}',
    compensates: 'undoes {step}',
    loopItem: 'item {iteration}',
    repairedWhy: 'repair: {action} ({reason})',
  },
  zh: {
    back: '全部工单',
    loading: '加载中…',
    notFound: '没有工单 {caseId}。',
    playbook: '剧本',
    status: '状态',
    step: '步骤',
    outcome: '结果',
    opened: '创建时间',
    openedBy: '创建人',
    parentCase: '由工单创建',
    childCases: '子剧本工单',
    atStep: '于步骤 {step}',
    temporal: '在 Temporal Web UI 中打开',
    summary: '概况',
    waitsFor: '等待',
    nothing: '无',
    deadlines: '截止时间',
    kind: '类型',
    at: '时间',
    left: '剩余时间',
    paused: '已暂停',
    data: '工单数据',
    timeline: '时间线',
    timelineEmpty: '尚无记录。',
    evidence: '依据',
    record: '完整记录',
    by: '操作人：{name}',
    took: '转到 {goto}：{when} 为真',
    otherwise: '转到 {goto}：{conditions} 均不成立',
    received: '收到事件 {event}',
    ended: '结束：{outcome}（{reason}）',
    timedOut: '于 {at} 超时，转到 {goto}',
    slaMet: '在时限内完成（余 {margin}）',
    slaBreached: '超出时限（晚了 {lateBy}）',
    refunds: '退款',
    amount: '金额',
    covers: '类别',
    orderLine: '订单行',
    reason: '原因',
    deadline: '截止',
    messages: '消息',
    template: '模板',
    channel: '渠道',
    recipient: '收件人',
    body: '内容',
    remarks: '订单备注',
    flag: '旗标',
    tasks: '任务',
    title: '任务',
    role: '队列',
    due: '截止',
    deliveredBy: '发送方',
    payload: '内容',
    events: '收到的事件',
    eventType: '事件',
    escalations: '升级',
    queue: '队列',
    severity: '严重程度',
    none: '无。',
    timesIn: '时间为店铺所在时区（{zone}）。',
    goesTo: '转到 {goto}',
    waitedFor: '等待了 {waited}',
    when: '时间',
    deliveries: 'Webhook 投递',
    deliveryType: '发送内容',
    destination: '目的地',
    attempt: '第几次',
    latency: '耗时',
    answer: '回复',
    inFlight: '进行中，或被中断',
    deliverAgain: '重新投递',
    deliverAgainLabel: '重新投递：{webhookId}',
    redelivering: '正在重新投递 {webhookId}…',
    redelivered: '{webhookId} 已投递（第 {attempt} 次，{status}）。',
    redeliveryFailed: '{webhookId} 再次失败（第 {attempt} 次：{why}）。',
    redeliveryRefused: '{webhookId} 未重新投递：{why}',
    requestedBy: '由 {name} 发起',
    cancelledWhy: '已取消：{reason}',
    migratedWhy: '已从第 {from} 版迁移到第 {to} 版：{reason}',
    migratedStep: '现在位于 {to}（原为 {from}）',
    migratedDeadline: '{step} 的期限从 {from} 改为 {to}',
    migratedMapping: '步骤映射：{mapping}',
    compensates: '撤销 {step}',
    loopItem: '第 {iteration} 项',
    repairedWhy: '修复：{action}（{reason}）',
  },
};

const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/**
 * The row (index) of each failed delivery's latest attempt, where an admin may deliver it again: not
 * delivered by any attempt, its latest refused or failed, and not a refund (never redelivered by hand).
 */
function lastFailedAttempts(deliveries: CaseActivity['deliveries']): Map<string, number> {
  const latest = new Map<string, number>();
  const delivered = new Set<string>();
  deliveries.forEach((d, i) => {
    latest.set(d.webhookId, i);
    if (d.outcome === 'delivered') delivered.add(d.webhookId);
  });
  for (const [webhookId, i] of latest) {
    const d = deliveries[i]!;
    if (delivered.has(webhookId) || d.type === 'refund.request' || (d.outcome !== 'failed' && d.outcome !== 'refused')) latest.delete(webhookId);
  }
  return latest;
}

/** Why a record went its way, in words: the branch condition, the event taken, the timeout, the SLA, the end. */
/** A move to another version (`migrated`): the versions, why, where the case waits now, and each deadline that moved. */
function migrationWhy(detail: Record<string, unknown>, step: string | null, t: Translate<Key>, session: Session): string[] {
  const versionOf = (side: unknown) => (side && typeof side === 'object' ? String((side as { version?: unknown }).version) : '?');
  const why = [t('migratedWhy', { from: versionOf(detail.from), to: versionOf(detail.to), reason: text(detail.reason) })];
  if (typeof detail.fromStep === 'string' && step) why.push(t('migratedStep', { from: detail.fromStep, to: step }));
  const mapping = detail.mapping && typeof detail.mapping === 'object' ? Object.entries(detail.mapping as Record<string, unknown>) : [];
  if (mapping.length > 0) why.push(t('migratedMapping', { mapping: mapping.map(([from, to]) => `${from} → ${text(to)}`).join(', ') }));
  const at = (value: unknown) => (typeof value === 'string' ? formatTime(value, session) : '—');
  for (const change of Array.isArray(detail.changes) ? (detail.changes as Record<string, unknown>[]) : []) {
    if (change.kind === 'deadline') why.push(t('migratedDeadline', { step: text(change.step), from: at(change.from), to: at(change.to) }));
  }
  return why;
}

function whyOf(kind: string, step: string | null, detail: Record<string, unknown>, t: Translate<Key>, session: Session): string[] {
  if (kind === 'migrated') return migrationWhy(detail, step, t, session);
  const why: string[] = [];
  const goto = typeof detail.goto === 'string' ? detail.goto : undefined;
  if (typeof detail.when === 'string' && goto) why.push(t('took', { goto, when: detail.when }));
  else if (typeof detail.otherwise === 'string') {
    why.push(t('otherwise', { goto: detail.otherwise, conditions: Array.isArray(detail.notTaken) ? detail.notTaken.map(text).join('; ') : '—' }));
  } else if (typeof detail.timeout === 'string' && goto) why.push(t('timedOut', { at: formatTime(detail.timeout, session), goto }));
  else if (typeof detail.event === 'string') why.push(t('received', { event: detail.event }));
  if (typeof detail.outcome === 'string' && typeof detail.reason === 'string') why.push(t('ended', { outcome: detail.outcome, reason: detail.reason }));
  if (detail.sla === 'met' && typeof detail.margin === 'string') why.push(t('slaMet', { margin: detail.margin }));
  if (detail.sla === 'breached' && typeof detail.lateBy === 'string') why.push(t('slaBreached', { lateBy: detail.lateBy }));
  if (typeof detail.waited === 'string') why.push(t('waitedFor', { waited: detail.waited }));
  // A cancel (who is the row's actor) and the compensations it ran.
  if (detail.by && typeof detail.reason === 'string' && detail.repair === undefined && detail.outcome === undefined) {
    why.push(t('cancelledWhy', { reason: detail.reason }));
  }
  if (typeof detail.compensates === 'string') why.push(t('compensates', { step: detail.compensates }));
  if (typeof detail.repair === 'string' && typeof detail.reason === 'string') why.push(t('repairedWhy', { action: detail.repair, reason: detail.reason }));
  if (goto && why.length === 0) why.push(t('goesTo', { goto }));
  return why;
}

/** The terms a decision read and their values: `{ "data.days_since_delivery": "3" }`. */
const evidenceOf = (detail: Record<string, unknown>): [string, string][] =>
  detail.values && typeof detail.values === 'object'
    ? Object.entries(detail.values as Record<string, unknown>).map(([term, value]) => [term, text(value)])
    : [];

export function CasePage({ session, caseId }: { session: Session; caseId: string }) {
  const t = useT(MESSAGES);
  const tLeft = useT(TIME_LEFT_MESSAGES);
  const tStatus = useT(STATUS_MESSAGES);
  const [view, setView] = useState<{ case: CaseView; history: CaseHistory; activity: CaseActivity } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());
  const [redelivery, setRedelivery] = useState<{ text: string; failed: boolean } | null>(null);
  const [redelivering, setRedelivering] = useState(false);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    setView(null);
    setError(null);
    const path = `/v1/cases/${encodeURIComponent(caseId)}`;
    Promise.all([
      api<CaseView>(session, 'GET', path),
      api<CaseHistory>(session, 'GET', `${path}/history`),
      api<CaseActivity>(session, 'GET', `${path}/activity`),
    ])
      .then(([c, history, activity]) => setView({ case: c, history, activity }))
      .catch((failure: unknown) =>
        setError(
          failure instanceof ApiProblem && failure.status === 404 ? t('notFound', { caseId }) : failure instanceof Error ? failure.message : String(failure),
        ),
      );
    const timer = setInterval(() => setNow(Date.now()), 30_000);
    return () => clearInterval(timer);
  }, [caseId, session, reloads]);

  const back = (
    <p>
      <a href="#/cases">← {t('back')}</a>
    </p>
  );
  if (error)
    return (
      <section aria-labelledby="case-title">
        {back}
        <h1 id="case-title">{caseId}</h1>
        <p class="error" role="alert">
          {error}
        </p>
      </section>
    );
  if (!view)
    return (
      <section aria-labelledby="case-title">
        {back}
        <h1 id="case-title">{caseId}</h1>
        <p role="status">{t('loading')}</p>
      </section>
    );
  const { case: c, history, activity } = view;
  const ui = session.settings.temporalUiUrl;
  const time = (iso: string | null) => formatTime(iso, session);
  const lastRow = lastFailedAttempts(activity.deliveries);
  const mayRedeliver = session.role === 'admin';

  const deliverAgain = async (webhookId: string) => {
    setRedelivering(true);
    setRedelivery({ text: t('redelivering', { webhookId }), failed: false });
    try {
      const attempt = await api<DeliveryAttempt>(session, 'POST', `/v1/deliveries/${encodeURIComponent(webhookId)}/redeliver`);
      const status = attempt.httpStatus === null ? '—' : `HTTP ${attempt.httpStatus}`;
      const why = [status, attempt.errorKind, attempt.responseExcerpt].filter(Boolean).join(' · ');
      setRedelivery(
        attempt.outcome === 'delivered'
          ? { text: t('redelivered', { webhookId, attempt: attempt.attempt, status }), failed: false }
          : { text: t('redeliveryFailed', { webhookId, attempt: attempt.attempt, why }), failed: true },
      );
    } catch (failure) {
      setRedelivery({ text: t('redeliveryRefused', { webhookId, why: failure instanceof Error ? failure.message : String(failure) }), failed: true });
    }
    const fresh = await api<CaseActivity>(session, 'GET', `/v1/cases/${encodeURIComponent(caseId)}/activity`).catch(() => null);
    if (fresh) setView((shown) => (shown ? { ...shown, activity: fresh } : shown));
    setRedelivering(false);
  };

  return (
    <article aria-labelledby="case-title">
      {back}
      <div class="case-head">
        <h1 id="case-title">{c.caseId}</h1>
        <span class={`status ${c.status}`}>{isCaseStatus(c.status) ? tStatus(c.status) : c.status}</span>
        {ui && (
          <a
            href={`${ui}/namespaces/${encodeURIComponent(session.settings.namespace)}/workflows/${encodeURIComponent(history.workflowId)}`}
            target="_blank"
            rel="noopener noreferrer"
          >
            {t('temporal')}
          </a>
        )}
        {c.status !== 'closed' && MAY_CANCEL.includes(session.role) && (
          <CancelCase session={session} caseId={c.caseId} onCancelled={() => setReloads((n) => n + 1)} />
        )}
      </div>
      <p class="muted">{t('timesIn', { zone: zoneLabel(session) })}</p>
      <div class="grid-2">
        <section aria-labelledby="case-summary">
          <h2 id="case-summary">{t('summary')}</h2>
          <dl class="facts">
            <dt>{t('playbook')}</dt>
            <dd>
              {c.playbook} v{c.version}
            </dd>
            <dt>{t('step')}</dt>
            <dd class="mono">{c.step ?? '—'}</dd>
            <dt>{t('waitsFor')}</dt>
            <dd>{c.waitingFor.length > 0 ? c.waitingFor.join(', ') : t('nothing')}</dd>
            <dt>{t('outcome')}</dt>
            <dd>{c.outcome ? `${c.outcome.outcome} (${c.outcome.reason})` : '—'}</dd>
            <dt>{t('opened')}</dt>
            <dd>{time(history.opened?.at ?? null)}</dd>
            {history.opened && (
              <>
                <dt>{t('openedBy')}</dt>
                <dd>{history.opened.by.name}</dd>
              </>
            )}
            {c.parent && (
              <>
                <dt>{t('parentCase')}</dt>
                <dd>
                  <a href={`#/cases/${encodeURIComponent(c.parent.caseId)}`}>{c.parent.caseId}</a> {t('atStep', { step: c.parent.step })}
                </dd>
              </>
            )}
            {c.children.length > 0 && (
              <>
                <dt>{t('childCases')}</dt>
                <dd>
                  <ul>
                    {c.children.map((child) => (
                      <li key={child.caseId}>
                        <a href={`#/cases/${encodeURIComponent(child.caseId)}`}>{child.caseId}</a> · {child.playbook} v{child.version} ·{' '}
                        {child.outcome ?? child.status} · {t('atStep', { step: child.step })}
                      </li>
                    ))}
                  </ul>
                </dd>
              </>
            )}
          </dl>
        </section>
        <section aria-labelledby="case-deadlines">
          <h2 id="case-deadlines">{t('deadlines')}</h2>
          {c.deadlines.length === 0 ? (
            <p>{t('none')}</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('kind')}</th>
                  <th scope="col">{t('step')}</th>
                  <th scope="col">{t('at')}</th>
                  <th scope="col">{t('left')}</th>
                </tr>
              </thead>
              <tbody>
                {c.deadlines.map((d) => (
                  <tr key={`${d.kind}/${d.step}`}>
                    <td>{d.kind}</td>
                    <td class="mono">{d.step}</td>
                    <td>{time(d.at)}</td>
                    <td class={Date.parse(d.at) < now ? 'overdue' : undefined}>
                      {d.paused ? `${t('paused')} (${d.left ?? ''})` : formatLeft(d.at, now, tLeft)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>

      <section aria-labelledby="case-timeline">
        <h2 id="case-timeline">{t('timeline')}</h2>
        {history.steps.length === 0 ? (
          <p>{t('timelineEmpty')}</p>
        ) : (
          <ol class="timeline">
            {history.steps.map((s) => {
              const evidence = evidenceOf(s.detail);
              return (
                <li key={s.seq} data-step={s.step ?? ''}>
                  <span class="when">{time(s.at)}</span> <strong class="mono">{s.step ?? s.kind}</strong>{' '}
                  {typeof s.detail.iteration === 'string' && <span class="muted">{t('loopItem', { iteration: s.detail.iteration })} · </span>}
                  <span class="muted">
                    {s.kind} · {t('by', { name: s.by.name })}
                  </span>
                  {whyOf(s.kind, s.step, s.detail, t, session).map((line) => (
                    <p class="why" key={line}>
                      {line}
                    </p>
                  ))}
                  {evidence.length > 0 && (
                    <dl class="facts evidence" aria-label={t('evidence')}>
                      {evidence.map(([term, value]) => (
                        <Fragment key={term}>
                          <dt class="mono">{term}</dt>
                          <dd class="mono">{value}</dd>
                        </Fragment>
                      ))}
                    </dl>
                  )}
                  <details>
                    <summary>{t('record')}</summary>
                    <pre>{JSON.stringify(s.detail, null, 2)}</pre>
                  </details>
                </li>
              );
            })}
          </ol>
        )}
      </section>

      <section aria-labelledby="case-refunds">
        <h2 id="case-refunds">{t('refunds')}</h2>
        {history.refunds.length === 0 ? (
          <p>{t('none')}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">{t('when')}</th>
                <th scope="col" class="num">
                  {t('amount')}
                </th>
                <th scope="col">{t('covers')}</th>
                <th scope="col">{t('orderLine')}</th>
                <th scope="col">{t('reason')}</th>
                <th scope="col">{t('status')}</th>
                <th scope="col">{t('deadline')}</th>
              </tr>
            </thead>
            <tbody>
              {history.refunds.map((r) => (
                <tr key={`${r.at}/${r.amount}`}>
                  <td>{time(r.at)}</td>
                  <td class="num">{formatMoney(r.amount, r.currency)}</td>
                  <td>{r.covers}</td>
                  <td>{r.lineId ?? '—'}</td>
                  <td>{r.reason}</td>
                  <td class={r.lateAt ? 'late' : undefined}>{r.status}</td>
                  <td>{time(r.deadlineAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="case-tasks">
        <h2 id="case-tasks">{t('tasks')}</h2>
        {activity.tasks.length === 0 ? (
          <p>{t('none')}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">{t('title')}</th>
                <th scope="col">{t('role')}</th>
                <th scope="col">{t('due')}</th>
                <th scope="col">{t('status')}</th>
                <th scope="col">{t('outcome')}</th>
              </tr>
            </thead>
            <tbody>
              {activity.tasks.map((task) => (
                <tr key={`${task.stepId}/${task.createdAt}`}>
                  <td>{task.title}</td>
                  <td>{task.role}</td>
                  <td>
                    {time(task.dueAt)}
                    {task.status === 'open' && (
                      <>
                        {' '}
                        · <span class={Date.parse(task.dueAt) < now ? 'overdue' : undefined}>{formatLeft(task.dueAt, now, tLeft)}</span>
                      </>
                    )}
                  </td>
                  <td class={task.status === 'breached' ? 'late' : undefined}>{task.status}</td>
                  <td>{task.outcome ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="case-messages">
        <h2 id="case-messages">{t('messages')}</h2>
        {history.messages.length === 0 ? (
          <p>{t('none')}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">{t('when')}</th>
                <th scope="col">{t('template')}</th>
                <th scope="col">{t('channel')}</th>
                <th scope="col">{t('recipient')}</th>
                <th scope="col">{t('body')}</th>
                <th scope="col">{t('status')}</th>
              </tr>
            </thead>
            <tbody>
              {history.messages.map((m) => (
                <tr key={`${m.at}/${m.template}`}>
                  <td>{time(m.at)}</td>
                  <td class="mono">{m.template}</td>
                  <td>{m.channel}</td>
                  <td>{m.recipient}</td>
                  <td>{m.body}</td>
                  <td>{m.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="case-remarks">
        <h2 id="case-remarks">{t('remarks')}</h2>
        {activity.remarks.length === 0 ? (
          <p>{t('none')}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">{t('when')}</th>
                <th scope="col">{t('step')}</th>
                <th scope="col">{t('remarks')}</th>
                <th scope="col">{t('flag')}</th>
              </tr>
            </thead>
            <tbody>
              {activity.remarks.map((r) => (
                <tr key={`${r.at}/${r.stepId}`}>
                  <td>{time(r.at)}</td>
                  <td class="mono">{r.stepId}</td>
                  <td>{r.remark ?? '—'}</td>
                  <td>{r.flag ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="case-deliveries">
        <h2 id="case-deliveries">{t('deliveries')}</h2>
        {redelivery && (
          <p class={redelivery.failed ? 'error' : undefined} role="status">
            {redelivery.text}
          </p>
        )}
        {activity.deliveries.length === 0 ? (
          <p>{t('none')}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">{t('when')}</th>
                <th scope="col">{t('step')}</th>
                <th scope="col">{t('deliveryType')}</th>
                <th scope="col">{t('destination')}</th>
                <th scope="col">{t('attempt')}</th>
                <th scope="col">{t('outcome')}</th>
                <th scope="col">{t('latency')}</th>
                <th scope="col">{t('answer')}</th>
                {mayRedeliver && <th scope="col" aria-label={t('deliverAgain')} />}
              </tr>
            </thead>
            <tbody>
              {activity.deliveries.map((d, i) => (
                <tr key={`${d.webhookId}/${d.attempt}`}>
                  <td>{time(d.startedAt)}</td>
                  <td class="mono">{d.stepId ?? '—'}</td>
                  <td class="mono">{d.type}</td>
                  <td>{d.destination}</td>
                  <td>
                    {d.attempt}
                    {d.requestedBy !== null && <span class="muted"> · {t('requestedBy', { name: d.requestedBy })}</span>}
                  </td>
                  <td>
                    {d.outcome === null
                      ? t('inFlight')
                      : [d.outcome, d.httpStatus === null ? null : `HTTP ${d.httpStatus}`, d.errorKind].filter(Boolean).join(' · ')}
                  </td>
                  <td>{d.latencyMs === null ? '—' : `${d.latencyMs} ms`}</td>
                  <td class="mono">{d.responseExcerpt ?? '—'}</td>
                  {mayRedeliver && (
                    <td>
                      {lastRow.get(d.webhookId) === i && (
                        <button
                          type="button"
                          class="secondary"
                          aria-label={t('deliverAgainLabel', { webhookId: d.webhookId })}
                          disabled={redelivering}
                          onClick={() => void deliverAgain(d.webhookId)}
                        >
                          {t('deliverAgain')}
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="case-events">
        <h2 id="case-events">{t('events')}</h2>
        {history.events.length === 0 ? (
          <p>{t('none')}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">{t('when')}</th>
                <th scope="col">{t('eventType')}</th>
                <th scope="col">{t('deliveredBy')}</th>
                <th scope="col">{t('payload')}</th>
              </tr>
            </thead>
            <tbody>
              {history.events.map((e) => (
                <tr key={e.id}>
                  <td>{time(e.receivedAt)}</td>
                  <td class="mono">{e.type}</td>
                  <td>{e.by?.name ?? '—'}</td>
                  <td class="mono">{JSON.stringify(e.payload)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="case-escalations">
        <h2 id="case-escalations">{t('escalations')}</h2>
        {history.escalations.length === 0 ? (
          <p>{t('none')}</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">{t('when')}</th>
                <th scope="col">{t('queue')}</th>
                <th scope="col">{t('severity')}</th>
                <th scope="col">{t('reason')}</th>
              </tr>
            </thead>
            <tbody>
              {history.escalations.map((e) => (
                <tr key={`${e.at}/${e.queue}`}>
                  <td>{time(e.at)}</td>
                  <td>{e.queue}</td>
                  <td>{e.severity}</td>
                  <td>{e.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="case-data">
        <h2 id="case-data">{t('data')}</h2>
        <pre class="data">{JSON.stringify(c.data, null, 2)}</pre>
      </section>
    </article>
  );
}
