/**
 * Metrics as a team scrapes them: `casebook start` with CASEBOOK_METRICS_PORT, one return run end to end
 * through the API (opened, two events, the warehouse's receipt, the refund, closed) and a receipt no case
 * takes; /metrics before and after shows the case's counters move, the SDK's worker metrics beside them,
 * and on the metrics port the same; a `--worker` process beside it serves its own on its metrics port. The Grafana dashboard and the alert rules in docs/observability/ name
 * only metrics that /metrics exposes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../../src/stack/free-port.js';
import { returnCaseData } from '../support/playbooks.js';
import { type Casebook, type Ports, ROOT, startCasebook, startOnFreePorts, stopCasebook } from './casebook-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'casebook-metrics-'));
let running: Casebook | undefined;
let api = '';
let metricsPort = 0;
let ports: Ports;

/** A sample's value by its name and labels, as Prometheus's text format gives it; 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[4]);
  }
  return 0;
}

/** The metric families the text declares (`# TYPE name kind`). */
const families = (text: string): Map<string, string> => new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));

async function scrape(url = `${api}/metrics`): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return response.text();
}

async function call(
  method: string,
  path: string,
  key: string,
  body?: unknown,
  type = 'application/json',
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': type }) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  metricsPort = await freePort();
  process.env.CASEBOOK_METRICS_PORT = String(metricsPort);
  const started = await startOnFreePorts(dataDir);
  running = started.casebook;
  ports = started.ports;
  api = `http://127.0.0.1:${ports.api}`;
}, 150_000);

afterAll(async () => {
  delete process.env.CASEBOOK_METRICS_PORT;
  if (running && running.child.exitCode === null) await stopCasebook(running);
  rmSync(dataDir, { recursive: true, force: true });
});

