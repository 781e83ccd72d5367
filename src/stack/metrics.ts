/**
 * Casebook's Prometheus metrics (docs/operations.md, "Metrics"). Each process counts what happens in it:
 * the API process what the case services and the API saw, a worker process what its activities did;
 * nothing is counted in workflow code. What is counted wraps the services, the activities and the
 * connectors the composition root builds, so none of them knows about metrics. The gauges read from
 * the database are asked at each scrape. The Temporal SDK's own worker metrics, when this process runs
 * a worker, come from the SDK's Prometheus exporter on a loopback port and are served in the same answer.
 */
import { ApplicationFailure } from '@temporalio/common';
import { createServer } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ApiMetrics } from '../api/dependencies.js';
import type { CaseService, OpenCaseResult } from '../cases/service.js';
import type { DeliveryResult, EventInbox, InboxOutcome } from '../cases/inbox.js';
import { DeliveryFailure } from '../connectors/ports.js';
import type { CaseActivities } from '../plan/activities.js';
import type { ProgressReport } from '../plan/case.js';
import { FAILURE_TYPES } from '../plan/failures.js';
import { databaseGauges, playbookOfCase } from '../store/metrics.js';
import type { Pool } from '../store/pool.js';

/** How an event sent to Casebook ended: a case's answer, or where the inbox left it. */
export type EventResult = 'accepted' | 'duplicate' | 'refused' | 'invalid' | 'closed' | 'unknown_case' | 'unrouted' | 'ambiguous';

