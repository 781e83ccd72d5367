/**
 * Tamper evidence against the database's owner (issue 21): `casebook audit checkpoint` signs the chain's
 * head and the refunds ledger into a file outside Postgres, and `casebook audit verify` names each of the
 * four tamperings the owner could hide from the chain alone: a forged row with no seq, the newest rows
 * deleted, the chain rewritten from one row on, a refund's amount edited with the triggers off.
 */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AuditCheckpointer, readCheckpoints, signingKey } from '../../src/cases/audit-checkpoint.js';
import type { StepRecord } from '../../src/plan/case.js';
import { recordOpened, recordPublished, verifyAuditTrail } from '../../src/store/audit-chain.js';
import { createPool } from '../../src/store/pool.js';
import { recordProgress } from '../../src/store/progress.js';
import { reserveRefund, settleRefund } from '../../src/store/refunds.js';
import { claimTask, openTask, takeOverTask } from '../../src/store/tasks.js';
import { withTransaction } from '../../src/store/transaction.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BY = { keyId: 'k1', name: 'Mei' };
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Trail {
  db: TestDatabase;
  dir: string;
  env: NodeJS.ProcessEnv;
  /** The ledger id of r-1's paid refund (recorded by its `refund` row) and of r-2's refund still being paid (no row yet). */
  paid: number;
  pending: number;
}

const step = (seq: number, kind: string, detail: Record<string, unknown> = {}): { seq: number; record: StepRecord } => ({
  seq,
  record: { step: `s${seq}`, kind, at: new Date().toISOString(), detail },
});

async function openCase(db: TestDatabase, caseId: string, orderId: string): Promise<void> {
  await withTransaction(db.pool, async (tx) => {
    await tx.query(
      `INSERT INTO cases (case_id, workflow_id, playbook, version, plan_hash, case_type, order_id, data, paid_amount, currency)
       VALUES ($1, 'case-' || $1, 'return', 1, 'h1', 'return', $2, '{}', 10000, 'CNY')`,
      [caseId, orderId],
    );
    await recordOpened(tx, { caseId, by: BY, data: {}, playbook: { name: 'return', version: 1, hash: 'h1' } });
  });
  await db.pool.query(`INSERT INTO orders (order_id, currency, paid_amount, recorded_by_case) VALUES ($1, 'CNY', 10000, $2)`, [orderId, caseId]);
}

/** A refund reserved and paid the way the activity does, made two minutes old so that checkpoints digest it. */
async function refund(trail: { db: TestDatabase }, caseId: string, orderId: string, amount: number, paid: boolean): Promise<number> {
  const request = {
    key: `${caseId}/refund`,
    caseId,
    stepId: 'refund',
    orderId,
    amount,
    currency: 'CNY',
    reason: 'return',
    covers: 'payment' as const,
    deadlineAt: new Date(Date.now() + 86_400_000).toISOString(),
  };
  const { id } = await reserveRefund(trail.db.pool, request);
  await asOwner(trail.db, [`UPDATE refunds SET created_at = created_at - interval '2 minutes' WHERE id = ${id}`]);
  if (paid) await settleRefund(trail.db.pool, request.key, { providerReference: `local-${caseId}` });
  return id;
}

/**
 * Two return cases: r-1 refunded 50.00 CNY and closed; r-2 with its refund of 30.00 still being paid.
 * Checkpoint 1 is written after r-1, checkpoint 2 after r-2.
 */
