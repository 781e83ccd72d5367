/** Golden histories: recorded from tests with RECORD_HISTORIES=1, replayed by test/runtime/playbook-paths.test.ts. */
import { temporal } from '@temporalio/proto';
import type { WorkflowHandle } from '@temporalio/client';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const HISTORIES = fileURLToPath(new URL('../fixtures/histories/', import.meta.url));
export const RECORD_HISTORIES = process.env.RECORD_HISTORIES === '1';

/** Stores the case's history as test/fixtures/histories/<name>.history when recording. */
export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (!RECORD_HISTORIES) return;
  const history = temporal.api.history.v1.History.fromObject(await handle.fetchHistory());
  writeFileSync(`${HISTORIES}${name}.history`, temporal.api.history.v1.History.encode(history).finish());
}
