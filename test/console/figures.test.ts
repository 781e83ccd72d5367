/**
 * The Figures page in Chromium against the real stack: three returns opened through the API (two for
 * a wrong size, one for a quality problem) and received by the warehouse are refunded by their
 * playbook; a fourth (the buyer changed their mind) comes back damaged and waits for an agent's
 * decision, not refunded yet. The page's default range (the last seven days in the shop's time zone)
 * shows exactly them: the reasons with their shares and the top three marked, four receipts owed a
 * refund, three of three decided paid within 24 hours and one pending, four cases opened today and
 * three resolved; the CSV download says the same. An agent has no Figures page; the Chinese page
 * speaks Chinese.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { axe, screenshot, useConsole } from '../support/console.js';

const harness = useConsole();
const RETURNS = [
  ['fig-ret-1', 'wrong_size'],
  ['fig-ret-2', 'wrong_size'],
  ['fig-ret-3', 'quality'],
  ['fig-ret-4', 'changed_mind'],
] as const;
/** Received damaged: a no-reason return an agent decides on, so no refund yet. */
const DAMAGED = 'fig-ret-4';

/** Today in the shop's time zone (the stack's default, Asia/Shanghai). */
const today = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());

/** Asks `read` every 200 ms until it answers `wanted` (30 s at most). */
async function until<T>(read: () => Promise<T>, wanted: T, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (last === wanted) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what}: still ${JSON.stringify(last)}, not ${JSON.stringify(wanted)}, after 30 s`);
}

beforeAll(async () => {
  await harness.publish('return');
  for (const [caseId, reason] of RETURNS) {
    const opened = await harness.call('agent', 'POST', '/v1/cases', {
      playbook: 'return',
      caseId,
      data: {
        order_id: `TB-${caseId}`,
        buyer_name: 'Wang',
        order_total: { amount: 19_900, currency: 'CNY' },
        outbound_shipping: { amount: 800, currency: 'CNY' },
        shipped_free: false,
        signed_at: new Date(Date.now() - 86_400_000).toISOString(),
        reason,
        shipping_insurance: false,
      },
    });
    expect(opened.status).toBe(201);
  }
  for (const [caseId] of RETURNS) {
    // Each buyer declines the exchange offered first.
    await until(
      async () => (await harness.call<{ step: string }>('agent', 'GET', `/v1/cases/${caseId}`)).body.step,
      'wait_exchange_answer',
      `${caseId} waiting for the answer to the exchange offer`,
    );
    const kept = await harness.call('agent', 'POST', `/v1/cases/${caseId}/events`, { type: 'buyer.kept_return', id: `kept-${caseId}`, payload: {} });
    expect(kept.status).toBe(202);
    await until(
      async () => (await harness.call<{ step: string }>('agent', 'GET', `/v1/cases/${caseId}`)).body.step,
      'wait_shipment',
      `${caseId} waiting for the parcel`,
    );
    const condition = caseId === DAMAGED ? 'damaged' : 'resellable';
    const received = await harness.call('warehouse', 'POST', `/v1/cases/${caseId}/events`, {
      type: 'warehouse.received',
      id: `wh-${caseId}`,
      payload: { condition },
    });
    expect(received.status).toBe(202);
  }
  for (const [caseId] of RETURNS.filter(([id]) => id !== DAMAGED)) {
    await until(
      async () => (await harness.call<{ outcome: { reason: string } | null }>('agent', 'GET', `/v1/cases/${caseId}`)).body.outcome?.reason,
      'refunded',
      `${caseId} refunded`,
    );
  }
  await until(
    async () => (await harness.call<{ step: string }>('agent', 'GET', `/v1/cases/${DAMAGED}`)).body.step,
    'decide_damaged',
    `${DAMAGED} waiting for an agent`,
  );
}, 120_000);

const openFigures = async (page: Page) => {
  await page.goto(`${harness.url}/console#/figures`);
  await page.locator('section[data-figure="reasons"] table').waitFor();
};

const cells = (page: Page, row: string) => page.locator(row).locator('th, td').allInnerTexts();

