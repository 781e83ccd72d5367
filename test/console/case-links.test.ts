/**
 * A sub-playbook's cases in the console, in Chromium against the real stack: the child is published
 * first and the parent through the API's publish path (which pins it); the parent's page lists its
 * child case, the child's page links back to the parent; the child is indexed in Temporal like any case.
 */
import { Client, Connection } from '@temporalio/client';
import { expect, it } from 'vitest';
import { axe, useConsole } from '../support/console.js';
import { smallPlaybookSource } from '../support/small-playbooks.js';

const harness = useConsole();

it('the parent case lists its child case and the child links back to the parent', async () => {
  const child = smallPlaybookSource(
    'console-child',
    `steps:
  - id: refund
    refund: { amount: data.paid.amount / 2, reason: half, within: 24h, from: case.opened, on_breach: done, on_declined: declined }
  - id: done
    end: { outcome: resolved, reason: refunded }
  - id: declined
    end: { outcome: refused, reason: declined }
`,
  );
  const parent = smallPlaybookSource(
    'console-parent',
    `steps:
  - id: half_back
    playbook:
      name: console-child
      input: { paid: data.paid, order_id: data.order_id }
      outcomes: { refunded: done }
      on_error: done
  - id: done
    end: { outcome: resolved, reason: half_refunded }
`,
  );
  // The parent cannot be published before its child.
  const early = await harness.call<{ diagnostics: { code: string; line: number }[] }>('ops-lead', 'PUT', '/v1/playbooks/console-parent', parent);
  expect(early.status).toBe(422);
  expect(early.body.diagnostics.map((d) => [d.code, d.line])).toEqual([['PB330', 14]]);
  expect((await harness.call('ops-lead', 'PUT', '/v1/playbooks/console-child', child)).status).toBe(201);
  expect((await harness.call('ops-lead', 'PUT', '/v1/playbooks/console-parent', parent)).status).toBe(201);
  const opened = await harness.call('agent', 'POST', '/v1/cases', {
    playbook: 'console-parent',
    caseId: 'cl-1',
    data: { paid: { amount: 1_000, currency: 'CNY' }, order_id: 'CL-1' },
  });
  expect(opened.status).toBe(201);
  await expect.poll(async () => (await harness.call<{ status: string }>('auditor', 'GET', '/v1/cases/cl-1')).body.status, { timeout: 30_000 }).toBe('closed');

  const page = await harness.newPage();
  await harness.signIn(page, 'auditor');
  await page.goto(`${harness.url}/console#/cases/cl-1`);
  await page.getByRole('heading', { name: 'cl-1' }).waitFor();
  await page.getByText('Sub-playbook cases').waitFor();
  expect(await axe(page)).toEqual([]);
  await page.getByRole('link', { name: 'cl-1.half_back.1' }).click();
  await page.getByRole('heading', { name: 'cl-1.half_back.1' }).waitFor();
  await page.getByText('Opened by the case').waitFor();
  expect(await page.getByRole('link', { name: 'cl-1', exact: true }).count()).toBe(1);

  const connection = await Connection.connect({ address: harness.temporalAddress });
  try {
    const client = new Client({ connection });
    const find = async () => {
      const ids: string[] = [];
      for await (const workflow of client.workflow.list({ query: `Playbook="console-child" AND CaseOutcome="resolved"` })) ids.push(workflow.workflowId);
      return ids;
    };
    await expect.poll(find, { timeout: 15_000 }).toEqual(['case-cl-1.half_back.1']);
  } finally {
    await connection.close();
  }
}, 180_000);
