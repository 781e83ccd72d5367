/** What an auditor asks of Casebook: replay a case, export cases; Temporal when it answers, the archive always. */
import type { Client } from '@temporalio/client';
import type { Pool } from '../store/pool.js';
import { exportCase, exportClosedCases } from './export.js';
import { replayCase, type CaseReplay, type HistoryReplayer } from './replay.js';

/**
 * The auditor's service, as the API sees it. The stack runs it in worker threads (src/stack/audit-threads.ts),
 * bounded in time, memory and how many run at once; `CaseAudit` runs it in the calling thread.
 */
export interface Auditor {
  replay(caseId: string): Promise<CaseReplay>;
  /** The JSON Lines of one case; undefined when there is no such case. */
  exportCase(caseId: string): Promise<AsyncGenerator<string> | undefined>;
  /** The JSON Lines of every case closed in [from, to). */
  exportClosed(from: Date, to: Date): Promise<AsyncGenerator<string>>;
}

/** Every replay and export slot is taken and the queue behind them is full: nothing was started. */
export class AuditBusy extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    readonly running: number,
    readonly queued: number,
  ) {
    super(`${running} replays and exports are running and ${queued} are waiting, the most this server takes; retry after ${retryAfterSeconds} s`);
    this.name = 'AuditBusy';
  }
}

/** A replay or export went over its time or memory bound and was stopped (its thread with it). */
export class AuditOverLimit extends Error {
  constructor(
    readonly limit: 'time' | 'memory',
    detail: string,
  ) {
    super(detail);
    this.name = 'AuditOverLimit';
  }
}

export class CaseAudit implements Auditor {
  constructor(
    private readonly pool: Pool,
    /** Undefined when Temporal cannot be reached at all: the archive answers alone. */
    private readonly client: Client | undefined,
    private readonly replayer: HistoryReplayer,
  ) {}

  replay(caseId: string): Promise<CaseReplay> {
    return replayCase(this.pool, this.client, this.replayer, caseId);
  }

  exportCase(caseId: string): Promise<AsyncGenerator<string> | undefined> {
    return exportCase(this.pool, this.client, caseId);
  }

  async exportClosed(from: Date, to: Date): Promise<AsyncGenerator<string>> {
    return exportClosedCases(this.pool, this.client, from, to);
  }
}
