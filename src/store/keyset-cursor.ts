/**
 * The cursor of the lists paged by an instant and a tie-breaking key (cases by opening, tasks by due
 * time, escalations by creation): the instant as Postgres prints it (`::text`, with its microseconds,
 * so no row is skipped or repeated between pages) and the row's case id or numeric id.
 */
import { isCleanText } from '../plan/values.js';
import { readInstant } from './instants.js';

export interface KeysetCursor<Key extends string | number> {
  at: string;
  key: Key;
}

export const encodeCursor = (cursor: KeysetCursor<string | number>): string => Buffer.from(JSON.stringify([cursor.at, cursor.key])).toString('base64url');

const KEY_CHECKS = {
  text: (key: unknown): key is string => typeof key === 'string' && isCleanText(key),
  id: (key: unknown): key is number => Number.isSafeInteger(key) && (key as number) >= 1,
};

/**
 * The cursor, or `undefined` when the text is not one we issued with this kind of key: its instant
 * must be one the database holds (readInstant), its key text Postgres can compare.
 */
export function decodeCursor(text: string, key: 'text'): KeysetCursor<string> | undefined;
export function decodeCursor(text: string, key: 'id'): KeysetCursor<number> | undefined;
export function decodeCursor(text: string, keyKind: keyof typeof KEY_CHECKS): KeysetCursor<string | number> | undefined {
  try {
    const [at, key] = JSON.parse(Buffer.from(text, 'base64url').toString()) as unknown[];
    if (typeof at !== 'string' || !KEY_CHECKS[keyKind](key)) return undefined;
    const instant = readInstant(at);
    return 'text' in instant ? { at: instant.text, key: key as string | number } : undefined;
  } catch {
    return undefined;
  }
}
