/**
 * Leases on real Postgres advisory locks: one holder at a time across processes (here, two lease
 * connections); freed when the holder's connection closes; a singleton held by one moves to the other,
 * and a holder whose connection is cut stops what it ran and competes for the lease again. API
 * processes starting at the same moment on a new database make one first admin key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Leases } from '../../src/cases/leases.js';
import { composeLeases } from '../../src/stack/compose.js';
import { createFirstAdminKey } from '../../src/store/api-keys.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
const opened: Leases[] = [];
const leases = () => {
  const made = composeLeases(db.url);
  opened.push(made);
  return made;
};

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const made of opened) await made.close();
  await db?.drop();
});

/** A singleton held through `hold`, recording its states and whether what it runs is running. */
function singleton(on: Leases, name: string) {
  const record = { states: [] as string[], running: false, starts: 0 };
  const stop = on.hold(
    name,
    () => {
      record.running = true;
      record.starts += 1;
      return async () => {
        record.running = false;
      };
    },
    200,
    (state) => record.states.push(state),
  );
  return { record, stop };
}

describe('leases', () => {
  it('are held by one connection at a time, not twice by the same process, and free once released or closed', async () => {
    const [a, b] = [leases(), leases()];
    const claim = await a.claim('job:1');
    expect(claim).toBeDefined();
    expect(await b.claim('job:1')).toBeUndefined();
    expect(await a.claim('job:1')).toBeUndefined();
    await claim!.release();
    const taken = await b.claim('job:1');
    expect(taken).toBeDefined();
    expect(await a.claim('job:2')).toBeDefined();
    await b.close();
    expect(taken!.signal.aborted).toBe(true);
    expect(await a.claim('job:1')).toBeDefined();
  });

  it('move a singleton to the other process when its holder closes, and take it again after a cut connection', async () => {
    const [a, b] = [leases(), leases()];
    const first = singleton(a, 'housekeeping');
    await expect.poll(() => first.record.running).toBe(true);
    const second = singleton(b, 'housekeeping');
    await expect.poll(() => second.record.states).toEqual(['elsewhere']);
    expect(second.record.running).toBe(false);

    await a.close();
    await first.stop();
    expect(first.record.running).toBe(false);
    await expect.poll(() => second.record.running, { timeout: 5_000 }).toBe(true);
    expect(second.record.states).toEqual(['elsewhere', 'held']);

    // Postgres ends the holder's session (a restart, a failover): what it ran stops, and the lease is taken again.
    const { rows } = await db.pool.query<{ ended: boolean }>(
      "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = 'casebook-leases' AND datname = current_database()",
    );
    expect(rows.length).toBeGreaterThan(0);
    await expect.poll(() => second.record.states, { timeout: 5_000 }).toContain('lost');
    await expect.poll(() => second.record.starts, { timeout: 5_000 }).toBe(2);
    expect(second.record.running).toBe(true);
    await second.stop();
    expect(second.record.running).toBe(false);
    // Stopped, the lease is free for anyone.
    expect(await leases().claim('housekeeping')).toBeDefined();
  });
});

describe('a singleton', () => {
  it('whose start fails frees its lease and tries again; trying for long leaves no listener behind', async () => {
    const warnings: string[] = [];
    const warned = (warning: Error) => warnings.push(warning.message);
    process.on('warning', warned);
    try {
      const [a, b] = [leases(), leases()];
      const held = singleton(a, 'busy');
      await expect.poll(() => held.record.running).toBe(true);
      const states: string[] = [];
      let tries = 0;
      const stop = b.hold(
        'failing',
        () => {
          tries += 1;
          if (tries === 1) throw new Error('no key file');
          return async () => {};
        },
        10,
        (state, error) => states.push(error ? `${state}: ${error.message}` : state),
      );
      await expect.poll(() => states).toEqual(['failed: no key file', 'held']);
      const waiting = b.hold(
        'busy',
        () => async () => {},
        10,
        () => {},
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      await waiting();
      await stop();
      await held.stop();
      expect(warnings.filter((message) => /listener/i.test(message))).toEqual([]);
    } finally {
      process.off('warning', warned);
    }
  });
});

describe('API processes starting together', () => {
  it('make the first admin key once', async () => {
    const made = await Promise.all([1, 2, 3, 4].map(() => createFirstAdminKey(db.pool, 'first admin key')));
    expect(made.filter((key) => key !== undefined)).toHaveLength(1);
    expect(await createFirstAdminKey(db.pool, 'again')).toBeUndefined();
  });
});
