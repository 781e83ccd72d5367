/** `casebook audit verify` against a real database: 0 intact (with the head), 1 naming the altered row, 2 without a database. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StepRecord } from '../../src/plan/case.js';
import { recordOpened, recordPublished } from '../../src/store/audit-chain.js';
import { recordProgress } from '../../src/store/progress.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let db: TestDatabase;
/** The data directory, without checkpoints: test/api/audit-tamper.test.ts checks against them. */
const DATA_DIR = mkdtempSync(join(tmpdir(), 'casebook-audit-cli-'));
const NO_CHECKPOINT = `no checkpoint in ${join(DATA_DIR, 'audit-checkpoints.jsonl')}: nothing outside the database anchors the head (casebook audit checkpoint writes one)\n`;

const record = (seq: number, kind: string, detail: Record<string, unknown> = {}): { seq: number; record: StepRecord } => ({
  seq,
  record: { step: `s${seq}`, kind, at: new Date().toISOString(), detail },
});

beforeAll(async () => {
  db = await createTestDatabase();
  const by = { keyId: 'k1', name: 'Mei' };
  await db.pool.query(`INSERT INTO playbook_versions (name, version, hash, source_yaml, plan) VALUES ('return', 1, 'h1', '', '{}')`);
  await recordPublished(db.pool, { name: 'return', version: 1, hash: 'h1', by });
  await db.pool.query(
    `INSERT INTO cases (case_id, workflow_id, playbook, version, plan_hash, case_type, data) VALUES ('r-1', 'case-r-1', 'return', 1, 'h1', 'return', '{}')`,
  );
  await recordOpened(db.pool, { caseId: 'r-1', by, data: {}, playbook: { name: 'return', version: 1, hash: 'h1' } });
  await recordProgress(db.pool, {
    caseId: 'r-1',
    status: 'closed',
    step: null,
    waitingFor: [],
    deadlines: [],
    data: {},
    outcome: { outcome: 'refunded', reason: 'ok' },
    returnTracking: null,
    audit: [record(1, 'branch'), record(2, 'refund', { amount: 5_000, currency: 'CNY' }), record(3, 'close')],
    from: 1,
    decidedIn: { at: '2026-01-01T00:00:00.000Z', runStartedAt: '2026-01-01T00:00:00.000Z', task: 3 },
  });
});
afterAll(async () => {
  await db?.drop();
  rmSync(DATA_DIR, { recursive: true, force: true });
});

const audit = (args: string[], url = db.url) =>
  spawnSync(process.execPath, ['bin/casebook.js', 'audit', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: url, CASEBOOK_DATA_DIR: DATA_DIR },
  });

describe('casebook audit verify', () => {
  it('exits 0 on an intact trail and prints the head; 1 naming the row once one was altered', async () => {
    const { rows } = await db.pool.query(`SELECT encode(hash, 'hex') AS head FROM audit_events ORDER BY position DESC LIMIT 1`);
    const intact = audit(['verify']);
    expect(intact.status, intact.stderr).toBe(0);
    expect(intact.stdout).toBe(`audit trail intact: 5 rows, 0 archived histories, head ${rows[0].head}\n${NO_CHECKPOINT}`);
    const ofCase = audit(['verify', '--case', 'r-1']);
    expect([ofCase.status, ofCase.stdout]).toEqual([0, `audit trail of case r-1 intact: 4 rows, 0 archived histories, head ${rows[0].head}\n`]);

    const {
      rows: [refund],
    } = await db.pool.query(`SELECT id::text, position FROM audit_events WHERE idempotency_key = 'r-1/audit/2'`);
    const owner = new pg.Client({ connectionString: db.ownerUrl });
    await owner.connect();
    try {
      await owner.query(`UPDATE audit_events SET detail = jsonb_set(detail, '{amount}', '50000') WHERE idempotency_key = 'r-1/audit/2'`);
    } finally {
      await owner.end();
    }
    const tampered = audit(['verify']);
    expect(tampered.status, tampered.stderr).toBe(1);
    expect(tampered.stdout.split('\n')[0]).toBe(
      `audit trail NOT intact: row ${refund.position} (id ${refund.id}, case r-1, kind refund): its content does not match its hash (altered)`,
    );
    expect(audit(['verify', '--case', 'r-1']).status).toBe(1);
  }, 60_000);

  it('exits 2 with a clear message when the database cannot be reached', () => {
    const result = audit(['verify'], 'postgres://casebook_app:x@127.0.0.1:1/casebook');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^casebook audit: cannot reach the database at 127\.0\.0\.1:1\/casebook: .*ECONNREFUSED/);
    expect(result.stderr).not.toContain('    at ');
  });

  it('exits 2 with its usage when asked something else', () => {
    expect(audit(['check']).status).toBe(2);
    expect(audit(['verify', '--case']).stderr).toContain('casebook audit verify --case <caseId>');
  });
});
