/** What a workflow cost Temporal: history events and workflow tasks, from its history. */
import type { Client } from '@temporalio/client';
import { mean, roundTo } from './stats.js';

export interface HistoryCost {
  events: number;
  workflowTasks: number;
}

export async function historyCost(client: Client, workflowId: string): Promise<HistoryCost> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  // Every workflow task is scheduled once, whether it completes, fails or times out.
  const workflowTasks = events.filter((event) => event.workflowTaskScheduledEventAttributes).length;
  return { events: events.length, workflowTasks };
}

/** Mean events and workflow tasks per workflow over a sample of workflow ids. */
export async function meanHistoryCost(client: Client, workflowIds: readonly string[]): Promise<HistoryCost & { sampled: number }> {
  const costs = await Promise.all(workflowIds.map((id) => historyCost(client, id)));
  return {
    sampled: costs.length,
    events: roundTo(mean(costs.map((cost) => cost.events)), 1),
    workflowTasks: roundTo(mean(costs.map((cost) => cost.workflowTasks)), 1),
  };
}

/** Up to `size` items spread evenly over the list. */
export function spreadSample<T>(items: readonly T[], size: number): T[] {
  if (items.length <= size) return [...items];
  return Array.from({ length: size }, (_, i) => items[Math.floor((i * items.length) / size)]!);
}
