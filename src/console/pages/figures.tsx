/**
 * Figures (#/figures): the ops lead's figures over a range of days in the shop's time zone (the last
 * seven by default), for all playbooks or one: numbers, a chart for each, the top three reasons
 * marked, the late refunds listed (those still unpaid first), and the same figures as a CSV download. Definitions: docs/figures.md.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Figures } from '../../api-contract/figures.js';
import type { PublishedPlaybooks } from '../../api-contract/playbooks.js';
import { api, ApiProblem, apiText, queryOf } from '../api.js';
import { BarChart, ColumnChart, type Series } from '../charts.js';
import { formatMoney, formatTime, zoneLabel } from '../format.js';
import { LANGUAGE_TAGS, useLanguage, useT, type Messages, type Translate } from '../i18n.js';
import type { PageProps } from '../pages.js';
import type { Session } from '../session.js';
import './figures.css';

type Key =
  | 'title'
  | 'intro'
  | 'filters'
  | 'from'
  | 'to'
  | 'playbook'
  | 'allPlaybooks'
  | 'show'
  | 'csv'
  | 'csvFailed'
  | 'loading'
  | 'timesIn'
  | 'rangeShown'
  | 'reasonsTitle'
  | 'reasonsNone'
  | 'reasonsTotal'
  | 'reason'
  | 'returns'
  | 'exchanges'
  | 'cases'
  | 'share'
  | 'topThree'
  | 'reasonsChart'
  | 'refundsTitle'
  | 'refundsNone'
  | 'receipts'
  | 'within24h'
  | 'latePaid'
  | 'lateUnpaid'
  | 'pending'
  | 'withinShare'
  | 'median'
  | 'p95'
  | 'asOf'
  | 'onTime'
  | 'paidLate'
  | 'unpaidLate'
  | 'notYetDue'
  | 'refundsChart'
  | 'lateTitle'
  | 'noLate'
  | 'case'
  | 'order'
  | 'received'
  | 'paid'
  | 'delay'
  | 'amount'
  | 'notPaid'
  | 'soFar'
  | 'remindersTitle'
  | 'orders'
  | 'paidBeforeReminder'
  | 'reminded'
  | 'recovered'
  | 'recoveredShare'
  | 'closedUnpaid'
  | 'stillUnpaid'
  | 'afterReminders'
  | 'remindersChart'
  | 'remindersNone'
  | 'reviewsTitle'
  | 'reviews'
  | 'ratings'
  | 'open'
  | 'handled'
  | 'askedToAmend'
  | 'amended'
  | 'amendedShare'
  | 'escalated'
  | 'reviewsChart'
  | 'reviewsNone'
  | 'slaTitle'
  | 'breachesTitle'
  | 'noBreaches'
  | 'kind'
  | 'step'
  | 'queue'
  | 'count'
  | 'breachesChart'
  | 'escalationsTitle'
  | 'noEscalations'
  | 'stillOpen'
  | 'taskSla'
  | 'clock'
  | 'refundLate'
  | 'perDayTitle'
  | 'date'
  | 'opened'
  | 'closed'
  | 'perDayChart'
  | 'none'
  | 'hours'
  | 'minutes'
  | 'seconds'
  | 'outOf'
  | 'shareOf';

const MESSAGES: Messages<Key> = {
  en: {
    title: 'Figures',
    intro: 'Computed from the cases Casebook ran; each figure is defined in docs/figures.md.',
    filters: 'Range and playbook',
    from: 'From',
    to: 'To (inclusive)',
    playbook: 'Playbook',
    allPlaybooks: 'All playbooks',
    show: 'Show',
    csv: 'Download CSV',
    csvFailed: 'The CSV could not be downloaded: {detail}',
    loading: 'Loading…',
    timesIn: 'Days and times in the shop’s time zone ({zone}).',
    rangeShown: '{from} to {to}',
    reasonsTitle: 'Return and exchange reasons',
    reasonsNone: 'No return or exchange opened in this range.',
    reasonsTotal: '{count} returns and exchanges opened',
    reason: 'Reason',
    returns: 'Returns',
    exchanges: 'Exchanges',
    cases: 'Cases',
    share: 'Share',
    topThree: 'Top 3',
    reasonsChart: 'Returns and exchanges by reason',
    refundsTitle: 'Refunds paid within 24 hours of the warehouse receipt',
    refundsNone: 'No receipt in this range was owed a refund.',
    receipts: 'Receipts owed a refund',
    within24h: 'Paid within 24 hours',
    latePaid: 'Paid after more than 24 hours',
    lateUnpaid: 'Not paid, more than 24 hours after the receipt',
    pending: 'Not paid yet, less than 24 hours after the receipt',
    withinShare: 'Share within 24 hours',
    median: 'Median delay of the refunds paid',
    p95: '95th percentile delay of the refunds paid',
    asOf: 'As of',
    onTime: 'Paid within 24 h',
    paidLate: 'Paid late',
    unpaidLate: 'Unpaid, late',
    notYetDue: 'Pending (under 24 h)',
    refundsChart: 'Receipts owed a refund, by when it was paid',
    lateTitle: 'Late refunds',
    noLate: 'No refund was late.',
    case: 'Case',
    order: 'Order',
    received: 'Received',
    paid: 'Paid',
    delay: 'Delay',
    amount: 'Amount',
    notPaid: 'Not paid',
    soFar: '{duration} so far',
    remindersTitle: 'Unpaid orders recovered by reminders',
    orders: 'Online orders',
    paidBeforeReminder: 'Paid before any reminder',
    reminded: 'Reminded',
    recovered: 'Recovered',
    recoveredShare: 'Share recovered',
    closedUnpaid: 'Closed unpaid',
    stillUnpaid: 'Still unpaid',
    afterReminders: 'After {n} reminder(s)',
    remindersChart: 'Recovered orders by the number of reminders before the payment',
    remindersNone: 'No order needed a reminder.',
    reviewsTitle: 'Medium and negative reviews',
    reviews: 'Reviews',
    ratings: '{medium} medium, {negative} negative',
    open: 'Still open',
    handled: 'Handled',
    askedToAmend: 'Asked to amend',
    amended: 'Amended',
    amendedShare: 'Share amended',
    escalated: 'Escalated',
    reviewsChart: 'Closed reviews by outcome',
    reviewsNone: 'No review case closed in this range.',
    slaTitle: 'SLA breaches and escalations',
    breachesTitle: 'Deadlines missed',
    noBreaches: 'No deadline was missed.',
    kind: 'Kind',
    step: 'Step',
    queue: 'Queue',
    count: 'Count',
    breachesChart: 'Deadlines missed by playbook and step',
    escalationsTitle: 'Escalations',
    noEscalations: 'No escalation.',
    stillOpen: 'Not resolved',
    taskSla: 'Task SLA',
    clock: 'Clock',
    refundLate: 'Refund deadline',
    perDayTitle: 'Cases opened and closed per day',
    date: 'Day',
    opened: 'Opened',
    closed: 'Closed: {outcome}',
    perDayChart: 'Cases opened and closed per day',
    none: '—',
    hours: '{h} h {m} min',
    minutes: '{m} min',
    seconds: '{s} s',
    outOf: '{part} of {whole}',
    shareOf: '{count} ({share})',
  },
  zh: {
    title: '数据',
    intro: '根据 Casebook 运行的工单计算；各项指标的定义见 docs/figures.md。',
    filters: '日期范围和剧本',
    from: '开始日期',
    to: '结束日期（含）',
    playbook: '剧本',
    allPlaybooks: '全部剧本',
    show: '查看',
    csv: '下载 CSV',
    csvFailed: 'CSV 下载失败：{detail}',
    loading: '加载中…',
    timesIn: '日期和时间为店铺所在时区（{zone}）。',
    rangeShown: '{from} 至 {to}',
    reasonsTitle: '退货和换货原因',
    reasonsNone: '此期间没有新建的退换货工单。',
    reasonsTotal: '共新建 {count} 个退换货工单',
    reason: '原因',
    returns: '退货',
    exchanges: '换货',
    cases: '工单数',
    share: '占比',
    topThree: '前三',
    reasonsChart: '按原因统计的退换货',
    refundsTitle: '仓库收货后 24 小时内退款',
    refundsNone: '此期间没有应退款的收货。',
    receipts: '应退款的收货',
    within24h: '24 小时内退款',
    latePaid: '超过 24 小时才退款',
    lateUnpaid: '收货超过 24 小时仍未退款',
    pending: '收货未满 24 小时，尚未退款',
    withinShare: '24 小时内退款占比',
    median: '已退款的延迟中位数',
    p95: '已退款的延迟第 95 百分位',
    asOf: '统计时间',
    onTime: '24 小时内退款',
    paidLate: '超时后已退款',
    unpaidLate: '超时未退款',
    notYetDue: '待退款（未满 24 小时）',
    refundsChart: '按退款时间统计的应退款收货',
    lateTitle: '超时退款',
    noLate: '没有超时的退款。',
    case: '工单',
    order: '订单',
    received: '收货时间',
    paid: '退款时间',
    delay: '延迟',
    amount: '金额',
    notPaid: '未退款',
    soFar: '已过 {duration}',
    remindersTitle: '催付挽回的未付款订单',
    orders: '在线支付订单',
    paidBeforeReminder: '催付前已付款',
    reminded: '已催付',
    recovered: '已挽回',
    recoveredShare: '挽回占比',
    closedUnpaid: '未付款已关闭',
    stillUnpaid: '仍未付款',
    afterReminders: '催付 {n} 次后',
    remindersChart: '按付款前催付次数统计的挽回订单',
    remindersNone: '没有需要催付的订单。',
    reviewsTitle: '中差评',
    reviews: '评价数',
    ratings: '中评 {medium}，差评 {negative}',
    open: '处理中',
    handled: '已处理',
    askedToAmend: '已请求修改',
    amended: '已修改',
    amendedShare: '修改占比',
    escalated: '已升级',
    reviewsChart: '按结果统计的已结束评价工单',
    reviewsNone: '此期间没有结束的评价工单。',
    slaTitle: '超时和升级',
    breachesTitle: '错过的时限',
    noBreaches: '没有错过的时限。',
    kind: '类型',
    step: '步骤',
    queue: '队列',
    count: '次数',
    breachesChart: '按剧本和步骤统计的错过时限',
    escalationsTitle: '升级',
    noEscalations: '没有升级。',
    stillOpen: '未解决',
    taskSla: '任务时限',
    clock: '计时器',
    refundLate: '退款时限',
    perDayTitle: '每日新建和结束的工单',
    date: '日期',
    opened: '新建',
    closed: '结束：{outcome}',
    perDayChart: '每日新建和结束的工单',
    none: '—',
    hours: '{h} 小时 {m} 分',
    minutes: '{m} 分钟',
    seconds: '{s} 秒',
    outOf: '{whole} 中的 {part}',
    shareOf: '{count}（{share}）',
  },
};

/** The standard playbooks' reason and outcome codes in words; other codes are shown as they are. */
const CODES: Messages<string> = {
  en: {
    quality: 'Quality problem',
    not_as_described: 'Not as described',
    damaged_in_transit: 'Damaged in transit',
    wrong_item: 'Wrong item',
    wrong_size: 'Wrong size',
    changed_mind: 'Changed mind',
    no_reason: 'No reason given',
    other: 'Other',
    not_recorded: 'Not recorded',
    resolved: 'Resolved',
    refused: 'Refused',
    cancelled: 'Cancelled',
    escalated: 'Escalated',
    expired: 'Expired',
    none: 'No outcome',
  },
  zh: {
    quality: '质量问题',
    not_as_described: '与描述不符',
    damaged_in_transit: '运输损坏',
    wrong_item: '发错货',
    wrong_size: '尺码不合适',
    changed_mind: '不想要了',
    no_reason: '未说明原因',
    other: '其他',
    not_recorded: '未记录',
    resolved: '已解决',
    refused: '已拒绝',
    cancelled: '已取消',
    escalated: '已升级',
    expired: '已过期',
    none: '无结果',
  },
};

