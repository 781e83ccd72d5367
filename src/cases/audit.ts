/** What an auditor asks of Casebook: replay a case, export cases; Temporal when it answers, the archive always. */
import type { Client } from '@temporalio/client';
import type { Pool } from '../store/pool.js';
import { exportCase, exportClosedCases } from './export.js';
import { replayCase, type CaseReplay, type HistoryReplayer } from './replay.js';

export class CaseAudit {
  constructor(
    private readonly pool: Pool,
    /** Undefined when Temporal cannot be reached at all: the archive answers alone. */
    private readonly client: Client | undefined,
    private readonly replayer: HistoryReplayer,
  ) {}

  replay(caseId: string): Promise<CaseReplay> {
    return replayCase(this.pool, this.client, this.replayer, caseId);
  }

  /** The JSON Lines of one case; undefined when there is no such case. */
  exportCase(caseId: string): Promise<AsyncGenerator<string> | undefined> {
    return exportCase(this.pool, this.client, caseId);
  }

  /** The JSON Lines of every case closed in [from, to). */
  exportClosed(from: Date, to: Date): AsyncGenerator<string> {
    return exportClosedCases(this.pool, this.client, from, to);
  }
}
