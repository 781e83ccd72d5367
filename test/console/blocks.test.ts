/** The console's flow view of a playbook with blocks, in Chromium against the real stack: a parallel drawn as a fork, a loop as a loop, bodies hanging from them. */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { axe, useConsole } from '../support/console.js';

const harness = useConsole();

const BLOCKS_YAML = `playbook: blocks-view
case_type: exchange
currency: CNY
fields:
  order_id: { type: string }
  lines: { type: list, items: { type: object, fields: { id: { type: string } } } }
events:
  parcel.shipped: { payload: {} }
  payment.received: { payload: {} }
steps:
  - id: both
    parallel:
      join: all
      branches:
        - id: ship
          steps:
            - id: wait_ship
              wait: { events: [{ event: parcel.shipped }], timeout: 3d, on_timeout: ship_noted }
            - id: ship_noted
              remark: { text: shipped or late }
          cleanup:
            - id: undo_ship
              remark: { text: shipping stopped }
        - id: collect
          steps:
            - id: wait_pay
              wait: { events: [{ event: payment.received }], timeout: 3d, on_timeout: pay_noted }
            - id: pay_noted
              remark: { text: paid or late }
  - id: each_line
    for_each:
      in: data.lines
      as: line
      max: 20
      steps:
        - id: line_noted
          remark: { text: "line {{ line.id }}" }
  - id: done
    end: { outcome: resolved, reason: done }
`;

const attributes = async (page: Page, selector: string, name: string): Promise<(string | null)[]> =>
  Promise.all((await page.locator(selector).all()).map((element) => element.getAttribute(name)));

beforeAll(async () => {
  expect((await harness.call('ops-lead', 'PUT', '/v1/playbooks/blocks-view', BLOCKS_YAML)).status).toBe(201);
}, 60_000);

describe('a playbook with blocks', () => {
  it('draws the parallel as a fork and the loop as a loop, each body hanging from its block and going back to it', async () => {
    const page = await harness.newPage();
    await harness.signIn(page, 'ops-lead');
    await page.goto(`${harness.url}/console#/playbooks/blocks-view`);
    await page.locator('svg.flow g.node').first().waitFor();
    expect(await page.locator('svg.flow g.node').count()).toBe(9);
    expect(await page.locator('svg.flow g.node.fork').getAttribute('data-step')).toBe('both');
    expect(await page.locator('svg.flow g.node.loop').getAttribute('data-step')).toBe('each_line');
    const from = await attributes(page, 'svg.flow path.edge', 'data-from');
    const to = await attributes(page, 'svg.flow path.edge', 'data-to');
    const edges = from.map((f, i) => `${f}->${to[i]}`);
    expect(edges).toEqual(
      expect.arrayContaining([
        'both->wait_ship',
        'both->undo_ship',
        'both->wait_pay',
        'ship_noted->both',
        'pay_noted->both',
        'each_line->line_noted',
        'line_noted->each_line',
        'both->each_line',
      ]),
    );
    expect(await page.locator('svg.flow g.edge-label title').allTextContents()).toEqual(
      expect.arrayContaining(['branch ship', 'cleanup ship', 'branch collect', 'each line', 'joined (all)', 'done']),
    );
    expect(await axe(page)).toEqual([]);
  }, 60_000);

  it('a case whose items failed at once: the timeline says which item failed and which one each repair went to', async () => {
    const source = `playbook: loop-fails
case_type: exchange
currency: CNY
fields:
  order_id: { type: string }
  lines: { type: list, items: { type: object, fields: { id: { type: string }, qty: { type: integer } } } }
steps:
  - id: each_line
    for_each:
      in: data.lines
      as: line
      max: 5
      concurrency: 2
      steps:
        - id: check_line
          branch: { cases: [{ when: "10 / line.qty > 0", goto: line_ok }], otherwise: line_ok }
        - id: line_ok
          remark: { text: "{{ line.id }} ok" }
  - id: done
    end: { outcome: resolved, reason: done }
`;
    expect((await harness.call('ops-lead', 'PUT', '/v1/playbooks/loop-fails', source)).status).toBe(201);
    const lines = [
      { id: 'L1', qty: 0 },
      { id: 'L2', qty: 0 },
    ];
    expect((await harness.call('agent', 'POST', '/v1/cases', { playbook: 'loop-fails', caseId: 'lf-1', data: { order_id: 'LF-1', lines } })).status).toBe(201);
    const failed = async () =>
      (await harness.call<{ steps: { kind: string }[] }>('auditor', 'GET', '/v1/cases/lf-1/history')).body.steps.filter((s) => s.kind === 'failed').length;
    await expect.poll(failed, { timeout: 30_000 }).toBe(2);
    const repaired = await harness.call('admin', 'POST', '/v1/cases/lf-1/repair', {
      action: 'close',
      step: 'check_line',
      iteration: '1',
      reason: 'line 2 is void',
    });
    expect(repaired.body).toEqual({ status: 'failed', step: 'check_line', iteration: '1' });
    await expect.poll(async () => (await harness.call<{ status: string }>('auditor', 'GET', '/v1/cases/lf-1')).body.status, { timeout: 30_000 }).toBe('closed');

    const page = await harness.newPage();
    await harness.signIn(page, 'auditor');
    await page.goto(`${harness.url}/console#/cases/lf-1`);
    await page.getByRole('heading', { name: 'lf-1' }).waitFor();
    const entries = page.locator('ol.timeline li[data-step="check_line"]');
    await entries.first().waitFor();
    const texts = (await entries.allTextContents()).map((text) => text.replace(/\s+/g, ' '));
    expect(texts).toEqual([
      expect.stringMatching(/check_line item 0 · failed/),
      expect.stringMatching(/check_line item 1 · failed/),
      expect.stringMatching(/check_line item 1 · repair .*repair: close \(line 2 is void\)/),
    ]);
    expect(await axe(page)).toEqual([]);
  }, 90_000);
});
