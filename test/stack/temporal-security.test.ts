/**
 * A managed Temporal (Temporal Cloud, a cluster behind TLS): the API key and mutual-TLS settings read from
 * Temporal's own variables, checked at start with messages that never repeat the key, and turned into
 * the SDK's connection options with the certificate files read.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/stack/config.js';
import { temporalConnectionOptions } from '../../src/stack/temporal-security.js';

const dir = mkdtempSync(join(tmpdir(), 'casebook-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const ADDRESS = { TEMPORAL_ADDRESS: 'casebook.a1b2c.tmprl.cloud:7233', TEMPORAL_NAMESPACE: 'casebook.a1b2c' };

describe('Temporal API key and TLS settings', () => {
  it('none by default: a plain connection', () => {
    expect(loadConfig({}).temporalSecurity).toEqual({});
    expect(loadConfig(ADDRESS).temporalSecurity).toEqual({});
    expect(temporalConnectionOptions(loadConfig(ADDRESS).temporalSecurity)).toEqual({});
  });

  it('an API key turns TLS on and is sent as is', () => {
    const security = loadConfig({ ...ADDRESS, TEMPORAL_API_KEY: 'secret-key-1' }).temporalSecurity;
    expect(security).toEqual({ apiKey: 'secret-key-1', tls: {} });
    expect(temporalConnectionOptions(security)).toEqual({ apiKey: 'secret-key-1', tls: {} });
  });

  it('TEMPORAL_TLS=true alone: TLS with the system CAs', () => {
    expect(loadConfig({ ...ADDRESS, TEMPORAL_TLS: 'true' }).temporalSecurity).toEqual({ tls: {} });
    expect(loadConfig({ ...ADDRESS, TEMPORAL_TLS: 'false' }).temporalSecurity).toEqual({});
  });

  it('mutual TLS: the client certificate, its key, the server CA and name, read from their files', () => {
    const crt = file('client.pem', 'CERT');
    const key = file('client.key', 'KEY');
    const ca = file('ca.pem', 'CA');
    const security = loadConfig({
      ...ADDRESS,
      TEMPORAL_TLS_CLIENT_CERT_PATH: crt,
      TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    }).temporalSecurity;
    expect(security).toEqual({ tls: { clientCertPath: crt, clientKeyPath: key, serverCaCertPath: ca, serverName: 'temporal.internal' } });
    const options = temporalConnectionOptions(security);
    expect(options.tls?.serverNameOverride).toBe('temporal.internal');
    expect(Buffer.from(options.tls!.serverRootCACertificate!).toString()).toBe('CA');
    expect(Buffer.from(options.tls!.clientCertPair!.crt).toString()).toBe('CERT');
    expect(Buffer.from(options.tls!.clientCertPair!.key).toString()).toBe('KEY');
    expect(options.apiKey).toBeUndefined();
  });

  it('refuses what cannot work, never repeating the key', () => {
    const crt = file('only.pem', 'CERT');
    const refused = (env: NodeJS.ProcessEnv) => {
      try {
        loadConfig(env);
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    const withoutAddress = refused({ TEMPORAL_API_KEY: 'secret-key-2' });
    expect(withoutAddress).toContain('need TEMPORAL_ADDRESS');
    expect(withoutAddress).not.toContain('secret-key-2');
    expect(refused({ ...ADDRESS, TEMPORAL_TLS_CLIENT_CERT_PATH: crt })).toContain('TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together');
    expect(refused({ ...ADDRESS, TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'missing.pem') })).toContain(
      'TEMPORAL_TLS_SERVER_CA_CERT_PATH must be the path of a PEM file',
    );
    expect(refused({ ...ADDRESS, TEMPORAL_TLS_SERVER_CA_CERT_PATH: dir })).toContain('(no such file)');
    expect(refused({ ...ADDRESS, TEMPORAL_TLS: 'yes' })).toBe("TEMPORAL_TLS must be true or false, not 'yes'");
    const off = refused({ ...ADDRESS, TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'secret-key-3' });
    expect(off).toContain('TEMPORAL_TLS=false cannot go with TEMPORAL_API_KEY');
    expect(off).not.toContain('secret-key-3');
  });
});
