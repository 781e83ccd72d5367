/**
 * Standard return cases opened through the API, many at a time, with a pool of agent keys: the API
 * limits each key to 1,200 requests a minute, so the requests are spread over enough keys that none is
 * throttled (a 429 fails the benchmark rather than being counted as an opening).
 */
import pg from 'pg';
import { inParallel } from './args.js';
import type { CasebookUnderTest } from './casebook.js';
import type { AgentKeys } from './return-cases.js';

const DAY = 86_400_000;

/** How many keys `requestsPerSecond` needs so that none reaches its 1,200 requests a minute (with a margin). */
export function keysNeededFor(requestsPerSecond: number): number {
  return Math.max(1, Math.ceil((requestsPerSecond * 60) / 1_000));
}

/**
 * A no-reason return, not insured. Signed for a day ago, it waits for the buyer's parcel (`buyer.shipped`
 * or the warehouse's receipt, for 7 days); signed for 30 days ago it is refused at once and closed.
 */
export function returnCase(caseId: string, signedDaysAgo: number) {
  return {
    playbook: 'return',
    caseId,
    data: {
      order_id: `ORD-${caseId}`,
      buyer_name: 'Li Lei',
      order_total: { amount: 19_900, currency: 'CNY' },
      outbound_shipping: { amount: 1_000, currency: 'CNY' },
      shipped_free: false,
      signed_at: new Date(Date.now() - signedDaysAgo * DAY).toISOString(),
      reason: 'no_reason',
      shipping_insurance: false,
    },
  };
}

/** Opens the cases `${prefix}-${from}` .. `${prefix}-${to - 1}` (each must answer 201); answers the seconds it took. */
export async function openReturnCases(
  casebook: CasebookUnderTest,
  keys: AgentKeys,
  range: { prefix: string; from: number; to: number; signedDaysAgo: number },
  concurrency = 16,
): Promise<number> {
  const started = performance.now();
  const indexes = Array.from({ length: range.to - range.from }, (_, offset) => range.from + offset);
  await inParallel(indexes, concurrency, async (index) => {
    await casebook.request('POST', '/v1/cases', { key: keys.take(), body: returnCase(`${range.prefix}-${index}`, range.signedDaysAgo), expected: [201] });
  });
  return (performance.now() - started) / 1000;
}

/** Counts of cases by status, from the `cases` projection the workflows keep current. */
export async function caseCounts(casebook: CasebookUnderTest): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: casebook.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ status: string; count: string }>('SELECT status, count(*) FROM cases GROUP BY status');
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
  } finally {
    await client.end();
  }
}

/** Waits until at least `count` cases have `status`, failing when none more got there for `stallMs`; answers the seconds waited. */
export async function waitForCases(casebook: CasebookUnderTest, status: string, count: number, stallMs = 120_000): Promise<number> {
  const started = performance.now();
  let reached = -1;
  let progressedAt = started;
  for (;;) {
    const counts = await caseCounts(casebook);
    const now = counts[status] ?? 0;
    if (now >= count) return (performance.now() - started) / 1000;
    if (now > reached) [reached, progressedAt] = [now, performance.now()];
    if (performance.now() - progressedAt > stallMs)
      throw new Error(`${now} of ${count} cases are ${status}, none more for ${stallMs / 1000} s: ${JSON.stringify(counts)}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
