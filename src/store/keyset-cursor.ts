/**
 * The cursor of the lists paged by an instant and a tie-breaking key (cases by opening, tasks by due
 * time, escalations by creation): the instant as Postgres prints it (`::text`, with its microseconds,
 * so no row is skipped or repeated between pages) and the row's case id or numeric id.
 */

export interface KeysetCursor<Key extends string | number> {
  at: string;
  key: Key;
}

const POSTGRES_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)$/;

export const encodeCursor = (cursor: KeysetCursor<string | number>): string => Buffer.from(JSON.stringify([cursor.at, cursor.key])).toString('base64url');

const KEY_CHECKS = {
  text: (key: unknown): key is string => typeof key === 'string',
  id: (key: unknown): key is number => Number.isSafeInteger(key) && (key as number) >= 1,
};

/** The cursor, or `undefined` when the text is not one we issued with this kind of key. */
export function decodeCursor(text: string, key: 'text'): KeysetCursor<string> | undefined;
export function decodeCursor(text: string, key: 'id'): KeysetCursor<number> | undefined;
export function decodeCursor(text: string, keyKind: keyof typeof KEY_CHECKS): KeysetCursor<string | number> | undefined {
  try {
    const [at, key] = JSON.parse(Buffer.from(text, 'base64url').toString()) as unknown[];
    if (typeof at !== 'string' || !POSTGRES_TIMESTAMP.test(at) || !KEY_CHECKS[keyKind](key)) return undefined;
    return { at, key: key as string | number };
  } catch {
    return undefined;
  }
}
