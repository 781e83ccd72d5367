import { describe, expect, it } from 'vitest';
import { CHANNELS, isPrivateAddress, LOCAL_CONNECTORS, MissingSecretError, secretsOf } from '../../src/connectors/config.js';

describe('isPrivateAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '::1',
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.10',
    '169.254.169.254',
    '100.64.0.1',
    '100.127.255.255',
    'fc00::1',
    'fd12:3456:789a::1',
    'fe80::1',
    'fe80::1%eth0',
    'febf::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.1.2.3',
    '::ffff:169.254.169.254',
    '64:ff9b::10.0.0.1',
    '0.0.0.0',
    '::',
    '[::1]',
    '224.0.0.1',
    '255.255.255.255',
    'ff02::1',
  ])('%s is private', (ip) => {
    expect(isPrivateAddress(ip)).toBe(true);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.15.255.255',
    '172.32.0.1',
    '192.169.0.1',
    '100.63.255.255',
    '100.128.0.1',
    '169.253.0.1',
    '11.0.0.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    'fbff::1',
    'fe00::1',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
  ])('%s is public', (ip) => {
    expect(isPrivateAddress(ip)).toBe(false);
  });

  it('counts what is not an IP address as private (refuse what cannot be placed)', () => {
    for (const text of ['localhost', 'example.com', '', '256.0.0.1', '1.2.3', 'gggg::1']) expect(isPrivateAddress(text)).toBe(true);
  });
});

describe('secretsOf', () => {
  it('reads each variable at the call, in order', () => {
    const env = { SHOP_WEBHOOK_SECRET: 'whsec_AAAA', SHOP_WEBHOOK_SECRET_NEXT: 'whsec_BBBB' };
    expect(secretsOf(['SHOP_WEBHOOK_SECRET', 'SHOP_WEBHOOK_SECRET_NEXT'], env)).toEqual(['whsec_AAAA', 'whsec_BBBB']);
    env.SHOP_WEBHOOK_SECRET = 'whsec_CCCC';
    expect(secretsOf(['SHOP_WEBHOOK_SECRET'], env)).toEqual(['whsec_CCCC']);
  });

  it('names the missing variable and never a value', () => {
    const env = { PRESENT: 'whsec_TOPSECRETVALUE', EMPTY: '' };
    for (const missing of ['ABSENT', 'EMPTY']) {
      let error: unknown;
      try {
        secretsOf(['PRESENT', missing], env);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(MissingSecretError);
      expect((error as MissingSecretError).variable).toBe(missing);
      expect((error as Error).message).toContain(missing);
      expect((error as Error).message).not.toContain('TOPSECRETVALUE');
      expect(JSON.stringify(error)).not.toContain('TOPSECRETVALUE');
      expect((error as Error).stack ?? '').not.toContain('TOPSECRETVALUE');
    }
  });
});

describe('LOCAL_CONNECTORS', () => {
  it('binds every channel and side effect to the local connector and opens no inbound source', () => {
    for (const channel of CHANNELS) expect(LOCAL_CONNECTORS.channels[channel]).toEqual({ connector: 'local' });
    expect(LOCAL_CONNECTORS.payments).toEqual({ connector: 'local' });
    expect(LOCAL_CONNECTORS.orderSystem).toEqual({ connector: 'local' });
    expect(LOCAL_CONNECTORS.integrations).toEqual({ default: { connector: 'local' } });
    expect(LOCAL_CONNECTORS.inbound).toEqual({});
    expect(Object.isFrozen(LOCAL_CONNECTORS.channels)).toBe(true);
  });
});
