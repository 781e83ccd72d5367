import { describe, expect, it } from 'vitest';
import { validatePlaybook } from '../../src/playbook/index.js';
import { parseDuration, formatDuration } from '../../src/plan/duration.js';
import { fillTemplate, parseTemplate } from '../../src/plan/template.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const returnYaml = readFileSync(fileURLToPath(new URL('../../playbooks/return.yaml', import.meta.url)), 'utf8');

describe('compiling the return playbook', () => {
  const { plan } = validatePlaybook(returnYaml, 'return.yaml').plan!;

  it('resolves policy values: durations in milliseconds, counts as integers', () => {
    expect(plan.policy.return_window).toEqual({ type: 'duration', ms: 7 * 86_400_000 });
    expect(plan.policy.refund_sla).toEqual({ type: 'duration', ms: 86_400_000 });
    expect(plan.policy.reminders).toEqual({ type: 'integer', value: 2 });
  });

  it('links each step to the next one, and waits and refunds to their exits', () => {
    expect(plan.start).toBe('check_window');
    expect(plan.steps.approve).toMatchObject({ kind: 'remark', flag: 'purple', next: 'send_address' });
    expect(plan.steps.wait_receipt).toMatchObject({
      kind: 'wait',
      timeoutMs: 10 * 86_400_000,
      onTimeout: 'escalate_missing_parcel',
      on: { 'warehouse.received': { next: 'compute_refund' } },
    });
    expect(plan.steps.wait_shipment).toMatchObject({ remind: { everyMs: 2 * 86_400_000, max: 2, template: 'ship_reminder', channel: 'chat' } });
    expect(plan.steps.refund_no_reason).toMatchObject({
      kind: 'refund',
      withinMs: 86_400_000,
      from: 'warehouse.received',
      covers: 'payment',
      currency: 'CNY',
      onBreach: 'thank_buyer',
      onDeclined: 'escalate_refund_declined',
      next: 'thank_buyer',
    });
  });

  it('keeps the source position of every step and expression', () => {
    expect(plan.steps.check_window!.at).toEqual({ line: expect.any(Number), column: 9 });
    const branch = plan.steps.check_window;
    expect(branch?.kind === 'branch' && branch.cases[0]!.when).toMatchObject({
      cel: 'now - data.signed_at <= policy.return_window',
      at: { line: expect.any(Number) },
    });
  });

  it('records the paid and order id fields used by the ledger and webhooks', () => {
    expect(plan.paidField).toBe('order_total');
    expect(plan.orderIdField).toBe('order_id');
    expect(plan.fields.advanced_return_shipping).toEqual({ type: 'money', required: false, description: expect.any(String) });
  });
});

describe('durations', () => {
  it.each([
    ['30m', 1_800_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['1d12h', 129_600_000],
    ['90s', 90_000],
  ])('%s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
  it.each(['', '7', 'd', '7 d', '1.5h', '-1h', '7days'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('templates', () => {
  it('finds placeholders with their offsets and fills them in order', () => {
    const parsed = parseTemplate('Hi {{ data.name }}, order {{data.id}}!');
    expect(parsed).toEqual({
      placeholders: [
        { cel: 'data.name', offset: 6, start: 3, end: 18 },
        { cel: 'data.id', offset: 28, start: 26, end: 37 },
      ],
    });
    expect(fillTemplate('Hi {{ data.name }}, order {{data.id}}!', ['Li', 'TB-1'])).toBe('Hi Li, order TB-1!');
  });
  it('reports unclosed, stray and empty placeholders', () => {
    expect(parseTemplate('a {{ b')).toEqual({ error: "'{{' is never closed with '}}'", offset: 2 });
    expect(parseTemplate('a }} b')).toEqual({ error: "'}}' without a matching '{{'", offset: 2 });
    expect(parseTemplate('a {{ }} b')).toMatchObject({ error: 'empty placeholder {{ }}' });
  });
});

describe('diagnostics are all reported at once', () => {
  it('reports every semantic error of a playbook in one pass, sorted by position', () => {
    const broken = returnYaml
      .replace('template: return_address', 'template: return_adress')
      .replace('on_timeout: escalate_missing_parcel', 'on_timeout: escalate_missing')
      .replace(
        'within: policy.refund_sla\n      from: warehouse.received\n      on_breach: thank_buyer',
        'within: policy.refund_window\n      from: warehouse.received\n      on_breach: thank_buyer',
      );
    const { diagnostics, plan } = validatePlaybook(broken, 'return.yaml');
    expect(plan).toBeUndefined();
    expect(diagnostics.map((d) => d.code)).toEqual(['PB110', 'PB102', 'PB112']);
    expect(diagnostics.map((d) => d.line)).toEqual([...diagnostics.map((d) => d.line)].sort((a, b) => a - b));
    expect(diagnostics[0]!.hint).toBe("did you mean 'return_address'?");
  });
});