const DAY_MS = 86_400_000;
const addDays = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);

/** Today's date in the shop's time zone. */
const todayIn = (session: Session) =>
  new Intl.DateTimeFormat('en-CA', { timeZone: session.settings.timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());

interface Range {
  from: string;
  /** Inclusive, as the picker shows it; the API's `to` is the day after. */
  through: string;
  playbook: string;
}

const figuresQuery = (range: Range, session: Session, format?: 'csv') =>
  queryOf({ from: range.from, to: addDays(range.through, 1), playbook: range.playbook, timeZone: session.settings.timeZone, format });

export function FiguresPage({ session }: PageProps) {
  const t = useT(MESSAGES);
  const language = useLanguage();
  const code = (value: string) => CODES[language][value] ?? value;
  const today = todayIn(session);
  const [draft, setDraft] = useState<Range>({ from: addDays(today, -6), through: today, playbook: '' });
  const [range, setRange] = useState<Range>(draft);
  const [playbooks, setPlaybooks] = useState<string[]>([]);
  const [figures, setFigures] = useState<Figures | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api<PublishedPlaybooks>(session, 'GET', '/v1/playbooks').then(
      (answer) => setPlaybooks(answer.playbooks.map((p) => p.name)),
      () => setPlaybooks([]),
    );
  }, [session]);

  useEffect(() => {
    setFigures(null);
    setError(null);
    api<Figures>(session, 'GET', `/v1/figures${figuresQuery(range, session)}`).then(setFigures, (failure: unknown) => {
      setError(failure instanceof ApiProblem ? failure.message : String(failure));
    });
  }, [range, session]);

  const downloadCsv = async () => {
    try {
      const csv = await apiText(session, `/v1/figures${figuresQuery(range, session, 'csv')}`);
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
      link.download = `casebook-figures-${range.from}-to-${addDays(range.through, 1)}${range.playbook ? `-${range.playbook}` : ''}.csv`.replace(
        /[^A-Za-z0-9._-]/g,
        '_',
      );
      document.body.append(link);
      link.click();
      link.remove();
      URL.revokeObjectURL(link.href);
    } catch (failure) {
      setError(t('csvFailed', { detail: failure instanceof ApiProblem ? failure.message : String(failure) }));
    }
  };

  const percent = new Intl.NumberFormat(LANGUAGE_TAGS[language], { style: 'percent', maximumFractionDigits: 1 });
  const share = (value: number | null) => (value === null ? t('none') : percent.format(value));
  const format: Format = { t, code, share, duration: (seconds) => duration(seconds, t), session };

  return (
    <section aria-labelledby="figures-title" class="figures">
      <h1 id="figures-title">{t('title')}</h1>
      <p class="muted">
        {t('intro')} {t('timesIn', { zone: zoneLabel(session) })}
      </p>
      <form
        class="filters"
        aria-label={t('filters')}
        onSubmit={(event) => {
          event.preventDefault();
          setRange(draft);
        }}
      >
        <label for="figures-from">
          {t('from')}
          <input
            type="date"
            id="figures-from"
            name="from"
            required
            value={draft.from}
            max={draft.through}
            onInput={(event) => setDraft({ ...draft, from: event.currentTarget.value })}
          />
        </label>
        <label for="figures-to">
          {t('to')}
          <input
            type="date"
            id="figures-to"
            name="to"
            required
            value={draft.through}
            min={draft.from}
            onInput={(event) => setDraft({ ...draft, through: event.currentTarget.value })}
          />
        </label>
        <label for="figures-playbook">
          {t('playbook')}
          <select
            id="figures-playbook"
            name="playbook"
            value={draft.playbook}
            onChange={(event) => setDraft({ ...draft, playbook: event.currentTarget.value })}
          >
            <option value="">{t('allPlaybooks')}</option>
            {playbooks.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <div class="actions">
          <button type="submit">{t('show')}</button>
          <button type="button" class="secondary" onClick={() => void downloadCsv()}>
            {t('csv')}
          </button>
        </div>
      </form>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!figures && !error && <p role="status">{t('loading')}</p>}
      {figures && (
        <>
          <p class="range" role="status">
            {t('rangeShown', { from: figures.range.from, to: addDays(figures.range.to, -1) })}
            {figures.range.playbook ? ` · ${figures.range.playbook}` : ''}
          </p>
          <Reasons figures={figures} format={format} />
          <Refunds figures={figures} format={format} />
          <Reminders figures={figures} format={format} />
          <Reviews figures={figures} format={format} />
          <Breaches figures={figures} format={format} />
          <PerDay figures={figures} format={format} />
        </>
      )}
    </section>
  );
}

