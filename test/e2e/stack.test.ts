/**
 * End to end, as a user runs it: `casebook start` (Temporal dev server persisting to SQLite, embedded
 * Postgres, worker, API) driven over HTTP, stopped with SIGTERM and started again on the same data.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, startCasebook, startOnFreePorts, stopCasebook, type Casebook } from './casebook-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'casebook-e2e-'));
let running: Casebook | undefined;

afterAll(async () => {
  if (running && running.child.exitCode === null) await stopCasebook(running);
  rmSync(dataDir, { recursive: true, force: true });
});

async function readCase(api: string, caseId: string): Promise<{ waitingFor: string[]; outcome: unknown }> {
  const key = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
  return (await (await fetch(`${api}/v1/cases/${caseId}`, { headers: { authorization: `Bearer ${key}` } })).json()) as {
    waitingFor: string[];
    outcome: unknown;
  };
}

describe('casebook start, end to end over HTTP', () => {
  it('runs a return case to an exact refund across a restart of the whole stack', async () => {
    const { casebook: first, ports, env } = await startOnFreePorts(dataDir);
    running = first;
    const api = `http://127.0.0.1:${ports.api}`;

    expect(first.output()).toContain('casebook: first start: admin API key');
    const adminKey = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
    const json = { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` };
    expect(first.output()).toContain(`casebook: Temporal Web UI http://127.0.0.1:${ports.ui}`);
    expect((await fetch(`${api}/readyz`)).status).toBe(200);
    expect((await fetch(`${api}/v1/cases`)).status).toBe(401);

    const published = await fetch(`${api}/v1/playbooks/return`, {
      method: 'PUT',
      headers: { 'content-type': 'application/yaml', authorization: `Bearer ${adminKey}` },
      body: readFileSync(join(ROOT, 'playbooks/return.yaml')),
    });
    expect(published.status).toBe(201);
    expect(await published.json()).toMatchObject({ name: 'return', version: 1 });

    const opened = await fetch(`${api}/v1/cases`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        playbook: 'return',
        caseId: 'e2e-1',
        data: {
          order_id: 'TB-2001',
          buyer_name: 'Han Meimei',
          order_total: { amount: 25_900, currency: 'CNY' },
          outbound_shipping: { amount: 1_200, currency: 'CNY' },
          shipped_free: false,
          signed_at: new Date(Date.now() - 3 * 86_400_000).toISOString(),
          reason: 'no_reason',
          shipping_insurance: true,
        },
      }),
    });
    expect(opened.status).toBe(201);
    // The exchange offered first: the buyer keeps to the return.
    const kept = await fetch(`${api}/v1/cases/e2e-1/events`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ type: 'buyer.kept_return', id: 'kept-1', payload: {} }),
    });
    expect(kept.status).toBe(202);
    const shipped = await fetch(`${api}/v1/cases/e2e-1/events`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ type: 'buyer.shipped', id: 'ship-1', payload: { tracking_number: 'YT9988' } }),
    });
    expect(shipped.status).toBe(202);
    await expect.poll(async () => JSON.stringify(await readCase(api, 'e2e-1')), { timeout: 15_000 }).toContain('"waitingFor":["warehouse.received"]');

    const firstExit = await stopCasebook(first);
    expect(firstExit, first.output()).toBe(0);
    expect(first.output()).toContain('casebook: stopped');

    const second = await startCasebook(env);
    running = second;
    expect(second.output()).not.toContain('first start');
    const waiting = await readCase(api, 'e2e-1');
    expect(waiting).toMatchObject({ status: 'waiting', step: 'wait_receipt', waitingFor: ['warehouse.received'] });
    const received = await fetch(`${api}/v1/cases/e2e-1/events`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ type: 'warehouse.received', id: 'wh-1', payload: { condition: 'resellable' } }),
    });
    expect(received.status).toBe(202);
    await expect.poll(async () => (await readCase(api, 'e2e-1')).outcome, { timeout: 15_000 }).toEqual({ outcome: 'resolved', reason: 'refunded' });

    // Findable by its search attributes, registered by Casebook on the dev server at every start.
    const listed = (query: string) => {
      const cli = spawnSync(
        join(ROOT, '.tools/temporal'),
        ['workflow', 'list', '--address', `127.0.0.1:${ports.temporal}`, '--query', query, '--output', 'json'],
        { encoding: 'utf8' },
      );
      return (cli.stdout.trim() ? JSON.parse(cli.stdout) : []) as { execution: { workflowId: string } }[];
    };
    await expect
      .poll(() => listed(`OrderId = 'TB-2001' AND CaseStatus = 'closed' AND PlaybookVersion = 1`).map((w) => w.execution.workflowId), { timeout: 15_000 })
      .toEqual(['case-e2e-1']);

    const db = new pg.Client({ connectionString: `postgres://casebook:casebook@127.0.0.1:${ports.postgres}/casebook` });
    await db.connect();
    try {
      const refunds = (await db.query(`SELECT amount, currency, status FROM refunds WHERE case_id = 'e2e-1'`)).rows;
      expect(refunds).toEqual([{ amount: '24700', currency: 'CNY', status: 'issued' }]);
      const templates = (await db.query(`SELECT template FROM outbox_messages WHERE case_id = 'e2e-1' ORDER BY id`)).rows.map((r) => r.template);
      expect(templates).toEqual(['offer_exchange', 'return_address', 'refund_sent']);
      // Casebook talks to its embedded Postgres over the Unix socket (no client address), never loopback TCP.
      const connections = (
        await db.query(`SELECT count(*) FILTER (WHERE client_addr IS NULL)::int AS socket, count(*) FILTER (WHERE client_addr IS NOT NULL)::int AS tcp
        FROM pg_stat_activity WHERE usename = 'casebook_app'`)
      ).rows[0];
      expect(connections.socket).toBeGreaterThan(0);
      expect(connections.tcp).toBe(0);
    } finally {
      await db.end();
    }
    // The README's curl walkthrough, run exactly as written against this stack.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const walkthrough = /## A return, from playbook to refund, with curl[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    const run = spawnSync('bash', ['-euo', 'pipefail', '-c', walkthrough], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, API: api, CASEBOOK_DATA_DIR: dataDir, CASEBOOK_POSTGRES_PORT: String(ports.postgres) },
    });
    expect(run.status, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain('"name":"return","version":1');
    expect(run.stdout).toContain('"caseId":"demo-1"');
    expect(run.stdout).toContain('{"status":"accepted","caseId":"demo-1"}');
    expect(run.stdout).toContain('"outcome":{"outcome":"resolved","reason":"refunded"}');
    expect(run.stdout).toMatch(/demo-1\s+\|\s+18900\s+\| CNY\s+\| issued\s+\| demo-1\/refund_no_reason\/1/);

    // The README's auditing walkthrough, on the case the first one closed.
    const auditing = /## Auditing a case[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    const audited = spawnSync('bash', ['-euo', 'pipefail', '-c', auditing], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...process.env,
        API: api,
        CASEBOOK_DATA_DIR: dataDir,
        CASEBOOK_POSTGRES_PORT: String(ports.postgres),
        CASEBOOK_TEMPORAL_PORT: String(ports.temporal),
        TMPDIR: dataDir,
      },
    });
    expect(audited.status, audited.stderr + audited.stdout).toBe(0);
    expect(audited.stdout).toContain('"opened":{"at":');
    expect(audited.stdout).toMatch(/ completed\s+\|\s+\d+ \| [0-9a-f]{64}/);
    expect(audited.stdout).toMatch(/^case demo-1 \(workflow case-demo-1, plan [0-9a-f]{12}\): deterministic$/m);
    expect(audited.stdout).toContain('{"kind":"replayed","caseId":"demo-1"');
    expect(audited.stdout).toMatch(/^audit trail intact: \d+ rows, \d+ archived histories, head [0-9a-f]{64}$/m);
    expect(audited.stderr).toContain(`casebook export: 1 case to ${dataDir}/demo-1.jsonl`);
    expect(readFileSync(join(dataDir, 'demo-1.jsonl'), 'utf8')).toContain('"type":"verification","caseId":"demo-1","intact":true');

    // The README's figures, which count the walkthrough's return and the test's own, both refunded on receipt.
    const figuresBlock = /### The figures[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    const figures = spawnSync('bash', ['-euo', 'pipefail', '-c', figuresBlock], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, API: api, CASEBOOK_DATA_DIR: dataDir },
    });
    expect(figures.status, figures.stderr + figures.stdout).toBe(0);
    expect(figures.stdout).toContain('"reasons":{"total":2,"reasons":[{"reason":"no_reason","returns":2,"exchanges":0,"count":2,"share":1,"topThree":true}]}');
    expect(figures.stdout).toMatch(/"receipts":2,"within24h":2,"latePaid":0,"lateUnpaid":0,"pending":0,"shareWithin24h":1,/);
    expect(figures.stdout.trimEnd().split(/\r?\n/).slice(1)).toEqual([
      '\ufefffigure,item,measure,value',
      expect.stringMatching(/^range,,from,\d{4}-\d{2}-\d{2}$/),
      expect.stringMatching(/^range,,to,\d{4}-\d{2}-\d{2}$/),
      'range,,time_zone,Asia/Shanghai',
    ]);

    expect(await stopCasebook(second)).toBe(0);
  }, 240_000);
});
