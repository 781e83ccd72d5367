/**
 * What a closed case was given, read back from its archived Temporal histories: the data it opened
 * with, who opened it, and every event and cancel it took, each at its offset from the opening (the
 * workflow's own clock, so the offsets are the case's, whatever the server's clock was).
 */
import proto from '@temporalio/proto';
import { historyFromText } from '../cases/archive.js';
import type { CaseCancel } from '../plan/cancellation.js';
import type { CaseEvent, CaseInput } from '../plan/case.js';

const { EventType } = proto.temporal.api.enums.v1;

export type RecordedInput = { atMs: number } & ({ kind: 'event'; event: CaseEvent } | { kind: 'cancel'; cancel: CaseCancel });

export interface RecordedCase {
  /** When the workflow started (ms since the epoch, its clock). */
  startedAt: number;
  data: Record<string, unknown>;
  openedBy: string | undefined;
  /** Events and cancels in the order the case took them. */
  inputs: RecordedInput[];
}

type Payload = { data?: Uint8Array | null } | null | undefined;

const decoded = (payload: Payload): unknown => (payload?.data ? JSON.parse(Buffer.from(payload.data).toString('utf8')) : undefined);

const msOf = (time: { seconds?: { toString(): string } | null; nanos?: number | null } | null | undefined) =>
  Number(time?.seconds?.toString() ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6);

/** The case's inputs from its histories (first run first); undefined when there is none. */
export function recordedCase(histories: readonly string[]): RecordedCase | undefined {
  const first = histories[0] ? historyFromText(histories[0]).events?.[0] : undefined;
  const started = first?.workflowExecutionStartedEventAttributes;
  if (!first || !started) return undefined;
  const input = decoded(started.input?.payloads?.[0]) as CaseInput;
  const startedAt = msOf(first.eventTime);
  const inputs: RecordedInput[] = [];
  for (const text of histories) {
    for (const event of historyFromText(text).events ?? []) {
      if (event.eventType !== EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) continue;
      const request = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
      const arg = decoded(request?.args?.payloads?.[0]);
      const atMs = msOf(event.eventTime) - startedAt;
      if (request?.name === 'deliverEvent') inputs.push({ atMs, kind: 'event', event: arg as CaseEvent });
      else if (request?.name === 'cancelCase') inputs.push({ atMs, kind: 'cancel', cancel: arg as CaseCancel });
    }
  }
  return { startedAt, data: input.data, openedBy: input.openedBy, inputs };
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Every instant (an ISO 8601 string with its offset) in a value, moved by `shiftMs`. */
export function shifted(value: unknown, shiftMs: number): unknown {
  if (typeof value === 'string') return INSTANT.test(value) ? new Date(Date.parse(value) + shiftMs).toISOString() : value;
  if (Array.isArray(value)) return value.map((v) => shifted(v, shiftMs));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shifted(v, shiftMs)]));
  return value;
}
