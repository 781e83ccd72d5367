/** The cursor of the agent queues (tasks by due time, escalations newest first): an instant with Postgres' microseconds and a row id. */

export interface QueueCursor {
  /** The instant as Postgres prints it (`::text`), so no row is skipped or repeated between pages. */
  at: string;
  id: number;
}

const POSTGRES_TIMESTAMP = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)$/;

export const encodeQueueCursor = (cursor: QueueCursor): string => Buffer.from(JSON.stringify([cursor.at, cursor.id])).toString('base64url');

/** The cursor, or `undefined` when the text is not one we issued. */
export function decodeQueueCursor(text: string): QueueCursor | undefined {
  try {
    const [at, id] = JSON.parse(Buffer.from(text, 'base64url').toString()) as unknown[];
    if (typeof at !== 'string' || !POSTGRES_TIMESTAMP.test(at) || !Number.isSafeInteger(id) || (id as number) < 1) return undefined;
    return { at, id: id as number };
  } catch {
    return undefined;
  }
}
