/**
 * The Playbooks pages in Chromium against the real stack: the list, a playbook's flow graph with the
 * path of a case marked on it, its YAML, and the validate box that refuses a broken playbook with the
 * diagnostic at its line; the ops lead makes another version current and goes back, with reasons; an
 * auditor reads but has no validate box and cannot make a version current.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ROOT } from '../e2e/casebook-process.js';
import { axe, KEY_NAMES, screenshot, useConsole } from '../support/console.js';
import { waitForEverYaml } from '../support/small-playbooks.js';

const harness = useConsole();
const RETURN_YAML = readFileSync(join(ROOT, 'playbooks/return.yaml'), 'utf8');
/** The return playbook with a goto to a step that does not exist: PB102 on line 243, column 19. */
const BROKEN_YAML = RETURN_YAML.replace('on_timeout: escalate_missing_parcel', 'on_timeout: escalate_missing_parcle');
const WAIT_FOR_EVER_YAML = waitForEverYaml('Asia/Shanghai');
/** The steps the case below goes through: in the window, an exchange offered and declined, approved, the address sent, the buyer ships, it waits for the receipt. */
const PATH = [
  'check_window',
  'offer_exchange',
  'wait_exchange_answer',
  'approve',
  'send_address',
  'check_insurance',
  'wait_shipment',
  'note_tracking',
  'wait_receipt',
];

const waitForStep = (caseId: string, step: string) =>
  vi.waitFor(
    async () => {
      const { body } = await harness.call<{ step: string }>('agent', 'GET', `/v1/cases/${caseId}`);
      if (body.step !== step) throw new Error(`case ${caseId} is at ${body.step}, not ${step}`);
    },
    { timeout: 30_000, interval: 250 },
  );

beforeAll(async () => {
  await harness.publish('return');
  expect((await harness.call('ops-lead', 'PUT', '/v1/playbooks/parcel-watch', WAIT_FOR_EVER_YAML)).status).toBe(201);
  const opened = await harness.call('agent', 'POST', '/v1/cases', {
    playbook: 'return',
    caseId: 'ret-path-1',
    data: {
      order_id: 'TB-PATH-1',
      buyer_name: 'Wang',
      order_total: { amount: 19_900, currency: 'CNY' },
      outbound_shipping: { amount: 800, currency: 'CNY' },
      shipped_free: false,
      signed_at: new Date(Date.now() - 86_400_000).toISOString(),
      reason: 'no_reason',
      shipping_insurance: false,
    },
  });
  expect(opened.status).toBe(201);
  await waitForStep('ret-path-1', 'wait_exchange_answer');
  const kept = await harness.call('agent', 'POST', '/v1/cases/ret-path-1/events', { type: 'buyer.kept_return', id: 'kept-1', payload: {} });
  expect(kept.status).toBe(202);
  await waitForStep('ret-path-1', 'wait_shipment');
  const shipped = await harness.call('agent', 'POST', '/v1/cases/ret-path-1/events', {
    type: 'buyer.shipped',
    id: 'ship-1',
    payload: { tracking_number: 'SF100200' },
  });
  expect(shipped.status).toBe(202);
  await waitForStep('ret-path-1', 'wait_receipt');
}, 60_000);

/** An attribute of each element the selector finds, in document order. */
const attributes = async (page: Page, selector: string, name: string): Promise<(string | null)[]> =>
  Promise.all((await page.locator(selector).all()).map((element) => element.getAttribute(name)));

const openPlaybook = async (page: Page, hash: string) => {
  await page.goto(`${harness.url}/console#/playbooks${hash}`);
  await page.locator('svg.flow g.node').first().waitFor();
};

