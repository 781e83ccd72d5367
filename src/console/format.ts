/** Money, times and time left, shown the way the shop and its buyers read them. */
import type { Messages, Translate } from './i18n.js';
import type { Session } from './session.js';

const moneyFormats = new Map<string, Intl.NumberFormat>();

/**
 * Minor units in the currency's own format: CNY as the shop's buyers see it (¥199.00), other
 * currencies in English notation ($12.50, €3.00), with the currency's own number of decimals.
 */
export function formatMoney(minor: number, currency: string): string {
  let format = moneyFormats.get(currency);
  if (!format) {
    format = new Intl.NumberFormat(currency === 'CNY' ? 'zh-CN' : 'en-US', { style: 'currency', currency });
    moneyFormats.set(currency, format);
  }
  const decimals = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minor / 10 ** decimals);
}

const timeFormats = new Map<string, Intl.DateTimeFormat>();

function partsIn(instant: Date, timeZone: string): Record<string, string> {
  let format = timeFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      timeZoneName: 'shortOffset',
    });
    timeFormats.set(timeZone, format);
  }
  return Object.fromEntries(format.formatToParts(instant).map((part) => [part.type, part.value]));
}

/** `2026-11-25 14:50` in the shop's time zone; `—` for no time. */
export function formatTime(iso: string | null | undefined, session: Session): string {
  if (!iso) return '—';
  const p = partsIn(new Date(iso), session.settings.timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** The shop's offset from UTC at an instant, e.g. `GMT+8`, to say which zone times are in. */
export const zoneLabel = (session: Session, at: Date = new Date()): string => partsIn(at, session.settings.timeZone).timeZoneName ?? session.settings.timeZone;

/** The instant a day (`2026-11-25`) starts in the shop's time zone, as ISO 8601 UTC. */
export function startOfDay(date: string, session: Session): string {
  const [year, month, day] = date.split('-').map(Number) as [number, number, number];
  const asUtc = Date.UTC(year, month - 1, day);
  // The local clock at asUtc tells the zone's offset there; a second pass settles a day whose offset changes.
  let instant = asUtc;
  for (let pass = 0; pass < 2; pass += 1) {
    const p = partsIn(new Date(instant), session.settings.timeZone);
    const localAsUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour) % 24, Number(p.minute));
    instant = asUtc - (localAsUtc - instant);
  }
  return new Date(instant).toISOString();
}

export type TimeLeftKey = 'left' | 'overdue' | 'days' | 'hours' | 'minutes';

/** The messages `formatLeft` needs: pass `useT(TIME_LEFT_MESSAGES)` (or a `t` of messages with these keys). */
export const TIME_LEFT_MESSAGES: Messages<TimeLeftKey> = {
  en: { left: '{time} left', overdue: 'overdue by {time}', days: '{d}d {h}h', hours: '{h}h {m}m', minutes: '{m}m' },
  zh: { left: '剩余 {time}', overdue: '已超时 {time}', days: '{d}天{h}小时', hours: '{h}小时{m}分', minutes: '{m}分钟' },
};

/** `1d 3h left` or `overdue by 2h 5m`: the time from now to a due instant, to the minute. */
export function formatLeft(dueIso: string, nowMs: number, t: Translate<TimeLeftKey>): string {
  const ms = Date.parse(dueIso) - nowMs;
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const time = d > 0 ? t('days', { d, h }) : h > 0 ? t('hours', { h, m }) : t('minutes', { m });
  return ms >= 0 ? t('left', { time }) : t('overdue', { time });
}
