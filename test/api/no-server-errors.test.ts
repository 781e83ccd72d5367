/**
 * Issue 21: requests that answered 500 answer 4xx with a problem and a JSON pointer (instants the
 * database cannot hold, crafted cursors, money it cannot hold, oversized bodies), and a Postgres outage
 * answers 503 with Retry-After. Real Postgres, Temporal's time-skipping server and a worker.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi, UNAVAILABLE_RETRY_AFTER_SECONDS } from '../../src/api/app.js';
import { MAX_BODY_BYTES } from '../../src/api/limits.js';
import { Client, Connection } from '@temporalio/client';
import { composeApi, composeServices } from '../../src/stack/compose.js';
import { freePort } from '../../src/stack/free-port.js';
import { MAX_MONEY_AMOUNT } from '../../src/plan/values.js';
import { createApiKey } from '../../src/store/api-keys.js';
import { ensureDatabase } from '../../src/store/databases.js';
import { encodeCursor } from '../../src/store/keyset-cursor.js';
import { migrate } from '../../src/store/migrate.js';
import { createPool, type Pool } from '../../src/store/pool.js';
import { startPostgresProcess, type PostgresProcess } from '../../src/store/postgres-process.js';
import { applicationUrl, ensureApplicationRole } from '../../src/store/postgres-roles.js';
import { returnCaseData } from '../support/playbooks.js';
import { useRuntime } from '../support/runtime.js';

const RETURN_YAML = readFileSync(fileURLToPath(new URL('../../playbooks/return.yaml', import.meta.url)), 'utf8');
const DAY = 86_400_000;
const PROBLEMS = 'https://casebook.dev/problems/';

const runtime = useRuntime();
let api: FastifyInstance;
let admin: string;

beforeAll(async () => {
  api = await buildApi({ pool: runtime.db.pool, cases: runtime.service, inbox: runtime.inbox, audit: runtime.audit, temporalReady: async () => true });
  admin = (await createApiKey(runtime.db.pool, 'admin', 'root')).key;
  const published = await get('PUT', '/v1/playbooks/return', RETURN_YAML, 'application/yaml');
  expect(published.statusCode).toBe(201);
});
afterAll(async () => {
  await api?.close();
});

function get(method: 'GET' | 'POST' | 'PUT', url: string, payload?: string, type = 'application/json'): Promise<LightMyRequestResponse> {
  return api.inject({ method, url, payload, headers: { authorization: `Bearer ${admin}`, ...(payload === undefined ? {} : { 'content-type': type }) } });
}

/** A 4xx problem of `type` whose first error points at `pointer`. */
function expectRefusal(response: LightMyRequestResponse, status: number, type: string, pointer: string) {
  expect(response.statusCode, response.body).toBe(status);
  expect(response.headers['content-type']).toContain('application/problem+json');
  expect(response.json()).toMatchObject({ type: PROBLEMS + type, status, errors: [expect.objectContaining({ pointer })] });
}

