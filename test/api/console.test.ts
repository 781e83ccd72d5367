/** The console's server side: its assets at /console, GET /v1/me, the case search's filters and a case's activity. */
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/api/app.js';
import type { CaseAudit } from '../../src/cases/audit.js';
import type { EventInbox } from '../../src/cases/inbox.js';
import type { CaseService } from '../../src/cases/service.js';
import { loadConfig } from '../../src/stack/config.js';
import { createApiKey, ROLES, type Role } from '../../src/store/api-keys.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let api: FastifyInstance;
let bare: FastifyInstance;
const keys = {} as Record<Role, { key: string; id: string }>;
const settings = { timeZone: 'Europe/Berlin', temporalUiUrl: 'http://127.0.0.1:8233', namespace: 'shop' };

beforeAll(async () => {
  db = await createTestDatabase();
  // Neither the console nor these reads reach Temporal.
  const deps = { pool: db.pool, cases: {} as CaseService, inbox: {} as EventInbox, audit: {} as CaseAudit, temporalReady: async () => true };
  api = await buildApi({ ...deps, console: settings });
  bare = await buildApi(deps);
  for (const role of ROLES) {
    const { key, apiKey } = await createApiKey(db.pool, role, `${role} person`);
    keys[role] = { key, id: apiKey.id };
  }
  await db.pool.query(`INSERT INTO playbook_versions (name, version, hash, source_yaml, plan) VALUES ('exchange', 1, 'h', '', '{}')`);
  await db.pool.query(
    `INSERT INTO cases (case_id, workflow_id, playbook, version, plan_hash, case_type, order_id, data, status, outcome, reason, opened_at) VALUES
       ('a1', 'case-a1', 'exchange', 1, 'h', 'exchange', 'TB-A1', '{}', 'closed', 'resolved', 'exchanged', '2026-11-20T02:00:00Z'),
       ('a2', 'case-a2', 'exchange', 1, 'h', 'exchange', 'TB-A2', '{}', 'waiting', NULL, NULL, '2026-11-21T02:00:00Z')`,
  );
  await db.pool.query(
    `INSERT INTO tasks (idempotency_key, case_id, step_id, role, title, outcomes, due_at, status, outcome, created_at, completed_at) VALUES
       ('a1/decide_damaged/1', 'a1', 'decide_damaged', 'after-sale-agent', 'Damaged exchange: decide', '["replace", "refund"]',
        '2026-11-20T10:00:00Z', 'done', 'replace', '2026-11-20T02:00:00Z', '2026-11-20T03:30:00Z'),
       ('a1/decide_damaged/2', 'a1', 'decide_damaged', 'after-sale-agent', 'Damaged exchange: decide', '["replace", "refund"]',
        '2026-11-20T12:00:00Z', 'breached', NULL, '2026-11-20T04:00:00Z', '2026-11-20T12:00:00Z')`,
  );
  await db.pool.query(
    `INSERT INTO order_notes (idempotency_key, case_id, order_id, remark, flag, created_at) VALUES
       ('a1/approve/1', 'a1', 'TB-A1', 'Lei · exchange approved', 'purple', '2026-11-20T02:00:01Z')`,
  );
  await db.pool.query(
    `INSERT INTO webhook_attempts (destination, webhook_id, case_id, step_id, type, attempt, started_at, latency_ms, http_status, error_kind, response_excerpt, outcome) VALUES
       ('shop', 'a1/approve/1', 'a1', NULL, 'order.note', 1, '2026-11-20T02:00:01Z', 10000, NULL, 'timeout', NULL, 'failed'),
       ('shop', 'a1/approve/1', 'a1', NULL, 'order.note', 2, '2026-11-20T02:00:16Z', 42, 204, NULL, NULL, 'delivered')`,
  );
});
afterAll(async () => {
  await api?.close();
  await bare?.close();
  await db?.drop();
});

const get = (url: string, role?: Role, headers: Record<string, string> = {}) =>
  api.inject({ method: 'GET', url, headers: { ...headers, ...(role ? { authorization: `Bearer ${keys[role].key}` } : {}) } });

