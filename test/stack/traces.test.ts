/**
 * Traces (docs/operations.md, "Traces"): one case's event is one trace, from the API request through
 * the client's update and the workflow's handling of it to the refund activity it caused, as an OTLP/HTTP
 * receiver the test starts gets them (real HTTP, the exporter Casebook configures); the traced case's
 * history replays on the untraced replayer (audit replays); without an endpoint nothing is made.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { Client, Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowIdFor } from '../../src/plan/case.js';
import { composeApi, composeReplayer, composeServices, composeTracing, composeWorker, connectClient } from '../../src/stack/compose.js';
import { loadConfig } from '../../src/stack/config.js';
import type { Tracing } from '../../src/stack/tracing.js';
import { WORKFLOWS_PATH } from '../../src/stack/worker.js';
import { workflowBundlerOptions } from '../../src/stack/workflow-bundler.js';
import { createApiKey } from '../../src/store/api-keys.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { HISTORIES } from '../support/histories.js';
import { compileSmallPlaybook, openSmallCase, RECEIPT_THEN_REFUND } from '../support/small-playbooks.js';
import { startTimeSkippingServer } from '../support/temporal.js';

/** A span as OTLP/JSON carries it (ids in hex). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: { key: string; value: { stringValue?: string; intValue?: number | string } }[];
}
interface Received {
  service: string | undefined;
  span: OtlpSpan;
}
const SPAN_KIND_SERVER = 2;

const received: Received[] = [];
let receiver: Server;
let db: TestDatabase;
let env: TestWorkflowEnvironment;
let tracing: Tracing;
let worker: Worker;
let running: Promise<void>;
let connection: Connection;
let client: Client;
let api: FastifyInstance;
let services: ReturnType<typeof composeServices>;
let agentKey: string;

/** The smallest OTLP/HTTP collector: every span of every JSON export to /v1/traces, with its service. */
function startReceiver(): Promise<string> {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces' || !String(request.headers['content-type']).startsWith('application/json')) {
        response.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: { resource?: { attributes?: OtlpSpan['attributes'] }; scopeSpans: { spans?: OtlpSpan[] }[] }[];
      };
      for (const { resource, scopeSpans } of body.resourceSpans) {
        const service = resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue;
        for (const scope of scopeSpans) for (const span of scope.spans ?? []) received.push({ service, span });
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  // Longer than the test: a keep-alive connection the server closes as the exporter reuses it loses that export.
  receiver.keepAliveTimeout = 120_000;
  return new Promise((resolve) => receiver.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}`)));
}

beforeAll(async () => {
  const collector = await startReceiver();
  // Through the configuration, as `casebook start` reads it.
  const { tracing: settings } = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: `${collector}/`, OTEL_SERVICE_NAME: 'casebook-traces-test' });
  tracing = composeTracing(settings)!;
  [db, env] = await Promise.all([createTestDatabase(), startTimeSkippingServer()]);
  worker = await composeWorker({ connection: env.nativeConnection, pool: db.pool, tracing });
  running = worker.run();
  ({ connection, client } = await connectClient(env.address, 'default', db.pool, tracing));
  services = composeServices({ client, pool: db.pool });
  api = await composeApi({ services: { cases: services.cases, inbox: services.inbox, audit: services.audit }, pool: db.pool, tracing });
  agentKey = (await createApiKey(db.pool, 'agent', 'traces test')).key;
});

afterAll(async () => {
  await api?.close();
  worker?.shutdown();
  await running;
  await connection?.close();
  await tracing?.shutdown();
  await env?.teardown();
  await db?.drop();
  receiver?.close();
});

const spanNamed = (spans: OtlpSpan[], name: string, parent: OtlpSpan): OtlpSpan | undefined =>
  spans.find((span) => span.name === name && span.parentSpanId === parent.spanId);

describe('a traced event', () => {
  it('is one trace from the API request through the update to the refund activity', async () => {
    const caseId = 'traces-1';
    await openSmallCase(services.cases, db.pool, compileSmallPlaybook('traces-refund', RECEIPT_THEN_REFUND), caseId);
    await expect.poll(async () => (await services.cases.describe(caseId))?.waitingFor, { timeout: 20_000 }).toEqual(['warehouse.received']);

    const answer = await api.inject({
      method: 'POST',
      url: `/v1/cases/${caseId}/events`,
      headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ type: 'warehouse.received', id: 'receipt-1', payload: {} }),
    });
    expect(answer.statusCode).toBe(202);
    await expect
      .poll(async () => (await db.pool.query(`SELECT status FROM cases WHERE case_id = $1`, [caseId])).rows[0]?.status, { timeout: 20_000 })
      .toBe('closed');
    expect((await db.pool.query(`SELECT count(*)::int AS n FROM refunds WHERE case_id = $1`, [caseId])).rows[0].n).toBe(1);

    // The workflow's spans leave its sandbox after its activation: flush until the refund's run arrived.
    await expect
      .poll(
        async () => {
          await tracing.flush();
          return received.some(({ span }) => span.name === 'RunActivity:issueRefund');
        },
        { timeout: 20_000 },
      )
      .toBe(true);

    const request = received.find(({ span }) => span.name === 'POST /v1/cases/:caseId/events')!;
    expect(request.service).toBe('casebook-traces-test');
    expect(request.span.kind).toBe(SPAN_KIND_SERVER);
    expect(request.span.parentSpanId ?? '').toBe('');
    expect(request.span.attributes).toContainEqual({ key: 'http.route', value: { stringValue: '/v1/cases/:caseId/events' } });
    const trace = received.filter(({ span }) => span.traceId === request.span.traceId).map(({ span }) => span);
    const update = spanNamed(trace, 'StartWorkflowUpdate:deliverEvent', request.span);
    expect(update, 'the client update under the request').toBeDefined();
    const handled = spanNamed(trace, 'HandleUpdate:deliverEvent', update!);
    expect(handled, "the workflow's update handler under the client's update").toBeDefined();
    const scheduled = spanNamed(trace, 'StartActivity:issueRefund', handled!);
    expect(scheduled, 'the refund scheduled under the update that caused it').toBeDefined();
    expect(spanNamed(trace, 'RunActivity:issueRefund', scheduled!), "the refund's run under its scheduling").toBeDefined();
    // The case's opening is a trace of its own: the refund is not in it.
    const opening = received.find(({ span }) => span.name.startsWith('StartWorkflow:'))!;
    expect(opening.span.traceId).not.toBe(request.span.traceId);

    const history = await client.workflow.getHandle(workflowIdFor(caseId)).fetchHistory();
    const replay = await composeReplayer(db.pool).replay(workflowIdFor(caseId), history);
    expect(replay.divergence).toBeUndefined();
    expect(replay.deterministic).toBe(true);
  });

  it("is a child of the caller's traceparent when one is sent", async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const answer = await api.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer ${agentKey}`, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(answer.statusCode).toBe(200);
    await expect
      .poll(
        async () => {
          await tracing.flush();
          return received.find(({ span }) => span.name === 'GET /v1/me')?.span;
        },
        { timeout: 10_000 },
      )
      .toMatchObject({ traceId, parentSpanId: '00f067aa0ba902b7' });
  });
});

