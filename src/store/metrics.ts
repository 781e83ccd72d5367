/** What /metrics reads from the database: the gauges asked at each scrape, and a closed case's playbook. */
import type { Queryable } from './transaction.js';

export interface DatabaseGauges {
  /** Seconds since the oldest closed case not yet archived closed; 0 when none waits. */
  archiveLagSeconds: number;
  /** Events in the inbox that no open case took. */
  unroutedEvents: number;
  /** Refunds asked of the provider and not answered, past their deadline and due within the hour. */
  refundsOverdue: number;
  refundsDueWithinHour: number;
}

/** One round trip; the archive lag and the inbox count use their partial and status indexes. */
export async function databaseGauges(db: Queryable): Promise<DatabaseGauges> {
  const { rows } = await db.query<{ lag: number | null; unrouted: string; overdue: string; within_hour: string }>(
    `SELECT
       (SELECT extract(epoch FROM now() - min(closed_at))::float8 FROM cases WHERE status = 'closed' AND history_archive IS NULL) AS lag,
       (SELECT count(*) FROM event_inbox WHERE status = 'unrouted') AS unrouted,
       r.overdue, r.within_hour
     FROM (SELECT count(*) FILTER (WHERE deadline_at < now()) AS overdue,
                  count(*) FILTER (WHERE deadline_at >= now() AND deadline_at < now() + interval '1 hour') AS within_hour
           FROM refunds WHERE status = 'requested') AS r`,
  );
  const row = rows[0]!;
  return {
    archiveLagSeconds: Math.max(0, row.lag ?? 0),
    unroutedEvents: Number(row.unrouted),
    refundsOverdue: Number(row.overdue),
    refundsDueWithinHour: Number(row.within_hour),
  };
}

/** The playbook a case runs, by name; undefined for a case Casebook has no row of. */
export async function playbookOfCase(db: Queryable, caseId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ playbook: string }>(`SELECT playbook FROM cases WHERE case_id = $1`, [caseId]);
  return rows[0]?.playbook;
}