describe('/console', () => {
  it('serves the page, its script and its style sheet, each with a validator', async () => {
    const page = await get('/console');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.body).toContain('<script type="module" src="/console/app.js"></script>');
    expect(page.body).toContain('<link rel="stylesheet" href="/console/app.css">');

    const script = await get('/console/app.js');
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.body).toContain('/v1/me');
    // Bundled: no import is left for the browser to resolve (no CDN, no node_modules path).
    expect(script.body).not.toMatch(/\bimport\s*[{*\w][^;]*from\s*["']|\bimport\(["']/);

    const style = await get('/console/app.css');
    expect(style.statusCode).toBe(200);
    expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('names its icon, so no page asks for a /favicon.ico that is not there; everything it links answers', async () => {
    const page = await get('/console');
    const icon = /<link rel="icon" type="image\/svg\+xml" href="([^"]+)">/.exec(page.body)?.[1];
    // Inline (the content security policy allows data: images): no request, no 404.
    expect(icon).toMatch(/^data:image\/svg\+xml,%3Csvg /);
    expect(decodeURIComponent(icon!.slice('data:image/svg+xml,'.length))).toMatch(/^<svg xmlns='http:\/\/www\.w3\.org\/2000\/svg'[\s\S]*<\/svg>$/);
    expect(page.headers['content-security-policy']).toContain("img-src 'self' data:");
    const linked = [...page.body.matchAll(/(?:href|src)="(\/[^"]*)"/g)].map((m) => m[1]!);
    expect(linked).toEqual(['/console/app.css', '/console/app.js']);
    for (const url of linked) expect([url, (await get(url)).statusCode]).toEqual([url, 200]);
  });

  it('sends the gzipped asset to a client that accepts it, under its own validator', async () => {
    const plain = await get('/console/app.js');
    const gzipped = await get('/console/app.js', undefined, { 'accept-encoding': 'gzip, deflate, br' });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers.vary).toBe('accept-encoding');
    expect(gunzipSync(gzipped.rawPayload).toString()).toBe(plain.body);
    expect(gzipped.headers.etag).toBe(`${String(plain.headers.etag).slice(0, -1)}-gzip"`);
    // The budget docs/console.md states: the whole console's JavaScript, gzipped, as a browser fetches it.
    expect(gzipped.rawPayload.length).toBeLessThan(80_000);
  });

  it('answers 304 to a request that has the current version', async () => {
    const first = await get('/console/app.js');
    const again = await get('/console/app.js', undefined, { 'if-none-match': String(first.headers.etag) });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect((await get('/console/app.js', undefined, { 'if-none-match': '"stale"' })).statusCode).toBe(200);
  });

  it('answers an unknown file with a 404 problem', async () => {
    for (const url of ['/console/nothing.js', '/console/index.html']) {
      const missing = await get(url);
      expect(missing.statusCode).toBe(404);
      expect(missing.headers['content-type']).toBe('application/problem+json; charset=utf-8');
      expect(missing.json()).toMatchObject({ type: 'https://casebook.dev/problems/not-found', status: 404, detail: `the console has no file ${url.slice(9)}` });
    }
    const outside = await get('/console/..%2Fmain.tsx');
    expect(outside.statusCode).toBe(400);
    expect(outside.json()).toMatchObject({ type: 'https://casebook.dev/problems/invalid-request', errors: [{ pointer: '/asset' }] });
  });
});

