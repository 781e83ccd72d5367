/**
 * The Backtests page in Chromium against the real stack: a backtest of the return playbook started
 * through the API (there is no closed case yet, so it re-runs none) is listed, and its page shows it
 * done with its totals; an agent has no Backtests page.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { axe, useConsole } from '../support/console.js';

const harness = useConsole();
let id: string;

beforeAll(async () => {
  await harness.publish('return');
  const started = await harness.call<{ id: string }>('ops-lead', 'POST', '/v1/backtests', { name: 'return', version: 1 });
  expect(started.status).toBe(202);
  id = started.body.id;
}, 60_000);

describe('the Backtests page', () => {
  it('lists the backtest and shows its report once done', async () => {
    const page = await harness.newPage();
    await harness.signIn(page, 'ops-lead');
    expect(await page.locator('a[href="#/backtests"]').count()).toBe(1);
    await page.goto(`${harness.url}/console#/backtests`);
    const row = page.locator(`tr[data-backtest="${id}"]`);
    await row.waitFor();
    expect(await row.locator('td').nth(1).innerText()).toContain('return');
    expect(await axe(page)).toEqual([]);

    await row.locator('a').click();
    await page.locator('[data-backtest-status="done"]').waitFor({ timeout: 60_000 });
    expect(await page.locator('[data-totals="summary"]').textContent()).toBe('0 of 0 cases would change (0 skipped); outcomes changed: 0');
    expect(await page.locator('[data-totals="money"]').textContent()).toBe('Refunds: 0 → 0; money difference 0.00 CNY');
    expect(await axe(page)).toEqual([]);
  }, 90_000);

  it('is not offered to an agent', async () => {
    const page = await harness.newPage();
    await harness.signIn(page, 'agent');
    expect(await page.locator('a[href="#/queue"]').count()).toBe(1);
    expect(await page.locator('a[href="#/backtests"]').count()).toBe(0);
  });
});
