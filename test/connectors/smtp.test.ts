/**
 * E-mail over SMTP against a real mail server the test starts (smtp-server on 127.0.0.1): a case's
 * message arrives with its subject, text and HTML in the case's language; a recipient the server
 * refuses takes the send's `on_error` (or, without one, the case's failure path); a recipient deferred
 * with 4xx is tried again and delivered once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ConnectorConfig, MailServer } from '../../src/connectors/config.js';
import { LOCAL_CONNECTORS } from '../../src/connectors/config.js';
import { KEY_HEADER, messageIdOf } from '../../src/connectors/smtp.js';
import { type CaseResult, workflowIdFor } from '../../src/plan/case.js';
import { validatePlaybook } from '../../src/playbook/index.js';
import { caseHistory } from '../../src/store/case-history.js';
import { startMailServer, type TestMailServer } from '../support/mail-server.js';
import { useRuntime } from '../support/runtime.js';
import { openSmallCase } from '../support/small-playbooks.js';
import { caseRecords } from '../support/records.js';

const USER_VARIABLE = 'CASEBOOK_TEST_SMTP_USER';
const PASSWORD_VARIABLE = 'CASEBOOK_TEST_SMTP_PASSWORD';
process.env[USER_VARIABLE] = 'casebook';
process.env[PASSWORD_VARIABLE] = 'mail-password-for-tests';

let mail: TestMailServer;
const deferrals = new Map<string, number>();
const server: MailServer = {
  name: 'outbound',
  host: '127.0.0.1',
  port: 0, // the test server's, once it listens
  secure: false,
  userVariable: USER_VARIABLE,
  passwordVariable: PASSWORD_VARIABLE,
  from: 'Casebook Shop <service@shop.example>',
};
const connectors: ConnectorConfig = {
  ...LOCAL_CONNECTORS,
  mailServers: { outbound: server },
  channels: { ...LOCAL_CONNECTORS.channels, email: { connector: 'smtp', server: 'outbound' } },
};

const runtime = useRuntime(
  async () => {
    mail = await startMailServer({
      user: 'casebook',
      password: 'mail-password-for-tests',
      answer(address) {
        if (address.endsWith('@refused.example')) return { code: 550, text: '5.1.1 No such mailbox' };
        if (address.endsWith('@busy.example')) {
          const deferred = deferrals.get(address) ?? 0;
          if (deferred < 2) {
            deferrals.set(address, deferred + 1);
            return { code: 451, text: '4.3.0 Mailbox busy, try again later' };
          }
        }
        return undefined;
      },
    });
    server.port = mail.port;
  },
  { connectors },
);
afterAll(() => mail?.close());

const head = (name: string) => `playbook: ${name}
case_type: return
currency: CNY
timezone: UTC
language: zh
fields:
  paid: { type: money }
  order_id: { type: string }
  buyer_name: { type: string }
  buyer_email: { type: string, required: false }
  language: { type: enum, values: [zh, en], required: false }
paid_field: paid
order_id_field: order_id
templates:
  approved:
    channel: email
    subject: { zh: "订单 {{ data.order_id }} 的退货已批准", en: "Return of order {{ data.order_id }} approved" }
    text:
      zh: "{{ data.buyer_name }}，您好：订单 {{ data.order_id }} 的退货已批准。"
      en: "Dear {{ data.buyer_name }}, the return of order {{ data.order_id }} is approved."
    html:
      zh: "<p>{{ data.buyer_name }}，您好：订单 <b>{{ data.order_id }}</b> 的退货已批准。</p>"
      en: "<p>Dear {{ data.buyer_name }}, the return of order <b>{{ data.order_id }}</b> is approved.</p>"
`;

const compile = (source: string) => {
  const result = validatePlaybook(source, 'mail.yaml');
  if (!result.plan) throw new Error(JSON.stringify(result.diagnostics));
  return result.plan;
};

/** Tells the buyer by e-mail; a refused address escalates the case. */
const TELL = compile(`${head('tell-by-mail')}steps:
  - id: tell
    send: { to: buyer, template: approved, on_error: unreachable }
  - id: done
    end: { outcome: resolved, reason: told }
  - id: unreachable
    end: { outcome: escalated, reason: buyer_unreachable }
`);

