/**
 * The embedded Postgres as root runs as the `postgres` OS user. A checkout under a directory that user
 * cannot pass through (a 0700 home directory) does not fail with `spawn .../initdb EACCES`: the start
 * says which directory blocks, why, and the commands that fix it; once the fix is applied, it starts.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { firstUnreachable, startEmbeddedPostgres } from '../../src/store/embedded-postgres.js';
import { freePort } from '../../src/stack/free-port.js';

const home = mkdtempSync(join(tmpdir(), 'casebook-home-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('a checkout under a 0700 directory', () => {
  it('names the directory the postgres user cannot pass and what to do, then starts once it may', async () => {
    chmodSync(home, 0o700);
    // A checkout's data directory, as `casebook start` lays it out: <checkout>/.data/postgres.
    const dataDir = join(home, 'casebook/.data/postgres');
    mkdirSync(join(home, 'casebook'), { recursive: true });
    const port = await freePort();
    if (process.getuid?.() === 0) {
      const refused = await startEmbeddedPostgres({ dataDir, port, persistent: false }).then(
        () => 'started',
        (error: Error) => error.message,
      );
      expect(refused).toContain(`cannot pass through ${home} (mode 0700) to reach ${dataDir}`);
      expect(refused).toContain(`chmod o+x ${home}`);
      expect(refused).toContain(`setfacl -m u:postgres:x ${home}`);
      expect(refused).toContain('run Casebook as a user other than root');
      expect(refused).not.toContain('EACCES');
      chmodSync(home, 0o701);
    }
    // Root with the directory passable, or anyone else (the server then runs as that user): it starts.
    const server = await startEmbeddedPostgres({ dataDir, port, persistent: false });
    try {
      const client = new pg.Client({ connectionString: server.adminUrl });
      await client.connect();
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await client.end();
    } finally {
      await server.stop();
    }
  }, 60_000);

  it('tells a passable path from one behind a directory without search permission for that user', () => {
    const locked = mkdtempSync(join(home, 'locked-'));
    mkdirSync(join(locked, 'node_modules/bin'), { recursive: true });
    chmodSync(home, 0o711);
    chmodSync(locked, 0o700);
    const other = { uid: 4242, gid: 4242, groups: [4242] };
    expect(firstUnreachable([join(locked, 'node_modules/bin')], other)).toEqual({ directory: locked, mode: 0o700, path: join(locked, 'node_modules/bin') });
    chmodSync(locked, 0o701);
    expect(firstUnreachable([join(locked, 'node_modules/bin'), join(locked, 'not/created/yet')], other)).toBeUndefined();
    chmodSync(locked, 0o750);
    expect(firstUnreachable([join(locked, 'node_modules/bin')], { ...other, groups: [4242, process.getgid!()] })).toBeUndefined();
  });
});
