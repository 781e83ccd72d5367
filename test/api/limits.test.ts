/**
 * Limits from configuration (docs/operations.md "Limits"): request rates per key, per key of a role and
 * per role, as token buckets in the API process; body sizes; failed authentications. Today's values are
 * the defaults. On a real Postgres (the keys are real rows).
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi, type ApiOptions } from '../../src/api/app.js';
import type { ApiDependencies } from '../../src/api/dependencies.js';
import { DEFAULT_AUTH_FAILURES_PER_MINUTE, DEFAULT_RATE_LIMITS, MAX_BODY_BYTES } from '../../src/api/limits.js';
import { loadConfig } from '../../src/stack/config.js';
import { createApiKey, type Role } from '../../src/store/api-keys.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
const apis: FastifyInstance[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const api of apis) await api.close();
  await db?.drop();
});

async function api(options: ApiOptions): Promise<FastifyInstance> {
  const built = await buildApi({ pool: db.pool, temporalReady: async () => true } as unknown as ApiDependencies, options);
  apis.push(built);
  return built;
}

const keyOf = async (role: Role) => (await createApiKey(db.pool, role, `${role} limits key`)).key;

/** GET /v1/me as `key`: a cheap authenticated route. */
const asKey = (app: FastifyInstance, key: string) => app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${key}` } });

async function statuses(app: FastifyInstance, keys: string[]): Promise<number[]> {
  const seen: number[] = [];
  for (const key of keys) seen.push((await asKey(app, key)).statusCode);
  return seen;
}

describe('request rates', () => {
  it('hold each key to its rate with 429 rate-limited and Retry-After, other keys unaffected', async () => {
    const app = await api({ rateLimits: { perKey: 3 } });
    const [one, other] = [await keyOf('agent'), await keyOf('agent')];
    expect(await statuses(app, [one, one, one, one])).toEqual([200, 200, 200, 429]);
    const refused = await asKey(app, one);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.headers['x-request-id']).toBeTruthy();
    expect(refused.json()).toMatchObject({ type: 'https://casebook.dev/problems/rate-limited', status: 429, detail: expect.stringContaining('this key') });
    expect(await statuses(app, [other])).toEqual([200]);
  });

  it('give a role its own per-key rate', async () => {
    const app = await api({ rateLimits: { perKey: 100, perKeyOfRole: { warehouse: 2 } } });
    const [warehouse, agent] = [await keyOf('warehouse'), await keyOf('agent')];
    expect(await statuses(app, [warehouse, warehouse, warehouse])).toEqual([200, 200, 429]);
    expect(await statuses(app, [agent, agent, agent, agent])).toEqual([200, 200, 200, 200]);
  });

  it('bound all the keys of a role together, without charging a key for a request its role refused', async () => {
    const app = await api({ rateLimits: { perKey: 3, perRole: { auditor: 3 } } });
    const [a, b, admin] = [await keyOf('auditor'), await keyOf('auditor'), await keyOf('admin')];
    expect(await statuses(app, [a, b, a, b, b])).toEqual([200, 200, 200, 429, 429]);
    const refused = await asKey(app, a);
    expect(refused.json().detail).toContain('the keys of role auditor together');
    expect(await statuses(app, [admin, admin, admin])).toEqual([200, 200, 200]);
  });

  it('count requests without a key per address', async () => {
    const app = await api({ rateLimits: { perKey: 2 } });
    const health = (remoteAddress: string) => app.inject({ method: 'GET', url: '/healthz', remoteAddress }).then((r) => r.statusCode);
    expect([await health('10.0.0.1'), await health('10.0.0.1'), await health('10.0.0.1')]).toEqual([200, 200, 429]);
    expect(await health('10.0.0.2')).toBe(200);
  });

  it('refill as time passes: a refused key is served again once its Retry-After is over', async () => {
    // 60 a minute: a bucket of 60, then one a second.
    const app = await api({ rateLimits: { perKey: 60 } });
    const key = await keyOf('agent');
    const seen = await statuses(
      app,
      Array.from({ length: 70 }, () => key),
    );
    expect(seen.slice(0, 60).every((status) => status === 200)).toBe(true);
    expect(seen.slice(60)).toContain(429);
    await expect.poll(async () => (await asKey(app, key)).statusCode, { timeout: 5_000, interval: 200 }).toBe(200);
  });
});

describe('body sizes', () => {
  it('refuse a body over the configured size with 413 body-too-large, and take one under it', async () => {
    const app = await api({ maxBodyBytes: 2_000 });
    const key = await keyOf('ops-lead');
    const validate = (bytes: number) =>
      app.inject({
        method: 'POST',
        url: '/v1/playbooks/validate',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/yaml' },
        payload: `# ${'x'.repeat(bytes - 3)}\n`,
      });
    const over = await validate(2_001);
    expect(over.statusCode).toBe(413);
    expect(over.json()).toMatchObject({ type: 'https://casebook.dev/problems/body-too-large', detail: 'the body is larger than 2000 bytes' });
    expect((await validate(1_900)).statusCode).toBe(200);
  });
});

describe('limits from the environment', () => {
  it('are today’s values unless given', () => {
    expect(loadConfig({}).limits).toEqual({
      rates: DEFAULT_RATE_LIMITS,
      maxBodyBytes: MAX_BODY_BYTES,
      authFailuresPerMinute: DEFAULT_AUTH_FAILURES_PER_MINUTE,
    });
    expect([DEFAULT_RATE_LIMITS.perKey, MAX_BODY_BYTES, DEFAULT_AUTH_FAILURES_PER_MINUTE]).toEqual([1_200, 1_048_576, 20]);
  });

  it('are read from their variables, a role’s named in capitals with underscores', () => {
    const limits = loadConfig({
      CASEBOOK_RATE_LIMIT_PER_MINUTE: '600',
      CASEBOOK_RATE_LIMIT_PER_MINUTE_WAREHOUSE: '6000',
      CASEBOOK_RATE_LIMIT_PER_MINUTE_OPS_LEAD: '60',
      CASEBOOK_ROLE_RATE_LIMIT_PER_MINUTE_AGENT: '3000',
      CASEBOOK_MAX_BODY_BYTES: '4194304',
      CASEBOOK_AUTH_FAILURES_PER_MINUTE: '5',
    }).limits;
    expect(limits).toEqual({
      rates: { perKey: 600, perKeyOfRole: { warehouse: 6_000, 'ops-lead': 60 }, perRole: { agent: 3_000 } },
      maxBodyBytes: 4_194_304,
      authFailuresPerMinute: 5,
    });
  });

  it('refuse what is not a positive whole number, naming the variable', () => {
    expect(() => loadConfig({ CASEBOOK_RATE_LIMIT_PER_MINUTE: '0' })).toThrow(
      "CASEBOOK_RATE_LIMIT_PER_MINUTE must be a whole number from 1 to 1000000, not '0'",
    );
    expect(() => loadConfig({ CASEBOOK_ROLE_RATE_LIMIT_PER_MINUTE_ADMIN: 'lots' })).toThrow(/^CASEBOOK_ROLE_RATE_LIMIT_PER_MINUTE_ADMIN must be/);
    expect(() => loadConfig({ CASEBOOK_MAX_BODY_BYTES: '1.5' })).toThrow(/^CASEBOOK_MAX_BODY_BYTES must be a whole number from 1 to 1073741824/);
  });
});