/** The same send without on_error. */
const TELL_OR_FAIL = compile(`${head('tell-or-fail')}steps:
  - id: tell
    send: { to: buyer, template: approved }
  - id: done
    end: { outcome: resolved, reason: told }
`);

/** Waits for the buyer to ship, reminding once by e-mail after an hour. */
const REMIND = compile(`${head('remind-by-mail')}events:
  buyer.shipped: { payload: {} }
steps:
  - id: wait_ship
    wait: { events: [{ event: buyer.shipped }], timeout: 90m, on_timeout: done, remind: { every: 1h, times: 1, template: approved } }
  - id: done
    end: { outcome: resolved, reason: waited }
`);

const outbox = async (caseId: string) =>
  (await runtime.db.pool.query(`SELECT idempotency_key, channel, status, subject, language FROM outbox_messages WHERE case_id = $1 ORDER BY id`, [caseId]))
    .rows;

const result = async (caseId: string): Promise<CaseResult> => ({
  ...((await runtime.env.client.workflow.getHandle(workflowIdFor(caseId)).result()) as CaseResult),
  steps: await caseRecords(runtime.db.pool, caseId),
});
const mailsTo = (address: string) => mail.received.filter((m) => m.to.includes(address));

describe('e-mail over SMTP', () => {
  it.each([
    {
      language: 'zh',
      subject: '订单 mail-zh 的退货已批准',
      text: '李<雷>，您好：订单 mail-zh 的退货已批准。',
      html: '<p>李&lt;雷&gt;，您好：订单 <b>mail-zh</b> 的退货已批准。</p>',
    },
    {
      language: 'en',
      subject: 'Return of order mail-en approved',
      text: 'Dear 李<雷>, the return of order mail-en is approved.',
      html: '<p>Dear 李&lt;雷&gt;, the return of order <b>mail-en</b> is approved.</p>',
    },
  ])('arrives with the subject, text and HTML in the case language ($language)', async ({ language, subject, text, html }) => {
    const caseId = `mail-${language}`;
    const address = `buyer-${language}@shop-buyers.example`;
    await openSmallCase(runtime.service, runtime.db.pool, TELL, caseId, { buyer_name: '李<雷>', buyer_email: address, language });
    expect(await result(caseId)).toMatchObject({ outcome: 'resolved', reason: 'told' });
    const [received, ...more] = mailsTo(address);
    expect(more).toEqual([]);
    expect(received).toMatchObject({ subject, text, html });
    expect(received!.headers).toMatchObject({
      from: 'Casebook Shop <service@shop.example>',
      'message-id': messageIdOf(`${caseId}/tell/1`, server.from),
      [KEY_HEADER.toLowerCase()]: `${caseId}/tell/1`,
      'content-language': language,
    });
    expect(await outbox(caseId)).toEqual([{ idempotency_key: `${caseId}/tell/1`, channel: 'email', status: 'sent', subject, language }]);
    expect((await caseHistory(runtime.db.pool, caseId))?.messages).toEqual([
      expect.objectContaining({ template: 'approved', channel: 'email', body: text, subject, language, status: 'sent' }),
    ]);
  });

  it("sends a reminder by e-mail the same way, under the reminder's key", async () => {
    const address = 'reminded@shop-buyers.example';
    await openSmallCase(runtime.service, runtime.db.pool, REMIND, 'mail-remind', { buyer_name: 'Wang', buyer_email: address, language: 'en' });
    expect(await result('mail-remind')).toMatchObject({ outcome: 'resolved', reason: 'waited' });
    const [reminder, ...more] = mailsTo(address);
    expect(more).toEqual([]);
    expect(reminder).toMatchObject({ subject: 'Return of order mail-remind approved', text: 'Dear Wang, the return of order mail-remind is approved.' });
    expect(reminder!.headers[KEY_HEADER.toLowerCase()]).toBe('mail-remind/wait_ship/1/reminder-1');
  });

  it("reads the playbook's language when the case gives none", async () => {
    const address = 'no-language@shop-buyers.example';
    await openSmallCase(runtime.service, runtime.db.pool, TELL, 'mail-default', { buyer_name: 'Wang', buyer_email: address });
    expect(await result('mail-default')).toMatchObject({ outcome: 'resolved' });
    expect(mailsTo(address)).toEqual([expect.objectContaining({ subject: '订单 mail-default 的退货已批准' })]);
  });

  it('takes on_error when the server refuses the recipient (550), without trying again', async () => {
    const address = 'gone@refused.example';
    await openSmallCase(runtime.service, runtime.db.pool, TELL, 'mail-refused', { buyer_name: 'Wang', buyer_email: address, language: 'en' });
    const outcome = await result('mail-refused');
    expect(outcome).toMatchObject({ outcome: 'escalated', reason: 'buyer_unreachable' });
    expect(outcome.steps.find((s) => s.step === 'tell')?.detail).toMatchObject({
      goto: 'unreachable',
      failed: expect.stringContaining('550 5.1.1 No such mailbox'),
    });
    expect(mail.asked.filter((a) => a.address === address)).toEqual([{ address, code: 550 }]);
    expect(mailsTo(address)).toEqual([]);
    expect(await outbox('mail-refused')).toEqual([
      { idempotency_key: 'mail-refused/tell/1', channel: 'email', status: 'pending', subject: 'Return of order mail-refused approved', language: 'en' },
    ]);
  });

  it('takes on_error for a buyer_email that is not one address, asking the server nothing', async () => {
    const address = 'buyer@shop-buyers.example, someone@else.example';
    await openSmallCase(runtime.service, runtime.db.pool, TELL, 'mail-two-addresses', { buyer_name: 'Wang', buyer_email: address });
    const outcome = await result('mail-two-addresses');
    expect(outcome).toMatchObject({ outcome: 'escalated', reason: 'buyer_unreachable' });
    expect(outcome.steps.find((s) => s.step === 'tell')?.detail).toMatchObject({ failed: expect.stringContaining('is not one address') });
    expect(mail.asked.filter((a) => address.includes(a.address))).toEqual([]);
  });

  it("takes the case's failure path when the send has no on_error", async () => {
    await openSmallCase(runtime.service, runtime.db.pool, TELL_OR_FAIL, 'mail-refused-fails', { buyer_name: 'Wang', buyer_email: 'left@refused.example' });
    await expect
      .poll(async () => (await runtime.db.pool.query(`SELECT status FROM cases WHERE case_id = 'mail-refused-fails'`)).rows[0]?.status, { timeout: 20_000 })
      .toBe('failed');
    const escalations = await runtime.db.pool.query(`SELECT queue, reason, note FROM escalations WHERE case_id = 'mail-refused-fails'`);
    expect(escalations.rows).toEqual([{ queue: 'casebook-admin', reason: 'case_failed', note: expect.stringContaining('550 5.1.1 No such mailbox') }]);
  });

  it('tries a deferred recipient (451) again and delivers the mail once', async () => {
    const address = 'later@busy.example';
    await openSmallCase(runtime.service, runtime.db.pool, TELL, 'mail-deferred', { buyer_name: 'Wang', buyer_email: address, language: 'en' });
    expect(await result('mail-deferred')).toMatchObject({ outcome: 'resolved', reason: 'told' });
    expect(mail.asked.filter((a) => a.address === address).map((a) => a.code)).toEqual([451, 451, 250]);
    expect(mailsTo(address)).toEqual([expect.objectContaining({ subject: 'Return of order mail-deferred approved' })]);
  });
});
