/**
 * `casebook config check`, run as a user runs it, against a real HTTP receiver that verifies every
 * signature with the standardwebhooks library and a real SMTP server (smtp-server): a good
 * configuration is shown binding by binding and each destination answers; a receiver or a login that
 * fails is named, exit 1; a loopback destination not allowed by name, a secret written in the file and
 * an unknown channel are each refused at their line and column, exit 2.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMailServer, type TestMailServer } from '../support/mail-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'casebook-config-check-'));
const OLD_SECRET = `whsec_${Buffer.from('the old secret of the receiver!!').toString('base64')}`;
const NEW_SECRET = `whsec_${Buffer.from('the new secret of the receiver!!').toString('base64')}`;

/** What the receiver took: each request's type and whether its signature verified. */
const received: { type: string; id: string; verified: boolean }[] = [];
let receiver: Server;
let receiverPort: number;
let mail: TestMailServer;

beforeAll(async () => {
  // The receiver already has the new secret: Casebook, mid-rotation, signs with both.
  const webhook = new Webhook(NEW_SECRET);
  receiver = createServer(async (request, response) => {
    let body = '';
    for await (const chunk of request) body += chunk;
    try {
      const event = webhook.verify(body, request.headers as Record<string, string>) as { type: string };
      received.push({ type: event.type, id: String(request.headers['webhook-id']), verified: true });
      response.writeHead(204).end();
    } catch {
      received.push({ type: 'unverified', id: String(request.headers['webhook-id']), verified: false });
      response.writeHead(401).end();
    }
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverPort = (receiver.address() as AddressInfo).port;
  mail = await startMailServer({ user: 'casebook', password: 'mail-password' });
});

afterAll(async () => {
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  await mail.close();
  rmSync(dir, { recursive: true, force: true });
});

const ENV = {
  RECEIVER_SECRET: OLD_SECRET,
  RECEIVER_SECRET_NEXT: NEW_SECRET,
  SMTP_USER: 'casebook',
  SMTP_PASSWORD: 'mail-password',
  WRONG_PASSWORD: 'not-the-password',
  MARKETPLACE_SIGNING_SECRET: `whsec_${Buffer.from('the marketplace signs with this').toString('base64')}`,
};

function check(text: string, env: Record<string, string> = ENV): Promise<{ status: number | null; stdout: string; stderr: string; file: string }> {
  const file = join(dir, `casebook-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/casebook.js', 'config', 'check', file], {
      cwd: ROOT,
      env: { ...process.env, CASEBOOK_CONFIG: '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr, file }));
  });
}

const good = (passwordVariable = 'SMTP_PASSWORD') => `destinations:
  receiver:
    url: http://127.0.0.1:${receiverPort}/hooks
    secrets: [RECEIVER_SECRET, RECEIVER_SECRET_NEXT]
    timeout: 5s
    allow_private_address: true
mail_servers:
  outbound: { host: 127.0.0.1, port: ${mail.port}, secure: false, user_env: SMTP_USER, password_env: ${passwordVariable}, from: "Shop <service@shop.example>" }
channels:
  chat: { connector: webhook, destination: receiver }
  email: { connector: smtp, server: outbound }
payments: { connector: webhook, destination: receiver }
integrations:
  warehouse: { connector: webhook, destination: receiver }
inbound:
  marketplace: { secrets: [MARKETPLACE_SIGNING_SECRET] }
`;

describe('casebook config check', () => {
  it('shows each binding and its connector, and each destination answers a signed ping', async () => {
    const run = await check(good());
    expect(run.stderr).toBe('');
    const url = `http://127.0.0.1:${receiverPort}/hooks`;
    expect(run.stdout).toContain(`${run.file}: valid\n`);
    expect(run.stdout).toMatch(new RegExp(`channel chat +webhook +→ receiver \\(${url.replace(/[/.]/g, '\\$&')}\\)`));
    expect(run.stdout).toMatch(/channel inbox +local\n/);
    expect(run.stdout).toMatch(new RegExp(`channel email +smtp +→ outbound \\(127\\.0\\.0\\.1:${mail.port}\\)`));
    expect(run.stdout).toMatch(/payments +webhook +→ receiver/);
    expect(run.stdout).toMatch(/order system +local\n/);
    expect(run.stdout).toMatch(/integration warehouse +webhook +→ receiver/);
    expect(run.stdout).toMatch(/integration \(default\) +local\n/);
    expect(run.stdout).toMatch(/marketplace +secrets in MARKETPLACE_SIGNING_SECRET {2}set\n/);
    expect(run.stdout).toMatch(new RegExp(`webhook receiver +${url.replace(/[/.]/g, '\\$&')} +ok \\(HTTP 204, \\d+ ms\\)`));
    expect(run.stdout).toMatch(new RegExp(`smtp +outbound +127\\.0\\.0\\.1:${mail.port} +ok \\(\\d+ ms\\)`));
    expect(run.stdout).toContain('all 2 answered\n');
    expect(run.status).toBe(0);
    expect(received.at(-1)).toMatchObject({ type: 'casebook.ping', verified: true });
    expect(mail.received).toEqual([]); // a login, nothing sent
    for (const secret of [OLD_SECRET, NEW_SECRET, 'mail-password', ENV.MARKETPLACE_SIGNING_SECRET]) expect(run.stdout).not.toContain(secret);
  }, 60_000);

  it('names each destination that fails, without a secret, exit 1', async () => {
    const before = received.length;
    const run = await check(good('WRONG_PASSWORD'), {
      ...ENV,
      RECEIVER_SECRET: `whsec_${Buffer.from('a secret the receiver never had').toString('base64')}`,
      RECEIVER_SECRET_NEXT: '',
    });
    expect(run.stdout).toMatch(/webhook receiver .* FAILED: the environment variable RECEIVER_SECRET_NEXT is not set\n/);
    expect(run.stdout).toMatch(/smtp +outbound .* FAILED: .*535/);
    expect(run.stdout).toContain('2 of 2 failed\n');
    expect(run.stdout).not.toContain('not-the-password');
    expect(run.status).toBe(1);
    expect(received.length).toBe(before); // nothing sent without every secret

    const inbound = await check(good(), { ...ENV, MARKETPLACE_SIGNING_SECRET: '' });
    expect(inbound.stdout).toMatch(/marketplace +secrets in MARKETPLACE_SIGNING_SECRET {2}FAILED: MARKETPLACE_SIGNING_SECRET not set\n/);
    expect(inbound.stdout).toContain('all 2 answered\n1 inbound source has a secret not set\n');
    expect(inbound.status).toBe(1);

    const unsigned = await check(good(), { ...ENV, RECEIVER_SECRET_NEXT: OLD_SECRET });
    expect(unsigned.stdout).toMatch(/webhook receiver .* FAILED: answered HTTP 401\n/);
    expect(unsigned.status).toBe(1);
    expect(received.at(-1)).toMatchObject({ verified: false });
  }, 60_000);

  it('tells a receiver that is down', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const run = await check(good().replace(`127.0.0.1:${receiverPort}`, `127.0.0.1:${port}`));
    expect(run.stdout).toMatch(/webhook receiver .* FAILED: .+\n/);
    expect(run.status).toBe(1);
  }, 60_000);

  it('refuses a destination on loopback not allowed by name, at its line and column, exit 2', async () => {
    const run = await check(good().replace('    allow_private_address: true\n', ''));
    expect(run.stderr.split('\n')).toEqual([
      `the configuration ${run.file} (CASEBOOK_CONFIG) has 2 problems:`,
      `${run.file}:3:10: error CFG041: destinations.receiver.url is http://: signed requests go over https:// only (hint: use https://, or for a receiver on this machine or network add allow_private_address: true to this destination)`,
      `${run.file}:3:10: error CFG042: destinations.receiver.url is on 127.0.0.1, a loopback, private or link-local address (hint: Casebook refuses private addresses unless a destination allows them: add allow_private_address: true to it if this is meant)`,
      '',
    ]);
    expect(run.stdout).toBe('');
    expect(run.status).toBe(2);
    const https = await check('destinations:\n  shop:\n    url: https://[::1]:8443/hooks\n    secrets: [SHOP_SECRET]\n');
    expect(https.stderr).toContain(`${https.file}:3:10: error CFG042: destinations.shop.url is on ::1, a loopback, private or link-local address`);
    expect(https.status).toBe(2);
  }, 60_000);

  it('refuses a secret written in the file, at its line, never repeating it, exit 2', async () => {
    const run = await check(good().replace('    timeout: 5s\n', `    timeout: 5s\n    signing_secret: ${OLD_SECRET}\n`));
    expect(run.stderr).toContain(
      `${run.file}:6:5: error CFG030: 'signing_secret' holds a secret written in the file (destinations.receiver.signing_secret) (hint: put the secret in an environment variable`,
    );
    expect(run.stderr).not.toContain(OLD_SECRET);
    expect(run.status).toBe(2);
    const inList = await check(good().replace('[RECEIVER_SECRET, RECEIVER_SECRET_NEXT]', `[${NEW_SECRET}]`));
    expect(inList.stderr).toContain(`${inList.file}:4:15: error CFG030: destinations.receiver.secrets[0] holds what looks like a secret, written in the file`);
    expect(inList.stderr).not.toContain(NEW_SECRET);
    expect(inList.status).toBe(2);
  }, 60_000);

  it('refuses an unknown channel with a did you mean, at its line and column, exit 2', async () => {
    const run = await check(good().replace('  chat: { connector: webhook', '  chta: { connector: webhook'));
    expect(run.stderr).toContain(`${run.file}:10:3: error CFG020: unknown channel 'chta' (hint: did you mean 'chat'?)\n`);
    expect(run.status).toBe(2);
  }, 60_000);

  it('shows the all-local default without a configuration, and its usage', async () => {
    const local = await new Promise<{ status: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, ['bin/casebook.js', 'config', 'check'], { cwd: ROOT, env: { ...process.env, CASEBOOK_CONFIG: '' } });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
      });
      child.on('close', (status) => resolve({ status, stdout }));
    });
    expect(local.stdout).toMatch(/^no configuration \(CASEBOOK_CONFIG is not set\): every connector is local\n/);
    expect(local.stdout).toMatch(/payments +local\n/);
    expect(local.status).toBe(0);
    const usage = spawnSync(process.execPath, ['bin/casebook.js', 'config', 'verify'], { cwd: ROOT, encoding: 'utf8' });
    expect(usage.stderr).toMatch(/^usage: casebook config check \[file\]\n/);
    expect(usage.status).toBe(2);
  }, 60_000);
});
