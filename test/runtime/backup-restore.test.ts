/**
 * Backup and restore of Casebook's database (docs/operations.md, "Backup and restore"), on the real
 * Temporal dev server and Postgres 17: cases run, one closed and archived, two waiting; an audit
 * checkpoint is signed; the database is dumped with pg_dump while its worker runs, and the worker's
 * machine is then lost. The dump restored with pg_restore into a new database passes
 * `casebook audit verify` against the checkpoint as of the dump (a newer one names the rows written
 * after the dump as missing), and a worker and services on the restored database and the same Temporal
 * take the waiting cases to their refunds: exactly one refund per case.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { HistoryArchiver } from '../../src/cases/archive.js';
import type { EventInbox } from '../../src/cases/inbox.js';
import type { CaseService } from '../../src/cases/service.js';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import { composeServices } from '../../src/stack/compose.js';
import { startTemporalDevServer, type DevServerHandle } from '../../src/stack/temporal-dev-server.js';
import { dropDatabase, ensureDatabase } from '../../src/store/databases.js';
import { migrate } from '../../src/store/migrate.js';
import { createPool, type Pool } from '../../src/store/pool.js';
import { applicationUrl } from '../../src/store/postgres-roles.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { composeTestWorker } from '../support/runtime.js';
import { devServerOptions } from '../support/dev-server.js';
import { openCase, publishStandardPlaybook, returnCaseData } from '../support/playbooks.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** pg_dump and pg_restore of the server's major version, from scripts/provision.sh. */
const PG_BIN = process.env.CASEBOOK_POSTGRES_BIN ?? join(ROOT, '.tools/postgresql/bin');
const DAY = 86_400_000;
const TASK_QUEUE = 'backup-restore';
const RESTORED = `restored_${process.pid}`;
const dataDir = mkdtempSync(join(tmpdir(), 'casebook-backup-'));
/** The checkpoint file and its signing key, kept outside the database as a team keeps them. */
const casebookDir = join(dataDir, 'casebook');
let server: DevServerHandle;
let db: TestDatabase;
let restored: { ownerUrl: string; url: string; pool: Pool } | undefined;
let connection: Connection;
let client: Client;

