/** Histories to replay: the golden histories of the standard scenarios and the recorded long history. */
import proto from '@temporalio/proto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// @temporalio/proto is CommonJS: its namespaces are on the default export under tsx.
const { History: HistoryMessage } = proto.temporal.api.history.v1;
export type History = proto.temporal.api.history.v1.IHistory;

export interface NamedHistory {
  name: string;
  history: History;
  events: number;
}

export const GOLDEN_HISTORIES = fileURLToPath(new URL('../../test/fixtures/histories/', import.meta.url));
export const LONG_HISTORY = fileURLToPath(new URL('../fixtures/return-long.history', import.meta.url));
/** The expert's hand-written return with a history of the same length and shape (the replay's anchor). */
export const EXPERT_LONG_HISTORY = fileURLToPath(new URL('../fixtures/expert-long.history', import.meta.url));

export function readHistory(path: string, name: string): NamedHistory {
  const history = HistoryMessage.decode(readFileSync(path));
  return { name, history, events: history.events.length };
}

export function readGoldenHistories(): NamedHistory[] {
  return readdirSync(GOLDEN_HISTORIES)
    .filter((file) => file.endsWith('.history'))
    .sort()
    .map((file) => readHistory(GOLDEN_HISTORIES + file, file.replace(/\.history$/, '')));
}

export function readLongHistory(): NamedHistory {
  if (!existsSync(LONG_HISTORY)) throw new Error(`${LONG_HISTORY} is missing: record it with npx tsx bench/support/replay-record-long-history.ts`);
  return readHistory(LONG_HISTORY, 'return-long');
}

export function readExpertLongHistory(): NamedHistory {
  if (!existsSync(EXPERT_LONG_HISTORY)) {
    throw new Error(`${EXPERT_LONG_HISTORY} is missing: record it with npx tsx bench/support/replay-record-expert-history.ts`);
  }
  return readHistory(EXPERT_LONG_HISTORY, 'expert-long');
}

/** Stores a history in Temporal's protobuf encoding, as the golden histories are. */
export function writeHistory(path: string, history: History): void {
  writeFileSync(path, HistoryMessage.encode(HistoryMessage.fromObject(history)).finish());
}