describe('GET /v1/me', () => {
  it.each(ROLES)('%s: the key, its role and the console settings', async (role) => {
    const me = await get('/v1/me', role);
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual({ keyId: keys[role].id, name: `${role} person`, role, settings });
  });

  it('without settings: Shanghai time, no Temporal Web UI, the default namespace', async () => {
    const me = await bare.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${keys.agent.key}` } });
    expect(me.json().settings).toEqual({ timeZone: 'Asia/Shanghai', temporalUiUrl: null, namespace: 'default' });
  });

  it('refuses a missing or unknown key', async () => {
    expect((await get('/v1/me')).statusCode).toBe(401);
    expect((await get('/v1/me', undefined, { authorization: 'Bearer cb_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })).json().type).toBe(
      'https://casebook.dev/problems/unauthorized',
    );
  });

  it('takes its settings from CASEBOOK_SHOP_TIME_ZONE and CASEBOOK_TEMPORAL_UI_URL', () => {
    expect(loadConfig({})).toMatchObject({ shopTimeZone: 'Asia/Shanghai' });
    expect(loadConfig({}).temporalUiUrl).toBeUndefined();
    expect(loadConfig({ CASEBOOK_SHOP_TIME_ZONE: 'Europe/Berlin', CASEBOOK_TEMPORAL_UI_URL: 'https://temporal.example.com/' })).toMatchObject({
      shopTimeZone: 'Europe/Berlin',
      temporalUiUrl: 'https://temporal.example.com',
    });
    expect(() => loadConfig({ CASEBOOK_SHOP_TIME_ZONE: 'Mars/Olympus' })).toThrow(
      "CASEBOOK_SHOP_TIME_ZONE must be an IANA time zone such as Asia/Shanghai, not 'Mars/Olympus'",
    );
    expect(() => loadConfig({ CASEBOOK_TEMPORAL_UI_URL: 'temporal:8233' })).toThrow("CASEBOOK_TEMPORAL_UI_URL must be an http(s) URL, not 'temporal:8233'");
  });
});

describe('GET /v1/cases: the console’s filters', () => {
  const ids = async (query: string) => (await get(`/v1/cases?playbook=exchange&${query}`, 'auditor')).json().cases.map((c: { caseId: string }) => c.caseId);

  it('filters by outcome, reason, opening dates and breach', async () => {
    expect(await ids('outcome=resolved')).toEqual(['a1']);
    expect(await ids('reason=exchanged')).toEqual(['a1']);
    expect(await ids('openedFrom=2026-11-21')).toEqual(['a2']);
    expect(await ids('openedFrom=2026-11-19T16:00:00Z&openedTo=2026-11-20T16:00:00Z')).toEqual(['a1']);
    expect(await ids('breached=true')).toEqual(['a1']);
    expect(await ids('breached=false')).toEqual(['a2']);
  });

  it('refuses a filter it cannot read, with a pointer to it', async () => {
    for (const [query, pointer] of [
      ['breached=yes', '/breached'],
      ['openedFrom=yesterday', '/openedFrom'],
      ['outcome=%20x', '/outcome'],
    ] as const) {
      const refused = await get(`/v1/cases?${query}`, 'agent');
      expect(refused.statusCode).toBe(400);
      expect(refused.json().type).toBe('https://casebook.dev/problems/invalid-request');
      expect(refused.json().errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    }
  });
});

describe('GET /v1/cases/{caseId}/activity', () => {
  it("a case's tasks, remarks and webhook deliveries, oldest first", async () => {
    const activity = await get('/v1/cases/a1/activity', 'ops-lead');
    expect(activity.statusCode).toBe(200);
    expect(activity.json()).toEqual({
      tasks: [
        {
          stepId: 'decide_damaged',
          role: 'after-sale-agent',
          title: 'Damaged exchange: decide',
          outcomes: ['replace', 'refund'],
          dueAt: '2026-11-20T10:00:00.000Z',
          status: 'done',
          outcome: 'replace',
          createdAt: '2026-11-20T02:00:00.000Z',
          completedAt: '2026-11-20T03:30:00.000Z',
        },
        {
          stepId: 'decide_damaged',
          role: 'after-sale-agent',
          title: 'Damaged exchange: decide',
          outcomes: ['replace', 'refund'],
          dueAt: '2026-11-20T12:00:00.000Z',
          status: 'breached',
          outcome: null,
          createdAt: '2026-11-20T04:00:00.000Z',
          completedAt: '2026-11-20T12:00:00.000Z',
        },
      ],
      remarks: [{ stepId: 'approve', orderId: 'TB-A1', remark: 'Lei · exchange approved', flag: 'purple', at: '2026-11-20T02:00:01.000Z' }],
      deliveries: [
        {
          type: 'order.note',
          webhookId: 'a1/approve/1',
          stepId: null,
          destination: 'shop',
          attempt: 1,
          startedAt: '2026-11-20T02:00:01.000Z',
          latencyMs: 10_000,
          httpStatus: null,
          errorKind: 'timeout',
          outcome: 'failed',
          responseExcerpt: null,
          requestedBy: null,
        },
        {
          type: 'order.note',
          webhookId: 'a1/approve/1',
          stepId: null,
          destination: 'shop',
          attempt: 2,
          startedAt: '2026-11-20T02:00:16.000Z',
          latencyMs: 42,
          httpStatus: 204,
          errorKind: null,
          outcome: 'delivered',
          responseExcerpt: null,
          requestedBy: null,
        },
      ],
    });
    expect((await get('/v1/cases/a2/activity', 'agent')).json()).toEqual({ tasks: [], remarks: [], deliveries: [] });
  });

  it('404 for no such case; the warehouse may not read it', async () => {
    const missing = await get('/v1/cases/nope/activity', 'auditor');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().type).toBe('https://casebook.dev/problems/unknown-case');
    expect((await get('/v1/cases/a1/activity', 'warehouse')).statusCode).toBe(403);
  });
});
