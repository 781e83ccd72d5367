/**
 * Changing a playbook safely, walked in Chromium against the real stack: the ops lead publishes v2 of
 * the return playbook with a longer receipt timeout (not current), opens its diff against the current
 * v1 (the changed wait marked in both flows, the YAML line side by side), backtests v2 and reads the
 * report next to the same diff, previews moving the open cases to v2 (each deadline's move; a case a
 * step mapping sends to a step of another kind stays) and moves them as a bulk job (the case's
 * timeline says so), then cancels the cases now on v2 in bulk with a dry run and progress. The diff
 * and the move page read in Chinese; an agent has no move page.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it, vi } from 'vitest';
import { ROOT } from '../e2e/casebook-process.js';
import { axe, screenshot, useConsole } from '../support/console.js';
import { returnCaseData } from '../support/playbooks.js';

const harness = useConsole();
const RETURN_YAML = readFileSync(join(ROOT, 'playbooks/return.yaml'), 'utf8');
const LONGER_RECEIPT_YAML = RETURN_YAML.replace('receipt_timeout: 10d', 'receipt_timeout: 14d');

const waitForStep = (caseId: string, step: string) =>
  vi.waitFor(
    async () => {
      const { body } = await harness.call<{ step: string }>('agent', 'GET', `/v1/cases/${caseId}`);
      if (body.step !== step) throw new Error(`case ${caseId} is at ${body.step}, not ${step}`);
    },
    { timeout: 30_000, interval: 250 },
  );

const event = async (caseId: string, type: string, payload: Record<string, unknown>) =>
  expect((await harness.call('agent', 'POST', `/v1/cases/${caseId}/events`, { type, id: `${caseId}-${type}`, payload })).status).toBe(202);

/** A return case opened on v1, taken to the wait for the parcel (`wait_receipt`) unless `stopAtAnswer`. */
async function openReturn(caseId: string, stopAtAnswer = false) {
  const opened = await harness.call('agent', 'POST', '/v1/cases', {
    playbook: 'return',
    caseId,
    data: returnCaseData(`TB-${caseId}`, Date.now() - 86_400_000, { buyer_name: 'Wang', outbound_shipping: { amount: 800, currency: 'CNY' } }),
  });
  expect(opened.status).toBe(201);
  await waitForStep(caseId, 'wait_exchange_answer');
  if (stopAtAnswer) return;
  await event(caseId, 'buyer.kept_return', {});
  await waitForStep(caseId, 'wait_shipment');
  await event(caseId, 'buyer.shipped', { tracking_number: `SF-${caseId}` });
  await waitForStep(caseId, 'wait_receipt');
}

/** The data-step attributes of the nodes the selector finds, sorted. */
const steps = async (page: Page, selector: string) =>
  (await Promise.all((await page.locator(selector).all()).map((node) => node.getAttribute('data-step')))).sort();

beforeAll(async () => {
  await harness.publish('return');
  const v2 = await harness.call<{ version: number; current: number }>('ops-lead', 'PUT', '/v1/playbooks/return', LONGER_RECEIPT_YAML);
  expect(v2.status).toBe(201);
  expect(v2.body).toMatchObject({ version: 2, current: 1 });
  await Promise.all([openReturn('walk-1'), openReturn('walk-2'), openReturn('walk-3', true)]);
}, 120_000);

