/** What a workflow cost Temporal: history events and bytes, workflow tasks and local activities, from its history. */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { mean, roundTo } from './stats.js';

const { History } = proto.temporal.api.history.v1;
/** The marker the SDK's core records for each local activity that completed (or failed for good). */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

export interface HistoryCost {
  events: number;
  /** The history's size as Temporal stores and sends it (protobuf). */
  bytes: number;
  workflowTasks: number;
  localActivities: number;
}

export async function historyCost(client: Client, workflowId: string): Promise<HistoryCost> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  return {
    events: events.length,
    bytes: History.encode(History.fromObject(history)).finish().length,
    // Every workflow task is scheduled once, whether it completes, fails or times out.
    workflowTasks: events.filter((event) => event.workflowTaskScheduledEventAttributes).length,
    localActivities: events.filter((event) => event.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER).length,
  };
}

/** Mean events, bytes, workflow tasks and local activities per workflow over a sample of workflow ids. */
export async function meanHistoryCost(client: Client, workflowIds: readonly string[]): Promise<HistoryCost & { sampled: number }> {
  const costs = await Promise.all(workflowIds.map((id) => historyCost(client, id)));
  const meanOf = (pick: (cost: HistoryCost) => number, digits = 1) => roundTo(mean(costs.map(pick)), digits);
  return {
    sampled: costs.length,
    events: meanOf((cost) => cost.events),
    bytes: meanOf((cost) => cost.bytes, 0),
    workflowTasks: meanOf((cost) => cost.workflowTasks),
    localActivities: meanOf((cost) => cost.localActivities),
  };
}

/** Up to `size` items spread evenly over the list. */
export function spreadSample<T>(items: readonly T[], size: number): T[] {
  if (items.length <= size) return [...items];
  return Array.from({ length: size }, (_, i) => items[Math.floor((i * items.length) / size)]!);
}