interface Format {
  t: Translate<Key>;
  code: (value: string) => string;
  share: (value: number | null) => string;
  duration: (seconds: number | null) => string;
  session: Session;
}

function duration(seconds: number | null, t: Translate<Key>): string {
  if (seconds === null) return t('none');
  if (seconds < 60) return t('seconds', { s: seconds });
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? t('minutes', { m: minutes }) : t('hours', { h: Math.floor(minutes / 60), m: minutes % 60 });
}

/** A list of measures: each a term and its value, the value marked with the measure's name for tests and styles. */
function Facts({ facts }: { facts: [measure: string, term: string, value: string][] }) {
  return (
    <dl class="facts figure-facts">
      {facts.map(([measure, term, value]) => [
        <dt key={`${measure}-t`}>{term}</dt>,
        <dd key={`${measure}-d`} data-measure={measure}>
          {value}
        </dd>,
      ])}
    </dl>
  );
}

function Reasons({ figures, format: { t, code, share } }: { figures: Figures; format: Format }) {
  const { total, reasons } = figures.reasons;
  return (
    <section aria-labelledby="figure-reasons" data-figure="reasons">
      <h2 id="figure-reasons">{t('reasonsTitle')}</h2>
      {total === 0 ? (
        <p>{t('reasonsNone')}</p>
      ) : (
        <>
          <p data-measure="total">{t('reasonsTotal', { count: total })}</p>
          <div class="figure-body">
            <table>
              <thead>
                <tr>
                  <th scope="col">{t('reason')}</th>
                  <th scope="col" class="num">
                    {t('returns')}
                  </th>
                  <th scope="col" class="num">
                    {t('exchanges')}
                  </th>
                  <th scope="col" class="num">
                    {t('cases')}
                  </th>
                  <th scope="col" class="num">
                    {t('share')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {reasons.map((r) => (
                  <tr key={r.reason} data-reason={r.reason} class={r.topThree ? 'top-three' : undefined}>
                    <th scope="row">
                      {code(r.reason)}
                      {r.topThree && (
                        <>
                          {' '}
                          <span class="badge">{t('topThree')}</span>
                        </>
                      )}
                    </th>
                    <td class="num">{r.returns}</td>
                    <td class="num">{r.exchanges}</td>
                    <td class="num">{r.count}</td>
                    <td class="num">{share(r.share)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <BarChart
              label={t('reasonsChart')}
              bars={reasons.map((r) => ({
                key: r.reason,
                label: code(r.reason),
                value: r.count,
                valueLabel: t('shareOf', { count: r.count, share: share(r.share) }),
                highlight: r.topThree,
              }))}
            />
          </div>
        </>
      )}
    </section>
  );
}

function Refunds({ figures, format: { t, share, duration, session } }: { figures: Figures; format: Format }) {
  const refunds = figures.refundsAfterReceipt;
  // The receipts whose 24 hours are over or whose refund is paid: the share's whole.
  const decided = refunds.receipts - refunds.pending;
  return (
    <section aria-labelledby="figure-refunds" data-figure="refunds">
      <h2 id="figure-refunds">{t('refundsTitle')}</h2>
      {refunds.receipts === 0 ? (
        <p>{t('refundsNone')}</p>
      ) : (
        <>
          <div class="figure-body">
            <Facts
              facts={[
                ['receipts', t('receipts'), String(refunds.receipts)],
                ['within24h', t('within24h'), t('outOf', { part: refunds.within24h, whole: decided })],
                ['latePaid', t('latePaid'), String(refunds.latePaid)],
                ['lateUnpaid', t('lateUnpaid'), String(refunds.lateUnpaid)],
                ['pending', t('pending'), String(refunds.pending)],
                ['shareWithin24h', t('withinShare'), share(refunds.shareWithin24h)],
                ['median', t('median'), duration(refunds.medianDelaySeconds)],
                ['p95', t('p95'), duration(refunds.p95DelaySeconds)],
                ['asOf', t('asOf'), formatTime(refunds.asOf, session)],
              ]}
            />
            <BarChart
              label={t('refundsChart')}
              bars={[
                { key: 'on-time', label: t('onTime'), value: refunds.within24h, highlight: true },
                { key: 'late-paid', label: t('paidLate'), value: refunds.latePaid },
                { key: 'late-unpaid', label: t('unpaidLate'), value: refunds.lateUnpaid, tone: 'bad' },
                { key: 'pending', label: t('notYetDue'), value: refunds.pending, tone: 'quiet' },
              ]}
            />
          </div>
          <h3>{t('lateTitle')}</h3>
          {refunds.late.length === 0 ? (
            <p>{t('noLate')}</p>
          ) : (
            <table class="late-refunds">
              <thead>
                <tr>
                  <th scope="col">{t('case')}</th>
                  <th scope="col">{t('order')}</th>
                  <th scope="col">{t('received')}</th>
                  <th scope="col">{t('paid')}</th>
                  <th scope="col" class="num">
                    {t('delay')}
                  </th>
                  <th scope="col" class="num">
                    {t('amount')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {refunds.late.map((late) => (
                  <tr key={late.caseId} data-case={late.caseId} data-status={late.status} class={late.status}>
                    <td>
                      <a href={`#/cases/${encodeURIComponent(late.caseId)}`}>{late.caseId}</a>
                    </td>
                    <td class="mono">{late.orderId ?? t('none')}</td>
                    <td>{formatTime(late.receivedAt, session)}</td>
                    <td>{late.paidAt === null ? <span class="late">{t('notPaid')}</span> : formatTime(late.paidAt, session)}</td>
                    <td class="num late">{late.paidAt === null ? t('soFar', { duration: duration(late.delaySeconds) }) : duration(late.delaySeconds)}</td>
                    <td class="num">{late.amount === null || late.currency === null ? t('none') : formatMoney(late.amount, late.currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}

function Reminders({ figures, format: { t, share } }: { figures: Figures; format: Format }) {
  const r = figures.unpaidReminders;
  return (
    <section aria-labelledby="figure-reminders" data-figure="reminders">
      <h2 id="figure-reminders">{t('remindersTitle')}</h2>
      <div class="figure-body">
        <Facts
          facts={[
            ['orders', t('orders'), String(r.orders)],
            ['paidBeforeReminder', t('paidBeforeReminder'), String(r.paidBeforeReminder)],
            ['reminded', t('reminded'), String(r.reminded)],
            ['recovered', t('recovered'), String(r.recovered)],
            ['shareRecovered', t('recoveredShare'), share(r.shareRecovered)],
            ['closedUnpaid', t('closedUnpaid'), String(r.closedUnpaid)],
            ['stillUnpaid', t('stillUnpaid'), String(r.stillUnpaid)],
          ]}
        />
        {r.byReminder.length === 0 ? (
          <p>{t('remindersNone')}</p>
        ) : (
          <BarChart
            label={t('remindersChart')}
            bars={r.byReminder.map((b) => ({
              key: String(b.reminders),
              label: t('afterReminders', { n: b.reminders }),
              value: b.recovered,
              valueLabel: t('shareOf', { count: b.recovered, share: share(b.share) }),
            }))}
          />
        )}
      </div>
    </section>
  );
}

function Reviews({ figures, format: { t, code, share } }: { figures: Figures; format: Format }) {
  const r = figures.reviews;
  return (
    <section aria-labelledby="figure-reviews" data-figure="reviews">
      <h2 id="figure-reviews">{t('reviewsTitle')}</h2>
      <div class="figure-body">
        <Facts
          facts={[
            ['reviews', t('reviews'), `${r.reviews} · ${t('ratings', { medium: r.medium, negative: r.negative })}`],
            ['open', t('open'), String(r.open)],
            ['handled', t('handled'), String(r.handled)],
            ['askedToAmend', t('askedToAmend'), String(r.askedToAmend)],
            ['amended', t('amended'), String(r.amended)],
            ['amendedShare', t('amendedShare'), share(r.amendedShare)],
            ['escalated', t('escalated'), String(r.escalated)],
          ]}
        />
        {r.byOutcome.length === 0 ? (
          <p>{t('reviewsNone')}</p>
        ) : (
          <BarChart
            label={t('reviewsChart')}
            bars={r.byOutcome.map((o) => ({ key: `${o.outcome}/${o.reason}`, label: `${code(o.outcome)} · ${o.reason}`, value: o.count }))}
          />
        )}
      </div>
    </section>
  );
}

function Breaches({ figures, format: { t } }: { figures: Figures; format: Format }) {
  const { breaches, escalations } = figures.sla;
  const kind = { 'task-sla': t('taskSla'), clock: t('clock'), refund: t('refundLate') };
  return (
    <section aria-labelledby="figure-sla" data-figure="sla">
      <h2 id="figure-sla">{t('slaTitle')}</h2>
      <h3>{t('breachesTitle')}</h3>
      {breaches.length === 0 ? (
        <p>{t('noBreaches')}</p>
      ) : (
        <div class="figure-body">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('kind')}</th>
                <th scope="col">{t('playbook')}</th>
                <th scope="col">{t('step')}</th>
                <th scope="col">{t('queue')}</th>
                <th scope="col" class="num">
                  {t('count')}
                </th>
              </tr>
            </thead>
            <tbody>
              {breaches.map((b) => (
                <tr key={`${b.kind}/${b.playbook}/${b.step}/${b.queue}`}>
                  <td>{kind[b.kind]}</td>
                  <td>{b.playbook}</td>
                  <td class="mono">{b.step}</td>
                  <td class="mono">{b.queue ?? t('none')}</td>
                  <td class="num">{b.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <BarChart
            label={t('breachesChart')}
            bars={breaches.map((b) => ({ key: `${b.kind}/${b.playbook}/${b.step}/${b.queue}`, label: `${b.playbook} · ${b.step}`, value: b.count }))}
          />
        </div>
      )}
      <h3>{t('escalationsTitle')}</h3>
      {escalations.length === 0 ? (
        <p>{t('noEscalations')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">{t('playbook')}</th>
              <th scope="col">{t('step')}</th>
              <th scope="col">{t('queue')}</th>
              <th scope="col">{t('reason')}</th>
              <th scope="col" class="num">
                {t('count')}
              </th>
              <th scope="col" class="num">
                {t('stillOpen')}
              </th>
            </tr>
          </thead>
          <tbody>
            {escalations.map((e) => (
              <tr key={`${e.playbook}/${e.step}/${e.queue}/${e.reason}`}>
                <td>{e.playbook}</td>
                <td class="mono">{e.step}</td>
                <td class="mono">{e.queue}</td>
                <td class="mono">{e.reason}</td>
                <td class="num">{e.count}</td>
                <td class="num">{e.open}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function PerDay({ figures, format: { t, code } }: { figures: Figures; format: Format }) {
  const { outcomes, days } = figures.casesPerDay;
  const opened: Series = { key: 'opened', label: t('opened') };
  const closed: Series[] = outcomes.map((outcome) => ({ key: `closed:${outcome}`, label: t('closed', { outcome: code(outcome) }) }));
  const columns = days.map((day) => ({
    key: day.date,
    label: day.date.slice(5),
    values: { opened: day.opened, ...Object.fromEntries(outcomes.map((outcome) => [`closed:${outcome}`, day.closed[outcome] ?? 0])) },
  }));
  return (
    <section aria-labelledby="figure-per-day" data-figure="per-day">
      <h2 id="figure-per-day">{t('perDayTitle')}</h2>
      <ColumnChart label={t('perDayChart')} columns={columns} groups={closed.length > 0 ? [[opened], closed] : [[opened]]} />
      <div class="table-scroll">
        <table>
          <thead>
            <tr>
              <th scope="col">{t('date')}</th>
              <th scope="col" class="num">
                {t('opened')}
              </th>
              {closed.map((series) => (
                <th key={series.key} scope="col" class="num">
                  {series.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {days.map((day) => (
              <tr key={day.date} data-date={day.date}>
                <th scope="row">{day.date}</th>
                <td class="num">{day.opened}</td>
                {outcomes.map((outcome) => (
                  <td key={outcome} class="num">
                    {day.closed[outcome] ?? 0}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