describe('the traced workflow code', () => {
  it('replays every stored history, recorded without tracing (a worker that turns tracing on while cases wait)', async () => {
    const files = readdirSync(HISTORIES, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.history'));
    expect(files.length).toBeGreaterThanOrEqual(100);
    const histories = files.map((file) => ({ workflowId: file, history: temporal.api.history.v1.History.decode(readFileSync(HISTORIES + file)) }));
    const failures: string[] = [];
    const traced = { workflowsPath: WORKFLOWS_PATH, bundlerOptions: workflowBundlerOptions, interceptors: tracing.workerInterceptors, sinks: tracing.sinks };
    for await (const result of Worker.runReplayHistories(traced, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
    }
    expect(failures).toEqual([]);
  }, 120_000);
});

describe('the configuration', () => {
  it('traces only when an endpoint is set', () => {
    expect(loadConfig({}).tracing).toBeUndefined();
    expect(composeTracing(undefined)).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing).toEqual({
      url: 'http://collector:4318/v1/traces',
      serviceName: 'casebook',
    });
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/otlp/spans' }).tracing
        ?.url,
    ).toBe('https://traces.example/otlp/spans');
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).tracing).toBeUndefined();
  });

  it('refuses an endpoint that is no http(s) URL, without repeating it', () => {
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4317?token=secret' })).toThrow(/^OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL$/);
  });
});
