/**
 * The production-shaped Temporal's schemas (src/stack/temporal-server.ts): set up by the server's own SQL
 * tool in a new database, and set up again on it at the next start without harm, as every start of
 * `npm run cluster` and every server upgrade does. A missing build is said plainly.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { setUpTemporalSchema, temporalServerMissing } from '../../src/stack/temporal-server.js';
import { databaseUrl, dropDatabase, withConnection } from '../../src/store/databases.js';

const adminUrl = inject('postgresAdminUrl');
const name = `test_${randomBytes(6).toString('hex')}_schema`;
afterAll(() => dropDatabase(adminUrl, name).catch(() => undefined));

const version = () =>
  withConnection(databaseUrl(adminUrl, name), async (db) => {
    const { rows } = await db.query<{ curr_version: string }>('SELECT curr_version FROM schema_version');
    const tables = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`);
    return { version: rows.map((row) => row.curr_version), tables: tables.rows[0]!.n };
  });

describe("the Temporal server's schemas", () => {
  it('are created and brought to the newest version, and a second set-up changes nothing', async () => {
    const missing = temporalServerMissing();
    if (missing) throw new Error(missing);
    setUpTemporalSchema(adminUrl, name, 'visibility');
    const first = await version();
    expect(first.version).toHaveLength(1);
    expect(first.version[0]).toMatch(/^1\.\d+$/);
    expect(first.tables).toBeGreaterThan(2);
    setUpTemporalSchema(adminUrl, name, 'visibility');
    expect(await version()).toEqual(first);
  }, 120_000);

  it('names the binaries and what to run when they were not built', () => {
    const saved = process.env.CASEBOOK_TEMPORAL_SERVER;
    process.env.CASEBOOK_TEMPORAL_SERVER = '/nonexistent/temporal-server';
    try {
      expect(temporalServerMissing()).toMatch(
        /^the Temporal server built from go\.temporal\.io\/server is not here \(\/nonexistent\/temporal-server\): run `bash scripts\/provision\.sh`/,
      );
    } finally {
      if (saved === undefined) delete process.env.CASEBOOK_TEMPORAL_SERVER;
      else process.env.CASEBOOK_TEMPORAL_SERVER = saved;
    }
  });
});