/** `ms` written as a local time at `minutes` east of UTC: `2026-11-01T23:00:00+15:00`. */
function atOffset(ms: number, minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${new Date(ms + minutes * 60_000).toISOString().slice(0, 19)}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

async function caseData(overrides: Record<string, unknown> = {}) {
  const now = await runtime.env.currentTimeMs();
  return {
    order_id: `NS-${Math.random().toString(36).slice(2, 10)}`,
    buyer_name: 'Wang',
    order_total: { amount: 10_000, currency: 'CNY' },
    outbound_shipping: { amount: 800, currency: 'CNY' },
    shipped_free: false,
    signed_at: new Date(now - DAY).toISOString(),
    reason: 'no_reason',
    shipping_insurance: false,
    ...overrides,
  };
}

describe('instants in query parameters', () => {
  const refused = [
    '2026-11-01T08:00:00+16:00',
    '2026-11-01T08:00:00-23:59',
    '0000-01-01',
    '0000-06-01T12:00:00Z',
    '2026-11-01T23:59:60Z',
    '2026-12-31T23:59:60+00:00',
  ];

  it('refuses on /v1/cases what the database cannot hold, with a pointer to the parameter', async () => {
    for (const text of refused) {
      for (const name of ['openedFrom', 'openedTo']) {
        expectRefusal(await get('GET', `/v1/cases?${name}=${encodeURIComponent(text)}`), 400, 'invalid-request', `/${name}`);
      }
    }
  });

  it('refuses on the audit export from 23:59:60 and the like, with a pointer', async () => {
    for (const text of refused) {
      expectRefusal(await get('GET', `/v1/audit/export?closedFrom=${encodeURIComponent(text)}&closedTo=2026-12-01`), 400, 'invalid-request', '/closedFrom');
      expectRefusal(await get('GET', `/v1/audit/export?closedFrom=2026-11-01&closedTo=${encodeURIComponent(text)}`), 400, 'invalid-request', '/closedTo');
    }
    const edge = await get(
      'GET',
      `/v1/audit/export?closedFrom=${encodeURIComponent('0001-01-01T00:00:00+15:59')}&closedTo=${encodeURIComponent('9999-12-31T23:59:59-15:59')}`,
    );
    expect(edge.statusCode, edge.body).toBe(200);
  });

  it('takes every offset up to ±15:59 and years 0001 to 9999, as the same instant', async () => {
    const opened = await get('POST', '/v1/cases', JSON.stringify({ playbook: 'return', caseId: 'ns-instants', data: await caseData() }));
    expect(opened.statusCode, opened.body).toBe(201);
    const openedAt = Date.parse((await get('GET', '/v1/cases?playbook=return&limit=1')).json().cases[0].openedAt);
    const ids = async (query: string) => {
      const response = await get('GET', `/v1/cases?playbook=return&${query}`);
      expect(response.statusCode, response.body).toBe(200);
      return response.json().cases.map((c: { caseId: string }) => c.caseId);
    };
    const q = (name: string, ms: number, minutes: number) => `${name}=${encodeURIComponent(atOffset(ms, minutes))}`;
    expect(await ids(`${q('openedFrom', openedAt - 60_000, 15 * 60 + 59)}&${q('openedTo', openedAt + 60_000, -(15 * 60 + 59))}`)).toEqual(['ns-instants']);
    expect(await ids(q('openedFrom', openedAt + 60_000, 15 * 60))).toEqual([]);
    expect(await ids(q('openedTo', openedAt - 60_000, -15 * 60))).toEqual([]);
    expect(await ids(`openedFrom=0001-01-01&openedTo=9999-12-31`)).toEqual(['ns-instants']);
    expect(await ids(`openedFrom=${encodeURIComponent('0001-01-01T00:00:00+15:00')}&openedTo=${encodeURIComponent('9999-12-31T23:00:00-15:00')}`)).toEqual([
      'ns-instants',
    ]);
  });
});

describe('crafted cursors', () => {
  const craft = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const badInstants = [
    '2026-13-45 25:61:61+00',
    '0000-01-01 00:00:00+00',
    '2026-11-01 08:00:00+99',
    '2026-11-01 08:00:00+16',
    '2026-11-01 23:59:60+00',
    '2026-02-30 00:00:00+00',
    'now',
  ];

  for (const [path, key] of [
    ['/v1/cases', 'case-1'],
    ['/v1/tasks', 1],
    ['/v1/escalations', 1],
  ] as const) {
    it(`${path} answers 400 invalid-cursor at /cursor for a cursor it did not issue`, async () => {
      const cursors = [
        ...badInstants.map((at) => craft([at, key])),
        craft(['2026-11-01 08:00:00+00', typeof key === 'string' ? 'a\u0000b' : 2 ** 53]),
        craft(['2026-11-01 08:00:00+00', typeof key === 'string' ? 7 : 'x']),
        craft(['2026-11-01 08:00:00+00', typeof key === 'string' ? '\uD800' : 0]),
        craft(null),
        craft(42),
        craft('text'),
        'not-base64-json',
        craft([]),
      ];
      for (const cursor of cursors) expectRefusal(await get('GET', `${path}?cursor=${cursor}`), 400, 'invalid-cursor', '/cursor');
      // A well-formed cursor of a row that does not exist is a page like any other.
      const wellFormed = await get(
        'GET',
        `${path}?cursor=${encodeCursor({ at: '2026-11-01 08:00:00.123456+00', key: typeof key === 'string' ? 'zzz' : Number.MAX_SAFE_INTEGER })}`,
      );
      expect(wellFormed.statusCode, wellFormed.body).toBe(200);
    });
  }
});

describe('money the database cannot hold', () => {
  it('refuses an order_total of 2^53 - 1 with 422 and a pointer, before any row is written; takes 2^53 - 2', async () => {
    for (const field of ['order_total', 'outbound_shipping']) {
      const data = await caseData({ [field]: { amount: Number.MAX_SAFE_INTEGER, currency: 'CNY' } });
      const response = await get('POST', '/v1/cases', JSON.stringify({ playbook: 'return', caseId: `ns-${field}`.replace('_', '-'), data }));
      expectRefusal(response, 422, 'invalid-case-data', `/data/${field}/amount`);
      expect((await get('GET', `/v1/cases/ns-${field}`.replace('_', '-'))).statusCode).toBe(404);
    }
    const most = await get(
      'POST',
      '/v1/cases',
      JSON.stringify({ playbook: 'return', caseId: 'ns-most', data: await caseData({ order_total: { amount: MAX_MONEY_AMOUNT, currency: 'CNY' } }) }),
    );
    expect(most.statusCode, most.body).toBe(201);
  });
});

describe('oversized bodies over a real connection', () => {
  let base: { host: string; port: number };
  beforeAll(async () => {
    await api.listen({ host: '127.0.0.1', port: 0 });
    base = { host: '127.0.0.1', port: (api.server.address() as AddressInfo).port };
  });

  /**
   * Sends the whole request, then reads the answer, as many clients do (Python's urllib and requests):
   * no `Expect: 100-continue`, and a write the server refuses (the connection closed or reset under
   * it) fails the request, whatever the server may have answered meanwhile.
   */
  async function send(path: string, type: string, bytes: number, chunked: boolean): Promise<{ status: number; body: string; contentType: string }> {
    const socket = connect(base.port, base.host);
    const received: Buffer[] = [];
    socket.on('data', (data: Buffer) => received.push(data));
    const ended = new Promise<void>((resolve, reject) => socket.on('end', resolve).on('error', reject));
    const write = (data: string | Buffer) => new Promise<void>((done, fail) => socket.write(data, (error) => (error ? fail(error) : done())));
    const method = path.startsWith('/v1/playbooks/') ? 'PUT' : 'POST';
    const framing = chunked ? 'transfer-encoding: chunked' : `content-length: ${bytes}`;
    await write(`${method} ${path} HTTP/1.1\r\nhost: ${base.host}\r\nauthorization: Bearer ${admin}\r\ncontent-type: ${type}\r\n${framing}\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 'a');
    for (let sent = 0; sent < bytes; sent += chunk.length) {
      const part = chunk.subarray(0, Math.min(chunk.length, bytes - sent));
      await write(chunked ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]) : part);
    }
    if (chunked) await write('0\r\n\r\n');
    await ended;
    socket.destroy();
    const [head = '', body = ''] = Buffer.concat(received).toString('utf8').split('\r\n\r\n', 2);
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), body, contentType: /^content-type: (.*)$/im.exec(head)?.[1] ?? '' };
  }

  for (const [path, type] of [
    ['/v1/playbooks/big', 'application/yaml'],
    ['/v1/cases', 'application/json'],
  ] as const) {
    for (const chunked of [false, true]) {
      it(`${path} answers 413 body-too-large to a 20 MiB body (${chunked ? 'chunked' : 'with its length'}), not a reset connection`, async () => {
        for (const bytes of [MAX_BODY_BYTES + 1, 20 * MAX_BODY_BYTES]) {
          const answer = await send(path, type, bytes, chunked);
          expect(answer.status, answer.body).toBe(413);
          expect(answer.contentType).toContain('application/problem+json');
          expect(JSON.parse(answer.body)).toMatchObject({ type: `${PROBLEMS}body-too-large`, status: 413 });
        }
      });
    }
  }
});

describe('a value Postgres refuses that no route checked', () => {
  it('is 400 invalid-request, not 500', async () => {
    // A route written without its own check of the value: the error handler still answers 4xx.
    const app = await buildApi({ pool: runtime.db.pool, cases: runtime.service, inbox: runtime.inbox, audit: runtime.audit, temporalReady: async () => true });
    app.get<{ Querystring: { n: string; at: string } }>('/unchecked', async (request) => {
      const { rows } = await runtime.db.pool.query('SELECT $1::int AS n, $2::timestamptz AS at', [request.query.n, request.query.at]);
      return rows[0];
    });
    try {
      for (const query of ['n=99999999999&at=2026-11-01', 'n=x&at=2026-11-01', 'n=1&at=2026-11-01T08:00:00%2B20:00', 'n=1&at=0000-01-01']) {
        expectRefusal(await app.inject({ method: 'GET', url: `/unchecked?${query}` }), 400, 'invalid-request', '');
      }
      expect((await app.inject({ method: 'GET', url: '/unchecked?n=1&at=2026-11-01' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});

describe('a Postgres outage', () => {
  let postgres: PostgresProcess | undefined;
  let pool: Pool | undefined;
  let dataDir: string;
  afterAll(async () => {
    await pool?.end().catch(() => {});
    await postgres?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 service-unavailable with Retry-After on every route while Postgres is down, and serves again once it is back', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'casebook-outage-'));
    const port = await freePort();
    postgres = await startPostgresProcess(join(dataDir, 'pg'), port, { persistent: true });
    await ensureApplicationRole(postgres.adminUrl);
    const ownerUrl = await ensureDatabase(postgres.adminUrl, 'outage');
    await migrate(ownerUrl);
    pool = createPool(applicationUrl(ownerUrl));
    const key = (await createApiKey(pool, 'admin', 'outage')).key;
    const client = runtime.env.client;
    const app = await composeApi({ services: composeServices({ client, pool }), pool });
    const receipt = (id: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/webhooks/warehouse',
        headers: { authorization: `Bearer ${key}` },
        payload: { receiptId: id, returnTracking: 'SF-OUTAGE', payload: {} },
      });
    try {
      expect((await receipt('before')).statusCode).toBe(202);
      await postgres.stop();
      const requests = [
        receipt('during'),
        app.inject({ method: 'GET', url: '/v1/cases', headers: { authorization: `Bearer ${key}` } }),
        app.inject({ method: 'POST', url: '/v1/cases', headers: { authorization: `Bearer ${key}` }, payload: { playbook: 'return', data: {} } }),
        app.inject({ method: 'GET', url: '/v1/tasks', headers: { authorization: `Bearer ${key}` } }),
      ];
      for (const response of await Promise.all(requests)) {
        expect(response.statusCode, response.body).toBe(503);
        expect(response.headers['retry-after']).toBe(String(UNAVAILABLE_RETRY_AFTER_SECONDS));
        expect(response.json()).toMatchObject({ type: `${PROBLEMS}service-unavailable`, status: 503 });
      }
      postgres = await startPostgresProcess(join(dataDir, 'pg'), port, { persistent: true });
      const after = await receipt('during');
      expect(after.statusCode, after.body).toBe(202);
      expect(after.json()).toMatchObject({ status: 'unrouted' });
    } finally {
      await app.close();
    }
  });

  it('answers 503 when the database was never there', async () => {
    const dead = createPool(`postgres://casebook_app:x@127.0.0.1:${await freePort()}/nothing`);
    const app = await buildApi({ pool: dead, cases: runtime.service, inbox: runtime.inbox, audit: runtime.audit, temporalReady: async () => true });
    try {
      const response = await app.inject({ method: 'GET', url: '/v1/escalations', headers: { authorization: `Bearer ${admin}` } });
      expect(response.statusCode, response.body).toBe(503);
      expect(response.headers['retry-after']).toBe(String(UNAVAILABLE_RETRY_AFTER_SECONDS));
    } finally {
      await app.close();
      await dead.end();
    }
  });
});

describe('a Temporal outage', () => {
  it('answers 503 service-unavailable with Retry-After; the case opens once Temporal is back', async () => {
    const connection = await Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
    const dead = new Client({ connection });
    const services = composeServices({ client: dead, pool: runtime.db.pool });
    const app = await buildApi({
      pool: runtime.db.pool,
      cases: services.cases,
      inbox: services.inbox,
      audit: runtime.audit,
      temporalReady: async () => false,
    });
    const body = {
      playbook: 'return',
      caseId: 'temporal-outage-1',
      data: returnCaseData('TB-OUTAGE', (await runtime.env.currentTimeMs()) - DAY, { shipped_free: true }),
    };
    try {
      const during = await app.inject({ method: 'POST', url: '/v1/cases', headers: { authorization: `Bearer ${admin}` }, payload: body });
      expect(during.statusCode, during.body).toBe(503);
      expect(during.headers['retry-after']).toBe(String(UNAVAILABLE_RETRY_AFTER_SECONDS));
      expect(during.json()).toMatchObject({ type: `${PROBLEMS}service-unavailable`, detail: expect.stringMatching(/^Temporal cannot be reached/) });
      const after = await api.inject({ method: 'POST', url: '/v1/cases', headers: { authorization: `Bearer ${admin}` }, payload: body });
      expect(after.statusCode, after.body).toBe(200);
      expect(after.json()).toMatchObject({ caseId: 'temporal-outage-1' });
    } finally {
      await app.close();
      await connection.close();
    }
  }, 60_000);
});