/** The wording of the two ExpressionTooCostly failures of src/workflows/expressions.ts, as a failed step records it. */
const BUDGET_FAILURE = /evaluation steps; (the|a task's) budget is \d+$/;
/** The key of an escalation for a clock that ran out (src/workflows/run-case.ts). */
const CLOCK_ESCALATION = /\/clock\/[^/]+$/;
/** How long a scrape waits for the SDK's exporter. */
const SDK_SCRAPE_MS = 2_000;

export class CasebookMetrics implements ApiMetrics {
  readonly registry = new Registry();
  private readonly casesOpened: Counter<'playbook'>;
  private readonly casesClosed: Counter<'playbook' | 'outcome'>;
  private readonly events: Counter<'result'>;
  private readonly refundsIssued: Counter;
  private readonly refundsDeclined: Counter;
  private readonly refundsLate: Counter;
  private readonly deadlinesMissed: Counter<'kind'>;
  private readonly deliveryFailures: Counter<'connector' | 'target' | 'port' | 'final'>;
  private readonly budgetFailures: Counter;
  private readonly requests: Histogram<'method' | 'route' | 'status_code'>;

  /**
   * `pool`: where the gauges are read and a closed case's playbook is found. `sdkMetricsUrl`: the
   * SDK's exporter in this process, when it runs a worker.
   */
  constructor(
    private readonly pool: Pool,
    private readonly sdkMetricsUrl?: string,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.casesOpened = new Counter({ name: 'casebook_cases_opened_total', help: 'Cases opened, by playbook', labelNames: ['playbook'], registers });
    this.casesClosed = new Counter({
      name: 'casebook_cases_closed_total',
      help: 'Cases closed, by playbook and outcome',
      labelNames: ['playbook', 'outcome'],
      registers,
    });
    this.events = new Counter({
      name: 'casebook_events_total',
      help: 'Events sent to cases and the inbox, by result (accepted, duplicate, refused, invalid, closed, unknown_case, unrouted, ambiguous)',
      labelNames: ['result'],
      registers,
    });
    this.refundsIssued = new Counter({ name: 'casebook_refunds_issued_total', help: 'Refunds the payment provider issued', registers });
    this.refundsDeclined = new Counter({ name: 'casebook_refunds_declined_total', help: 'Refunds declined by the ledger or the provider', registers });
    this.refundsLate = new Counter({ name: 'casebook_refunds_late_total', help: 'Refunds whose deadline passed before the provider answered', registers });
    this.deadlinesMissed = new Counter({
      name: 'casebook_deadlines_missed_total',
      help: 'Deadlines missed: a refund paid late, a task past its SLA, a clock run out',
      labelNames: ['kind'],
      registers,
    });
    this.deliveryFailures = new Counter({
      name: 'casebook_delivery_failures_total',
      help: 'Side effects a connector could not deliver, by connector, target (destination or mail server), port and whether it was the last attempt',
      labelNames: ['connector', 'target', 'port', 'final'],
      registers,
    });
    this.budgetFailures = new Counter({
      name: 'casebook_expression_budget_failures_total',
      help: 'Steps failed because an expression would cost more than its run-time budget',
      registers,
    });
    this.requests = new Histogram({
      name: 'casebook_http_request_duration_seconds',
      help: 'API requests, by method, route pattern and status code',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    const gauge = (name: string, help: string, read: (gauges: Awaited<ReturnType<typeof databaseGauges>>) => number) =>
      new Gauge({
        name,
        help,
        registers,
        // The four read in one query per scrape (`scrape` below).
        collect: async function (this: Gauge) {
          const gauges = await scrape();
          this.set(gauges ? read(gauges) : Number.NaN);
        },
      });
    let reading: Promise<Awaited<ReturnType<typeof databaseGauges>> | undefined> | undefined;
    const scrape = () => {
      reading ??= databaseGauges(this.pool)
        .catch(() => undefined)
        .finally(() => setTimeout(() => (reading = undefined), 0));
      return reading;
    };
    gauge(
      'casebook_archive_lag_seconds',
      'Seconds since the oldest closed case whose history is not archived yet closed (0: none waits)',
      (g) => g.archiveLagSeconds,
    );
    gauge('casebook_inbox_unrouted_events', 'Events in the inbox no open case took', (g) => g.unroutedEvents);
    gauge('casebook_refunds_overdue', 'Refunds asked of the provider, unanswered, past their deadline', (g) => g.refundsOverdue);
    gauge('casebook_refunds_due_within_hour', 'Refunds asked of the provider, unanswered, due within the hour', (g) => g.refundsDueWithinHour);
  }

  /** This process's metrics in Prometheus's text format, the SDK's worker metrics after Casebook's. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    const [own, sdk] = await Promise.all([this.registry.metrics(), this.sdkMetrics()]);
    return { contentType: this.registry.contentType, text: own + sdk };
  }

  private async sdkMetrics(): Promise<string> {
    if (!this.sdkMetricsUrl) return '';
    try {
      const response = await fetch(this.sdkMetricsUrl, { signal: AbortSignal.timeout(SDK_SCRAPE_MS) });
      const text = await response.text();
      return text.endsWith('\n') || text === '' ? text : `${text}\n`;
    } catch (error) {
      return `# the Temporal SDK's metrics could not be read: ${(error as Error).message.replaceAll('\n', ' ')}\n`;
    }
  }

  observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.requests.observe({ method, route, status_code: String(statusCode) }, seconds);
  }

  opened(result: OpenCaseResult): void {
    if (result.kind === 'opened' && result.created) this.casesOpened.inc({ playbook: result.playbook });
  }

  delivered(result: DeliveryResult): void {
    this.events.inc({ result: result.status === 'unknown-case' ? 'unknown_case' : result.status });
  }

  routed(outcome: InboxOutcome): void {
    if (outcome.status === 'delivered') this.delivered(outcome.result);
    else this.events.inc({ result: outcome.status });
  }

  /** A progress report written: a case closed, a step failed over its expression budget. */
  async reported(report: ProgressReport): Promise<void> {
    for (const { record } of report.audit) if (record.kind === 'failed' && BUDGET_FAILURE.test(String(record.detail?.failed ?? ''))) this.budgetFailures.inc();
    if (report.status !== 'closed' || !report.outcome) return;
    const playbook = (await playbookOfCase(this.pool, report.caseId).catch(() => undefined)) ?? 'unknown';
    this.casesClosed.inc({ playbook, outcome: report.outcome.outcome });
  }

  /** The case services, counting the cases they open and the events they deliver (to a case, or through the inbox, an agent's redelivery too). */
  countServices(cases: CaseService, inbox: EventInbox): void {
    const open = cases.open.bind(cases);
    cases.open = async (request) => {
      const result = await open(request);
      this.opened(result);
      return result;
    };
    const deliverEvent = inbox.deliverEvent.bind(inbox);
    inbox.deliverEvent = async (caseId, event) => {
      const result = await deliverEvent(caseId, event);
      this.delivered(result);
      return result;
    };
    const routedBy =
      <Args extends unknown[]>(deliver: (...args: Args) => Promise<InboxOutcome>) =>
      async (...args: Args): Promise<InboxOutcome> => {
        const outcome = await deliver(...args);
        this.routed(outcome);
        return outcome;
      };
    inbox.deliverWarehouseReceipt = routedBy(inbox.deliverWarehouseReceipt.bind(inbox));
    inbox.deliverInbound = routedBy(inbox.deliverInbound.bind(inbox));
    const redeliver = inbox.redeliver.bind(inbox);
    inbox.redeliver = async (inboxId, caseId, by) => {
      const outcome = await redeliver(inboxId, caseId, by);
      if (outcome) this.routed(outcome);
      return outcome;
    };
  }

  /** The activities, each counting what it did once it did it; a report counted once it is written. */
  countActivities(activities: CaseActivities): CaseActivities {
    const report = (written: ProgressReport | undefined) => (written ? void this.reported(written).catch(() => undefined) : undefined);
    return {
      ...activities,
      async sendMessage(request) {
        const sent = await activities.sendMessage(request);
        report(request.rides?.report);
        return sent;
      },
      issueRefund: async (request) => {
        // The report is written before the refund is asked for: counted once the provider answered.
        try {
          const receipt = await activities.issueRefund(request);
          this.refundsIssued.inc();
          report(request.progress);
          return receipt;
        } catch (error) {
          if (error instanceof ApplicationFailure && error.type === FAILURE_TYPES.RefundDeclined) {
            this.refundsDeclined.inc();
            report(request.progress);
          }
          throw error;
        }
      },
      markRefundLate: async (request) => {
        await activities.markRefundLate(request);
        this.refundsLate.inc();
        this.deadlinesMissed.inc({ kind: 'refund' });
      },
      openEscalation: async (request) => {
        const opened = await activities.openEscalation(request);
        if (CLOCK_ESCALATION.test(request.key)) this.deadlinesMissed.inc({ kind: 'clock' });
        report(request.rides?.report);
        return opened;
      },
      closeTask: async (closure) => {
        await activities.closeTask(closure);
        if (closure.breached) this.deadlinesMissed.inc({ kind: 'task' });
      },
      async writeOrderNote(request) {
        await activities.writeOrderNote(request);
        report(request.rides?.report);
      },
      async recordProgress(written) {
        await activities.recordProgress(written);
        report(written);
      },
      openChildCase: async (request) => {
        const child = await activities.openChildCase(request);
        this.casesOpened.inc({ playbook: request.playbook.name });
        return child;
      },
    };
  }

  /** A connector's port, each failed delivery (a DeliveryFailure, src/connectors/ports.ts) counted under the connector's kind and target. */
  countFailures<Port extends object>(port: Port, labels: { connector: string; target: string; port: string }): Port {
    const failures = this.deliveryFailures;
    const counted = (error: unknown) => {
      if (error instanceof DeliveryFailure) failures.inc({ ...labels, final: String(error.retryInMs === undefined) });
      throw error;
    };
    return new Proxy(port, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const result: unknown = (value as (...args: unknown[]) => unknown).apply(target, args);
          return result instanceof Promise ? result.catch(counted) : result;
        };
      },
    });
  }
}

/** /metrics on a port of its own (CASEBOOK_METRICS_PORT), for a process without the API or beside it. */
export async function serveMetrics(metrics: Pick<CasebookMetrics, 'exposition'>, host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: this port serves GET /metrics\n');
      return;
    }
    metrics.exposition().then(
      ({ contentType, text }) => response.writeHead(200, { 'content-type': contentType }).end(text),
      (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const url = `http://${host}:${typeof bound === 'object' && bound ? bound.port : port}/metrics`;
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
