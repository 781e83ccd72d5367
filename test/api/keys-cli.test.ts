/** `casebook keys` against a real database: create prints the key once, list shows it, revoke ends it. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate } from '../../src/store/api-keys.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const keys = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/casebook.js', 'keys', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DATABASE_URL: db.url } });

describe('casebook keys', () => {
  it('creates, lists and revokes keys; only a hash is stored', async () => {
    const created = keys('create', '--role', 'agent', '--name', 'Lei, after-sale');
    expect(created.status, created.stderr).toBe(0);
    const [, id] = /created key ([a-z0-9]{12}) \(agent, "Lei, after-sale"\)/.exec(created.stdout)!;
    const key = created.stdout.trim().split('\n').pop()!;
    expect(key).toMatch(new RegExp(`^cb_${id}_[A-Za-z0-9_-]{43}$`));
    expect(await authenticate(db.pool, key)).toMatchObject({ id, role: 'agent' });
    const stored = (await db.pool.query(`SELECT secret_sha256 FROM api_keys WHERE id = $1`, [id])).rows[0].secret_sha256;
    expect(key).not.toContain(stored);

    expect(keys('list').stdout).toMatch(new RegExp(`${id}  agent      active  Lei, after-sale`));
    expect(keys('revoke', id!).stdout).toBe(`revoked ${id}\n`);
    expect(await authenticate(db.pool, key)).toBeUndefined();
    expect(keys('list').stdout).toMatch(new RegExp(`${id}  agent      revoked `));
    expect(keys('revoke', id!).status).toBe(1);
  }, 60_000);

  it('refuses unknown roles with the list of roles', () => {
    const result = keys('create', '--role', 'boss');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--role must be one of ops-lead, agent, warehouse, auditor, admin');
  });
});
