/**
 * Bulk operations in the console, in Chromium against the real stack: an ops lead selects three
 * waiting cases, sees the dry run's count and sample, runs the cancel and follows its progress to the
 * end; a second run skips each case and says why. Checked with axe; an agent sees no Bulk page.
 */
import { expect, it } from 'vitest';
import { axe, useConsole } from '../support/console.js';
import { smallPlaybookSource } from '../support/small-playbooks.js';

const harness = useConsole();

it('an ops lead cancels three cases by a query, with a dry run, progress and a report; a second run skips them', async () => {
  const source = smallPlaybookSource(
    'console-bulk',
    `events:
  warehouse.received: { payload: {} }
steps:
  - id: wait_warehouse
    wait: { events: [{ event: warehouse.received }], timeout: 7d, on_timeout: done }
  - id: done
    end: { outcome: resolved, reason: received }
`,
  );
  expect((await harness.call('ops-lead', 'PUT', '/v1/playbooks/console-bulk', source)).status).toBe(201);
  for (const id of ['cb-1', 'cb-2', 'cb-3']) {
    const opened = await harness.call('agent', 'POST', '/v1/cases', {
      playbook: 'console-bulk',
      caseId: id,
      data: { paid: { amount: 1_000, currency: 'CNY' }, order_id: id },
    });
    expect(opened.status).toBe(201);
  }
  await expect.poll(async () => (await harness.call<{ status: string }>('auditor', 'GET', '/v1/cases/cb-3')).body.status, { timeout: 30_000 }).toBe('waiting');

  const agent = await harness.newPage();
  await harness.signIn(agent, 'agent');
  expect(await agent.getByRole('link', { name: 'Bulk operations' }).count()).toBe(0);

  const page = await harness.newPage();
  await harness.signIn(page, 'ops-lead');
  await page.getByRole('link', { name: 'Bulk operations' }).click();
  await page.getByRole('heading', { name: 'Bulk operations' }).waitFor();
  await page.getByLabel('Playbook').fill('console-bulk');
  await page.getByLabel('Reason (recorded with your name)').fill('test orders');
  await page.getByRole('button', { name: 'Dry run' }).click();
  await page.getByText('3 cases match.').waitFor();
  expect(await page.locator('.bulk-dry-run tbody tr').count()).toBe(3);
  expect(await axe(page)).toEqual([]);

  await page.getByRole('button', { name: 'Run on 3 cases' }).click();
  await expect.poll(() => page.locator('.bulk-counts').textContent(), { timeout: 30_000 }).toBe('Finished: 3 of 3 reached: 3 done, 0 skipped, 0 failed');
  expect(await axe(page)).toEqual([]);
  await expect
    .poll(async () => (await harness.call<{ outcome: unknown }>('auditor', 'GET', '/v1/cases/cb-2')).body.outcome, { timeout: 30_000 })
    .toEqual({
      outcome: 'cancelled',
      reason: 'test orders',
    });

  // Again: each case is skipped, and the report says why.
  await page.getByRole('link', { name: 'All bulk operations' }).click();
  await page.getByLabel('Playbook').fill('console-bulk');
  await page.getByLabel('Reason (recorded with your name)').fill('test orders');
  await page.getByRole('button', { name: 'Dry run' }).click();
  await page.getByRole('button', { name: 'Run on 3 cases' }).click();
  await expect.poll(() => page.locator('.bulk-counts').textContent(), { timeout: 30_000 }).toBe('Finished: 3 of 3 reached: 0 done, 3 skipped, 0 failed');
  await expect.poll(() => page.getByRole('cell', { name: 'already cancelled' }).count()).toBe(3);
  expect(await axe(page)).toEqual([]);
}, 180_000);