it('walks the diff of v2 against the current v1, the backtest report next to it, a migration preview and move, and a bulk cancel', async () => {
  const page = await harness.newPage();
  await harness.signIn(page, 'ops-lead');

  // The diff, from the playbook's versions.
  await page.goto(`${harness.url}/console#/playbooks/return`);
  await page.locator('tr[data-version="2"] a[data-diff="2"]').click();
  await page.getByRole('heading', { name: 'return: v2 against v1' }).waitFor();
  await page.locator('.diff-side[data-side="after"] svg.flow g.node').first().waitFor();
  expect(await page.locator('[data-step-change]').evaluateAll((items) => items.map((item) => item.getAttribute('data-step-change')))).toEqual(['changed']);
  expect(await page.locator('[data-step-change="changed"] dd').textContent()).toBe('wait_receipt');
  expect(await steps(page, '.diff-side[data-side="before"] g.node.diff-changed')).toEqual(['wait_receipt']);
  expect(await steps(page, '.diff-side[data-side="after"] g.node.diff-changed')).toEqual(['wait_receipt']);
  expect(await page.locator('svg.flow g.node.diff-added, svg.flow g.node.diff-removed').count()).toBe(0);
  // Each flow scrolls to its first changed step, far below the first one.
  const inView = (side: string) =>
    page.evaluate(`(() => {
      const region = document.querySelector('.diff-side[data-side="${side}"] .flow-scroll').getBoundingClientRect();
      const node = document.querySelector('.diff-side[data-side="${side}"] g.node[data-step="wait_receipt"]').getBoundingClientRect();
      return node.top >= region.top && node.bottom <= region.bottom && node.left >= region.left && node.right <= region.right;
    })()`);
  expect([await inView('before'), await inView('after')]).toEqual([true, true]);
  expect(await page.locator('[data-line-counts]').textContent()).toBe('Lines: 1 added, 1 removed.');
  expect(await page.locator('.yaml-diff td.removed code').allTextContents()).toEqual(['  receipt_timeout: 10d']);
  expect(await page.locator('.yaml-diff td.added code').allTextContents()).toEqual(['  receipt_timeout: 14d']);
  expect(await page.locator('.yaml-diff tr.fold').count()).toBe(2);
  expect(await axe(page)).toEqual([]);
  await screenshot(page, 'playbook-diff');

  // The backtest of v2: its report, and next to it the same diff (against v1, the current version it was compared with).
  const started = await harness.call<{ id: string }>('ops-lead', 'POST', '/v1/backtests', { name: 'return', version: 2 });
  expect(started.status).toBe(202);
  await page.getByRole('link', { name: 'Backtests' }).click();
  expect(await page.locator(`tr[data-backtest="${started.body.id}"] td`).nth(1).innerText()).toMatch(/^return v2 [0-9a-f]{12}$/);
  await page.locator(`tr[data-backtest="${started.body.id}"] a`).click();
  await page.locator('[data-backtest-status="done"]').waitFor({ timeout: 60_000 });
  expect(await page.locator('[data-totals="summary"]').textContent()).toBe('0 of 0 cases would change (0 skipped); outcomes changed: 0');
  expect(await page.locator('[data-totals="effects"]').textContent()).toBe('Escalations: 0 → 0; messages sent: 0 → 0; deadlines missed: 0 → 0');
  await page.getByRole('heading', { name: 'What changed: v2 against v1' }).waitFor();
  await page.locator('.backtest-diff .diff-side[data-side="after"] svg.flow g.node').first().waitFor();
  expect(await steps(page, '.backtest-diff .diff-side[data-side="after"] g.node.diff-changed')).toEqual(['wait_receipt']);
  expect(await page.locator('.backtest-diff .yaml-diff td.added code').allTextContents()).toEqual(['  receipt_timeout: 14d']);
  expect(await axe(page)).toEqual([]);
  await page.getByRole('link', { name: 'Open the diff on its own page' }).click();
  await page.getByRole('heading', { name: 'return: v2 against v1' }).waitFor();

  // The migration preview, from v2's page: a mapping naming no step is refused at its pointer.
  await page.goto(`${harness.url}/console#/playbooks/return/2`);
  await page.getByRole('link', { name: 'Move open cases to v2' }).click();
  await page.getByRole('heading', { name: 'Move cases to another version' }).waitFor();
  await expect.poll(() => page.getByLabel('Move to version').inputValue()).toBe('2');
  await page.getByRole('button', { name: 'Add a step mapping' }).click();
  await page.getByLabel('Old step id').fill('wait_exchange_answer');
  await page.getByLabel('New step id').fill('wait_for_answer');
  await page.getByRole('button', { name: 'Preview' }).click();
  await expect.poll(() => page.getByRole('alert').textContent()).toContain('/mapping/wait_exchange_answer');
  // Mapped to a step of another kind, the case waiting for the buyer's answer cannot move; the two waiting for the parcel can.
  await page.getByLabel('New step id').fill('check_window');
  await page.getByRole('button', { name: 'Preview' }).click();
  await page.getByText('2 of 3 open cases can move to v2.').waitFor();
  for (const id of ['walk-1', 'walk-2']) {
    const row = page.locator(`tr[data-case="${id}"]`);
    expect(await row.getAttribute('data-movable')).toBe('true');
    expect(await row.locator('li[data-change="deadline"]').textContent()).toMatch(/wait_receipt.* moves from .+ to .+/);
  }
  const stays = page.locator('tr[data-case="walk-3"]');
  expect(await stays.getAttribute('data-movable')).toBe('false');
  expect(await stays.locator('li[data-reason]').count()).toBeGreaterThan(0);
  expect(await axe(page)).toEqual([]);
  await screenshot(page, 'migration-preview');

  // Moving them: a bulk job, followed on the Bulk operations page; each moved case's detail says what changed.
  await page.getByLabel('Reason (recorded with your name)').fill('longer receipt window');
  await page.getByRole('button', { name: 'Move 2 cases to v2' }).click();
  await expect.poll(() => page.locator('.bulk-counts').textContent(), { timeout: 60_000 }).toBe('Finished: 3 of 3 reached: 2 done, 1 skipped, 0 failed');
  expect(await page.locator('tr[data-case="walk-1"] td').nth(1).textContent()).toBe('done');
  expect(await page.locator('tr[data-case="walk-1"] td').nth(2).textContent()).toMatch(/v2/);
  expect(await page.locator('tr[data-case="walk-3"] td').nth(1).textContent()).toBe('skipped');
  expect(await axe(page)).toEqual([]);
  for (const id of ['walk-1', 'walk-2']) expect((await harness.call<{ version: number }>('auditor', 'GET', `/v1/cases/${id}`)).body.version).toBe(2);
  expect((await harness.call<{ version: number }>('auditor', 'GET', '/v1/cases/walk-3')).body.version).toBe(1);

  // The case's timeline says who moved it, why, and how its deadline moved.
  await page.goto(`${harness.url}/console#/cases/walk-1`);
  const moved = page.locator('ol.timeline li').filter({ hasText: 'moved from v1 to v2' });
  await moved.waitFor();
  expect(await moved.locator('p.why').allTextContents()).toEqual([
    'moved from v1 to v2: longer receipt window',
    'steps mapped: wait_exchange_answer → check_window',
    expect.stringMatching(/^the deadline of wait_receipt moved from .+ to .+$/),
  ]);
  expect(await axe(page)).toEqual([]);

  // A bulk cancel of the cases now on v2: the dry run's count, then the job to its end.
  await page.getByRole('link', { name: 'Bulk operations' }).click();
  await page.getByLabel('Playbook').fill('return');
  await page.getByLabel('Version').fill('2');
  await page.getByLabel('Reason (recorded with your name)').fill('walk over');
  await page.getByRole('button', { name: 'Dry run' }).click();
  await page.getByText('2 cases match.').waitFor();
  await page.getByRole('button', { name: 'Run on 2 cases' }).click();
  await expect.poll(() => page.locator('.bulk-counts').textContent(), { timeout: 30_000 }).toBe('Finished: 2 of 2 reached: 2 done, 0 skipped, 0 failed');
  await expect
    .poll(async () => (await harness.call<{ outcome: unknown }>('auditor', 'GET', '/v1/cases/walk-2')).body.outcome, { timeout: 30_000 })
    .toEqual({ outcome: 'cancelled', reason: 'walk over' });
  expect((await harness.call<{ status: string }>('auditor', 'GET', '/v1/cases/walk-3')).body.status).toBe('waiting');
  expect(await axe(page)).toEqual([]);
}, 300_000);

