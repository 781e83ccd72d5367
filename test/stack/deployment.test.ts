/** The deployment configuration (CASEBOOK_CONFIG): read, checked and reported at the line of each problem. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOCAL_CONNECTORS } from '../../src/connectors/config.js';
import { composeAdapters, composePool } from '../../src/stack/compose.js';
import { DeploymentConfigError, formatConfigProblem, loadDeployment, parseTimeout, readDeployment } from '../../src/stack/deployment.js';

const EXAMPLE = 'config/casebook.example.yaml';

/** `CODE line:column` of each problem, in order. */
const problemsOf = (text: string) => readDeployment(text, 'c.yaml').problems.map((p) => `${p.code} ${p.line}:${p.column}`);
const linesOf = (text: string) => readDeployment(text, 'c.yaml').problems.map(formatConfigProblem);

const destination = (url: string, extra = '') => `destinations:\n  shop:\n    url: ${url}\n    secrets: [SHOP_SECRET]\n${extra}`;

describe('the example configuration', () => {
  it('loads clean, binding what it says', () => {
    const config = loadDeployment(EXAMPLE);
    expect(config).toEqual({
      file: EXAMPLE,
      destinations: {
        shop: {
          name: 'shop',
          url: 'https://shop.example.com/casebook/webhooks',
          secretVariables: ['SHOP_WEBHOOK_SECRET', 'SHOP_WEBHOOK_SECRET_NEXT'],
          timeoutMs: 10_000,
          maxResponseBytes: 65_536,
          allowPrivateAddress: false,
        },
      },
      mailServers: {
        outbound: {
          name: 'outbound',
          host: 'smtp.example.com',
          port: 587,
          secure: false,
          userVariable: 'SMTP_USER',
          passwordVariable: 'SMTP_PASSWORD',
          from: 'Shop <service@example.com>',
        },
      },
      channels: {
        chat: { connector: 'webhook', destination: 'shop' },
        sms: { connector: 'webhook', destination: 'shop' },
        email: { connector: 'smtp', server: 'outbound' },
        inbox: { connector: 'local' },
        phone: { connector: 'local' },
      },
      payments: { connector: 'webhook', destination: 'shop' },
      orderSystem: { connector: 'webhook', destination: 'shop' },
      notifications: { connector: 'webhook', destination: 'shop' },
      integrations: { warehouse: { connector: 'webhook', destination: 'shop' }, default: { connector: 'local' } },
      inbound: {
        warehouse: { name: 'warehouse', secretVariables: ['WAREHOUSE_SIGNING_SECRET'] },
        marketplace: { name: 'marketplace', secretVariables: ['MARKETPLACE_SIGNING_SECRET'] },
        payments: { name: 'payments', secretVariables: ['PAYMENTS_SIGNING_SECRET'] },
      },
    });
  });

  it('is frozen once checked', () => {
    const config = loadDeployment(EXAMPLE);
    expect(Object.isFrozen(config.destinations.shop)).toBe(true);
    expect(Object.isFrozen(config.channels)).toBe(true);
    expect(Object.isFrozen(config.destinations.shop!.secretVariables)).toBe(true);
  });

  it('has every section of the schema', () => {
    const schema = JSON.parse(readFileSync('schemas/deployment.schema.json', 'utf8')) as { properties: Record<string, unknown> };
    const text = readFileSync(EXAMPLE, 'utf8');
    for (const section of Object.keys(schema.properties)) expect(text).toMatch(new RegExp(`^${section}:`, 'm'));
  });
});

describe('a configuration', () => {
  it('binds to local what it does not name', () => {
    const config = readDeployment('channels:\n  chat: { connector: local }\n', 'c.yaml').config!;
    expect({ ...config, file: undefined }).toEqual({ ...LOCAL_CONNECTORS, file: undefined });
  });

  it('reads defaults and durations', () => {
    const config = readDeployment(
      `${destination('https://hooks.example.com/x', '    timeout: 20 seconds\n')}mail_servers:\n  tls: { host: mail.example.com, port: 465, from: a@example.com }\n`,
      'c.yaml',
    ).config!;
    expect(config.destinations.shop).toMatchObject({ timeoutMs: 20_000, maxResponseBytes: 65_536, allowPrivateAddress: false });
    expect(config.mailServers.tls).toEqual({ name: 'tls', host: 'mail.example.com', port: 465, secure: true, from: 'a@example.com' });
    expect([
      parseTimeout('500ms'),
      parseTimeout('10s'),
      parseTimeout('1m30s'),
      parseTimeout('2 minutes'),
      parseTimeout('1 hour'),
      parseTimeout('soon'),
    ]).toEqual([500, 10_000, 90_000, 120_000, 3_600_000, undefined]);
  });

  it('may name a destination on this machine when it allows it by name', () => {
    const config = readDeployment(destination('http://127.0.0.1:4000/hooks', '    allow_private_address: true\n'), 'c.yaml');
    expect(config.problems).toEqual([]);
    expect(config.config!.destinations.shop!.allowPrivateAddress).toBe(true);
  });
});

