/**
 * The receivers docs/connectors.md shows (examples/receivers/), run as a shop would run them: each
 * verifies the Standard Webhooks signature, refuses a bad or stale one, and answers a repeated
 * webhook-id as it answered the first.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/stack/free-port.js';

const SECRET = `whsec_${Buffer.from('receiver-test-secret-of-32-bytes').toString('base64')}`;
const OTHER_SECRET = `whsec_${Buffer.from('another-secret-nobody-configured').toString('base64')}`;
const PYTHON = '.tools/python-receiver/bin/python';

const RECEIVERS = {
  node: (port: number) =>
    spawn(process.execPath, ['examples/receivers/receiver.mjs'], { env: { ...process.env, RECEIVER_SECRET: SECRET, PORT: String(port) } }),
  python: (port: number) => spawn(PYTHON, ['examples/receivers/receiver.py'], { env: { ...process.env, RECEIVER_SECRET: SECRET, PORT: String(port) } }),
};

let running: ChildProcess | undefined;
afterEach(() => {
  running?.kill();
  running = undefined;
});

async function start(kind: keyof typeof RECEIVERS): Promise<string> {
  const port = await freePort();
  running = RECEIVERS[kind](port);
  const url = `http://127.0.0.1:${port}/`;
  for (let tries = 0; tries < 100; tries++) {
    if (running.exitCode !== null) throw new Error(`the ${kind} receiver exited with ${running.exitCode}`);
    if (
      await fetch(url, { method: 'POST', body: '{}' }).then(
        () => true,
        () => false,
      )
    )
      return url;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the ${kind} receiver did not listen on ${url}`);
}

function post(url: string, id: string, event: unknown, { secret = SECRET, at = new Date() } = {}) {
  const body = JSON.stringify(event);
  const signature = new Webhook(secret).sign(id, at, body);
  const headers = {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
  return fetch(url, { method: 'POST', headers, body });
}

const refund = { type: 'refund.request', timestamp: new Date().toISOString(), data: { amount: 19900, currency: 'CNY' } };

describe.each(Object.keys(RECEIVERS) as (keyof typeof RECEIVERS)[])('the %s receiver of docs/connectors.md', (kind) => {
  it('answers a signed refund once per webhook-id and refuses a bad or stale signature', async () => {
    const url = await start(kind);
    const first = await post(url, 'case-1/refund_item/1', refund);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ status: 'issued', reference: 'R-1' });
    const again = await post(url, 'case-1/refund_item/1', refund);
    expect(await again.json()).toEqual({ status: 'issued', reference: 'R-1' });
    expect(await (await post(url, 'case-2/refund_item/1', refund)).json()).toEqual({ status: 'issued', reference: 'R-2' });
    expect(await (await post(url, 'case-3/notify/1', { type: 'message.send', data: {} })).json()).toEqual({});

    expect((await post(url, 'case-4/refund_item/1', refund, { secret: OTHER_SECRET })).status).toBe(401);
    expect((await post(url, 'case-4/refund_item/1', refund, { at: new Date(Date.now() - 6 * 60_000) })).status).toBe(401);
    expect((await fetch(url, { method: 'POST', body: JSON.stringify(refund) })).status).toBe(401);
  });
});

describe('docs/connectors.md', () => {
  it('shows each receiver exactly as it is in examples/receivers/', () => {
    const doc = readFileSync('docs/connectors.md', 'utf8');
    const blocks = [...doc.matchAll(/```(js|python)\n([\s\S]*?)```/g)].map((m) => m[2]);
    expect(blocks).toContain(readFileSync('examples/receivers/receiver.mjs', 'utf8'));
    expect(blocks).toContain(readFileSync('examples/receivers/receiver.py', 'utf8'));
  });
});