describe('as the ops lead', () => {
  it('lists the playbooks with their latest and current versions and who published it', async () => {
    const page = await harness.newPage();
    await harness.signIn(page, 'ops-lead');
    await page.goto(`${harness.url}/console#/playbooks`);
    const row = page.locator('tr[data-playbook="return"]');
    await row.waitFor();
    expect(await row.locator('td').allInnerTexts()).toEqual([
      'return',
      'v1',
      'v1',
      '1',
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d$/),
      expect.stringContaining(KEY_NAMES['ops-lead']),
    ]);
    expect(await axe(page)).toEqual([]);
    await row.getByRole('link', { name: 'return' }).click();
    await page.locator('svg.flow g.node').first().waitFor();
    expect(page.url()).toMatch(/#\/playbooks\/return$/);
  });

  it('draws the flow graph and marks the path a case took, nodes and edges', async () => {
    const page = await harness.newPage();
    await harness.signIn(page, 'ops-lead');
    await openPlaybook(page, '/return');
    expect(await page.locator('svg.flow g.node').count()).toBe(58);
    expect(await page.locator('svg.flow path.edge').count()).toBe(82);
    expect(await page.locator('svg.flow').getAttribute('aria-label')).toBe('The flow of return version 1: 58 steps');
    expect(await page.locator('svg.flow g.node[data-step="wait_receipt"] text.label').textContent()).toBe('wait warehouse.received');

    await page.getByLabel('Case id').fill('ret-path-1');
    await page.getByRole('button', { name: 'Show its path' }).click();
    await expect.poll(() => page.locator('p.path').textContent()).toBe(`Case ret-path-1 went: ${PATH.join(' → ')}`);
    expect((await attributes(page, 'svg.flow g.node.on-path', 'data-step')).sort()).toEqual([...PATH].sort());
    expect(await page.locator('svg.flow g.node.last').getAttribute('data-step')).toBe('wait_receipt');
    const from = await attributes(page, 'svg.flow path.edge.on-path', 'data-from');
    const to = await attributes(page, 'svg.flow path.edge.on-path', 'data-to');
    expect(from.map((step, i) => `${step}→${to[i]}`).sort()).toEqual(
      PATH.slice(1)
        .map((step, i) => `${PATH[i]}→${step}`)
        .sort(),
    );

    // The labels of the ways taken: the window's first condition held (not its twin to the same step), the
    // exchange declined (not the offer's timeout to the same step), no insurance, the buyer's shipment.
    expect(await page.locator('svg.flow g.edge-label.on-path title').allTextContents()).toEqual([
      'now - data.signed_at <= policy.return_window',
      'buyer.kept_return',
      'otherwise',
      'buyer.shipped',
    ]);
    expect(await page.locator('.yaml li[data-line="238"] code').textContent()).toBe('  - id: wait_receipt');
    expect(await page.getByText('No diagnostics when checked now.').count()).toBe(1);
    expect(await axe(page)).toEqual([]);
    await screenshot(page, 'playbook');
  });

  it('says which case it cannot find', async () => {
    const page = await harness.newPage();
    await harness.signIn(page, 'ops-lead');
    await openPlaybook(page, '/return');
    await page.getByLabel('Case id').fill('no-such-case');
    await page.getByRole('button', { name: 'Show its path' }).click();
    await page.getByText('No case no-such-case.').waitFor();
    expect(await page.locator('svg.flow g.node.on-path, svg.flow path.edge.on-path').count()).toBe(0);
  });

  it('validates edited YAML and refuses to publish a broken playbook, the diagnostic at its line', async () => {
    const page = await harness.newPage();
    await harness.signIn(page, 'ops-lead');
    await openPlaybook(page, '/return/1');
    const editor = page.getByLabel('Playbook YAML');
    expect(await editor.inputValue()).toBe(RETURN_YAML);
    await page.getByRole('button', { name: 'Validate', exact: true }).click();
    await page.getByText('Valid: it can be published.').waitFor();

    await editor.fill(BROKEN_YAML);
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.getByText('Not published: 1 error(s).').waitFor();
    const listed = page.locator('ul.diagnostics li');
    expect(await listed.count()).toBe(1);
    expect(await listed.getAttribute('data-code')).toBe('PB102');
    expect(await listed.innerText()).toBe("line 243:19 error PB102 no step has the id 'escalate_missing_parcle' (did you mean 'escalate_missing_parcel'?)");
    // Next to line 243 in the editor's margin: the code, and only there.
    expect(await page.locator('.editor .gutter div[data-line="243"]').innerText()).toBe('PB102 243');
    expect(await page.locator('.editor .gutter div.error').count()).toBe(1);

    await listed.getByRole('button', { name: 'line 243:19' }).click();
    // A string, evaluated in the page: the tests are compiled without the DOM's types.
    const selection = await page.evaluate<string>(
      `(() => { const area = document.activeElement; return area.id + ': ' + area.value.slice(area.selectionStart, area.selectionEnd); })()`,
    );
    expect(selection).toBe('playbook-editor: escalate_missing_parcle');
    expect(await axe(page)).toEqual([]);
    const versions = await harness.call<{ versions: unknown[] }>('auditor', 'GET', '/v1/playbooks/return');
    expect(versions.body.versions).toHaveLength(1);
  });

  it('publishes the edited YAML as a new version and shows it', async () => {
    const page = await harness.newPage();
    await harness.signIn(page, 'ops-lead');
    await openPlaybook(page, '/parcel-watch');
    await page.getByText('1 diagnostic(s) when checked now, marked at their lines:').waitFor();
    const editor = page.getByLabel('Playbook YAML');
    await editor.fill(
      WAIT_FOR_EVER_YAML.replace(
        'wait: { events: [{ event: warehouse.received }] }',
        'wait: { events: [{ event: warehouse.received }], timeout: 10d, on_timeout: done }',
      ),
    );
    await page.getByRole('button', { name: 'Validate', exact: true }).click();
    await page.getByText('Valid: it can be published.').waitFor();
    expect(await page.locator('ul.diagnostics li').count()).toBe(0);
    // A slow list of versions must not let the page show version 2 while its list still lacks it.
    await page.route('**/v1/playbooks/parcel-watch', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      await route.continue();
    });
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.getByText('Published as version 2.').waitFor();
    await page.getByText('New cases still take version 1 until version 2 is made current.').waitFor();
    await page.getByText('No diagnostics when checked now.').waitFor();
    expect(page.url()).toMatch(/#\/playbooks\/parcel-watch\/2$/);
    expect(await attributes(page, 'table.versions tbody tr', 'data-version')).toEqual(['1', '2']);
    expect(await page.locator('svg.flow g.node').count()).toBe(2);
    expect(await page.locator('svg.flow path.edge').count()).toBe(2);
    // Published, not current: new cases still take version 1.
    expect(await page.locator('[data-current]').getAttribute('data-current')).toBe('1');
    expect(await page.locator('table.versions tr[data-version="1"] .current-mark').count()).toBe(1);
  });

  it('makes the version shown current with a reason, then goes back, each change listed', async () => {
    const page = await harness.newPage();
    await harness.signIn(page, 'ops-lead');
    await openPlaybook(page, '/parcel-watch/2');
    await page.getByLabel('Why make version 2 current').fill('a ten-day receipt timeout');
    expect(await axe(page)).toEqual([]);
    await page.getByRole('button', { name: 'Make v2 current' }).click();
    await page.getByText('Version 2 is now current.').waitFor();
    await page.locator('[data-current="2"]').waitFor();
    expect(await page.getByRole('button', { name: 'Make v2 current' }).count()).toBe(0);
    expect((await harness.call<{ current: number }>('agent', 'GET', '/v1/playbooks/parcel-watch')).body.current).toBe(2);

    await openPlaybook(page, '/parcel-watch/1');
    await page.getByLabel('Why make version 1 current').fill('the timeout closes cases too early');
    await page.getByRole('button', { name: 'Make v1 current' }).click();
    await page.locator('[data-current="1"]').waitFor();
    await page.locator('table.current-changes tbody tr').nth(2).waitFor();
    const rows = await page
      .locator('table.current-changes tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(1).map((td) => td.textContent)));
    expect(rows).toEqual([
      ['v2 → v1', KEY_NAMES['ops-lead'], 'the timeout closes cases too early'],
      ['v1 → v2', KEY_NAMES['ops-lead'], 'a ten-day receipt timeout'],
      ['none → v1', KEY_NAMES['ops-lead'], 'the first version published'],
    ]);
    expect(await axe(page)).toEqual([]);
  });
});

describe('as an admin, where the playbook requires approval', () => {
  it('approves the version shown with a reason, listed, and then it can be made current', async () => {
    const setting = { approvalRequired: true, reason: 'four eyes' };
    expect((await harness.call('admin', 'PUT', '/v1/playbooks/parcel-watch/settings', setting)).status).toBe(200);
    try {
      const page = await harness.newPage();
      await harness.signIn(page, 'admin');
      await openPlaybook(page, '/parcel-watch/2');
      await page.getByLabel('Why approve version 2').fill('checked the timeout');
      expect(await axe(page)).toEqual([]);
      await page.getByRole('button', { name: 'Approve v2' }).click();
      await page.getByText('Version 2 is approved.').waitFor();
      await page.locator('[data-approval="2"]').waitFor();
      expect(await page.locator('[data-approval="2"]').innerText()).toBe(`v2 approved by ${KEY_NAMES.admin}: checked the timeout`);
      expect(await page.getByRole('button', { name: 'Approve v2' }).count()).toBe(0);
      const made = await harness.call<{ current: number }>('ops-lead', 'POST', '/v1/playbooks/parcel-watch/current', { version: 2, reason: 'approved' });
      expect([made.status, made.body.current]).toEqual([200, 2]);
    } finally {
      await harness.call('admin', 'PUT', '/v1/playbooks/parcel-watch/settings', { approvalRequired: false, reason: 'test done' });
    }
  });
});

describe('as the auditor', () => {
  it('reads the playbook without the validate box', async () => {
    const page = await harness.newPage();
    await harness.signIn(page, 'auditor');
    await openPlaybook(page, '/return');
    await page.locator('.yaml li[data-line="1"]').waitFor();
    expect(await page.getByRole('heading', { name: 'Validate and publish' }).count()).toBe(0);
    expect(await page.locator('textarea').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Publish' }).count()).toBe(0);
    await page.locator('[data-current="1"]').waitFor();
    expect(await page.locator('form.make-current').count()).toBe(0);
    expect(await axe(page)).toEqual([]);
  });

  it("sees a version's warnings at their lines", async () => {
    const page = await harness.newPage();
    await harness.signIn(page, 'auditor');
    await openPlaybook(page, '/parcel-watch/1');
    await page.getByText('1 diagnostic(s) when checked now, marked at their lines:').waitFor();
    const marked = page.locator('.yaml li.warning');
    expect(await marked.count()).toBe(1);
    expect(await marked.getAttribute('data-line')).toBe('11');
    expect(await marked.locator('p.diagnostic').innerText()).toBe(
      "line 11:5 PB123 step 'wait_receipt' waits without a timeout: a case can stay open for ever (add timeout and on_timeout)",
    );
    expect(await axe(page)).toEqual([]);
  });

  it('reads it in Simplified Chinese when the browser asks for it', async () => {
    const page = await harness.newPage('zh-CN');
    await harness.signIn(page, 'auditor');
    await openPlaybook(page, '/return');
    expect(await page.getByRole('heading', { level: 2 }).allInnerTexts()).toEqual(['版本', '当前版本', '流程 · 第 1 版', 'YAML · 第 1 版']);
    expect(await page.locator('[data-current]').innerText()).toBe('当前版本为第 1 版：新工单使用此版本，已开启的工单保持原版本。');
    expect(await page.locator('svg.flow').getAttribute('aria-label')).toBe('return 第 1 版的流程：共 58 个步骤');
  });
});
