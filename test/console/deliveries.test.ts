/**
 * A failed webhook delivery delivered again from the console's case page, in Chromium against the real
 * stack (`casebook start` with a deployment configuration binding chat to a destination: a real
 * receiver started here, verifying every signature with `standardwebhooks`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { newSecret, type Receiver, startReceiver } from '../connectors/webhook-receiver.js';
import { axe, useConsole } from '../support/console.js';
import { smallPlaybookSource } from '../support/small-playbooks.js';

const configDir = mkdtempSync(join(tmpdir(), 'casebook-console-deliveries-'));
let shop: Receiver;
/** The shop refuses every message (422) until it is back. */
let back = false;

// Before useConsole's: `casebook start` reads the configuration from its environment.
beforeAll(async () => {
  const secret = newSecret();
  shop = await startReceiver([secret], (got) => (got.type === 'message.send' && !back ? { status: 422, body: { error: 'unknown buyer' } } : { status: 204 }));
  const config = join(configDir, 'casebook.yaml');
  writeFileSync(
    config,
    `destinations:
  shop:
    url: ${shop.url}
    secrets: [CONSOLE_DELIVERIES_WEBHOOK_SECRET]
    allow_private_address: true
channels:
  chat: { connector: webhook, destination: shop }
`,
  );
  process.env.CASEBOOK_CONFIG = config;
  process.env.CONSOLE_DELIVERIES_WEBHOOK_SECRET = secret;
});
const harness = useConsole();
afterAll(async () => {
  await shop?.close();
  rmSync(configDir, { recursive: true, force: true });
});

it('an admin delivers a refused message again from the case page; the receiver gets it under the same webhook-id', async () => {
  const source = smallPlaybookSource(
    'console-redelivery',
    `templates:
  accepted: { channel: chat, text: "Your return of order {{ data.order_id }} is accepted." }
steps:
  - id: tell
    send: { to: buyer, template: accepted, on_error: unreachable }
  - id: done
    end: { outcome: resolved, reason: told }
  - id: unreachable
    end: { outcome: escalated, reason: buyer_unreachable }
`,
  );
  expect((await harness.call('ops-lead', 'PUT', '/v1/playbooks/console-redelivery', source)).status).toBe(201);
  const opened = await harness.call('agent', 'POST', '/v1/cases', {
    playbook: 'console-redelivery',
    caseId: 'rd-console',
    data: { paid: { amount: 1_000, currency: 'CNY' }, order_id: 'RD-1' },
  });
  expect(opened.status).toBe(201);
  await expect
    .poll(async () => (await harness.call<{ status: string; outcome: unknown }>('auditor', 'GET', '/v1/cases/rd-console')).body, { timeout: 30_000 })
    .toMatchObject({ status: 'closed', outcome: { outcome: 'escalated', reason: 'buyer_unreachable' } });
  expect(shop.received.map((r) => r.id)).toEqual(['rd-console/tell/1']);

  // An agent sees the refused attempt, without the button.
  const agentPage = await harness.newPage();
  await harness.signIn(agentPage, 'agent');
  await agentPage.goto(`${harness.url}/console#/cases/rd-console`);
  const agentRows = agentPage.locator('section[aria-labelledby="case-deliveries"] tbody tr');
  await agentRows.first().waitFor();
  expect(await agentRows.first().textContent()).toContain('refused · HTTP 422');
  expect(await agentPage.getByRole('button', { name: /^Deliver again/ }).count()).toBe(0);

  const page = await harness.newPage();
  await harness.signIn(page, 'admin');
  await page.goto(`${harness.url}/console#/cases/rd-console`);
  const rows = page.locator('section[aria-labelledby="case-deliveries"] tbody tr');
  const status = page.locator('section[aria-labelledby="case-deliveries"] [role="status"]');
  await rows.first().waitFor();
  expect(await axe(page)).toEqual([]);
  // Still refused: the page says so, and the new attempt is listed with its button.
  await page.getByRole('button', { name: 'Deliver again: rd-console/tell/1' }).click();
  await expect.poll(() => status.textContent()).toBe('rd-console/tell/1 failed again (attempt 2: HTTP 422 · status · {"error":"unknown buyer"}).');
  await expect.poll(() => rows.count()).toBe(2);
  expect(await rows.nth(1).textContent()).toContain('asked by Root');

  back = true;
  await page.getByRole('button', { name: 'Deliver again: rd-console/tell/1' }).click();
  await expect.poll(() => status.textContent()).toBe('rd-console/tell/1 delivered (attempt 3, HTTP 204).');
  await expect.poll(() => rows.count()).toBe(3);
  expect(await rows.nth(2).textContent()).toContain('asked by Root');
  expect(await rows.nth(2).textContent()).toContain('delivered · HTTP 204');
  // Delivered now: no button any more.
  expect(await page.getByRole('button', { name: /^Deliver again/ }).count()).toBe(0);
  expect(shop.badSignatures).toBe(0);
  expect(shop.received.map((r) => r.id)).toEqual(['rd-console/tell/1', 'rd-console/tell/1', 'rd-console/tell/1']);
  expect(shop.received[2]!.data).toEqual(shop.received[0]!.data);
  // The case kept the path it took.
  expect((await harness.call<{ outcome: unknown }>('auditor', 'GET', '/v1/cases/rd-console')).body.outcome).toMatchObject({ reason: 'buyer_unreachable' });

  // In Chinese: the history row says who asked.
  const zh = await harness.newPage('zh-CN');
  await harness.signIn(zh, 'admin');
  await zh.goto(`${harness.url}/console#/cases/rd-console`);
  const zhRows = zh.locator('section[aria-labelledby="case-deliveries"] tbody tr');
  await expect.poll(() => zhRows.count()).toBe(3);
  expect(await zhRows.nth(2).textContent()).toContain('由 Root 发起');
}, 180_000);