describe('a configuration is refused at the line of each problem', () => {
  it.each([
    ['an unknown channel, with a did you mean', 'channels:\n  chat: { connector: local }\n  emial: { connector: local }\n', ['CFG020 3:3']],
    ['a destination on loopback', destination('https://127.0.0.1/hooks'), ['CFG042 3:10']],
    ['a destination on localhost', destination('https://localhost:8443/hooks'), ['CFG042 3:10']],
    ['a destination on an IPv4-mapped loopback', destination('https://[::ffff:127.0.0.1]/hooks'), ['CFG042 3:10']],
    ['a destination on a private network', destination('https://10.1.2.3/hooks'), ['CFG042 3:10']],
    ['a destination on the metadata service', destination('https://169.254.169.254/latest'), ['CFG042 3:10']],
    ['a destination on IPv6 link-local', destination('https://[fe80::1]/hooks'), ['CFG042 3:10']],
    ['a destination over http', destination('http://hooks.example.com/x'), ['CFG041 3:10']],
    ['a destination on loopback over http', destination('http://127.0.0.1:4000/x'), ['CFG041 3:10', 'CFG042 3:10']],
    ['a relative URL', destination('/hooks'), ['CFG040 3:10']],
    ['an ftp URL', destination('ftp://example.com/x'), ['CFG040 3:10']],
    ['a secret under a secret key', destination('https://hooks.example.com/x', '    token: S3CRET\n'), ['CFG030 5:5']],
    [
      'a password in a mail server',
      'mail_servers:\n  out: { host: m.example.com, from: a@example.com, user_env: U, password: S3CRET }\n',
      ['CFG051 2:52', 'CFG030 2:65'],
    ],
    ['a whsec value in the secrets list', 'inbound:\n  shop:\n    secrets: [whsec_S3CRET]\n', ['CFG030 3:15']],
    ['a whsec value anywhere', 'mail_servers:\n  out: { host: m.example.com, from: whsec_S3CRET }\n', ['CFG030 2:37']],
    ['credentials in a URL', destination('https://user:S3CRET@hooks.example.com/x'), ['CFG030 3:10']],
    ['a token in a query', destination('https://hooks.example.com/x?api_key=S3CRET'), ['CFG030 3:10']],
    ['a value that is not a variable name', 'inbound:\n  shop:\n    secrets: [S3CRET-value]\n', ['CFG014 3:15']],
    [
      'a binding to an undeclared destination',
      `${destination('https://hooks.example.com/x')}payments: { connector: webhook, destination: shpo }\n`,
      ['CFG021 5:46'],
    ],
    ['a binding to an undeclared mail server', 'channels:\n  email: { connector: smtp, server: out }\n', ['CFG022 2:37']],
    [
      'smtp for another channel',
      'mail_servers:\n  out: { host: m.example.com, from: a@example.com }\nchannels:\n  sms: { connector: smtp, server: out }\n',
      ['CFG024 4:21'],
    ],
    ['smtp for payments', 'payments: { connector: smtp, server: out }\n', ['CFG024 1:24']],
    ['webhook without a destination', 'order_system: { connector: webhook }\n', ['CFG023 1:1']],
    ['local with a destination', 'integrations:\n  default: { connector: local, destination: shop }\n', ['CFG023 2:32']],
    ['an unknown connector', 'payments: { connector: stripe }\n', ['CFG013 1:24']],
    ['an unknown section, with a did you mean', 'chanels:\n  chat: { connector: local }\n', ['CFG010 1:1']],
    ['a missing URL', 'destinations:\n  shop: { secrets: [S] }\n', ['CFG011 2:3']],
    ['a wrong type', 'destinations:\n  shop: { url: https://x.example.com, secrets: [S], allow_private_address: "yes" }\n', ['CFG012 2:76']],
    ['three secrets', 'inbound:\n  shop: { secrets: [A, B, C] }\n', ['CFG015 2:20']],
    ['not a duration', destination('https://hooks.example.com/x', '    timeout: soon\n'), ['CFG050 5:14']],
    ['a duration out of range', destination('https://hooks.example.com/x', '    timeout: 1h\n'), ['CFG050 5:14']],
    ['a timeout longer than an attempt may take', destination('https://hooks.example.com/x', '    timeout: 30s\n'), ['CFG050 5:14']],
    ['a password variable without a user', 'mail_servers:\n  out: { host: m.example.com, from: a@example.com, password_env: P }\n', ['CFG051 2:52']],
    ['broken YAML, at the bracket never closed', 'channels: { chat: [\n', ['CFG002 1:19']],
    ['a duplicate key', 'payments: { connector: local }\npayments: { connector: local }\n', ['CFG002 2:1']],
    ['an empty file', '# nothing\n', ['CFG003 1:1']],
  ])('%s', (_what, text, expected) => {
    expect(problemsOf(text)).toEqual(expected);
    expect(readDeployment(text, 'c.yaml').config).toBeUndefined();
  });

  it('says what it means, with a did you mean, and never repeats a secret', () => {
    expect(linesOf('channels:\n  emial: { connector: local }\n')).toEqual(["c.yaml:2:3: error CFG020: unknown channel 'emial' (hint: did you mean 'email'?)"]);
    expect(linesOf('chanels: {}\n')[0]).toContain("did you mean 'channels'?");
    expect(linesOf(destination('https://127.0.0.1/hooks'))[0]).toContain('allow_private_address: true');
    expect(linesOf(destination('http://hooks.example.com/x'))[0]).toContain('allow_private_address: true');
    const secrets = [
      destination('https://hooks.example.com/x', '    token: S3CRET\n'),
      'inbound:\n  shop:\n    secrets: [whsec_S3CRET]\n',
      'inbound:\n  shop:\n    secrets: [S3CRET-value]\n',
      'inbound:\n  shop:\n    secrets: [s3cret]\n',
      destination('https://user:S3CRET@hooks.example.com/x'),
      destination('https://hooks.example.com/x?api_key=S3CRET'),
      'mail_servers:\n  out: { host: m.example.com, from: a@example.com, user_env: U, password_env: s3cret }\n',
      'mail_servers:\n  out: { host: m.example.com, from: a@example.com, user_env: U, password: S3CRET }\n',
    ];
    for (const text of secrets) {
      const lines = linesOf(text);
      expect(lines.length, text).toBeGreaterThan(0);
      for (const line of lines) expect(line.toLowerCase(), text).not.toContain('s3cret');
    }
  });

  it('reports every problem at once, in the order of the file', () => {
    const text = `${destination('http://127.0.0.1/x', '    token: S3CRET\n')}channels:\n  emial: { connector: local }\n`;
    expect(problemsOf(text)).toEqual(['CFG041 3:10', 'CFG042 3:10', 'CFG030 5:5', 'CFG020 7:3']);
  });
});

