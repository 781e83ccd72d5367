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
});