it('reads the diff and the move page in Simplified Chinese; an agent has no move page', async () => {
  const page = await harness.newPage('zh-CN');
  await harness.signIn(page, 'ops-lead');
  await page.goto(`${harness.url}/console#/playbooks/return/2/diff`);
  await page.getByRole('heading', { name: 'return：第 2 版对比第 1 版' }).waitFor();
  await page.locator('[data-line-counts]').waitFor();
  expect(await page.locator('[data-line-counts]').textContent()).toBe('行：新增 1，删除 1。');
  await page.getByLabel('对比版本').selectOption('2');
  await page.getByRole('heading', { name: 'return：第 2 版对比第 2 版' }).waitFor();
  await page.getByText('两个版本的计划相同。').waitFor();
  expect(await axe(page)).toEqual([]);
  await page.getByRole('link', { name: '迁移工单' }).click();
  await page.getByRole('heading', { name: '将工单迁移到其他版本' }).waitFor();
  expect(await axe(page)).toEqual([]);

  const agent = await harness.newPage();
  await harness.signIn(agent, 'agent');
  expect(await agent.locator('a[href="#/migrations"]').count()).toBe(0);
  await agent.goto(`${harness.url}/console#/migrations/return`);
  await agent.getByText('The agent role may not open this page.').waitFor();
}, 60_000);