async function trail(): Promise<Trail> {
  const db = await createTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'casebook-audit-'));
  cleanups.push(async () => {
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('CASEBOOK_AUDIT_')));
  const made: Trail = { db, dir, env: { ...env, DATABASE_URL: db.url, CASEBOOK_DATA_DIR: dir }, paid: 0, pending: 0 };
  await db.pool.query(`INSERT INTO playbook_versions (name, version, hash, source_yaml, plan) VALUES ('return', 1, 'h1', '', '{}')`);
  await recordPublished(db.pool, { name: 'return', version: 1, hash: 'h1', by: BY });
  await openCase(db, 'r-1', 'O-1');
  made.paid = await refund(made, 'r-1', 'O-1', 5_000, true);
  await recordProgress(db.pool, {
    caseId: 'r-1',
    status: 'closed',
    step: null,
    waitingFor: [],
    deadlines: [],
    data: {},
    outcome: { outcome: 'refunded', reason: 'ok' },
    returnTracking: null,
    audit: [step(1, 'branch'), step(2, 'refund', { refundId: made.paid, amount: 5_000, currency: 'CNY', providerReference: 'local-r-1' }), step(3, 'end')],
    from: 1,
    decidedIn: { at: '2026-01-01T00:00:00.000Z', runStartedAt: '2026-01-01T00:00:00.000Z', task: 3 },
  });
  expect(audit(made, ['checkpoint']).status).toBe(0);
  await openCase(db, 'r-2', 'O-2');
  await recordProgress(db.pool, {
    caseId: 'r-2',
    status: 'waiting',
    step: 'refund',
    waitingFor: [],
    deadlines: [],
    data: {},
    outcome: null,
    returnTracking: null,
    audit: [step(1, 'branch'), step(2, 'wait', { event: 'warehouse.received', by: BY }), step(3, 'remark', { remark: 'received in good order' })],
    from: 1,
    decidedIn: { at: '2026-01-01T00:00:00.000Z', runStartedAt: '2026-01-01T00:00:00.000Z', task: 3 },
  });
  made.pending = await refund(made, 'r-2', 'O-2', 3_000, false);
  expect(audit(made, ['checkpoint']).status).toBe(0);
  return made;
}

function audit(trail: { env: NodeJS.ProcessEnv }, args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['bin/casebook.js', 'audit', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...trail.env, ...env } });
}

/** Statements run as the database's owner, committed. */
async function asOwner(db: TestDatabase, statements: string[]): Promise<void> {
  const owner = new pg.Client({ connectionString: db.ownerUrl });
  await owner.connect();
  try {
    for (const sql of statements) await owner.query(sql);
  } finally {
    await owner.end();
  }
}

async function row(db: TestDatabase, where: string): Promise<{ id: string; position: number; hash: string }> {
  const { rows } = await db.pool.query(`SELECT id::text, position, encode(hash, 'hex') AS hash FROM audit_events WHERE ${where}`);
  return rows[0];
}

