/**
 * Issue 23: kill -9 of Casebook while a refund is at the shop's payment endpoint. `casebook start` runs
 * with a deployment configuration binding payments and chat to a webhook destination (a real receiver
 * in this test, verifying every signature with `standardwebhooks`); the receiver holds the first
 * refund request unanswered, and Casebook is killed. Started again, Casebook asks again under the same
 * `webhook-id`; the receiver pays that id once, and the ledger shows one refund with its reference.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { newSecret, type Receiver, startReceiver } from '../connectors/webhook-receiver.js';
import { smallPlaybookSource } from '../support/small-playbooks.js';
import { type Casebook, startCasebook, startOnFreePorts, stopCasebook } from './casebook-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'casebook-webhook-crash-'));
let running: Casebook | undefined;
let db: pg.Pool | undefined;
let shop: Receiver | undefined;

afterAll(async () => {
  await db?.end();
  if (running && running.child.exitCode === null) await stopCasebook(running);
  await shop?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('kill -9 while a refund is at the payment endpoint', () => {
  it('asks again under the same webhook-id after the restart; one refund paid, one in the ledger', async () => {
    const secret = newSecret();
    let holding = true;
    const references = new Map<string, string>();
    shop = await startReceiver([secret], (got) => {
      if (got.type !== 'refund.request') return { status: 204 };
      // The first request is never answered: Casebook dies waiting for it.
      if (holding) return () => {};
      if (!references.has(got.id)) references.set(got.id, `PSP-${references.size + 1}`);
      return { status: 200, body: { status: 'issued', reference: references.get(got.id) } };
    });
    const config = join(dataDir, 'casebook.yaml');
    writeFileSync(
      config,
      `destinations:
  shop:
    url: ${shop.url}
    secrets: [CRASH_TEST_WEBHOOK_SECRET]
    timeout: 10s
    allow_private_address: true
channels:
  chat: { connector: webhook, destination: shop }
payments: { connector: webhook, destination: shop }
`,
    );
    process.env.CASEBOOK_CONFIG = config;
    process.env.CRASH_TEST_WEBHOOK_SECRET = secret;

    const { casebook: first, ports, env } = await startOnFreePorts(dataDir);
    running = first;
    const api = `http://127.0.0.1:${ports.api}`;
    const admin = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
    const call = async (method: string, path: string, body: string, type: string) =>
      (await fetch(`${api}${path}`, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': type }, body })).status;
    const source = smallPlaybookSource(
      'webhook-crash',
      `templates:
  accepted: { channel: chat, text: "Your return of order {{ data.order_id }} is accepted." }
steps:
  - id: tell
    send: { to: buyer, template: accepted }
  - id: refund
    refund: { amount: data.paid.amount, reason: return, within: 1h, from: case.opened, on_breach: done, on_declined: declined }
  - id: done
    end: { outcome: resolved, reason: refunded }
  - id: declined
    end: { outcome: escalated, reason: refund_declined }
`,
    );
    expect(await call('PUT', '/v1/playbooks/webhook-crash', source, 'application/yaml')).toBe(201);
    const data = { paid: { amount: 2_500, currency: 'CNY' }, order_id: 'WC-1' };
    expect(await call('POST', '/v1/cases', JSON.stringify({ playbook: 'webhook-crash', caseId: 'wc-1', data }), 'application/json')).toBe(201);

    await expect.poll(() => shop!.received.filter((r) => r.type === 'refund.request').length, { timeout: 30_000, interval: 5 }).toBe(1);
    first.child.kill('SIGKILL');
    await first.exited;
    holding = false;

    running = await startCasebook(env);
    db = new pg.Pool({ connectionString: `postgres://casebook:casebook@127.0.0.1:${ports.postgres}/casebook`, max: 2 });
    const closed = async () => (await db!.query(`SELECT status, outcome FROM cases WHERE case_id = 'wc-1'`)).rows[0];
    await expect.poll(closed, { timeout: 90_000, interval: 500 }).toEqual({ status: 'closed', outcome: 'resolved' });

    expect(shop.badSignatures).toBe(0);
    const asked = shop.received.filter((r) => r.type === 'refund.request');
    expect(asked.length).toBeGreaterThanOrEqual(2);
    expect(new Set(asked.map((r) => r.id))).toEqual(new Set(['wc-1/refund/1']));
    expect([...references.entries()]).toEqual([['wc-1/refund/1', 'PSP-1']]);
    const refunds = (await db.query(`SELECT status, amount::int AS amount, provider_reference FROM refunds WHERE case_id = 'wc-1'`)).rows;
    expect(refunds).toEqual([{ status: 'issued', amount: 2_500, provider_reference: 'PSP-1' }]);
    expect(shop.received.filter((r) => r.type === 'message.send').map((r) => r.id)).toContain('wc-1/tell/1');
    const attempts = (await db.query(`SELECT attempt, outcome FROM webhook_attempts WHERE webhook_id = 'wc-1/refund/1' ORDER BY attempt`)).rows;
    // The attempt the kill cut short stays unfinished (outcome null); the last one delivered.
    expect(attempts[0]).toEqual({ attempt: 1, outcome: null });
    expect(attempts.at(-1)).toMatchObject({ outcome: 'delivered' });
  }, 240_000);
});
