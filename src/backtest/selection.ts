/**
 * `casebook backtest --cases <query>`: which closed cases, written as the case list's query string
 * (`GET /v1/cases?outcome=resolved&breached=true`, the filters a bulk operation's selection takes too)
 * without its playbook (the file names it) or its status (a backtest takes closed cases), and a version.
 */
import { readInstant } from '../store/instants.js';
import type { BacktestCaseQuery } from '../store/backtests.js';

/** An outcome or reason code, as playbooks write them (the case list's pattern). */
const CODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const NAMES = ['orderId', 'outcome', 'reason', 'openedFrom', 'openedTo', 'breached', 'version'] as const;

/** The query's filters, or what is wrong with it. */
export function parseCaseQuery(text: string): BacktestCaseQuery | { problem: string } {
  const query: BacktestCaseQuery = {};
  const seen = new Set<string>();
  for (const [name, value] of new URLSearchParams(text)) {
    if (name === 'playbook' || name === 'status') return { problem: `${name}: the playbook is the file's, and a backtest takes closed cases` };
    if (!(NAMES as readonly string[]).includes(name))
      return { problem: `${name || `'${text}'`} is not a filter: use ${NAMES.join(', ')} (name=value, joined by &)` };
    if (seen.has(name)) return { problem: `${name} is given twice` };
    seen.add(name);
    switch (name as (typeof NAMES)[number]) {
      case 'orderId':
        if (value.length === 0 || value.length > 100) return { problem: 'orderId is 1 to 100 characters' };
        query.orderId = value;
        break;
      case 'outcome':
      case 'reason':
        if (!CODE.test(value)) return { problem: `${name} is a code such as refunded (letters, digits, _ . -)` };
        query[name as 'outcome' | 'reason'] = value;
        break;
      case 'openedFrom':
      case 'openedTo': {
        const reading = readInstant(value);
        if ('problem' in reading) return { problem: `${name} ${reading.problem}` };
        query[name as 'openedFrom' | 'openedTo'] = reading.text;
        break;
      }
      case 'breached':
        if (value !== 'true' && value !== 'false') return { problem: 'breached is true or false' };
        query.breached = value;
        break;
      case 'version':
        if (!/^[1-9][0-9]{0,8}$/.test(value)) return { problem: 'version is a version number' };
        query.version = Number(value);
        break;
    }
  }
  if (seen.size === 0) return { problem: 'give at least one filter, such as outcome=resolved' };
  return query;
}
