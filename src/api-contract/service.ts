/** What the routes about the service and its keys answer: health, readiness, the calling key, the keys. */
import { boolean, exact, list, nullableString, oneOf, string, type Static } from './schema.js';

export const Health = exact({ status: oneOf('ok') });
export type Health = Static<typeof Health>;

export const Readiness = exact({ status: oneOf('ready'), database: boolean, temporal: boolean });
export type Readiness = Static<typeof Readiness>;

/** The role of an API key: what it may do (docs/api.md). */
export const Role = oneOf('ops-lead', 'agent', 'warehouse', 'auditor', 'admin');
export type Role = Static<typeof Role>;

/** The calling key and the console's settings (`GET /v1/me`). */
export const Me = exact({
  keyId: string,
  name: string,
  role: Role,
  settings: exact({
    /** The shop's IANA time zone; the console shows every time in it. */
    timeZone: string,
    /** The Temporal Web UI, or null when none is known. */
    temporalUiUrl: nullableString,
    namespace: string,
  }),
});
export type Me = Static<typeof Me>;

const KEY = { id: string, name: string, role: string, createdAt: string, revokedAt: nullableString, lastUsedAt: nullableString };

export const ApiKeyList = exact({ keys: list(exact(KEY)) });
export type ApiKeyList = Static<typeof ApiKeyList>;

/** A new key, with its secret: the only time the API shows it. */
export const CreatedApiKey = exact({ ...KEY, key: string });
export type CreatedApiKey = Static<typeof CreatedApiKey>;