describe('as the ops lead', () => {
  it('shows the reasons, the refunds after receipt and the cases of the days, exactly those the test created', async () => {
    const page = await harness.newPage();
    await harness.signIn(page, 'ops-lead');
    await openFigures(page);
    expect(await page.getByLabel('From').inputValue()).toBe(new Date(Date.parse(`${today()}T00:00:00Z`) - 6 * 86_400_000).toISOString().slice(0, 10));
    expect(await page.getByLabel('To (inclusive)').inputValue()).toBe(today());

    const reasons = 'section[data-figure="reasons"]';
    expect(await page.locator(`${reasons} [data-measure="total"]`).textContent()).toBe('4 returns and exchanges opened');
    expect(await cells(page, `${reasons} tr[data-reason="wrong_size"]`)).toEqual(['Wrong size Top 3', '2', '0', '2', '50%']);
    expect(await cells(page, `${reasons} tr[data-reason="quality"]`)).toEqual(['Quality problem Top 3', '1', '0', '1', '25%']);
    expect(await cells(page, `${reasons} tr[data-reason="changed_mind"]`)).toEqual(['Changed mind Top 3', '1', '0', '1', '25%']);
    expect(await page.locator(`${reasons} tr.top-three`).count()).toBe(3);
    expect(await page.locator(`${reasons} svg.chart g.bar-row.highlight`).count()).toBe(3);

    const refunds = 'section[data-figure="refunds"]';
    const measure = (name: string) => page.locator(`${refunds} [data-measure="${name}"]`).textContent();
    expect(await measure('receipts')).toBe('4');
    expect(await measure('within24h')).toBe('3 of 3');
    expect(await measure('latePaid')).toBe('0');
    expect(await measure('lateUnpaid')).toBe('0');
    expect(await measure('pending')).toBe('1');
    expect(await measure('shareWithin24h')).toBe('100%');
    expect(await page.locator(`${refunds} svg.chart g.bar-row.tone-quiet`).getAttribute('data-key')).toBe('pending');
    expect(await page.locator(`${refunds}`).getByText('No refund was late.').count()).toBe(1);

    expect(await cells(page, `section[data-figure="per-day"] tr[data-date="${today()}"]`)).toEqual([today(), '4', '3']);
    expect(await page.locator('section[data-figure="per-day"] thead th').allInnerTexts()).toEqual(['Day', 'Opened', 'Closed: Resolved']);

    expect(await axe(page)).toEqual([]);
    await screenshot(page, 'figures');
  });

  it('downloads the same figures as CSV', async () => {
    const page = await harness.newPage();
    await harness.signIn(page, 'ops-lead');
    await openFigures(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const to = new Date(Date.parse(`${today()}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^casebook-figures-\\d{4}-\\d\\d-\\d\\d-to-${to}\\.csv$`));
    const lines = readFileSync((await download.path())!, 'utf8')
      .replace(/^\ufeff/, '')
      .split('\r\n');
    expect(lines[0]).toBe('figure,item,measure,value');
    expect(lines).toEqual(
      expect.arrayContaining([
        'reasons,all,cases,4',
        'reasons,wrong_size,cases,2',
        'reasons,wrong_size,share,0.5',
        'reasons,wrong_size,top_three,true',
        'refunds_after_receipt,all,receipts,4',
        'refunds_after_receipt,all,within_24h,3',
        'refunds_after_receipt,all,pending,1',
        'refunds_after_receipt,all,late_unpaid,0',
        'refunds_after_receipt,all,refunded,3',
        'refunds_after_receipt,all,share_within_24h,1',
        `cases_per_day,${today()},opened,4`,
        `cases_per_day,${today()},closed_resolved,3`,
      ]),
    );
  });

  it('narrows the figures to a playbook that has no cases', async () => {
    await harness.publish('presale');
    const page = await harness.newPage();
    await harness.signIn(page, 'ops-lead');
    await openFigures(page);
    await page.locator('select#figures-playbook').selectOption('presale');
    await page.getByRole('button', { name: 'Show' }).click();
    await page.getByText('No return or exchange opened in this range.').waitFor();
    expect(await page.locator('p.range').textContent()).toContain('presale');
  });
});

describe('other roles and languages', () => {
  it('an auditor reads the figures, in Chinese when the browser speaks it', async () => {
    const page = await harness.newPage('zh-CN');
    await harness.signIn(page, 'auditor');
    await openFigures(page);
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('数据');
    expect(await page.locator('section[data-figure="reasons"] tr[data-reason="wrong_size"] th').textContent()).toBe('尺码不合适 前三');
    expect(await page.locator('section[data-figure="refunds"] [data-measure="within24h"]').textContent()).toBe('3 中的 3');
    expect(await page.locator('section[data-figure="refunds"] dt').allInnerTexts()).toContain('收货未满 24 小时，尚未退款');
    expect(await axe(page)).toEqual([]);
  });

  it('an agent has no Figures page', async () => {
    const page = await harness.newPage();
    await harness.signIn(page, 'agent');
    expect(await page.getByRole('navigation').getByRole('link', { name: 'Figures' }).count()).toBe(0);
    await page.goto(`${harness.url}/console#/figures`);
    await page.getByText('The agent role may not open this page.').waitFor();
  });
});
