/**
 * The Queue page in Chromium against the real stack: an agent claims a task, completes it with an
 * outcome and the case moves on to that outcome's step (the event attributed to the agent); a note is
 * added; an escalation is acknowledged and resolved, showing who and when; in Chinese too; roles
 * without the page do not see it.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { axe, KEY_NAMES, screenshot, useConsole } from '../support/console.js';
import { DAMAGED_DECISION, smallPlaybookSource } from '../support/small-playbooks.js';

const harness = useConsole();

const DECIDE_YAML = smallPlaybookSource('damaged-decision', DAMAGED_DECISION);

interface QueueTask {
  id: number;
  caseId: string;
  step: string;
}
interface QueueEscalation {
  id: number;
  caseId: string;
}
interface CaseView {
  step: string | null;
  status: string;
  waitingFor: string[];
}

const openCase = async (caseId: string) => {
  const opened = await harness.call('agent', 'POST', '/v1/cases', {
    playbook: 'damaged-decision',
    caseId,
    data: { paid: { amount: 19_900, currency: 'CNY' }, order_id: `TB-${caseId}` },
  });
  expect(opened.status).toBe(201);
};

/** The open task of a case's step, once the case has opened it. */
const taskOf = (caseId: string, step: string) =>
  vi.waitFor(
    async () => {
      const { body } = await harness.call<{ tasks: QueueTask[] }>('auditor', 'GET', '/v1/tasks?status=open&limit=100');
      const task = body.tasks.find((t) => t.caseId === caseId && t.step === step);
      if (!task) throw new Error(`no open task ${step} of ${caseId} yet`);
      return task;
    },
    { timeout: 30_000, interval: 250 },
  );

const escalationOf = (caseId: string) =>
  vi.waitFor(
    async () => {
      const { body } = await harness.call<{ escalations: QueueEscalation[] }>('auditor', 'GET', '/v1/escalations');
      const escalation = body.escalations.find((e) => e.caseId === caseId);
      if (!escalation) throw new Error(`no escalation of ${caseId} yet`);
      return escalation;
    },
    { timeout: 30_000, interval: 250 },
  );

const openQueue = async (page: Page) => {
  await page.goto(`${harness.url}/console#/queue`);
  await page.getByRole('heading', { level: 1 }).waitFor();
};

let decide: QueueTask;
let other: QueueTask;
let escalation: QueueEscalation;

beforeAll(async () => {
  const published = await harness.call('ops-lead', 'PUT', '/v1/playbooks/damaged-decision', DECIDE_YAML);
  expect(published.status).toBe(201);
  for (const caseId of ['q-1', 'q-2', 'q-3']) await openCase(caseId);
  decide = await taskOf('q-1', 'decide');
  other = await taskOf('q-2', 'decide');
  // The third case is rejected by the ops lead: its escalation waits in the supervisors' queue.
  const rejected = await harness.call('ops-lead', 'POST', `/v1/tasks/${(await taskOf('q-3', 'decide')).id}/complete`, { outcome: 'reject' });
  expect(rejected.status).toBe(200);
  escalation = await escalationOf('q-3');
}, 90_000);

