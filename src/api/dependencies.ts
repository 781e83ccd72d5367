/** What the API needs from the rest of Casebook; `buildApi` hands it to every route. */
import type { Auditor } from '../cases/audit.js';
import type { BulkOperations } from '../cases/bulk.js';
import type { EventInbox } from '../cases/inbox.js';
import type { InboundEvents } from '../cases/inbound.js';
import type { CaseService } from '../cases/service.js';
import type { BacktestRunner } from '../services/backtests.js';
import type { Redeliverers } from '../services/deliveries.js';
import type { Pool } from '../store/pool.js';

export interface ApiDependencies {
  pool: Pool;
  cases: CaseService;
  /** Inbound events: written to the event inbox, then routed to their case. */
  inbox: EventInbox;
  /** Signed events from the configured sources (POST /v1/inbound/{source}); absent: every source is unknown. */
  inbound?: InboundEvents;
  /** Each configured webhook destination's sender, for an admin's redelivery; absent: no destination is configured. */
  redeliverers?: Redeliverers;
  /** Replays and exports for auditors (in the stack: in worker threads, bounded; src/stack/audit-threads.ts). */
  audit: Auditor;
  /** Operations on many cases at once (`/v1/bulk-operations`); absent: those routes are not served. */
  bulk?: BulkOperations;
  /** Backtests started from the API (`POST /v1/backtests`); absent: that route is not served. */
  backtests?: BacktestRunner;
  /** Whether the Temporal side is reachable, for /readyz. */
  temporalReady: () => Promise<boolean>;
  /** What the console shows times and links with (`GET /v1/me`); CONSOLE_DEFAULTS when absent. */
  console?: ConsoleSettings;
  /** This process's metrics (`GET /metrics`), and each request's time added to them; absent: no /metrics. */
  metrics?: ApiMetrics;
}

/** What the API serves at /metrics and tells of each request (src/stack/metrics.ts). */
export interface ApiMetrics {
  /** The process's metrics in Prometheus's text format. */
  exposition(): Promise<{ contentType: string; text: string }>;
  /** `route`: the route's pattern (`/v1/cases/:caseId`), never the URL asked. */
  observeRequest(method: string, route: string, statusCode: number, seconds: number): void;
}

export interface ConsoleSettings {
  /** The shop's IANA time zone: the console shows every time in it. */
  timeZone: string;
  /** The Temporal Web UI, for links to a case's workflow; null when none is known. */
  temporalUiUrl: string | null;
  namespace: string;
}

export const CONSOLE_DEFAULTS: ConsoleSettings = { timeZone: 'Asia/Shanghai', temporalUiUrl: null, namespace: 'default' };
