/**
 * The SDK's replayer, run on one case's history at a time: the workflow code bundled once (as the worker
 * bundles it), a replay sink collecting what the code re-derives, and a divergence described in the
 * history's and the playbook's terms.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { bundleWorkflowCode, DefaultLogger, ReplayError, Worker, type InjectedSinks } from '@temporalio/worker';
import { REPLAY_SINK, type CaseSinks } from '../plan/case.js';
import type { History } from '../cases/archive.js';
import type { Divergence, HistoryReplayer, RunReplay, TimelineEntry } from '../cases/replay.js';
import { WORKFLOWS_PATH } from './worker.js';
import { workflowBundlerOptions } from './workflow-bundler.js';

const { temporal } = proto;
const EventType = temporal.api.enums.v1.EventType;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

/** `EVENT_TYPE_ACTIVITY_TASK_SCHEDULED` → `ActivityTaskScheduled`. */
function eventTypeName(type: number | null | undefined): string {
  const constant = EventType[Number(type)] ?? 'EVENT_TYPE_UNSPECIFIED';
  return constant.replace(/^EVENT_TYPE_/, '').toLowerCase().replace(/(^|_)([a-z])/g, (_, __, c: string) => c.toUpperCase());
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
  if (marker) return `${name} ${marker.markerName ?? ''}`;
  return name;
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
  return machine ? `issued a ${machine.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()} command instead (${detail})` : detail;
}

export interface ReplayerOptions {
  /** Workflow interceptor modules bundled with the workflow code: how tests replay a changed interpreter. */
  interceptorModules?: string[];
}

export class WorkflowReplayer implements HistoryReplayer {
  private bundle: Promise<string> | undefined;

  constructor(private readonly options: ReplayerOptions = {}) {}

  async replay(workflowId: string, history: History): Promise<RunReplay> {
    const interceptorModules = this.options.interceptorModules ?? [];
    const code = await (this.bundle ??= bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH, workflowInterceptorModules: interceptorModules, ...workflowBundlerOptions, logger: new DefaultLogger('ERROR'),
    }).then((bundle) => bundle.code));
    const steps: { stepId: string; visit: number }[] = [];
    const timeline: TimelineEntry[] = [];
    const sinks: InjectedSinks<CaseSinks> = {
      [REPLAY_SINK]: {
        step: { fn: (_info, stepId, visit) => void steps.push({ stepId, visit }), callDuringReplay: true },
        recorded: { fn: (_info, audit) => void timeline.push(...audit), callDuringReplay: true },
      },
    };
    const started = performance.now();
    const ms = () => Math.round(performance.now() - started);
    try {
      await Worker.runReplayHistory({ workflowBundle: { code }, sinks, interceptors: { workflowModules: interceptorModules } }, history, workflowId);
      return { deterministic: true, timeline, ms: ms() };
    } catch (error) {
      // A DeterminismViolationError (exported by the workflow package only, for workflow code) or a replay failure.
      if (!(error instanceof ReplayError) && (error as Error).name !== 'DeterminismViolationError') throw error;
      const message = String((error as Error).message ?? error);
      const eventId = eventIdIn(message);
      const event = eventId === null ? undefined : history.events?.find((e) => Number(e.eventId) === eventId);
      const last = steps[steps.length - 1];
      const divergence: Divergence = {
        eventId, recorded: event ? describeEvent(event) : null, now: whatTheCodeDid(message),
        step: last?.stepId ?? null, visit: last?.visit ?? null,
      };
      return { deterministic: false, divergence, timeline, ms: ms() };
    }
  }
}
