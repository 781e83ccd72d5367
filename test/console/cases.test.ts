/**
 * The Cases pages in Chromium against the real stack: sign in, find a case by its order id, open it,
 * read its timeline with the evidence of each decision; what a warehouse key sees; axe on each page.
 */
import { Client, Connection } from '@temporalio/client';
import { expect, it } from 'vitest';
import { axe, screenshot, useConsole } from '../support/console.js';

const harness = useConsole();
const DAY = 86_400_000;

/** A seven-day return: signed for `signedDaysAgo` days ago, of 199.00 with 10.00 outbound shipping. */
const returnData = (orderId: string, signedDaysAgo: number) => ({
  order_id: orderId,
  buyer_name: 'Li Na',
  order_total: { amount: 19900, currency: 'CNY' },
  outbound_shipping: { amount: 1000, currency: 'CNY' },
  shipped_free: false,
  signed_at: new Date(Date.now() - signedDaysAgo * DAY).toISOString(),
  reason: 'no_reason',
  shipping_insurance: false,
});

async function waitForStatus(caseId: string, status: string): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    if ((await harness.call<{ status: string }>('auditor', 'GET', `/v1/cases/${caseId}`)).body.status === status) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${caseId} did not become ${status}`);
}

/** Two returns: one refunded after the warehouse received it, one refused (signed for 8 days ago). */
async function seed(): Promise<void> {
  await harness.publish('return');
  for (const [caseId, orderId, days] of [
    ['ret-refunded', 'TB-20261125-001', 2],
    ['ret-refused', 'TB-20261125-002', 8],
    ['ret-waiting', 'TB-20261125-003', 1],
  ] as const) {
    const opened = await harness.call('agent', 'POST', '/v1/cases', { playbook: 'return', caseId, data: returnData(orderId, days) });
    expect(opened.status).toBe(201);
  }
  // Both buyers in the window decline the exchange offered first.
  for (const caseId of ['ret-refunded', 'ret-waiting']) {
    await waitForStatus(caseId, 'waiting');
    const kept = await harness.call('agent', 'POST', `/v1/cases/${caseId}/events`, { type: 'buyer.kept_return', id: `kept-${caseId}`, payload: {} });
    expect(kept.status).toBe(202);
  }
  const received = await harness.call('warehouse', 'POST', '/v1/cases/ret-refunded/events', {
    type: 'warehouse.received',
    id: 'wh-ret-refunded',
    payload: { condition: 'resellable' },
  });
  expect(received.status).toBe(202);
  await waitForStatus('ret-refunded', 'closed');
  await waitForStatus('ret-refused', 'closed');
  for (let i = 0; (await harness.call<{ step: string }>('auditor', 'GET', '/v1/cases/ret-waiting')).body.step !== 'wait_shipment'; i += 1) {
    if (i === 100) throw new Error('ret-waiting does not wait for the parcel');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

it('an agent signs in, finds a case by its order id and reads why each decision went its way', async () => {
  await seed();
  const page = await harness.newPage();
  await page.goto(`${harness.url}/console`);
  await page.getByRole('heading', { name: 'Sign in to Casebook' }).waitFor();
  expect(await axe(page)).toEqual([]);
  await screenshot(page, 'sign-in');

  await harness.signIn(page, 'agent');
  expect(await page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents()).toContain('Cases');
  await page.getByRole('link', { name: 'ret-refused' }).waitFor();
  const rows = page.getByRole('table').locator('tbody tr');
  expect(await rows.locator('td:first-child').allTextContents()).toEqual(['ret-waiting', 'ret-refused', 'ret-refunded']);
  expect(await axe(page)).toEqual([]);
  await screenshot(page, 'cases');

  await page.getByLabel('Order id').fill('TB-20261125-001');
  await page.getByRole('button', { name: 'Search' }).click();
  await expect.poll(() => rows.locator('td:first-child').allTextContents()).toEqual(['ret-refunded']);
  const { openedAt } = (await harness.call<{ cases: { openedAt: string }[] }>('agent', 'GET', '/v1/cases?orderId=TB-20261125-001')).body.cases[0]!;
  const inShanghai = new Intl.DateTimeFormat('sv-SE', {
    timeZone: 'Asia/Shanghai',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  });
  expect(await rows.first().locator('td').allTextContents()).toEqual([
    'ret-refunded',
    'return v1',
    'Closed',
    '—',
    'TB-20261125-001',
    'resolved',
    inShanghai.format(new Date(openedAt)),
  ]);
  await page.getByLabel('Outcome').fill('refused');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('No case matches.').waitFor();

  // Opening days are the shop's (Shanghai) days: today's has both cases, yesterday's none.
  const today = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai' }).format(new Date(openedAt));
  const yesterday = new Date(Date.parse(`${today}T00:00:00Z`) - DAY).toISOString().slice(0, 10);
  await page.getByLabel('Order id').fill('');
  await page.getByLabel('Outcome').fill('');
  await page.getByLabel('Opened from').fill(today);
  await page.getByLabel('Opened to (inclusive)').fill(today);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect.poll(() => rows.locator('td:first-child').allTextContents()).toEqual(['ret-waiting', 'ret-refused', 'ret-refunded']);
  await page.getByLabel('Opened from').fill(yesterday);
  await page.getByLabel('Opened to (inclusive)').fill(yesterday);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('No case matches.').waitFor();
  await page.getByRole('button', { name: 'Clear' }).click();
  await page.getByRole('link', { name: 'ret-refunded' }).waitFor();
  await page.getByRole('link', { name: 'ret-refunded' }).click();
  await page.getByRole('heading', { name: 'ret-refunded', level: 1 }).waitFor();
  const steps = page.locator('ol.timeline > li');
  await steps.first().waitFor();
  expect(await steps.evaluateAll((items) => items.map((item) => item.getAttribute('data-step')))).toEqual([
    'check_window',
    'offer_exchange',
    'wait_exchange_answer',
    'approve',
    'send_address',
    'check_insurance',
    'wait_shipment',
    'compute_refund',
    'refund_no_reason',
    'thank_buyer',
    'end_refunded',
  ]);
  const checkWindow = steps.nth(0);
  expect(await checkWindow.locator('.why').allTextContents()).toEqual(['went to offer_exchange: now - data.signed_at <= policy.return_window was true']);
  expect(await checkWindow.locator('dl.evidence dt').allTextContents()).toContain('policy.return_window');
  expect(await steps.nth(2).locator('.why').allTextContents()).toEqual(['took the event buyer.kept_return', expect.stringMatching(/^waited \d+s$/)]);
  expect(await steps.nth(6).locator('.why').allTextContents()).toEqual(['took the event warehouse.received', expect.stringMatching(/^waited \d+s$/)]);
  expect(await steps.nth(6).textContent()).toContain('by Depot Hangzhou');
  expect(await steps.nth(7).locator('.why').first().textContent()).toMatch(/^went to refund_no_reason: none of .* was true$/);
  expect(await steps.nth(10).locator('.why').allTextContents()).toEqual(['ended: resolved (refunded)']);

  const refunds = page.locator('section[aria-labelledby="case-refunds"] tbody tr');
  expect(await refunds.locator('td').nth(1).textContent()).toBe('¥189.00');
  expect(await page.locator('section[aria-labelledby="case-messages"] tbody td.mono').allTextContents()).toEqual([
    'offer_exchange',
    'return_address',
    'refund_sent',
  ]);
  expect(await page.locator('section[aria-labelledby="case-remarks"] tbody td').nth(2).textContent()).toMatch(
    /^Lei \(after-sale\) · return approved \(no_reason\) · /,
  );
  const temporalLink = page.getByRole('link', { name: 'Open in the Temporal Web UI' });
  expect(await temporalLink.getAttribute('href')).toBe(
    `${harness.temporalUiUrl}/namespaces/default/workflows/${(await harness.call<{ workflowId: string }>('agent', 'GET', '/v1/cases/ret-refunded/history')).body.workflowId}`,
  );
  expect(await axe(page)).toEqual([]);
  await screenshot(page, 'case');
});

it('the Temporal search behind the list finds closed cases by outcome and reason, with the query the console links to', async () => {
  const connection = await Connection.connect({ address: harness.temporalAddress });
  try {
    const client = new Client({ connection });
    const workflowsOf = async (query: string) => {
      const ids: string[] = [];
      for await (const workflow of client.workflow.list({ query })) ids.push(workflow.workflowId);
      return ids;
    };
    await expect
      .poll(() => workflowsOf('Playbook="return" AND CaseOutcome="resolved" AND CaseReason="refunded"'), { timeout: 15_000 })
      .toEqual(['case-ret-refunded']);
    await expect.poll(() => workflowsOf('CaseOutcome="refused" AND CaseReason="outside_return_window"'), { timeout: 15_000 }).toEqual(['case-ret-refused']);
  } finally {
    await connection.close();
  }

  const page = await harness.newPage();
  await page.goto(`${harness.url}/console`);
  await harness.signIn(page, 'ops-lead');
  await page.getByLabel('Outcome').fill('resolved');
  await page.getByLabel('Reason').fill('refunded');
  await page.getByRole('button', { name: 'Search' }).click();
  const link = page.getByRole('link', { name: 'The same cases in the Temporal Web UI' });
  await expect.poll(() => link.locator('xpath=following-sibling::code').textContent()).toBe('CaseOutcome="resolved" AND CaseReason="refunded"');
  expect(await link.getAttribute('href')).toBe(
    `${harness.temporalUiUrl}/namespaces/default/workflows?query=${encodeURIComponent('CaseOutcome="resolved" AND CaseReason="refunded"')}`,
  );
});

it('switches to Simplified Chinese and keeps it', async () => {
  const page = await harness.newPage('zh-CN');
  await harness.signIn(page, 'auditor');
  expect(await page.getAttribute('html', 'lang')).toBe('zh-CN');
  await page.getByRole('heading', { name: '工单', level: 1 }).waitFor();
  expect(await page.getByRole('navigation', { name: '页面' }).getByRole('link', { name: '工单' }).count()).toBe(1);
  expect(await axe(page)).toEqual([]);
  await page.getByRole('combobox', { name: '语言' }).selectOption('en');
  await page.getByRole('heading', { name: 'Cases', level: 1 }).waitFor();
  expect(await page.getAttribute('html', 'lang')).toBe('en');
  await page.reload();
  await page.getByRole('heading', { name: 'Cases', level: 1 }).waitFor();
});

it('a warehouse key sees no page, and cannot open the cases page', async () => {
  const page = await harness.newPage();
  await harness.signIn(page, 'warehouse');
  await page.getByText('The warehouse role has no page in the console.', { exact: false }).waitFor();
  expect(await page.getByRole('navigation').count()).toBe(0);
  await page.goto(`${harness.url}/console#/cases/ret-refunded`);
  await page.getByText('The warehouse role has no page in the console.', { exact: false }).waitFor();
  expect(await page.locator('table, ol.timeline').count()).toBe(0);
  expect(await page.getByText('ret-refunded').count()).toBe(0);
  expect(await axe(page)).toEqual([]);
});

