/** Golden histories: recorded from tests with RECORD_HISTORIES=1, replayed by test/runtime/playbook-paths.test.ts. */
import { temporal } from '@temporalio/proto';
import type { WorkflowHandle } from '@temporalio/client';
import { writeFileSync } from 'node:fs';
import { planCarriers, planReferenceOf, planReferencesIn, withPlansInline, type PlanReferenceCodec } from '../../src/stack/plan-references.js';
import type { Pool } from '../../src/store/pool.js';
import { fileURLToPath } from 'node:url';

export const HISTORIES = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
export const RECORD_HISTORIES = process.env.RECORD_HISTORIES === '1';

let plans: PlanReferenceCodec | undefined;

/** Where recordings find the plans a history names by hash (useRuntime sets its database's). */
export function recordPlansFrom(pool: Pool): void {
  plans = planReferencesIn(pool);
}

/** Stores the case's history as test/fixtures/histories/<name>.history when recording, self-contained (selfContained). */
export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (!RECORD_HISTORIES) return;
  const history = await selfContained(temporal.api.history.v1.History.fromObject(await handle.fetchHistory()), name);
  writeFileSync(`${HISTORIES}${name}.history`, temporal.api.history.v1.History.encode(history).finish());
}

/** The history with each plan it names by hash put back inline, so the guard replays it without a database. */
export async function selfContained(history: temporal.api.history.v1.History, name: string): Promise<temporal.api.history.v1.History> {
  const named = [...planCarriers(history)].some((payloads) => payloads.some((payload) => planReferenceOf(payload) !== undefined));
  if (named && !plans) throw new Error(`${name}: the history names its plan by hash; call recordPlansFrom(pool) before recording`);
  return plans ? withPlansInline(history, plans) : history;
}