const lastPosition = async (db: TestDatabase) => (await db.pool.query(`SELECT max(position) AS last FROM audit_events`)).rows[0].last as number;
const checkpointsOf = (t: Trail) =>
  readFileSync(join(t.dir, 'audit-checkpoints.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));

describe('casebook audit checkpoint and verify, against the owner', () => {
  it('verifies an untampered trail clean and prints the latest checkpoint; the key stays in its file', async () => {
    const t = await trail();
    const last = await row(t.db, `position = (SELECT max(position) FROM audit_events)`);
    const [, second] = checkpointsOf(t);
    expect(second).toMatchObject({ checkpoint: 2, position: last.position, head: last.hash, refunds: { through: t.pending, count: 2 } });
    const verified = audit(t, ['verify']);
    expect(verified.status, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toBe(
      `audit trail intact: ${last.position} rows, 0 archived histories, head ${last.hash}\n` +
        `latest checkpoint 2 (${second.at}) in ${join(t.dir, 'audit-checkpoints.jsonl')}: row ${last.position}, head ${last.hash}, 2 refunds through id ${t.pending}; 0 rows after it\n`,
    );
    const keyFile = join(t.dir, 'audit-signing-key.pem');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const pem = readFileSync(keyFile, 'utf8');
    expect(pem).toContain('BEGIN PRIVATE KEY');
    const secret = pem.split('\n')[1]!;
    expect(readFileSync(join(t.dir, 'audit-checkpoints.jsonl'), 'utf8')).not.toContain(secret);
    expect(verified.stdout + verified.stderr).not.toContain(secret);
    const stored = await t.db.pool.query(`SELECT 1 FROM audit_events WHERE detail::text LIKE '%' || $1 || '%'`, [secret.slice(0, 20)]);
    expect(stored.rowCount).toBe(0);
  }, 60_000);

  it('names a forged row with no seq', async () => {
    const t = await trail();
    await asOwner(t.db, [
      `INSERT INTO audit_events (idempotency_key, case_id, at, kind, step_id, detail)
       VALUES ('forged', 'r-2', now(), 'refund', 'refund', '{"amount": 9000, "currency": "CNY", "note": "approved by phone"}')`,
    ]);
    const forged = await row(t.db, `idempotency_key = 'forged'`);
    const result = audit(t, ['verify']);
    expect(result.status, result.stdout + result.stderr).toBe(1);
    expect(result.stdout.split('\n')[0]).toBe(
      `audit trail NOT intact: row ${forged.position} (id ${forged.id}, case r-2, kind refund): a row without a workflow seq can only be opened, published, made-current, version-approved, approval-setting-changed, archived, task-taken-over, delivery-redelivered, bulk-escalated, voided (forged)`,
    );
    expect(audit(t, ['verify', '--case', 'r-2']).status).toBe(1);
    // Unnumbered kinds are checked against what they record: a second `opened`, a version never published, a change never made.
    const ownerPool = createPool(t.db.ownerUrl, 1);
    const owner = await ownerPool.connect();
    try {
      await owner.query('BEGIN');
      await owner.query(`INSERT INTO audit_events (idempotency_key, case_id, at, kind, detail) VALUES ('again', 'r-1', now(), 'opened', '{"data": {}}')`);
      await owner.query(
        `INSERT INTO audit_events (idempotency_key, at, kind, detail) VALUES ('v9', now(), 'published', '{"name": "return", "version": 9, "hash": "h9"}')`,
      );
      // A current version no change made: version 9 was never made current (none exists).
      await owner.query(
        `INSERT INTO audit_events (idempotency_key, at, kind, detail) VALUES ('c9', now(), 'made-current', '{"name": "return", "change": "999", "from": 1, "to": 9, "reason": "x"}')`,
      );
      // An approval no one gave: there is no approval 999.
      await owner.query(
        `INSERT INTO audit_events (idempotency_key, at, kind, detail) VALUES ('a9', now(), 'version-approved', '{"name": "return", "approval": "999", "version": 1, "reason": "x"}')`,
      );
      // A change of the approval setting no one made: there is no setting 999.
      await owner.query(
        `INSERT INTO audit_events (idempotency_key, at, kind, detail, actor_name) VALUES ('s9', now(), 'approval-setting-changed', '{"name": "return", "setting": "999", "approvalRequired": false, "reason": "x"}', 'Mei')`,
      );
      // An escalation by a bulk job that the case does not have.
      await owner.query(
        `INSERT INTO audit_events (idempotency_key, case_id, at, kind, detail, actor_name) VALUES ('b9', 'r-1', now(), 'bulk-escalated', '{"escalation": 999, "queue": "ops", "severity": "high", "reason": "x", "job": "j"}', 'Mei')`,
      );
      // A lead's takeover of a task (tasks.ts) is one; a takeover of a task the case does not have is not.
      const task = await openTask(owner, {
        key: 'r-2/review',
        caseId: 'r-2',
        stepId: 'review',
        role: 'agent',
        title: 'Review',
        outcomes: ['ok'],
        dueAt: new Date().toISOString(),
      });
      expect(await claimTask(owner, task, { keyId: 'k2', name: 'Lei' })).toBe(true);
      expect(await takeOverTask(owner, task, BY)).toEqual({ keyId: 'k2', name: 'Lei' });
      await owner.query(
        `INSERT INTO audit_events (idempotency_key, case_id, at, kind, step_id, detail) VALUES ('t9', 'r-1', now(), 'task-taken-over', 'review', $1)`,
        [JSON.stringify({ task, from: { keyId: 'k2', name: 'Lei' } })],
      );
      const verified = await verifyAuditTrail(owner);
      expect(verified.problems.map((p) => [p.problem, p.kind, p.message.replace(/^row \d+ \(id \d+, /, '')])).toEqual([
        [
          'unnumbered',
          'refund',
          'case r-2, kind refund): a row without a workflow seq can only be opened, published, made-current, version-approved, approval-setting-changed, archived, task-taken-over, delivery-redelivered, bulk-escalated, voided (forged)',
        ],
        ['unnumbered', 'opened', 'case r-1, kind opened): it was already recorded by an earlier row (forged)'],
        ['unnumbered', 'published', 'no case, kind published): no such playbook version was published (forged)'],
        ['unnumbered', 'made-current', 'no case, kind made-current): no such change of the current playbook version was made (forged)'],
        ['unnumbered', 'version-approved', 'no case, kind version-approved): no such approval of a playbook version was given (forged)'],
        ['unnumbered', 'approval-setting-changed', 'no case, kind approval-setting-changed): no such change of the approval setting was made (forged)'],
        ['unnumbered', 'bulk-escalated', 'case r-1, kind bulk-escalated): its case has no such escalation (forged)'],
        ['unnumbered', 'task-taken-over', 'case r-1, kind task-taken-over): its case has no such task at that step (forged)'],
      ]);
    } finally {
      await owner.query('ROLLBACK');
      owner.release();
      await ownerPool.end();
    }
  }, 60_000);

  it('names the newest rows deleted, which the chain alone cannot show', async () => {
    const t = await trail();
    const last = await lastPosition(t.db);
    await asOwner(t.db, [`DELETE FROM audit_events WHERE position > ${last - 2}`]);
    expect(await verifyAuditTrail(t.db.pool)).toMatchObject({ intact: true });
    const result = audit(t, ['verify']);
    expect(result.status, result.stdout + result.stderr).toBe(1);
    const [second] = checkpointsOf(t).slice(1);
    expect(result.stdout.split('\n')[0]).toBe(
      `audit trail NOT intact: rows ${last - 1} to ${last}, which checkpoint 2 (${second.at}) anchored, are missing: the newest rows were removed`,
    );
  }, 60_000);

  it('names a chain rewritten from one row on, after the last checkpoint that still matches', async () => {
    const t = await trail();
    const [first, second] = checkpointsOf(t);
    const from = await row(t.db, `case_id = 'r-2' AND seq = 2`);
    await asOwner(t.db, [
      `UPDATE audit_events SET detail = jsonb_set(detail, '{event}', '"buyer.cancelled"') WHERE position = ${from.position}`,
      `DO $$
       DECLARE r record; prev bytea;
       BEGIN
         SELECT hash INTO prev FROM audit_events WHERE position = ${from.position - 1};
         FOR r IN SELECT * FROM audit_events WHERE position >= ${from.position} ORDER BY position LOOP
           UPDATE audit_events SET prev_hash = prev,
             hash = sha256(prev || audit_event_content(r.case_id, r.seq, r.at, r.kind, r.step_id, r.actor_key_id, r.actor_name, r.detail))
           WHERE id = r.id RETURNING hash INTO prev;
         END LOOP;
       END $$`,
    ]);
    expect(await verifyAuditTrail(t.db.pool)).toMatchObject({ intact: true });
    const now = await row(t.db, `position = ${second.position}`);
    const result = audit(t, ['verify']);
    expect(result.status, result.stdout + result.stderr).toBe(1);
    expect(result.stdout.split('\n')[0]).toBe(
      `audit trail NOT intact: row ${second.position}: its hash ${now.hash} is not the head ${second.head} that checkpoint 2 (${second.at}) signed: ` +
        `the chain was rewritten after row ${first.position} (where checkpoint 1 (${first.at}) still matches)`,
    );
    // A checkpoint written after the rewrite signs it; the earlier one still names it.
    expect(audit(t, ['checkpoint']).status).toBe(0);
    const again = audit(t, ['verify']);
    expect([again.status, again.stdout.split('\n')[0]]).toEqual([1, result.stdout.split('\n')[0]]);
  }, 60_000);

  it('names a refund amount edited with the triggers off: by the row that recorded it, and by the checkpoint', async () => {
    const t = await trail();
    const [first] = checkpointsOf(t);
    const recorded = await row(t.db, `case_id = 'r-1' AND kind = 'refund'`);
    await asOwner(t.db, [
      'ALTER TABLE refunds DISABLE TRIGGER USER',
      `UPDATE refunds SET amount = 500000 WHERE id = ${t.paid}`,
      'ALTER TABLE refunds ENABLE TRIGGER USER',
    ]);
    const result = audit(t, ['verify']);
    expect(result.status, result.stdout + result.stderr).toBe(1);
    expect(result.stdout.split('\n').slice(0, 2)).toEqual([
      `audit trail NOT intact: row ${recorded.position} (id ${recorded.id}, case r-1, kind refund): refund ${t.paid} in the refunds ledger is 500000 CNY of case r-1, not the 5000 CNY it recorded (altered)`,
      `  also: the refunds with ids up to ${t.paid} are not those checkpoint 1 (${first.at}) digested: the one with id ${t.paid} was altered, inserted or removed`,
    ]);
    expect(audit(t, ['verify', '--case', 'r-1']).status).toBe(1);
    // A checkpoint written after the edit signs it; the earlier ones still name it.
    expect(audit(t, ['checkpoint']).status).toBe(0);
    expect(audit(t, ['verify']).stdout).toContain(`also: the refunds with ids up to ${t.paid} are not those checkpoint 1 (${first.at}) digested`);
  }, 60_000);

  it('names a refund no row recorded yet, edited with the triggers off, by the checkpoint that digested it', async () => {
    const t = await trail();
    const [first, second] = checkpointsOf(t);
    expect(first.refunds.through).toBe(t.paid); // r-2's refund came after checkpoint 1
    await asOwner(t.db, [
      'ALTER TABLE refunds DISABLE TRIGGER USER',
      `UPDATE refunds SET amount = 1 WHERE id = ${t.pending}`,
      'ALTER TABLE refunds ENABLE TRIGGER USER',
    ]);
    expect(await verifyAuditTrail(t.db.pool)).toMatchObject({ intact: true });
    const result = audit(t, ['verify']);
    expect(result.stdout.split('\n')[0]).toBe(
      `audit trail NOT intact: the refunds with ids up to ${t.pending} are not those checkpoint 2 (${second.at}) digested: ` +
        `the one with id ${t.pending} was altered, inserted or removed`,
    );
  }, 60_000);

  it('refuses a checkpoint that was edited, and one signed by another key', async () => {
    const t = await trail();
    const file = join(t.dir, 'audit-checkpoints.jsonl');
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const edited = JSON.parse(lines[1]!);
    edited.position += 5;
    writeFileSync(file, `${lines[0]}\n${JSON.stringify(edited)}\n`);
    const result = audit(t, ['verify']);
    expect(result.status).toBe(1);
    expect(result.stdout.split('\n')[0]).toBe(
      `audit trail NOT intact: line 2 of ${file}: checkpoint 2 (${edited.at}): its signature does not verify (forged or altered)`,
    );

    writeFileSync(file, `${lines.join('\n')}\n`);
    const other = generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    const another = audit(t, ['verify'], { CASEBOOK_AUDIT_SIGNING_KEY: other });
    expect(another.status).toBe(1);
    expect(another.stdout).toMatch(
      /^audit trail NOT intact: line 1 of .*: checkpoint 1 \(.*\) was signed by key [0-9a-f]{16}, not by this key \([0-9a-f]{16}\)\n/,
    );
    expect(another.stdout + another.stderr).not.toContain(other);
    const bad = audit(t, ['verify'], { CASEBOOK_AUDIT_SIGNING_KEY: 'not-a-key-c2VjcmV0' });
    expect([bad.status, bad.stderr]).toEqual([
      2,
      'casebook audit: CASEBOOK_AUDIT_SIGNING_KEY must be an Ed25519 private key (PKCS#8 PEM, or its DER in base64)\n',
    ]);
  }, 60_000);
});

describe('the checkpointer of casebook start', () => {
  let server: Server | undefined;
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('writes when the chain changed, sends each checkpoint to the destination (again after it failed), and once more when stopped', async () => {
    const db = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'casebook-audit-'));
    cleanups.push(async () => {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    });
    const received: string[] = [];
    let refuse = true;
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        if (refuse) {
          refuse = false;
          response.writeHead(503).end();
          return;
        }
        received.push(body);
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const file = join(dir, 'audit-checkpoints.jsonl');
    const key = signingKey({ keyFile: join(dir, 'audit-signing-key.pem') }, { create: true })!;
    const logged: string[] = [];
    const checkpointer = new AuditCheckpointer(db.pool, { file, url: `http://127.0.0.1:${port}/checkpoints?token=s3cret`, key }, (line) => logged.push(line));

    expect((await checkpointer.checkpoint())?.checkpoint).toBe(1); // the destination refused it: kept to send again
    expect(await checkpointer.checkpoint()).toBeUndefined(); // nothing changed; the kept one is sent now
    await db.pool.query(`INSERT INTO playbook_versions (name, version, hash, source_yaml, plan) VALUES ('return', 1, 'h1', '', '{}')`);
    await recordPublished(db.pool, { name: 'return', version: 1, hash: 'h1', by: BY });
    const stop = checkpointer.start(60_000);
    await stop();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.map((line) => JSON.parse(line).position)).toEqual([0, 1]);
    expect(received).toEqual(lines);
    expect(logged).toEqual([`casebook: sending an audit checkpoint to http://127.0.0.1:${port} failed (it answered 503); it is sent again with the next one`]);
    const reading = readCheckpoints(readFileSync(file, 'utf8'), key, file);
    expect(reading).toMatchObject({ problems: [], lines: 2, latest: { checkpoint: 2, position: 1 } });
    expect(await verifyAuditTrail(db.pool, { anchors: reading.anchors })).toMatchObject({ intact: true, problems: [] });
  }, 60_000);
});
