/**
 * `casebook start` with JSON logs (CASEBOOK_LOG_FORMAT=json, CASEBOOK_REQUEST_LOG=1): a return case run
 * to its refund over HTTP leaves one line per request and per event of the case, each naming the case,
 * the request (its x-request-id) and the actor; no API key ever appears; the configured body size holds.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { returnCaseData } from '../support/playbooks.js';
import { envFor, pickPorts, ROOT, spawnCasebook, stopCasebook, type Casebook } from './casebook-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'casebook-logs-'));
let casebook: Casebook | undefined;

afterAll(async () => {
  if (casebook && casebook.child.exitCode === null) await stopCasebook(casebook);
  rmSync(dataDir, { recursive: true, force: true });
});

type Line = Record<string, unknown> & { level: number; msg: string };
const linesOf = (output: string): Line[] =>
  output
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Line);

describe('structured logs of casebook start', () => {
  // A whole stack started, a case run to its refund, and stopped: over a minute on a loaded machine.
  it('name the case, the request and the actor of each event, and never a key', async () => {
    const ports = await pickPorts();
    casebook = spawnCasebook({
      ...envFor(dataDir, ports),
      CASEBOOK_LOG_FORMAT: 'json',
      CASEBOOK_REQUEST_LOG: '1',
      CASEBOOK_MAX_BODY_BYTES: '200000',
    });
    await expect.poll(() => casebook!.output(), { timeout: 90_000, interval: 250 }).toContain('"msg":"ready; Ctrl-C stops everything"');
    const api = `http://127.0.0.1:${ports.api}`;
    const adminKey = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
    const call = async (method: string, path: string, key: string, body?: unknown, type = 'application/json') => {
      const response = await fetch(`${api}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': type }) },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      return { status: response.status, requestId: response.headers.get('x-request-id')!, body: (await response.json()) as Record<string, unknown> };
    };

    expect((await call('PUT', '/v1/playbooks/return', adminKey, readFileSync(join(ROOT, 'playbooks/return.yaml'), 'utf8'), 'application/yaml')).status).toBe(
      201,
    );
    const made = await call('POST', '/v1/keys', adminKey, { role: 'agent', name: 'logs agent' });
    expect(made.status).toBe(201);
    const agentKey = made.body.key as string;
    const agentKeyId = made.body.id as string;

    const opened = await call('POST', '/v1/cases', agentKey, {
      playbook: 'return',
      caseId: 'logs-1',
      data: returnCaseData('TB-3001', Date.now() - 3 * 86_400_000, {
        order_total: { amount: 25_900, currency: 'CNY' },
        outbound_shipping: { amount: 1_200, currency: 'CNY' },
        shipping_insurance: true,
      }),
    });
    expect(opened.status).toBe(201);
    const events: { type: string; id: string; payload: Record<string, unknown> }[] = [
      { type: 'buyer.kept_return', id: 'kept-1', payload: {} },
      { type: 'buyer.shipped', id: 'ship-1', payload: { tracking_number: 'YT3001' } },
    ];
    const delivered: string[] = [];
    for (const event of events) {
      const answer = await call('POST', '/v1/cases/logs-1/events', agentKey, event);
      expect(answer.status).toBe(202);
      delivered.push(answer.requestId);
    }
    const read = () => call('GET', '/v1/cases/logs-1', agentKey).then((r) => r.body);
    await expect.poll(async () => (await read()).waitingFor, { timeout: 20_000 }).toEqual(['warehouse.received']);
    // Refused: the case waits for the warehouse, not for this.
    const refused = await call('POST', '/v1/cases/logs-1/events', agentKey, { type: 'buyer.chose_exchange', id: 'swap-1', payload: { wanted_item: 'M' } });
    expect(refused.status).toBe(409);
    expect(
      (await call('POST', '/v1/cases/logs-1/events', agentKey, { type: 'warehouse.received', id: 'wh-1', payload: { condition: 'resellable' } })).status,
    ).toBe(202);
    await expect.poll(async () => (await read()).outcome, { timeout: 20_000 }).toEqual({ outcome: 'resolved', reason: 'refunded' });
    // Over CASEBOOK_MAX_BODY_BYTES.
    const big = await call('POST', '/v1/cases', agentKey, { playbook: 'return', data: { note: 'x'.repeat(200_000) } });
    expect(big.status).toBe(413);
    // A wrong key is never written either.
    const wrongKey = `cb_${'z'.repeat(12)}_${'Q'.repeat(43)}`;
    expect((await call('GET', '/v1/cases', wrongKey)).status).toBe(401);

    await expect.poll(() => casebook!.output(), { timeout: 20_000 }).toContain('"msg":"case closed"');
    expect(await stopCasebook(casebook)).toBe(0);
    const output = casebook.output();
    const lines = linesOf(output);
    const actor = { keyId: agentKeyId, name: 'logs agent' };

    const openLine = lines.find((l) => l.msg === 'case opened');
    expect(openLine).toMatchObject({ level: 30, caseId: 'logs-1', reqId: opened.requestId, actor, playbook: 'return', version: 1 });
    const accepted = lines.filter((l) => l.msg === 'event accepted');
    expect(accepted.map((l) => l.reqId)).toEqual(expect.arrayContaining(delivered));
    expect(accepted.find((l) => l.reqId === delivered[0])).toMatchObject({ caseId: 'logs-1', actor, eventType: 'buyer.kept_return', eventId: 'kept-1' });
    expect(lines.find((l) => l.msg === 'event refused')).toMatchObject({
      caseId: 'logs-1',
      reqId: refused.requestId,
      actor,
      eventType: 'buyer.chose_exchange',
      refusal: 'refused',
    });
    // One line per request, with its route pattern, and its request id as every line of it.
    const requestLines = lines.filter((l) => l.msg === 'request' && l.reqId === opened.requestId);
    expect(requestLines).toEqual([expect.objectContaining({ method: 'POST', route: '/v1/cases', statusCode: 201, actor })]);
    expect(lines.find((l) => l.msg === 'request' && l.reqId === refused.requestId)).toMatchObject({ route: '/v1/cases/:caseId/events', caseId: 'logs-1' });
    // The worker's side effects and the close, by case.
    expect(lines.find((l) => l.msg === 'refund issued')).toMatchObject({
      caseId: 'logs-1',
      actor: { keyId: null, name: 'casebook' },
      amount: 24_700,
      currency: 'CNY',
      activityType: 'issueRefund',
    });
    expect(lines.filter((l) => l.msg === 'message sent' && l.caseId === 'logs-1').map((l) => l.template)).toEqual(
      expect.arrayContaining(['offer_exchange', 'return_address', 'refund_sent']),
    );
    expect(lines.find((l) => l.msg === 'case closed')).toMatchObject({ caseId: 'logs-1', outcome: 'resolved', reason: 'refunded' });

    // No key: not the agent's, not a wrong one, not the first admin key (shown only as its file in JSON).
    for (const key of [agentKey, wrongKey, adminKey]) expect(output).not.toContain(key.slice(16));
    expect(output).toContain(`${adminKey.slice(0, 16)}[redacted]`);
  }, 180_000);
});