describe('loading a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'casebook-deployment-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('throws one error naming the file and every problem', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'channels:\n  emial: { connector: local }\npayments: { connector: stripe }\n');
    let error: unknown;
    try {
      loadDeployment(file);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DeploymentConfigError);
    expect((error as Error).message.split('\n')).toEqual([
      `the configuration ${file} (CASEBOOK_CONFIG) has 2 problems:`,
      `${file}:2:3: error CFG020: unknown channel 'emial' (hint: did you mean 'email'?)`,
      `${file}:3:24: error CFG013: payments.connector must be one of: local, webhook, smtp`,
    ]);
  });
});

describe('composing the connectors', () => {
  const pool = composePool('postgres://nobody@127.0.0.1:1/none', 1);
  afterAll(() => pool.end());

  it('builds the local ones for every port', () => {
    const adapters = composeAdapters(LOCAL_CONNECTORS, pool);
    expect(Object.keys(adapters).sort()).toEqual(['channel', 'integrations', 'notifications', 'orders', 'payments']);
  });

  it('refuses a binding whose connector cannot carry its port, naming those that can', () => {
    expect(() => composeAdapters({ ...LOCAL_CONNECTORS, payments: { connector: 'smtp', server: 'outbound' } }, pool)).toThrow(
      /^the smtp connector cannot carry payments \(connectors that can: local\b/,
    );
  });
});
