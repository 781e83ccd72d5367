/** Parts of request schemas more than one family of routes takes. */

/** What a case id looks like, wherever a request names one. */
export const CASE_ID = '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$';

/** A row id in a path: a positive integer, at most 15 digits. */
export const ROW_ID = '^[1-9][0-9]{0,14}$';

/** Free text a person writes (a note, a resolution): 1 to 2,000 characters, not only blanks. */
export const PERSON_TEXT = { type: 'string', minLength: 1, maxLength: 2000, pattern: '\\S' } as const;
