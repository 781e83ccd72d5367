/** ISO 8601 text of an instant in milliseconds, as the case's history and deadlines record it. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