describe('as an agent', () => {
  it('shows the open tasks by queue with the time left on their SLA', async () => {
    const page = await harness.newPage();
    await harness.signIn(page, 'agent');
    await openQueue(page);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Queue');
    await expect.poll(() => page.getByRole('heading', { level: 3 }).allInnerTexts()).toEqual(['after-sale-agent (2)']);
    const row = page.locator(`tr[data-task-id="${decide.id}"]`);
    const cells = await row.locator('td').allInnerTexts();
    expect(cells.slice(0, 5)).toEqual([
      'Decide on the damaged return\ndecide',
      'q-1\norder TB-q-1',
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d$/),
      expect.stringMatching(/^3h \d+m left$/),
      'Nobody',
    ]);
    expect(await row.locator('td[data-overdue]').getAttribute('data-overdue')).toBe('false');
    expect(await row.locator('button[data-outcome]').allInnerTexts()).toEqual(['approve', 'reject']);
    expect(await axe(page)).toEqual([]);
  });

  it('marks a task past its due time as overdue, by how long', async () => {
    const page = await harness.newPage();
    // The browser's clock five hours on: the four-hour SLA of the case opened before is an hour past.
    await page.clock.install({ time: new Date(Date.now() + 5 * 3_600_000) });
    await harness.signIn(page, 'agent');
    await openQueue(page);
    const left = page.locator(`tr[data-task-id="${other.id}"] td[data-overdue]`);
    await left.waitFor();
    expect(await left.innerText()).toMatch(/^overdue by 1h \d+m$/);
    expect(await left.getAttribute('data-overdue')).toBe('true');
    expect(await left.getAttribute('class')).toBe('overdue late');
    expect(await axe(page)).toEqual([]);
  });

  it('claims a task, completes it with an outcome, and the case moves on to the outcome’s step as the agent’s doing', async () => {
    const page = await harness.newPage();
    await harness.signIn(page, 'agent');
    await openQueue(page);
    const row = page.locator(`tr[data-task-id="${decide.id}"]`);
    await row.getByRole('button', { name: 'Claim' }).click();
    await expect.poll(() => page.getByRole('status').first().innerText()).toBe(`You claimed task ${decide.id}.`);
    await expect.poll(() => row.locator('td').nth(4).innerText()).toBe('You');
    const claimed = await harness.call<{ claimed: { by: { name: string } } }>('agent', 'GET', `/v1/tasks/${decide.id}`);
    expect(claimed.body.claimed.by.name).toBe(KEY_NAMES.agent);
    // Someone else's claim: the ops lead sees who holds it; the agent cannot take the other task away from them.
    expect((await harness.call('ops-lead', 'POST', `/v1/tasks/${other.id}/claim`)).status).toBe(200);
    await page.getByRole('button', { name: 'Refresh' }).first().click();
    const held = page.locator(`tr[data-task-id="${other.id}"]`);
    await expect.poll(() => held.locator('td').nth(4).innerText()).toBe(KEY_NAMES['ops-lead']);
    expect(await Promise.all((await held.locator('button[data-outcome]').all()).map((button) => button.isDisabled()))).toEqual([true, true]);
    expect(await held.getByRole('button', { name: 'Claim' }).count()).toBe(0);

    await row.getByRole('button', { name: 'approve' }).click();
    await expect
      .poll(() => page.getByRole('status').first().innerText(), { timeout: 15_000 })
      .toBe(`Task ${decide.id} completed: case q-1 moved on to step confirm.`);
    const moved = await harness.call<CaseView>('auditor', 'GET', '/v1/cases/q-1');
    expect(moved.body).toMatchObject({ status: 'waiting', step: 'confirm', waitingFor: ['task.completed'] });
    const history = await harness.call<{ events: { id: string; payload: unknown; by: { name: string } }[] }>('auditor', 'GET', '/v1/cases/q-1/history');
    expect(history.body.events).toEqual([
      expect.objectContaining({
        id: `task-${decide.id}-completed`,
        payload: { task: 'decide', outcome: 'approve' },
        by: expect.objectContaining({ name: KEY_NAMES.agent }),
      }),
    ]);
    // The completed task left the agents' queue; the next one waits in the supervisors'.
    await expect.poll(() => page.getByRole('heading', { level: 3 }).allInnerTexts()).toEqual(['after-sale-agent (1)', 'after-sale-supervisor (1)']);
    await expect.poll(() => page.locator(`tr[data-task-id="${decide.id}"]`).count()).toBe(0);
  });

  it('adds a note to a task, with its author and time', async () => {
    const confirm = await taskOf('q-1', 'confirm');
    const page = await harness.newPage();
    await harness.signIn(page, 'agent');
    await openQueue(page);
    const row = page.locator(`tr[data-task-id="${confirm.id}"]`);
    await row.locator('summary').click();
    await row.getByText('No note yet.').waitFor();
    await row.getByLabel(`Note on task ${confirm.id}`).fill('Buyer sent photos of the box');
    await row.getByRole('button', { name: 'Add note' }).click();
    await row.locator('ul.notes li').first().waitFor();
    expect(await row.locator('ul.notes li').allInnerTexts()).toEqual([
      expect.stringMatching(new RegExp(`^Buyer sent photos of the box — ${KEY_NAMES.agent.replace(/[()]/g, '\\$&')}, \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d$`)),
    ]);
    expect(await row.locator('summary').innerText()).toBe('Notes (1)');
    const notes = await harness.call<{ notes: { text: string; by: { name: string } }[] }>('auditor', 'GET', `/v1/tasks/${confirm.id}`);
    expect(notes.body.notes.map((n) => [n.text, n.by.name])).toEqual([['Buyer sent photos of the box', KEY_NAMES.agent]]);
  });

  it('acknowledges and resolves an escalation, showing who and when', async () => {
    const page = await harness.newPage();
    await harness.signIn(page, 'agent');
    await openQueue(page);
    const row = page.locator(`tr[data-escalation-id="${escalation.id}"]`);
    await row.waitFor();
    expect((await row.locator('td').allInnerTexts()).slice(0, 8)).toEqual([
      'q-3\norder TB-q-3',
      'after-sale-supervisor',
      'High',
      'rejected_by_agent\nrejected: TB-q-3',
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d$/),
      'Open',
      '—',
      '—',
    ]);
    await row.getByRole('button', { name: 'Acknowledge' }).click();
    await expect
      .poll(() => row.locator('td[data-field="acknowledged"]').innerText())
      .toMatch(new RegExp(`^${KEY_NAMES.agent.replace(/[()]/g, '\\$&')}, \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d$`));
    expect(await row.locator('td').nth(5).innerText()).toBe('Acknowledged');
    expect(await axe(page)).toEqual([]);
    await screenshot(page, 'queue');

    await row.getByLabel(`Resolution of escalation ${escalation.id}`).fill('Called the buyer; refunded the shipping');
    await row.getByRole('button', { name: 'Resolve' }).click();
    await expect.poll(() => page.getByRole('status').first().innerText()).toBe(`Escalation ${escalation.id} resolved.`);
    await expect.poll(() => page.locator(`tr[data-escalation-id="${escalation.id}"]`).count()).toBe(0);
    await page.getByLabel('Status').selectOption('resolved');
    const resolved = page.locator(`tr[data-escalation-id="${escalation.id}"]`);
    await resolved.waitFor();
    expect(await resolved.locator('td[data-field="resolved"]').innerText()).toMatch(/, \d{4}-\d\d-\d\d \d\d:\d\d\nCalled the buyer; refunded the shipping$/);
    const stored = await harness.call<{
      escalations: { id: number; acknowledged: { by: { name: string } }; resolved: { by: { name: string }; resolution: string } }[];
    }>('auditor', 'GET', '/v1/escalations?status=resolved');
    expect(stored.body.escalations.find((e) => e.id === escalation.id)).toMatchObject({
      acknowledged: { by: { name: KEY_NAMES.agent } },
      resolved: { by: { name: KEY_NAMES.agent }, resolution: 'Called the buyer; refunded the shipping' },
    });
  });
});

describe('in Chinese, and by role', () => {
  it('reads in Simplified Chinese when the browser does', async () => {
    const page = await harness.newPage('zh-CN');
    await harness.signIn(page, 'agent');
    await openQueue(page);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('待办队列');
    const row = page.locator(`tr[data-task-id="${other.id}"]`);
    await row.waitFor();
    expect(await row.locator('td[data-overdue]').innerText()).toMatch(/^剩余 3小时\d+分$/);
    expect(await page.getByRole('heading', { level: 2 }).allInnerTexts()).toEqual(['待处理任务', '升级事项']);
    expect(await axe(page)).toEqual([]);
  });

  it('is not among an auditor’s pages, and says so when opened', async () => {
    const page = await harness.newPage();
    await harness.signIn(page, 'auditor');
    expect(await page.getByRole('navigation').getByRole('link').allInnerTexts()).not.toContain('Queue');
    await page.goto(`${harness.url}/console#/queue`);
    await expect.poll(() => page.getByRole('alert').first().innerText()).toBe('The auditor role may not open this page.');
  });
});
