/** API keys: who may call the API, in which role. The API (`/v1/keys`, `/v1/me`) and `casebook keys` call these. */
import {
  authenticate,
  createApiKey as insertApiKey,
  listApiKeys as selectApiKeys,
  revokeApiKey as revokeKey,
  revokeApiKeyKeepingAnAdmin,
  ROLES,
  type ApiKey,
  type Role,
} from '../store/api-keys.js';
import type { Pool } from '../store/pool.js';

/** The active key a bearer token is, if any (the API's authentication). */
export { authenticate, ROLES, type ApiKey, type Role };

export const createApiKey = (pool: Pool, role: Role, name: string) => insertApiKey(pool, role, name);
export const listApiKeys = (pool: Pool) => selectApiKeys(pool);

/** From the API: never the last active admin key, or nobody could manage keys any more. */
export const revokeApiKeyFromApi = (pool: Pool, id: string) => revokeApiKeyKeepingAnAdmin(pool, id);

/** From `casebook keys`, run by whoever holds the database: any key, the last admin key too (a new one is a command away). */
export const revokeApiKey = (pool: Pool, id: string) => revokeKey(pool, id);