it('a wrong key is refused on the sign-in form; signing out forgets the key', async () => {
  const page = await harness.newPage();
  await page.goto(`${harness.url}/console`);
  await page.getByLabel('API key').fill('cb_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'This key is not valid' }).waitFor();

  await harness.signIn(page, 'agent');
  // The signed-in shell has drawn its first page before the address changes under it.
  await page.getByRole('heading', { name: 'Cases', level: 1 }).waitFor();
  await page.goto(`${harness.url}/console#/figures`);
  await page.getByText('The agent role may not open this page.').waitFor();
  expect(await page.getByRole('navigation', { name: 'Pages' }).getByRole('link').allTextContents()).not.toContain('Figures');
  await page.goto(`${harness.url}/console#/nowhere`);
  await page.getByText('There is no page #/nowhere.').waitFor();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to Casebook' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { name: 'Sign in to Casebook' }).waitFor();
});

it('a waiting case shows what it waits for and the time left on each deadline', async () => {
  const page = await harness.newPage();
  await harness.signIn(page, 'ops-lead');
  await page.goto(`${harness.url}/console#/cases/ret-waiting`);
  await page.getByRole('heading', { name: 'Summary', level: 2 }).waitFor();
  const summary = page.locator('section[aria-labelledby="case-summary"] dd');
  expect((await summary.allTextContents()).slice(0, 3)).toEqual(['return v1', 'wait_shipment', 'buyer.shipped, warehouse.received']);
  const deadlines = page.locator('section[aria-labelledby="case-deadlines"] tbody tr');
  const rows = await deadlines.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
  // Seven days to ship back, a reminder every two days: read within the minute the case opened.
  expect(rows.map((row) => [row[0], row[1], row[3]])).toEqual([
    ['timeout', 'wait_shipment', expect.stringMatching(/^(6d 23h|7d 0h) left$/)],
    ['reminder', 'wait_shipment', expect.stringMatching(/^(1d 23h|2d 0h) left$/)],
  ]);
  expect(await axe(page)).toEqual([]);
});
