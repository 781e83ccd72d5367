/**
 * The workflow's tracing interceptors, bundled only into a worker that exports traces
 * (src/stack/tracing.ts). Spans of the case's run, of each update and signal it handles and of each
 * activity it schedules, their context sent to the activity in its headers, the spans themselves leaving
 * the sandbox through the SDK's `exporter` sink (never called in a replay).
 *
 * Not the SDK's own workflow interceptors: those await around each call (`return await`), which moves
 * the handler's or the activity result's continuation a few microtasks later, and with it the order of
 * the commands that follow (a traced case answered its update after cancelling a timer, the untraced
 * code before: the history of a traced case would not replay without tracing, nor the other way round).
 * Here every interceptor starts its span, calls `next` in its context and returns `next`'s own promise;
 * the span ends on a reaction of that promise, which issues no command. A traced case's history is the
 * same as an untraced one's (test/stack/traces.test.ts replays one on the untraced replayer).
 *
 * One change of meaning too: a case's step loop awaits its events under the span of the run that opened
 * it, so the activities that follow an event would join the opening's trace. Here the activities
 * scheduled after an update belong to that update's span (until the next update), so that one event's
 * trace runs from the API request through the update to the activities it caused.
 */
// First: OpenTelemetry's browser build, which this bundle takes, needs the `performance` it sets up.
import '@temporalio/interceptors-opentelemetry/lib/workflow/runtime.js';
import { context, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ContextManager } from '@temporalio/interceptors-opentelemetry/lib/workflow/context-manager.js';
import { SpanExporter } from '@temporalio/interceptors-opentelemetry/lib/workflow/span-exporter.js';
import { extractContextFromHeaders, headersWithContext } from '@temporalio/interceptors-opentelemetry/lib/instrumentation.js';
import { ContinueAsNew, workflowInfo, type WorkflowInterceptors } from '@temporalio/workflow';

const ended = (span: Span, error?: unknown): void => {
  if (error !== undefined && !(error instanceof ContinueAsNew)) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
};

/** `run` in a new span's context; the span ends when what `run` returns settles, without delaying it. */
function within<T>(tracer: Tracer, name: string, parent: Context, run: () => T): T {
  const span = tracer.startSpan(name, {}, parent);
  let result: T;
  try {
    result = context.with(trace.setSpan(parent, span), run);
  } catch (error) {
    ended(span, error);
    throw error;
  }
  if (result instanceof Promise) {
    result.then(
      () => ended(span),
      (error: unknown) => ended(span, error),
    );
  } else {
    ended(span);
  }
  return result;
}

/** Called by the SDK once per workflow: the provider, the context and the cause below are this case's own. */
export const interceptors = (): WorkflowInterceptors => {
  const contextManager = new ContextManager();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new SpanExporter())] });
  provider.register({ contextManager });
  const tracer = provider.getTracer('casebook-workflow');
  /** The span of the last update handled, under which the activities scheduled after it go. */
  let cause: Context | undefined;
  const from = (headers: Parameters<typeof extractContextFromHeaders>[0]) => extractContextFromHeaders(headers) ?? context.active();
  const scheduling = <I extends { headers: Parameters<typeof headersWithContext>[0] }, R>(name: string, input: I, next: (input: I) => R): R =>
    within(tracer, name, cause ?? context.active(), () => next({ ...input, headers: headersWithContext(input.headers) }));
  return {
    inbound: [
      {
        execute: (input, next) => within(tracer, `RunWorkflow:${workflowInfo().workflowType}`, from(input.headers), () => next(input)),
        handleSignal: (input, next) => within(tracer, `HandleSignal:${input.signalName}`, from(input.headers), () => next(input)),
        handleUpdate: (input, next) =>
          within(tracer, `HandleUpdate:${input.name}`, from(input.headers), () => {
            cause = context.active();
            return next(input);
          }),
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => scheduling(`StartActivity:${input.activityType}`, input, next),
        scheduleLocalActivity: (input, next) => scheduling(`StartActivity:${input.activityType}`, input, next),
        startChildWorkflowExecution: (input, next) => scheduling(`StartChildWorkflow:${input.workflowType}`, input, next),
      },
    ],
    internals: [
      {
        dispose: (input, next) => {
          contextManager.disable();
          next(input);
        },
      },
    ],
  };
};
