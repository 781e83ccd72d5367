/** What the case list filters by (`GET /v1/cases`); a bulk operation's `selection` takes the same (routes/bulk.ts). */
import { INSTANT_QUERY } from './instant-query.js';

/** An outcome or reason code, as playbooks write them (`refunded`, `outside_return_window`). */
const CODE = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$';

export const CASE_FILTERS = {
  playbook: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,63}$' },
  status: { enum: ['open', 'waiting', 'failed', 'closed'] },
  orderId: { type: 'string', maxLength: 100 },
  outcome: { type: 'string', pattern: CODE },
  reason: { type: 'string', pattern: CODE },
  openedFrom: {
    ...INSTANT_QUERY,
    description: 'Opened at or after: a date (from its start, UTC) or an instant (years 0001-9999, offsets within ±15:59, no leap second)',
  },
  openedTo: {
    ...INSTANT_QUERY,
    description: 'Opened before: a date (from its start, UTC) or an instant (years 0001-9999, offsets within ±15:59, no leap second)',
  },
  breached: { enum: ['true', 'false'], description: 'Whether a task passed its SLA, a refund its deadline, or a clock ran out' },
} as const;
