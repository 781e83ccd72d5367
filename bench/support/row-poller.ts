/**
 * Waits for rows to appear or change in Postgres for many cases at once, with one query per interval
 * for all of them (not one per case, which would load the very database being measured).
 */
import type { Pool } from '../../src/store/pool.js';

interface Waiter<Row> {
  accepts: (row: Row) => boolean;
  resolve: (seenAt: number) => void;
}

export class RowPoller<Row extends { case_id: string }> {
  private readonly waiters = new Map<string, Waiter<Row>[]>();
  private readonly timer: NodeJS.Timeout;
  private polling = false;

  /** `sql` selects rows with a `case_id` column for the case ids in `$1` (a text array). */
  constructor(
    private readonly pool: Pool,
    private readonly sql: string,
    intervalMs: number,
  ) {
    this.timer = setInterval(() => void this.poll(), intervalMs);
  }

  /** Resolves with the time (performance.now()) of the poll that first saw a row of the case that `accepts`. */
  until(caseId: string, accepts: (row: Row) => boolean = () => true): Promise<number> {
    return new Promise((resolve) => {
      this.waiters.set(caseId, [...(this.waiters.get(caseId) ?? []), { accepts, resolve }]);
    });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async poll(): Promise<void> {
    if (this.polling || this.waiters.size === 0) return;
    this.polling = true;
    try {
      const { rows } = await this.pool.query<Row>(this.sql, [[...this.waiters.keys()]]);
      const seenAt = performance.now();
      for (const row of rows) {
        const waiting = this.waiters.get(row.case_id);
        if (!waiting) continue;
        const still = waiting.filter((waiter) => !waiter.accepts(row) || (waiter.resolve(seenAt), false));
        if (still.length > 0) this.waiters.set(row.case_id, still);
        else this.waiters.delete(row.case_id);
      }
    } finally {
      this.polling = false;
    }
  }
}

export interface CaseRow {
  case_id: string;
  status: string;
  current_step: string | null;
}

/** Where cases are, from Casebook's `cases` projection. */
export const casePoller = (pool: Pool, intervalMs = 10) =>
  new RowPoller<CaseRow>(pool, `SELECT case_id, status, current_step FROM cases WHERE case_id = ANY($1)`, intervalMs);

/** Which cases have a refund row (requested or issued). */
export const refundPoller = (pool: Pool, intervalMs = 5) =>
  new RowPoller<{ case_id: string }>(pool, `SELECT DISTINCT case_id FROM refunds WHERE case_id = ANY($1)`, intervalMs);

/** Which cases have a refund the payment provider issued (its answer is in the ledger). */
export const issuedRefundPoller = (pool: Pool, intervalMs = 5) =>
  new RowPoller<{ case_id: string }>(pool, `SELECT DISTINCT case_id FROM refunds WHERE case_id = ANY($1) AND status = 'issued'`, intervalMs);
