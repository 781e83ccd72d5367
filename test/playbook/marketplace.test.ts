/** Marketplace rule packs: playbook deadlines checked against the platform's own, at publish time. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/playbook/index.js';
import { readMarketplacePack, readMarketplacePacks, validateWithMarketplace, type MarketplacePacks } from '../../src/playbook/marketplace-packs.js';
import { subPlaybooksInFolder } from '../../src/services/playbooks.js';
import { STANDARD_CALENDARS } from '../support/playbooks.js';
import { useApi } from '../support/api.js';
import { useRuntime } from '../support/runtime.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TAOBAO_FILE = 'marketplaces/taobao.yaml';
const taobao = (): MarketplacePacks => {
  const read = readMarketplacePacks([{ file: TAOBAO_FILE, text: readFileSync(join(ROOT, TAOBAO_FILE)) }]);
  expect(read.diagnostics).toEqual([]);
  return read;
};

/** A refund counted from the case's opening, bound to the 48-hour rule, and a return window. */
const playbook = ({
  within = '3d',
  window = '5d',
  binding = '[refund_now]',
  name = 'taobao',
  rule = 'refund-before-shipping',
} = {}) => `playbook: cancel-before-shipping
case_type: presale
currency: CNY
marketplace:
  name: ${name}
  rules:
    ${rule}: ${binding}
    no-reason-return-window: [policy.return_window]
fields:
  order_id: { type: string }
  order_total: { type: money }
paid_field: order_total
order_id_field: order_id
policy:
  return_window: ${window}
steps:
  - id: refund_now
    refund:
      amount: data.order_total.amount
      reason: cancelled_before_shipping
      within: ${within}
      from: case.opened
      on_breach: done
      on_declined: done
  - id: done
    end: { outcome: resolved, reason: refunded }
`;

const validate = (source: string, packs = taobao()) => validateWithMarketplace(source, 'cancel.yaml', { marketplaces: packs });

