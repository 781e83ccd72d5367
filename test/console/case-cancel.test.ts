/**
 * Cancelling a case from the console's case page, in Chromium against the real stack: an agent gives a
 * reason, the case's compensation runs and it closes `cancelled`, with who and why in the timeline and
 * in Temporal's search attributes; an auditor sees no button.
 */
import { Client, Connection } from '@temporalio/client';
import { expect, it } from 'vitest';
import { axe, KEY_NAMES, useConsole } from '../support/console.js';
import { smallPlaybookSource } from '../support/small-playbooks.js';

const harness = useConsole();

it('an agent cancels a waiting case with a reason; the compensation runs and the case closes cancelled', async () => {
  const source = smallPlaybookSource(
    'console-cancel',
    `events:
  warehouse.received: { payload: {} }
steps:
  - id: flag_order
    remark: { text: "return requested", flag: red }
    compensate: unflag_order
  - id: wait_warehouse
    wait: { events: [{ event: warehouse.received }], timeout: 7d, on_timeout: done }
  - id: done
    end: { outcome: resolved, reason: received }
compensations:
  - id: unflag_order
    remark: { text: "return cancelled", flag: grey }
`,
  );
  expect((await harness.call('ops-lead', 'PUT', '/v1/playbooks/console-cancel', source)).status).toBe(201);
  const opened = await harness.call('agent', 'POST', '/v1/cases', {
    playbook: 'console-cancel',
    caseId: 'cc-1',
    data: { paid: { amount: 1_000, currency: 'CNY' }, order_id: 'CC-1' },
  });
  expect(opened.status).toBe(201);
  await expect.poll(async () => (await harness.call<{ status: string }>('auditor', 'GET', '/v1/cases/cc-1')).body.status, { timeout: 30_000 }).toBe('waiting');

  // An auditor reads the case but may not cancel it.
  const auditor = await harness.newPage();
  await harness.signIn(auditor, 'auditor');
  await auditor.goto(`${harness.url}/console#/cases/cc-1`);
  await auditor.getByRole('heading', { name: 'cc-1' }).waitFor();
  await auditor.getByText('wait_warehouse').first().waitFor();
  expect(await auditor.getByRole('button', { name: 'Cancel case' }).count()).toBe(0);

  const page = await harness.newPage();
  await harness.signIn(page, 'agent');
  await page.goto(`${harness.url}/console#/cases/cc-1`);
  await page.getByRole('button', { name: 'Cancel case' }).click();
  const confirm = page.getByRole('button', { name: 'Cancel the case' });
  expect(await confirm.isDisabled()).toBe(true);
  expect(await axe(page)).toEqual([]);
  await page.getByLabel('Why is this case cancelled? (recorded with your name)').fill('opened by mistake');
  await confirm.click();
  // The page reads the case again once it closed: the outcome, no button any more.
  await expect.poll(() => page.locator('.case-head .status').textContent(), { timeout: 30_000 }).toBe('Closed');
  await expect.poll(() => page.getByText('cancelled (opened by mistake)').count()).toBe(1);
  expect(await page.getByRole('button', { name: 'Cancel case' }).count()).toBe(0);
  // The timeline says why, and what the compensation undid.
  await expect.poll(() => page.locator('ol.timeline li[data-step="wait_warehouse"] p.why').allTextContents()).toContain('cancelled: opened by mistake');
  expect(await page.locator('ol.timeline li[data-step="unflag_order"] p.why').allTextContents()).toContain('undoes flag_order');

  const history = await harness.call<{ steps: { kind: string; step: string | null; by: { name: string } | null }[] }>(
    'auditor',
    'GET',
    '/v1/cases/cc-1/history',
  );
  const cancelled = history.body.steps.find((s) => s.kind === 'cancelled');
  expect(cancelled).toMatchObject({ step: 'wait_warehouse', by: { name: KEY_NAMES.agent } });
  expect(history.body.steps.filter((s) => s.kind === 'remark').map((s) => s.step)).toEqual(['flag_order', 'unflag_order']);

  const connection = await Connection.connect({ address: harness.temporalAddress });
  try {
    const client = new Client({ connection });
    const ids: string[] = [];
    const find = async () => {
      ids.length = 0;
      for await (const workflow of client.workflow.list({ query: `CaseOutcome="cancelled" AND CaseCancelledBy="${KEY_NAMES.agent}"` }))
        ids.push(workflow.workflowId);
      return ids;
    };
    await expect.poll(find, { timeout: 15_000 }).toEqual(['case-cc-1']);
  } finally {
    await connection.close();
  }
}, 180_000);
