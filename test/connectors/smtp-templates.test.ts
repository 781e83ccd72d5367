/**
 * Templates that carry an e-mail: subject, text and HTML, each one text or one per language, compiled
 * into the plan and picked by the case's language; templates without them compile as before.
 */
import { describe, expect, it } from 'vitest';
import { validatePlaybook } from '../../src/playbook/index.js';
import { localize } from '../../src/plan/template.js';

const playbook = (templates: string, header = '') => `playbook: mail
case_type: return
currency: CNY
${header}fields:
  order_id: { type: string }
  buyer_email: { type: string, required: false }
  language: { type: enum, values: [zh, en], required: false }
templates:
${templates}
steps:
  - id: tell
    send: { to: buyer, template: approved }
  - id: done
    end: { outcome: resolved, reason: told }
`;

const compile = (source: string) => {
  const result = validatePlaybook(source, 'mail.yaml');
  if (!result.plan) throw new Error(JSON.stringify(result.diagnostics));
  return result.plan.plan;
};

const BILINGUAL = `  approved:
    channel: email
    subject: { zh: "订单 {{ data.order_id }} 已批准", en: "Order {{ data.order_id }} approved" }
    text: { zh: "您好 {{ data.order_id }}", en: "Hello {{ data.order_id }}" }
    html: "<p>{{ data.order_id }}</p>"`;

describe('e-mail templates', () => {
  it('a template without subject, html or languages compiles to the plan it always did', () => {
    const plan = compile(playbook('  approved: { channel: chat, text: "Hello {{ data.order_id }}" }'));
    expect(plan.templates.approved).toEqual({
      channel: 'chat',
      text: 'Hello {{ data.order_id }}',
      placeholders: [{ cel: 'data.order_id', at: expect.any(Object) }],
    });
    expect(plan).not.toHaveProperty('language');
  });

  it("keeps the playbook language's parts in place and the others under languages", () => {
    const { approved } = compile(playbook(BILINGUAL, 'language: en\n')).templates;
    expect(approved).toMatchObject({
      text: 'Hello {{ data.order_id }}',
      subject: { text: 'Order {{ data.order_id }} approved' },
      html: { text: '<p>{{ data.order_id }}</p>' },
      languages: { zh: { text: { text: '您好 {{ data.order_id }}' }, subject: { text: '订单 {{ data.order_id }} 已批准' } } },
    });
  });

  it.each([
    [{ language: 'en' }, 'en', 'Order {{ data.order_id }} approved', 'Hello {{ data.order_id }}'],
    [{ language: 'zh' }, 'zh', '订单 {{ data.order_id }} 已批准', '您好 {{ data.order_id }}'],
    [{}, 'zh', '订单 {{ data.order_id }} 已批准', '您好 {{ data.order_id }}'],
  ])('a case with %j reads %s', (data, language, subject, text) => {
    const plan = compile(playbook(BILINGUAL));
    const parts = localize(plan, plan.templates.approved!, data);
    expect(parts).toMatchObject({ language, subject: { text: subject }, text: { text }, html: { text: '<p>{{ data.order_id }}</p>' } });
  });

  it("a case in a language the template does not give reads the playbook's", () => {
    const plan = compile(
      playbook(`  approved:
    channel: email
    subject: { zh: "订单已批准" }
    text: "Hello"`),
    );
    expect(localize(plan, plan.templates.approved!, { language: 'en' })).toMatchObject({ language: 'zh', subject: { text: '订单已批准' } });
  });

  it('checks the placeholders of every language at publish time', () => {
    const result = validatePlaybook(playbook(BILINGUAL.replace('Hello {{ data.order_id }}', 'Hello {{ data.order_number }}')), 'mail.yaml');
    expect(result.diagnostics.map((d) => `${d.code} ${d.line}:${d.column}`)).toEqual(['PB201 12:62']);
  });
});