describe('/metrics', () => {
  let after = '';

  it("counts one return's opening, events, refund and close, with the SDK's worker metrics", async () => {
    const admin = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
    const key = async (role: string, name: string) => (await call('POST', '/v1/keys', admin, { role, name })).json.key as string;
    const ops = await key('ops-lead', 'Mei');
    const agent = await key('agent', 'Lei');
    const warehouse = await key('warehouse', 'Hangzhou');
    expect((await call('PUT', '/v1/playbooks/return', ops, readFileSync(join(ROOT, 'playbooks/return.yaml'), 'utf8'), 'application/yaml')).status).toBe(201);

    const before = await scrape();
    const opened = await call('POST', '/v1/cases', agent, {
      playbook: 'return',
      caseId: 'metrics-1',
      data: returnCaseData('TB-M1', Date.now() - 2 * 86_400_000),
    });
    expect(opened.status).toBe(201);
    expect((await call('POST', '/v1/cases/metrics-1/events', agent, { type: 'buyer.kept_return', id: 'kept-1', payload: {} })).status).toBe(202);
    expect(
      (await call('POST', '/v1/cases/metrics-1/events', agent, { type: 'buyer.shipped', id: 'ship-1', payload: { tracking_number: 'SF-M1' } })).status,
    ).toBe(202);
    const receipt = await call('POST', '/v1/webhooks/warehouse', warehouse, { receiptId: 'wh-m1', orderId: 'TB-M1', payload: { condition: 'resellable' } });
    expect(receipt.json.status, JSON.stringify(receipt.json)).toBe('accepted');
    // A receipt for an order no case is open for: it stays in the inbox, unrouted.
    const stray = await call('POST', '/v1/webhooks/warehouse', warehouse, { receiptId: 'wh-stray', orderId: 'TB-NONE', payload: { condition: 'resellable' } });
    expect(stray.json.status, JSON.stringify(stray.json)).toBe('unrouted');
    await expect
      .poll(async () => (await call('GET', '/v1/cases/metrics-1', agent)).json.outcome, { timeout: 30_000, interval: 250 })
      .toEqual({ outcome: 'resolved', reason: 'refunded' });
    // The close is counted once its report is written, a moment after the projection reads it.
    await expect.poll(async () => sample(await scrape(), 'casebook_cases_closed_total', { playbook: 'return', outcome: 'resolved' })).toBe(1);
    after = await scrape();

    const moved = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);
    expect(moved('casebook_cases_opened_total', { playbook: 'return' })).toBe(1);
    expect(moved('casebook_cases_closed_total', { playbook: 'return', outcome: 'resolved' })).toBe(1);
    expect(moved('casebook_events_total', { result: 'accepted' })).toBe(3);
    expect(moved('casebook_events_total', { result: 'unrouted' })).toBe(1);
    expect(moved('casebook_refunds_issued_total')).toBe(1);
    expect(moved('casebook_refunds_declined_total')).toBe(0);
    expect(sample(after, 'casebook_inbox_unrouted_events')).toBe(1);
    expect(sample(after, 'casebook_refunds_overdue')).toBe(0);
    expect(Number.isFinite(sample(after, 'casebook_archive_lag_seconds'))).toBe(true);
    // API latency by the route's pattern, never the URL asked.
    expect(moved('casebook_http_request_duration_seconds_count', { method: 'POST', route: '/v1/cases/:caseId/events', status_code: '202' })).toBe(2);
    expect(after).not.toContain('route="/v1/cases/metrics-1');
    // The SDK's worker metrics, from the worker in this process.
    expect(sample(after, 'temporal_worker_task_slots_available', { worker_type: 'WorkflowWorker', task_queue: 'casebook' })).toBeGreaterThan(0);
    expect(families(after).get('temporal_workflow_task_execution_latency')).toBe('histogram');
  }, 90_000);

  it('is served on CASEBOOK_METRICS_PORT too, and public like /readyz', async () => {
    const own = await scrape(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(sample(own, 'casebook_cases_opened_total', { playbook: 'return' })).toBe(1);
    expect(sample(own, 'casebook_refunds_issued_total')).toBe(1);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/other`)).status).toBe(404);
    const spec = (await (await fetch(`${api}/docs/json`)).json()) as { paths: Record<string, { get: { security: unknown[] } }> };
    expect(spec.paths['/metrics']!.get.security).toEqual([]);
  });

  it('is served by a --worker process on its CASEBOOK_METRICS_PORT, with the SDK worker metrics', async () => {
    const [port, ownMetrics] = [await freePort(), await freePort()];
    const worker = await startCasebook(
      {
        TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
        DATABASE_URL: `postgres://casebook:casebook@127.0.0.1:${ports.postgres}/casebook`,
        CASEBOOK_DATA_DIR: join(dataDir, 'worker'),
        PORT: String(port),
        CASEBOOK_METRICS_PORT: String(ownMetrics),
      },
      ['--worker'],
    );
    try {
      const text = await scrape(`http://127.0.0.1:${ownMetrics}/metrics`);
      expect(families(text).get('casebook_refunds_issued_total')).toBe('counter');
      expect(sample(text, 'temporal_worker_task_slots_available', { worker_type: 'WorkflowWorker', task_queue: 'casebook' })).toBeGreaterThan(0);
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      await stopCasebook(worker);
    }
  }, 90_000);

  it('has every metric the Grafana dashboard and the alert rules name', () => {
    expect(after).not.toBe('');
    const exposed = families(after);
    // A histogram's series are its family name with _bucket, _sum or _count.
    const has = (name: string) => exposed.has(name) || exposed.get(name.replace(/_(bucket|sum|count)$/, '')) === 'histogram';
    const named = (expressions: string[]) => [...new Set(expressions.flatMap((expr) => expr.match(/\b(?:casebook|temporal)_[a-z_]+/g) ?? []))];

    const dashboard = JSON.parse(readFileSync(join(ROOT, 'docs/observability/grafana-dashboard.json'), 'utf8')) as {
      panels: { title: string; targets?: { expr: string }[] }[];
    };
    const panelExpressions = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));
    const rules = parse(readFileSync(join(ROOT, 'docs/observability/alerts.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const ruleExpressions = rules.groups.flatMap((group) => group.rules.map((rule) => rule.expr));
    expect(rules.groups.flatMap((group) => group.rules.map((rule) => rule.alert))).toEqual(
      expect.arrayContaining(['CasebookRefundDeadlineAtRisk', 'CasebookArchiveLagging', 'CasebookUnroutedEventsPilingUp', 'CasebookConnectorFailing']),
    );

    for (const [what, expressions] of [
      ['dashboard', panelExpressions],
      ['alert rules', ruleExpressions],
    ] as const) {
      expect(expressions.length, what).toBeGreaterThan(0);
      const names = named(expressions);
      expect(names.length, what).toBeGreaterThan(0);
      expect(
        names.filter((name) => !has(name)),
        `${what} name metrics /metrics does not expose`,
      ).toEqual([]);
    }
  });
});
