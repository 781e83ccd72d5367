/** A published version's plan as a graph (the nodes and edges the CLI's diagram draws), its warnings, and who published it. */
import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import type { CaseAudit } from '../../src/cases/audit.js';
import type { EventInbox } from '../../src/cases/inbox.js';
import type { CaseService } from '../../src/cases/service.js';
import { mermaidDiagram, planGraph, type GraphEdge } from '../../src/playbook/diagram.js';
import { validatePlaybook } from '../../src/playbook/index.js';
import { createApiKey, type Role } from '../../src/store/api-keys.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitForEverYaml } from '../support/small-playbooks.js';

const RETURN_YAML = readFileSync(fileURLToPath(new URL('../../playbooks/return.yaml', import.meta.url)), 'utf8');
const WAIT_FOR_EVER_YAML = waitForEverYaml('UTC');

let db: TestDatabase;
let api: FastifyInstance;
const keys = {} as Record<Role, string>;
const keyIds = {} as Record<Role, string>;

beforeAll(async () => {
  db = await createTestDatabase();
  // Reading playbooks never reaches Temporal, so no case service is needed.
  api = await buildApi({ pool: db.pool, cases: {} as CaseService, inbox: {} as EventInbox, audit: {} as CaseAudit, temporalReady: async () => true });
  for (const role of ['ops-lead', 'agent', 'warehouse', 'auditor', 'admin'] as const) {
    const { key, apiKey } = await createApiKey(db.pool, role, `${role} key`);
    keys[role] = key;
    keyIds[role] = apiKey.id;
  }
  for (const [name, yaml] of [
    ['return', RETURN_YAML],
    ['parcel-watch', WAIT_FOR_EVER_YAML],
  ]) {
    const published = await api.inject({
      method: 'PUT',
      url: `/v1/playbooks/${name}`,
      payload: yaml,
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${keys['ops-lead']}` },
    });
    expect(published.statusCode).toBe(201);
  }
});
afterAll(async () => {
  await api?.close();
  await db?.drop();
});

const get = (url: string, role: Role = 'auditor') => api.inject({ method: 'GET', url, headers: { authorization: `Bearer ${keys[role]}` } });

describe('GET /v1/playbooks/{name}/versions/{version}/graph', () => {
  it("gives the return playbook's 58 steps and 82 ways out, as the Mermaid diagram draws them", async () => {
    const response = await get('/v1/playbooks/return/versions/1/graph');
    expect(response.statusCode).toBe(200);
    const graph = response.json();
    expect([graph.name, graph.version, graph.start, graph.nodes.length, graph.edges.length]).toEqual(['return', 1, 'check_window', 58, 82]);
    expect(graph.nodes.find((node: { id: string }) => node.id === 'wait_receipt')).toEqual({
      id: 'wait_receipt',
      kind: 'wait',
      shape: 'wait',
      label: 'wait warehouse.received',
      line: 238,
    });
    expect(graph.nodes.find((node: { id: string }) => node.id === 'end_refunded')).toMatchObject({
      kind: 'end',
      shape: 'end',
      label: 'end: resolved (refunded)',
    });
    expect(graph.edges.filter((edge: { from: string }) => edge.from === 'wait_receipt')).toEqual([
      { from: 'wait_receipt', to: 'compute_refund', label: 'warehouse.received' },
      { from: 'wait_receipt', to: 'escalate_missing_parcel', label: 'timeout 10d' },
    ]);
    expect(graph.edges.find((edge: { from: string }) => edge.from === 'refuse_window')).toEqual({ from: 'refuse_window', to: 'end_refused', label: null });

    const plan = validatePlaybook(RETURN_YAML, 'return.yaml').plan!.plan;
    // The stored plan (jsonb) keeps no order among a task's outcomes: the same edges, maybe in another order.
    const fresh = planGraph(plan);
    const byEnds = (a: GraphEdge, b: GraphEdge) => `${a.from} ${a.to} ${a.label}`.localeCompare(`${b.from} ${b.to} ${b.label}`);
    expect([graph.start, graph.nodes, [...graph.edges].sort(byEnds)]).toEqual([fresh.start, fresh.nodes, [...fresh.edges].sort(byEnds)]);
    const diagram = mermaidDiagram(plan).trimEnd().split('\n');
    expect(diagram.filter((line) => / s_\w+ -->/.test(line))).toHaveLength(82);
    // Each loop's body is a box of its own: two lines more for each of the two loops.
    expect(diagram).toHaveLength(1 + 58 + 82 + 2 * 2);
    expect(diagram).toContain('  s_wait_receipt[/"wait_receipt<br/>wait warehouse.received"/]');
    expect(diagram).toContain('  s_wait_receipt -->|"timeout 10d"| s_escalate_missing_parcel');
  });

  it('is read by the roles that read playbooks, and refuses an unknown or malformed version', async () => {
    const statuses = await Promise.all(
      (['ops-lead', 'agent', 'warehouse', 'auditor', 'admin'] as const).map(
        async (role) => (await get('/v1/playbooks/return/versions/1/graph', role)).statusCode,
      ),
    );
    expect(statuses).toEqual([200, 200, 403, 200, 200]);
    const missing = await get('/v1/playbooks/return/versions/7/graph');
    expect([missing.statusCode, missing.json().type, missing.json().detail]).toEqual([
      404,
      'https://casebook.dev/problems/unknown-playbook-version',
      'playbook return has no version 7',
    ]);
    const unknown = await get('/v1/playbooks/refund/versions/1/graph');
    expect([unknown.statusCode, unknown.json().type]).toEqual([404, 'https://casebook.dev/problems/unknown-playbook-version']);
    const malformed = await get('/v1/playbooks/return/versions/first/graph');
    expect([malformed.statusCode, malformed.json().type, malformed.json().errors[0].pointer]).toEqual([
      400,
      'https://casebook.dev/problems/invalid-request',
      '/version',
    ]);
  });
});

describe('the reads an ops lead checks a playbook by', () => {
  it('lists who published each version, and a version with the warnings its YAML has', async () => {
    const by = `ops-lead key (key ${keyIds['ops-lead']})`;
    const list = await get('/v1/playbooks');
    expect(list.json().playbooks.map((p: { name: string; version: number; publishedBy: string }) => [p.name, p.version, p.publishedBy])).toEqual([
      ['parcel-watch', 1, by],
      ['return', 1, by],
    ]);
    const versions = await get('/v1/playbooks/parcel-watch');
    expect(versions.json().versions).toEqual([
      { name: 'parcel-watch', version: 1, hash: expect.stringMatching(/^[0-9a-f]{64}$/), publishedAt: expect.any(String), publishedBy: by },
    ]);
    const version = await get('/v1/playbooks/parcel-watch/versions/1');
    expect(version.json().diagnostics).toEqual([
      {
        severity: 'warning',
        code: 'PB123',
        message: "step 'wait_receipt' waits without a timeout: a case can stay open for ever",
        line: 11,
        column: 5,
        endLine: 11,
        endColumn: 9,
        hint: 'add timeout and on_timeout',
      },
    ]);
    expect((await get('/v1/playbooks/return/versions/1')).json().diagnostics).toEqual([]);
  });

  it.each([
    ['/v1/playbooks', '/v1/playbooks'],
    ['/v1/playbooks/{name}', '/v1/playbooks/return'],
    ['/v1/playbooks/{name}/versions/{version}', '/v1/playbooks/parcel-watch/versions/1'],
    ['/v1/playbooks/{name}/versions/{version}/graph', '/v1/playbooks/return/versions/1/graph'],
  ])('GET %s (%s) matches its declared schema', async (path, url) => {
    const spec = (await api.inject({ method: 'GET', url: '/docs/json' })).json();
    const validate = new Ajv({ strict: false, allErrors: true }).compile(spec.paths[path].get.responses['200'].content['application/json'].schema);
    validate((await get(url)).json());
    expect(validate.errors ?? []).toEqual([]);
  });
});
