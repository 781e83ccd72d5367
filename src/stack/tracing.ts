/**
 * OpenTelemetry traces (docs/operations.md, "Traces"): a span per API request, the Temporal client's
 * span for what a request asks of a case (start, update, query), the workflow's spans (its run, each
 * update, each activity scheduled) and each activity's run, one trace from the request to the activities
 * it caused, exported over OTLP/HTTP. Made only when an endpoint is configured (composeTracing): without
 * one there is no provider, no hook on the API and no interceptor in the client or the worker's bundle.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client/index.js';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
} from '@temporalio/interceptors-opentelemetry/lib/worker/index.js';
import type { OpenTelemetryWorkflowExporter } from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions.js';
import type { InjectedSinks, WorkerInterceptors } from '@temporalio/worker';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { fileURLToPath } from 'node:url';

/** The workflow interceptors (src/workflows/tracing.ts), bundled into a tracing worker only. */
const WORKFLOW_TRACING_PATH = fileURLToPath(new URL('../workflows/tracing.ts', import.meta.url));

export interface Tracing {
  /** For the Temporal client: its start, update and query calls as spans, their context sent in the headers. */
  clientInterceptors: ClientInterceptors;
  /** For the case worker: the workflow interceptors' module and the activities' interceptors. */
  workerInterceptors: WorkerInterceptors;
  /** For the case worker: where the workflow's spans leave its sandbox (never called in a replay). */
  sinks: InjectedSinks<{ exporter: OpenTelemetryWorkflowExporter }>;
  /** A span for each request the API answers, the active context of its handler (see traceRequests). */
  traceRequests(app: FastifyInstance): void;
  /** Exports the spans ended so far. */
  flush(): Promise<void>;
  /** Exports what is left and unregisters the process's tracer provider. */
  shutdown(): Promise<void>;
}

/**
 * Registers the process's tracer provider (OpenTelemetry's API is global: one per process), whose spans go
 * to `exporter` in batches. Called by the composition root (composeTracing) with the OTLP exporter.
 */
export function startTracing(exporter: SpanExporter, serviceName: string): Tracing {
  const resource = new Resource({ 'service.name': serviceName });
  const processor = new BatchSpanProcessor(exporter);
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  const tracer = provider.getTracer('casebook');
  return {
    clientInterceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer })] },
    workerInterceptors: {
      workflowModules: [WORKFLOW_TRACING_PATH],
      activity: [
        (ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) }),
      ],
    },
    sinks: { exporter: makeWorkflowExporter(processor, resource) },
    traceRequests: (app) => traceRequests(app, tracer),
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/**
 * A server span per request, named by its route's pattern (`POST /v1/cases/:caseId/events`, never the
 * raw URL), a child of the caller's `traceparent` when it sends one. It is the active context from the
 * handlers on (preHandler: after the body is read, whose stream events would lose it), so that the
 * Temporal client's spans are its children.
 */
function traceRequests(app: FastifyInstance, tracer: Tracer): void {
  const spans = new WeakMap<FastifyRequest, Span>();
  const end = (request: FastifyRequest, status?: number) => {
    const span = spans.get(request);
    if (!span) return;
    spans.delete(request);
    if (status !== undefined) span.setAttribute('http.response.status_code', status);
    if (status === undefined || status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };
  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    const span = tracer.startSpan(
      `${request.method} ${route ?? '(no route)'}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, ...(route ? { 'http.route': route } : {}), 'casebook.request_id': request.id },
      },
      propagation.extract(ROOT_CONTEXT, request.headers),
    );
    spans.set(request, span);
    done();
  });
  app.addHook('preHandler', (request, _reply, done) => {
    const span = spans.get(request);
    if (span) context.with(trace.setSpan(context.active(), span), done);
    else done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    end(request);
    done();
  });
}
