/**
 * The SDK's replayer, run on one case's history at a time: the workflow code bundled once (as the worker
 * bundles it), a replay sink collecting what the code re-derives, and a divergence described in the
 * history's and the playbook's terms.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, ReplayError, Worker, type InjectedSinks, type Logger } from '@temporalio/worker';
import type { WorkflowCreator } from '@temporalio/worker/lib/workflow/interface.js';
import { globalHandlers } from '@temporalio/worker/lib/workflow/vm-shared.js';
import type { CompiledWorkerOptions } from '@temporalio/worker/lib/worker-options.js';
import type { WorkflowBundleWithSourceMapAndFilename } from '@temporalio/worker/lib/workflow/workflow-worker-thread/input.js';
import { REPLAY_SINK, type CaseSinks } from '../case-contract/messages.js';
import type { History } from '../cases/archive.js';
import type { Divergence, HistoryReplayer, RunReplay, TimelineEntry } from '../cases/replay.js';
import { planCarriers, planReferenceOf, UnknownPlanError, withPlanReferences, type PlanReferenceCodec } from './plan-references.js';
import { WORKFLOWS_PATH } from './worker.js';
import { workflowBundlerOptions } from './workflow-bundler.js';

const { temporal } = proto;
const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

/** `EVENT_TYPE_ACTIVITY_TASK_SCHEDULED` → `ActivityTaskScheduled`. */
function eventTypeName(type: number | null | undefined): string {
  const constant = EventType[Number(type)] ?? 'EVENT_TYPE_UNSPECIFIED';
  return constant
    .replace(/^EVENT_TYPE_/, '')
    .toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

const decoded = (payloads: proto.temporal.api.common.v1.IPayloads | null | undefined): unknown => {
  const first = payloads?.payloads?.[0];
  try {
    return first ? defaultPayloadConverter.fromPayload(first) : undefined;
  } catch {
    return undefined;
  }
};

/** One line on what a history event records: its type, and for an activity its name and key. */
function describeEvent(event: HistoryEvent): string {
  const name = eventTypeName(event.eventType);
  const activity = event.activityTaskScheduledEventAttributes;
  if (activity) {
    const input = decoded(activity.input) as { key?: string } | undefined;
    return `${name} ${activity.activityType?.name ?? ''}${input?.key ? ` (key ${input.key})` : ''}`;
  }
  const timer = event.timerStartedEventAttributes;
  if (timer) return `${name} (${Number(timer.startToFireTimeout?.seconds ?? 0)} s)`;
  const marker = event.markerRecordedEventAttributes;
  if (marker) {
    const localActivity = localActivityOf(event);
    return localActivity ? `${name} local activity ${localActivity.activity_type}` : `${name} ${marker.markerName ?? ''}`;
  }
  return name;
}

/** What a local activity's marker says of it (the SDK core's `data` detail): its sequence number and type. */
function localActivityOf(event: HistoryEvent): { seq: number; activity_type: string } | undefined {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return undefined;
  return decoded(marker.details?.data) as { seq: number; activity_type: string } | undefined;
}

/**
 * The event a divergence is at: the one the nondeterminism message names (`HistoryEvent(id: 12, ...)`,
 * `event_id: 12`), or the marker of the local activity it names by sequence number (`LocalActivity(2)`).
 */
function divergingEvent(message: string, history: History): HistoryEvent | undefined {
  const eventId = eventIdIn(message);
  if (eventId !== null) return history.events?.find((e) => Number(e.eventId) === eventId);
  const seq = /LocalActivity\((\d+)\)/.exec(message)?.[1];
  return seq === undefined ? undefined : history.events?.find((e) => localActivityOf(e)?.seq === Number(seq));
}

/** The event a nondeterminism message names, e.g. `HistoryEvent(id: 12, TimerStarted)` or `event_id: 12`. */
function eventIdIn(message: string): number | null {
  const match = /HistoryEvent\(id: (\d+)/.exec(message) ?? /event[_ ]id:? (\d+)/i.exec(message);
  return match ? Number(match[1]) : null;
}

/** The replayer's own words on the divergence, led by what the code did when the replayer can tell. */
function whatTheCodeDid(message: string): string {
  const detail = /Nondeterminism error: ([^"\\]*)/.exec(message)?.[1]?.trim() ?? message.split('\n')[0]!;
  const machine = /^(\w+) machine does not handle this event/.exec(detail)?.[1];
  if (machine) return `issued a ${machine.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()} command instead (${detail})`;
  if (/^Missing associated machine for LocalActivity\(\d+\)/.test(detail)) return `did not run this local activity at this point (${detail})`;
  return detail;
}

/**
 * The SDK's replay worker (workflows on this thread, `debugMode`) without two costs that buy nothing in a
 * replay, where nobody asks a stack-trace query and nothing bounds the run's time (the SDK sets no limit in
 * debugMode either, only a 49-day one). They were half of a 1,000-event replay (bench/replay.bench.ts):
 * - the promise hook behind the stack-trace query: on every promise it compiles two functions to find the
 *   promise's workflow and records a stack resolved through the bundle's source map. It is global to the
 *   thread, so once the first replay had installed it, every promise of the Casebook process (the API's
 *   too) paid for it. The replay worker removes it; the rest of the SDK's stack handling (workflow errors'
 *   stacks resolved through the source map) stays.
 * - a timeout on each call into the workflow sandbox: Node starts and joins a watchdog thread per call
 *   (tens of µs each; some 600 calls in a 1,000-event replay).
 */
export class ReplayWorker extends Worker {
  protected static override async createWorkflowCreator(
    bundle: WorkflowBundleWithSourceMapAndFilename,
    compiledOptions: CompiledWorkerOptions,
    logger: Logger,
  ): Promise<WorkflowCreator> {
    // biome-ignore lint/complexity/noThisInStatic: the overridden static method of Worker, reached as the SDK reaches it
    const creator = await super.createWorkflowCreator(
      bundle,
      { ...compiledOptions, debugMode: true, isolateExecutionTimeoutMs: undefined as unknown as number },
      logger,
    );
    withoutPromiseStacks();
    return creator;
  }
}

/** Stops the SDK's promise hook in this thread, keeping its stack-trace formatting (idempotent). */
function withoutPromiseStacks(): void {
  if (!globalHandlers.promiseHookInstalled) return;
  const prepareStackTrace = Error.prepareStackTrace;
  globalHandlers.uninstall(); // the hook and the stack formatting; the SDK offers no way to stop the hook alone
  Error.prepareStackTrace = prepareStackTrace;
  globalHandlers.installed = true; // so that the next worker's install() does not start the hook again
  globalHandlers.promiseHookInstalled = false; // workflows started from now on know they record no promise stacks
}

export interface ReplayerOptions {
  /** Where the plans that histories name by hash are found (composeReplayer); unset, only histories with their plans inline replay. */
  plans?: PlanReferenceCodec;
  /** Workflow interceptor modules bundled with the workflow code: how tests replay a changed interpreter. */
  interceptorModules?: string[];
  /** The workflow code bundled already (with these interceptor modules), by another replayer's `workflowCode()`. */
  code?: string;
}

export class WorkflowReplayer implements HistoryReplayer {
  private bundle: Promise<string> | undefined;

  constructor(private readonly options: ReplayerOptions = {}) {
    if (options.code !== undefined) this.bundle = Promise.resolve(options.code);
  }

  /** The workflow code it replays with, bundled on first use. */
  workflowCode(): Promise<string> {
    return (this.bundle ??= bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      workflowInterceptorModules: this.options.interceptorModules ?? [],
      ...workflowBundlerOptions,
      logger: new DefaultLogger('ERROR'),
    }).then((bundle) => bundle.code));
  }

  /**
   * Throws UnknownPlanError for a plan the history names by hash (its input, a migration's target) that
   * this replayer cannot find, rather than letting the replay fail on a payload it cannot decode.
   */
  private async planReferencesFound(history: History): Promise<void> {
    const hashes = new Set<string>();
    for (const payloads of planCarriers(history)) {
      for (const payload of payloads) {
        const hash = planReferenceOf(payload);
        if (hash !== undefined) hashes.add(hash);
      }
    }
    if (hashes.size === 0) return;
    const plans = this.options.plans;
    if (!plans) throw new UnknownPlanError([...hashes][0]!);
    for (const hash of hashes) await plans.require(hash);
  }

  async replay(workflowId: string, history: History): Promise<RunReplay> {
    const interceptorModules = this.options.interceptorModules ?? [];
    const code = await this.workflowCode();
    const steps: { stepId: string; visit: number }[] = [];
    const timeline: TimelineEntry[] = [];
    const sinks: InjectedSinks<CaseSinks> = {
      [REPLAY_SINK]: {
        step: { fn: (_info, stepId, visit) => void steps.push({ stepId, visit }), callDuringReplay: true },
        recorded: { fn: (_info, audit) => void timeline.push(...audit), callDuringReplay: true },
      },
    };
    await this.planReferencesFound(history);
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    try {
      const plans = this.options.plans;
      await ReplayWorker.runReplayHistory(
        {
          workflowBundle: { code },
          sinks,
          interceptors: { workflowModules: interceptorModules },
          ...(plans ? { dataConverter: withPlanReferences(plans) } : {}),
        },
        history,
        workflowId,
      );
      return { deterministic: true, timeline, ms: ms() };
    } catch (error) {
      // A DeterminismViolationError (exported by the workflow package only, for workflow code) or a replay failure.
      if (!(error instanceof ReplayError) && (error as Error).name !== 'DeterminismViolationError') throw error;
      const message = String((error as Error).message ?? error);
      const event = divergingEvent(message, history);
      const last = steps[steps.length - 1];
      const divergence: Divergence = {
        eventId: event ? Number(event.eventId) : eventIdIn(message),
        recorded: event ? describeEvent(event) : null,
        now: whatTheCodeDid(message),
        step: last?.stepId ?? null,
        visit: last?.visit ?? null,
      };
      return { deterministic: false, divergence, timeline, ms: ms() };
    }
  }
}
