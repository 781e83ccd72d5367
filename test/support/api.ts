/** The HTTP API over a test runtime, with API keys made for the test: built before the tests, closed after. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { composeApi } from '../../src/stack/compose.js';
import { createApiKey, type Role } from '../../src/store/api-keys.js';
import type { Runtime } from './runtime.js';

export interface TestApi<K extends string> {
  api: FastifyInstance;
  /** The secret of each key asked for, by the name the test gave it. */
  keys: Record<K, string>;
  /** A request made with `key`: a string body goes as YAML (a playbook), any other as JSON. */
  call(method: 'GET' | 'POST' | 'PUT', url: string, key: string, body?: unknown): Promise<LightMyRequestResponse>;
}

/** An API key's id, as an actor names it: the 12 characters after `cb_`. */
export const keyIdOf = (key: string): string => /^cb_([a-z0-9]{12})_/.exec(key)![1]!;

/** `people` names each key the test needs: `{ admin: ['admin', 'Root'] }` makes an admin key named Root. */
export function useApi<K extends string>(runtime: Runtime, people: Record<K, [Role, string]>): TestApi<K> {
  const holder = {
    keys: {},
    call: (method, url, key, body) =>
      holder.api.inject({
        method,
        url,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body === undefined ? {} : { 'content-type': typeof body === 'string' ? 'application/yaml' : 'application/json' }),
        },
        ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
      }),
  } as TestApi<K>;
  beforeAll(async () => {
    holder.api = await composeApi({ services: { cases: runtime.service, inbox: runtime.inbox, audit: runtime.audit }, pool: runtime.db.pool });
    for (const [name, [role, label]] of Object.entries(people) as [K, [Role, string]][]) {
      holder.keys[name] = (await createApiKey(runtime.db.pool, role, label)).key;
    }
  });
  afterAll(async () => {
    await holder.api?.close();
  });
  return holder;
}