describe('marketplace rules checked at publish time', () => {
  it("flags a refund within 3d against the platform's 48 h auto-refund, at the refund's within, with the rule's severity", () => {
    const result = validate(playbook({ window: '7d' }));
    expect(result.plan).toBeUndefined();
    expect(result.diagnostics).toEqual([expect.objectContaining({ severity: 'error', code: 'PB150', line: 21, column: 15, endLine: 21, endColumn: 17 })]);
    expect(result.diagnostics[0]!.message).toContain(
      "the refund deadline of step 'refund_now' can last 3d, but taobao waits at most 48h from the buyer's refund request",
    );
    expect(validate(playbook({ within: '48h', window: '7d' })).diagnostics).toEqual([]);
  });

  it('flags a 5-day return window as shorter than the 7 days the platform guarantees the buyer', () => {
    const result = validate(playbook({ within: '24h' }));
    expect(result.plan).toBeUndefined();
    expect(result.diagnostics).toEqual([expect.objectContaining({ severity: 'error', code: 'PB151', line: 15, column: 18 })]);
    expect(result.diagnostics[0]!.message).toContain('policy.return_window is 5d, shorter than the 7d taobao guarantees the buyer');
    expect(validate(playbook({ within: '24h', window: '10d' })).diagnostics).toEqual([]);
  });

  it("lets a playbook lower a rule's severity for itself: a warning keeps the plan", () => {
    const result = validate(playbook({ window: '7d', binding: '{ deadlines: [refund_now], severity: warning }' }));
    expect(result.diagnostics).toEqual([expect.objectContaining({ severity: 'warning', code: 'PB150', line: 21, column: 15 })]);
    expect(result.plan?.plan.marketplace).toBe('taobao');
  });

  it("adds the worst cases of a flow's steps and points at its last deadline, or at a wait that never ends", () => {
    const source = playbook({ within: '24h', window: '7d' })
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the playbook's own placeholder, removed as written
      .replace('    ${rule}', '')
      .replace('refund-before-shipping: [refund_now]', 'unpaid-order-close: [[wait_payment, refund_now]]')
      .replace(
        'steps:\n',
        'events:\n  order.paid: { payload: {} }\nsteps:\n  - id: wait_payment\n    wait:\n      events: [{ event: order.paid }]\n      timeout: 1h\n      on_timeout: done\n',
      );
    const result = validate(source);
    expect(result.diagnostics).toEqual([expect.objectContaining({ severity: 'warning', code: 'PB150' })]);
    expect(result.diagnostics[0]!.message).toContain('the flow wait_payment → refund_now can last 1d1h');
    expect(result.diagnostics[0]!).toMatchObject({ line: 28, column: 15 });
    const endless = validate(source.replace('      timeout: 1h\n      on_timeout: done\n', ''));
    expect(endless.diagnostics.map((d) => `${d.line}:${d.column} ${d.code} ${d.severity}`)).toEqual(['20:5 PB123 warning', '20:5 PB150 warning']);
    expect(endless.diagnostics[1]!.message).toContain('the flow wait_payment → refund_now has no end');
  });

  it('takes the worst case of a business duration over the calendar: 3 business days can last more than 48h', () => {
    const source = playbook({ within: '3 business days', window: '7d' }).replace(
      'currency: CNY\n',
      'currency: CNY\ntimezone: Asia/Shanghai\ncalendar: { hours: { mon: ["09:00-18:00"], tue: ["09:00-18:00"], wed: ["09:00-18:00"], thu: ["09:00-18:00"], fri: ["09:00-18:00"] } }\n',
    );
    const checkedAt = Date.parse('2026-11-02T00:00:00Z');
    const result = validateWithMarketplace(source, 'cancel.yaml', { marketplaces: taobao(), checkedAt });
    expect(result.diagnostics).toEqual([expect.objectContaining({ severity: 'error', code: 'PB150', line: 23, column: 15 })]);
    expect(result.diagnostics[0]!.message).toContain("the refund deadline of step 'refund_now' can last 5d15h, but taobao waits at most 48h");
    const hours = validateWithMarketplace(source.replace('3 business days', '4 business hours'), 'cancel.yaml', { marketplaces: taobao(), checkedAt });
    expect(hours.diagnostics.map((d) => d.message)).toEqual([expect.stringContaining('can last 2d19h, but taobao waits at most 48h')]);
    const weekdays = validateWithMarketplace(
      source
        .replace('3 business days', '3 business hours')
        .replace(/fri: \["09:00-18:00"\] \}/, 'fri: ["09:00-18:00"], sat: ["09:00-18:00"], sun: ["09:00-18:00"] }'),
      'cancel.yaml',
      { marketplaces: taobao(), checkedAt },
    );
    expect(weekdays.diagnostics).toEqual([]);
    const businessWindow = validateWithMarketplace(
      source.replace('return_window: 7d', 'return_window: 7 business days').replace('3 business days', '24h'),
      'cancel.yaml',
      { marketplaces: taobao(), checkedAt },
    );
    expect(businessWindow.diagnostics).toEqual([expect.objectContaining({ severity: 'error', code: 'PB154', line: 17, column: 18 })]);
    expect(businessWindow.diagnostics[0]!.message).toContain('policy.return_window is business time, which can be shorter than it reads');
  });

  it('reports an unknown marketplace, an unknown rule and a bound deadline that is none, each where it is written', () => {
    const unknown = validate(playbook({ name: 'taobaoo' }));
    expect(unknown.diagnostics).toEqual([expect.objectContaining({ code: 'PB152', line: 5, column: 9, hint: "did you mean 'taobao'?" })]);
    expect(unknown.plan).toBeUndefined();
    expect(validate(playbook({ rule: 'refund-before-shiping', window: '7d' })).diagnostics).toEqual([
      expect.objectContaining({ code: 'PB153', line: 7, column: 5, hint: "did you mean 'refund-before-shipping'?" }),
    ]);
    expect(validate(playbook({ binding: '[done, refund_later]', window: '7d' })).diagnostics).toEqual([
      expect.objectContaining({ code: 'PB154', line: 7, column: 30, message: "step 'done' is a end step, which has no deadline" }),
      expect.objectContaining({ code: 'PB154', line: 7, column: 36, message: "no step has the id 'refund_later'" }),
    ]);
  });

  it('checks a pack like a playbook: schema errors and unknown sources at their line and column', () => {
    const pack = readFileSync(join(ROOT, TAOBAO_FILE), 'utf8');
    const misspelt = readMarketplacePack(
      pack.replace('    limit: 48h\n', '    limit: 48 hours\n').replace('severity: warning', 'severity: notice'),
      'bad.yaml',
    );
    expect(misspelt.pack).toBeUndefined();
    expect(misspelt.diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([
      ['SCHEMA005', 23, 12],
      ['SCHEMA004', 42, 15],
    ]);
    const unsourced = readMarketplacePack(pack.replace('    source: seven-day-return\n', '    source: seven-day\n'), 'bad.yaml');
    expect(unsourced.diagnostics).toEqual([expect.objectContaining({ code: 'PB156', line: 59, column: 13, hint: 'sources: timeouts, seven-day-return' })]);
    const packs = readMarketplacePacks([{ file: 'bad.yaml', text: pack.replace('version: 1', 'version: first') }]);
    expect(packs.diagnostics).toEqual([expect.objectContaining({ code: 'SCHEMA003', file: 'bad.yaml', line: 6, column: 10 })]);
    const refused = validate(playbook({ within: '24h', window: '7d' }), packs);
    expect(refused.diagnostics).toEqual([expect.objectContaining({ code: 'PB155', line: 5, column: 9 })]);
  });

  it('validates the standard playbooks clean against the Taobao pack', () => {
    const dir = join(ROOT, 'playbooks');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'))
      .sort();
    const found = files.flatMap((file) => {
      const source = readFileSync(join(dir, file));
      const options = { marketplaces: taobao(), calendars: STANDARD_CALENDARS };
      const result = validateWithMarketplace(source, `playbooks/${file}`, { ...options, playbooks: subPlaybooksInFolder(join(dir, file), source, options) });
      if (['exchange.yaml', 'presale.yaml', 'return.yaml', 'review-recovery.yaml'].includes(file)) expect(result.plan?.plan.marketplace).toBe('taobao');
      return result.diagnostics.filter((d) => /^PB15/.test(d.code)).map((d) => `${d.file} ${d.severity} ${d.code}`);
    });
    expect(found).toEqual([]);
  });

  it('casebook validate prints the diagnostic with file:line:column and exits 1 on an error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'casebook-marketplace-'));
    const file = join(dir, 'cancel.yaml');
    writeFileSync(file, playbook({ window: '7d' }));
    const result = spawnSync(process.execPath, ['bin/casebook.js', 'validate', file], { cwd: ROOT, encoding: 'utf8' });
    expect(result.status).toBe(1);
    const expected = validate(playbook({ window: '7d' })).diagnostics.map((d) => formatDiagnostic({ ...d, file }));
    expect(result.stdout.trim().split('\n')).toEqual(expected);
    expect(expected[0]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:21:15: error PB150: `));
  });
});

describe("the API's validate and publish routes", () => {
  const runtime = useRuntime();
  const http = useApi(runtime, { lead: ['ops-lead', 'Lead'] });
  const send = (method: 'POST' | 'PUT', url: string, payload: string) =>
    http.api.inject({ method, url, payload, headers: { 'content-type': 'application/yaml', authorization: `Bearer ${http.keys.lead}` } });

  it('refuses to publish a refund the platform would make first, and publishes it once the rule is only a warning', async () => {
    const checked = await send('POST', '/v1/playbooks/validate', playbook({ window: '7d' }));
    expect(checked.json()).toMatchObject({ valid: false, diagnostics: [{ severity: 'error', code: 'PB150', line: 21, column: 15 }] });
    const refused = await send('PUT', '/v1/playbooks/cancel-before-shipping', playbook({ window: '7d' }));
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ type: expect.stringContaining('invalid-playbook'), diagnostics: [{ code: 'PB150', line: 21, column: 15 }] });
    const warned = await send(
      'PUT',
      '/v1/playbooks/cancel-before-shipping',
      playbook({ window: '7d', binding: '{ deadlines: [refund_now], severity: warning }' }),
    );
    expect(warned.statusCode).toBe(201);
    expect(warned.json()).toMatchObject({ version: 1, diagnostics: [{ severity: 'warning', code: 'PB150' }] });
  });
});