beforeAll(async () => {
  [server, db] = await Promise.all([startTemporalDevServer(await devServerOptions(join(dataDir, 'temporal'))), createTestDatabase()]);
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
}, 90_000);
afterAll(async () => {
  await connection?.close();
  await server?.stop();
  await restored?.pool.end();
  await dropDatabase(inject('postgresAdminUrl'), RESTORED);
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A worker on `pool`'s database and this file's Temporal, with the services over both; stopped by `stop`. */
async function casebookOn(pool: Pool): Promise<{ cases: CaseService; inbox: EventInbox; stop(): Promise<void> }> {
  const workerConnection = await NativeConnection.connect({ address: server.address });
  const worker: Worker = await composeTestWorker({ connection: workerConnection, pool, taskQueue: TASK_QUEUE });
  const running = worker.run();
  const { cases, inbox } = composeServices({ client, pool, taskQueue: TASK_QUEUE });
  return {
    cases,
    inbox,
    async stop() {
      worker.shutdown();
      await running;
      await workerConnection.close();
    },
  };
}

const waitingFor = async (cases: CaseService, caseId: string, expected: string) =>
  expect.poll(async () => (await cases.describe(caseId))?.waitingFor ?? [], { timeout: 20_000 }).toContain(expected);

/** Opens a no-reason return and takes it to the warehouse's receipt: the exchange declined, the parcel shipped. */
async function openToReceipt({ cases, inbox }: { cases: CaseService; inbox: EventInbox }, caseId: string, playbook: { name: string; version: number }) {
  await openCase(cases, { caseId, playbook: playbook.name, version: playbook.version, data: returnCaseData(`TB-${caseId}`, Date.now() - 2 * DAY) });
  await waitingFor(cases, caseId, 'buyer.kept_return');
  await inbox.deliverEvent(caseId, { type: 'buyer.kept_return', id: `${caseId}-kept`, payload: {} });
  await waitingFor(cases, caseId, 'buyer.shipped');
  await inbox.deliverEvent(caseId, { type: 'buyer.shipped', id: `${caseId}-shipped`, payload: { tracking_number: `SF-${caseId}` } });
  await waitingFor(cases, caseId, 'warehouse.received');
}

async function receive(inbox: EventInbox, caseId: string) {
  await inbox.deliverEvent(caseId, { type: 'warehouse.received', id: `${caseId}-received`, payload: { condition: 'resellable' } });
  return (await client.workflow.getHandle(workflowIdFor(caseId)).result()) as CaseResult;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  if (result.error) throw result.error;
  return result;
}

const audit = (args: string[], databaseUrl: string): ReturnType<typeof run> =>
  run(process.execPath, ['bin/casebook.js', 'audit', ...args], { DATABASE_URL: databaseUrl, CASEBOOK_DATA_DIR: casebookDir });

const refunds = async (pool: Pool) =>
  (await pool.query(`SELECT case_id, amount, status FROM refunds ORDER BY case_id`)).rows.map((r) => ({ ...r, amount: Number(r.amount) }));

describe('backup and restore of the database', () => {
  it('a dump restored into a new database verifies against the checkpoint, and its open cases go on with one refund each', async () => {
    if (!existsSync(join(PG_BIN, 'pg_dump')) || !existsSync(join(PG_BIN, 'pg_restore'))) {
      throw new Error(
        `no pg_dump/pg_restore in ${PG_BIN}: run scripts/provision.sh (or set CASEBOOK_POSTGRES_BIN to the bin folder of Postgres 17 client tools)`,
      );
    }
    const playbook = await publishStandardPlaybook(db.pool, 'return');
    const before = await casebookOn(db.pool);
    await openToReceipt(before, 'bk-closed', playbook);
    expect(await receive(before.inbox, 'bk-closed')).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    await openToReceipt(before, 'bk-open-1', playbook);
    await openToReceipt(before, 'bk-open-2', playbook);
    expect(await new HistoryArchiver(client, db.pool).archivePending()).toBe(1);

    const checkpoint = audit(['checkpoint'], db.url);
    expect(checkpoint.status, checkpoint.stderr).toBe(0);
    // Dumped while the worker runs, as a team dumps a live database: pg_dump reads one snapshot.
    const dumpFile = join(dataDir, 'casebook.dump');
    const dump = run(join(PG_BIN, 'pg_dump'), ['--format=custom', `--file=${dumpFile}`, db.ownerUrl]);
    expect(dump.status, dump.stderr).toBe(0);
    const asOfDump = join(dataDir, 'checkpoints-as-of-dump.jsonl');
    copyFileSync(join(casebookDir, 'audit-checkpoints.jsonl'), asOfDump);
    // Written after the dump, and signed: the restore loses it.
    await publishStandardPlaybook(db.pool, 'exchange');
    const later = audit(['checkpoint'], db.url);
    expect(later.status, later.stderr).toBe(0);
    // The machine with the old database and its worker is lost.
    await before.stop();

    const ownerUrl = await ensureDatabase(inject('postgresAdminUrl'), RESTORED);
    const restore = run(join(PG_BIN, 'pg_restore'), ['--no-owner', '--exit-on-error', `--dbname=${ownerUrl}`, dumpFile]);
    expect(restore.status, restore.stderr).toBe(0);
    // Starting Casebook migrates first: nothing is left to apply to a restored database.
    await migrate(ownerUrl);
    // The application's grants came back with the dump: Casebook runs on it as casebook_app.
    const url = applicationUrl(ownerUrl);
    restored = { ownerUrl, url, pool: createPool(url) };

    const lost = audit(['verify'], url);
    expect(lost.status, `${lost.stdout}${lost.stderr}`).toBe(1);
    expect(lost.stdout).toMatch(/^audit trail NOT intact: rows? .*, which checkpoint 2 \(.*\) anchored, (is|are) missing: the newest rows were removed\n/);
    const intact = audit(['verify', '--checkpoints', asOfDump], url);
    expect(intact.status, `${intact.stdout}${intact.stderr}`).toBe(0);
    expect(intact.stdout).toMatch(/^audit trail intact: \d+ rows, 1 archived histories, head [0-9a-f]{64}\nlatest checkpoint 1 /);
    expect(await refunds(restored.pool)).toEqual([{ case_id: 'bk-closed', amount: 18_900, status: 'issued' }]);

    const after = await casebookOn(restored.pool);
    try {
      expect((await after.cases.describe('bk-open-1'))?.waitingFor).toEqual(['warehouse.received']);
      const results = await Promise.all(['bk-open-1', 'bk-open-2'].map((caseId) => receive(after.inbox, caseId)));
      expect(results).toEqual([
        expect.objectContaining({ outcome: 'resolved', reason: 'refunded' }),
        expect.objectContaining({ outcome: 'resolved', reason: 'refunded' }),
      ]);
    } finally {
      await after.stop();
    }
    expect(await refunds(restored.pool)).toEqual(
      ['bk-closed', 'bk-open-1', 'bk-open-2'].map((caseId) => ({ case_id: caseId, amount: 18_900, status: 'issued' })),
    );
    expect(await new HistoryArchiver(client, restored.pool).archivePending()).toBe(2);
    const closed = await restored.pool.query(`SELECT case_id, status, history_archive FROM cases ORDER BY case_id`);
    expect(closed.rows).toEqual(['bk-closed', 'bk-open-1', 'bk-open-2'].map((caseId) => ({ case_id: caseId, status: 'closed', history_archive: 'archived' })));
    const verified = audit(['verify', '--checkpoints', asOfDump], url);
    expect(verified.status, `${verified.stdout}${verified.stderr}`).toBe(0);
    expect(verified.stdout).toMatch(/^audit trail intact: \d+ rows, 3 archived histories, head [0-9a-f]{64}\nlatest checkpoint 1 /);
  }, 180_000);
});
