/** Who published a playbook version is recorded: the API key's name and id. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import type { EventInbox } from '../../src/cases/inbox.js';
import type { CaseAudit } from '../../src/cases/audit.js';
import type { CaseService } from '../../src/cases/service.js';
import { createApiKey } from '../../src/store/api-keys.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

it('PUT /v1/playbooks/{name} records the publishing key in playbook_versions.published_by', async () => {
  // Publishing never reaches Temporal, so no case service is needed.
  const api = await buildApi({ pool: db.pool, cases: {} as CaseService, inbox: {} as EventInbox, audit: {} as CaseAudit, temporalReady: async () => true });
  try {
    const { key, apiKey } = await createApiKey(db.pool, 'ops-lead', 'Mei, ops lead');
    const yaml = readFileSync(fileURLToPath(new URL('../../playbooks/return.yaml', import.meta.url)), 'utf8');
    const published = await api.inject({
      method: 'PUT',
      url: '/v1/playbooks/return',
      payload: yaml,
      headers: { 'content-type': 'application/yaml', authorization: `Bearer ${key}` },
    });
    expect(published.statusCode).toBe(201);
    const { rows } = await db.pool.query(`SELECT published_by FROM playbook_versions WHERE name = 'return'`);
    expect(rows).toEqual([{ published_by: `Mei, ops lead (key ${apiKey.id})` }]);
  } finally {
    await api.close();
  }
});
