/** Patterns of path parameters more than one family of routes takes. */

/** What a case id looks like, wherever a request names one. */
export const CASE_ID = '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$';
