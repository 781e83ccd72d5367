/**
 * GET /v1/figures: the ops lead's figures over a range of days (docs/figures.md), as JSON or, for a
 * spreadsheet, as one long CSV table `figure,item,measure,value`.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Figures } from '../../api-contract/figures.js';
import type { Role } from '../../services/keys.js';
import { readFigures, type FigureFilter } from '../../services/figures.js';
import { CONSOLE_DEFAULTS, type ApiDependencies } from '../dependencies.js';
import { problem, sendProblem } from '../problems.js';
import { responses } from '../responses.js';

const FIGURE_READERS: readonly Role[] = ['ops-lead', 'auditor', 'admin'];
/** A year of cases, leap day included. */
const MAX_DAYS = 366;
const DAY_MS = 86_400_000;

interface FiguresQuery {
  from: string;
  to: string;
  playbook?: string;
  shop?: string;
  timeZone?: string;
  format?: 'json' | 'csv';
}

const figuresQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'to'],
  properties: {
    from: { type: 'string', format: 'date', description: 'The first day, in the shop’s time zone' },
    to: { type: 'string', format: 'date', description: 'The day after the last: the range is [from, to)' },
    playbook: { type: 'string', minLength: 1, maxLength: 100 },
    shop: { type: 'string', minLength: 1, maxLength: 200, description: 'The `shop.name` of the playbooks the cases run' },
    timeZone: {
      type: 'string',
      minLength: 1,
      maxLength: 64,
      pattern: '^[A-Za-z0-9_+/-]+$',
      description: 'IANA time zone of the days (default: the shop’s, CASEBOOK_SHOP_TIME_ZONE)',
    },
    format: { type: 'string', enum: ['json', 'csv'], description: 'csv: the same as `Accept: text/csv`' },
  },
} as const;

export const figureRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Querystring: FiguresQuery }>(
      '/',
      {
        config: { roles: FIGURE_READERS },
        schema: {
          tags: ['figures'],
          summary:
            'The ops lead’s figures over the days [from, to) in the shop’s time zone: reasons, refunds after receipt, reminders, reviews, SLA breaches and escalations, cases per day (JSON, or CSV with Accept: text/csv or format=csv)',
          querystring: figuresQuery,
          response: responses(
            {
              200: {
                description: 'The figures (docs/figures.md)',
                content: { 'application/json': { schema: Figures }, 'text/csv': { schema: { type: 'string' } } },
              },
            },
            [],
          ),
        },
      },
      async (request, reply) => {
        const { from, to, playbook, shop, timeZone = (deps.console ?? CONSOLE_DEFAULTS).timeZone } = request.query;
        // The schema's date format takes year 0000, which the calendar (and Postgres) has not.
        for (const [pointer, day] of [
          ['/from', from],
          ['/to', to],
        ] as const) {
          if (day.startsWith('0000-')) return sendProblem(reply, invalid(pointer, 'has year 0000, which does not exist (1 BC is followed by AD 1)'));
        }
        const days = (Date.parse(to) - Date.parse(from)) / DAY_MS;
        if (days <= 0) return sendProblem(reply, invalid('/to', `must be a day after from (${from}): the range is [from, to)`));
        if (days > MAX_DAYS) return sendProblem(reply, invalid('/to', `must be at most ${MAX_DAYS} days after from (${from})`));
        if (!isTimeZone(timeZone)) return sendProblem(reply, invalid('/timeZone', `${timeZone} is not a time zone (IANA names such as Asia/Shanghai)`));
        const filter: FigureFilter = { from, to, timeZone, playbook: playbook ?? null, shop: shop ?? null };
        let figures: Figures;
        try {
          figures = await readFigures(deps.pool, filter, new Date());
        } catch (error) {
          // A name the runtime knows but Postgres does not.
          if ((error as { code?: string }).code === '22023' && /time zone/.test((error as Error).message)) {
            return sendProblem(reply, invalid('/timeZone', `${timeZone} is not a time zone the database knows`));
          }
          throw error;
        }
        if (!wantsCsv(request)) return figures;
        const name = `casebook-figures-${from}-to-${to}${playbook ? `-${playbook}` : ''}.csv`.replace(/[^A-Za-z0-9._-]/g, '_');
        return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).send(figuresCsv(figures));
      },
    );
  };

