/**
 * Every problem code of the deployment configuration (CASEBOOK_CONFIG, src/stack/deployment.ts), with
 * what it means. One closed list, documented in docs/configuration.md (a test keeps the two in step). A
 * retired code is never reused.
 */
export const CONFIG_CODES = {
  CFG001: 'the file cannot be read',
  CFG002: 'not plain YAML: a syntax error, a duplicate key, a tag, an anchor or alias, several documents, not UTF-8, larger than 1 MiB',
  CFG003: 'the file is empty',
  CFG010: 'unknown property (with a "did you mean")',
  CFG011: 'missing required property',
  CFG012: 'wrong type',
  CFG013: 'value not among the allowed ones (a connector other than local, webhook, smtp)',
  CFG014: 'a name or an environment variable name not written as one',
  CFG015: 'other shape violations (counts, lengths, ranges, repeats)',
  CFG020: 'unknown channel (only chat, inbox, sms, email, phone; with a "did you mean")',
  CFG021: 'a webhook binding naming no declared destination',
  CFG022: 'an smtp binding naming no declared mail server',
  CFG023: 'a binding without what its connector needs (`destination` for webhook, `server` for smtp) or with what it does not take',
  CFG024: 'a connector that cannot carry this side effect (smtp carries only the email channel)',
  CFG030: 'a secret written in the file (a secret, password, token or api_key key with a value, a whsec_ value, a password in a URL)',
  CFG040: 'a destination URL that is not an absolute https:// URL (or has a fragment)',
  CFG041: 'an http:// destination without `allow_private_address: true`',
  CFG042: 'a destination on localhost, a loopback, private or link-local address without `allow_private_address: true`',
  CFG050: 'not a duration, or out of range',
  CFG051: 'a mail server with `user_env` but no `password_env`, or the reverse',
} as const;

export type ConfigCode = keyof typeof CONFIG_CODES;
