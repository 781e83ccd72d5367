/**
 * API and workers apart, as a team scales them: `casebook start --api` and `--worker` as separate
 * processes on one Temporal (a dev server of the test's own) and one Postgres. A worker alone serves no
 * HTTP; an API alone runs no case, which waits for a worker and then completes. The housekeeping runs
 * in one API process at a time, and moves to another when its holder is killed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/stack/free-port.js';
import { startTemporalDevServer, type DevServerHandle } from '../../src/stack/temporal-dev-server.js';
import { createApiKey } from '../../src/store/api-keys.js';
import { archivedRuns } from '../../src/store/case-archive.js';
import { findCase } from '../../src/store/cases.js';
import { publishPlaybook } from '../../src/store/playbooks.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { devServerOptions } from '../support/dev-server.js';
import { compileSmallPlaybook } from '../support/small-playbooks.js';
import { startCasebook, type Casebook } from './casebook-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'casebook-split-'));
let server: DevServerHandle;
let db: TestDatabase;
let adminKey: string;
const running: Casebook[] = [];

const DONE_AT_ONCE = compileSmallPlaybook('done-at-once', `steps:\n  - id: done\n    end: { outcome: resolved, reason: done }\n`);

beforeAll(async () => {
  [server, db] = await Promise.all([startTemporalDevServer(await devServerOptions(join(dataDir, 'temporal'))), createTestDatabase()]);
  ({ key: adminKey } = await createApiKey(db.pool, 'admin', 'split test'));
  await publishPlaybook(db.pool, '', DONE_AT_ONCE, 'test');
}, 90_000);

/** Every process a test started is stopped at its end, at once. */
afterEach(async () => {
  for (const casebook of running.splice(0)) {
    if (casebook.child.exitCode === null && casebook.child.signalCode === null) {
      casebook.child.kill('SIGKILL');
      await casebook.exited;
    }
  }
});

afterAll(async () => {
  await server?.stop();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** `casebook start` with `args` on the shared servers, its API (if any) on `port`. */
async function start(args: string[], port: number, more: NodeJS.ProcessEnv = {}): Promise<Casebook> {
  const casebook = await startCasebook(
    {
      TEMPORAL_ADDRESS: server.address,
      DATABASE_URL: db.url,
      DATABASE_OWNER_URL: db.ownerUrl,
      CASEBOOK_DATA_DIR: join(dataDir, 'casebook'),
      PORT: String(port),
      ...more,
    },
    args,
  );
  running.push(casebook);
  return casebook;
}

async function openCase(api: string, caseId: string): Promise<number> {
  const response = await fetch(`${api}/v1/cases`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
    body: JSON.stringify({ playbook: 'done-at-once', caseId, data: { paid: { amount: 1_000, currency: 'CNY' }, order_id: caseId } }),
  });
  return response.status;
}

const statusOf = async (caseId: string) => (await findCase(db.pool, caseId))?.status;

describe('casebook start --api and --worker', () => {
  it('an API alone runs no case until a worker process starts; a worker alone serves no HTTP', async () => {
    const apiPort = await freePort();
    const api = await start(['--api'], apiPort);
    expect(api.output()).toContain('casebook: worker         none in this process (--api)');
    const url = `http://127.0.0.1:${apiPort}`;
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    expect(await openCase(url, 'split-1')).toBe(201);
    // No worker anywhere: the case is opened, and stays where it is.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(await statusOf('split-1')).not.toBe('closed');

    const workerPort = await freePort();
    const worker = await start(['--worker'], workerPort);
    expect(worker.output()).toContain('casebook: API            none in this process (--worker)');
    await expect.poll(() => statusOf('split-1'), { timeout: 30_000, interval: 250 }).toBe('closed');
    expect((await findCase(db.pool, 'split-1'))?.outcome).toMatchObject({ outcome: 'resolved' });
    await expect(fetch(`http://127.0.0.1:${workerPort}/readyz`)).rejects.toThrow();
  }, 150_000);

  it('runs the housekeeping in one API process; kill -9 of it moves the archiver to the other, which archives a case closed after the kill', async () => {
    const HELD = 'casebook: this process runs the housekeeping';
    const quick = { CASEBOOK_LEASE_RETRY_SECONDS: '1', CASEBOOK_ARCHIVE_INTERVAL_SECONDS: '1' };
    const [firstPort, secondPort] = [await freePort(), await freePort()];
    const first = await start(['--api'], firstPort, quick);
    await expect.poll(() => first.output(), { timeout: 10_000 }).toContain(HELD);
    const second = await start(['--api'], secondPort, quick);
    await expect.poll(() => second.output(), { timeout: 10_000 }).toContain('casebook: another process runs the housekeeping');
    await start(['--worker'], await freePort());
    // Held elsewhere, tried every second: still not taken while its holder lives.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(second.output()).not.toContain(HELD);

    first.child.kill('SIGKILL');
    await first.exited;
    expect(await openCase(`http://127.0.0.1:${secondPort}`, 'split-2')).toBe(201);
    await expect.poll(() => statusOf('split-2'), { timeout: 30_000, interval: 250 }).toBe('closed');
    await expect.poll(() => second.output(), { timeout: 15_000 }).toContain(HELD);
    await expect.poll(async () => (await archivedRuns(db.pool, 'split-2')).length, { timeout: 30_000, interval: 250 }).toBe(1);
  }, 150_000);
});