const invalid = (pointer: string, message: string) => problem('invalid-request', `${pointer} ${message}`, { errors: [{ pointer, message }] });

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function wantsCsv(request: FastifyRequest<{ Querystring: FiguresQuery }>): boolean {
  if (request.query.format) return request.query.format === 'csv';
  return /(^|,)\s*text\/csv\s*(;|,|$)/i.test(request.headers.accept ?? '');
}

type Cell = string | number | boolean | null;

/**
 * One long table, `figure,item,measure,value`, which a spreadsheet filters or pivots: the range and
 * filters first, then each figure. Money is in minor units with its currency beside it.
 */
function figuresCsv(figures: Figures): string {
  const rows: Cell[][] = [['figure', 'item', 'measure', 'value']];
  const add = (figure: string, item: Cell, measures: Record<string, Cell>) => {
    for (const [measure, value] of Object.entries(measures)) rows.push([figure, item, measure, value]);
  };
  add('range', '', {
    from: figures.range.from,
    to: figures.range.to,
    time_zone: figures.range.timeZone,
    playbook: figures.range.playbook,
    shop: figures.range.shop,
  });
  add('reasons', 'all', { cases: figures.reasons.total });
  for (const r of figures.reasons.reasons)
    add('reasons', r.reason, { returns: r.returns, exchanges: r.exchanges, cases: r.count, share: r.share, top_three: r.topThree });
  const refunds = figures.refundsAfterReceipt;
  add('refunds_after_receipt', 'all', {
    as_of: refunds.asOf,
    receipts: refunds.receipts,
    within_24h: refunds.within24h,
    late_paid: refunds.latePaid,
    late_unpaid: refunds.lateUnpaid,
    pending: refunds.pending,
    share_within_24h: refunds.shareWithin24h,
    refunded: refunds.refunded,
    median_delay_seconds: refunds.medianDelaySeconds,
    p95_delay_seconds: refunds.p95DelaySeconds,
  });
  for (const late of refunds.late) {
    add('late_refunds', late.caseId, {
      order: late.orderId,
      received_at: late.receivedAt,
      status: late.status,
      paid_at: late.paidAt,
      delay_seconds: late.delaySeconds,
      amount_minor: late.amount,
      currency: late.currency,
    });
  }
  const reminders = figures.unpaidReminders;
  add('unpaid_reminders', 'all', {
    orders: reminders.orders,
    paid_before_reminder: reminders.paidBeforeReminder,
    reminded: reminders.reminded,
    recovered: reminders.recovered,
    closed_unpaid: reminders.closedUnpaid,
    still_unpaid: reminders.stillUnpaid,
    share_recovered: reminders.shareRecovered,
  });
  for (const r of reminders.byReminder) add('unpaid_reminders', `after ${r.reminders} reminder(s)`, { recovered: r.recovered, share: r.share });
  const reviews = figures.reviews;
  add('reviews', 'all', {
    reviews: reviews.reviews,
    medium: reviews.medium,
    negative: reviews.negative,
    open: reviews.open,
    handled: reviews.handled,
    asked_to_amend: reviews.askedToAmend,
    amended: reviews.amended,
    amended_share: reviews.amendedShare,
    escalated: reviews.escalated,
  });
  for (const o of reviews.byOutcome) add('reviews', `${o.outcome}/${o.reason}`, { closed: o.count });
  for (const b of figures.sla.breaches) add('sla_breaches', [b.playbook, b.step, b.queue ?? ''].join('/'), { [b.kind]: b.count });
  for (const e of figures.sla.escalations) add('escalations', [e.playbook, e.step, e.queue, e.reason].join('/'), { opened: e.count, open: e.open });
  for (const day of figures.casesPerDay.days) {
    add('cases_per_day', day.date, { opened: day.opened, ...Object.fromEntries(Object.entries(day.closed).map(([outcome, n]) => [`closed_${outcome}`, n])) });
  }
  // A BOM, so that spreadsheets read the file as UTF-8.
  return `\ufeff${rows.map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

function csvCell(value: Cell): string {
  if (value === null) return '';
  if (typeof value !== 'string') return String(value);
  // Text a spreadsheet would run as a formula is kept as text.
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
