/** The SDK's connection options for the configured API key and TLS (TemporalSecurity, config.ts); its files read at each connection, so a renewed certificate is taken at the next. */
import type { TLSConfig } from '@temporalio/client';
import { readFileSync } from 'node:fs';
import type { TemporalSecurity } from './config.js';

export interface TemporalConnectionOptions {
  tls?: TLSConfig;
  apiKey?: string;
}

export function temporalConnectionOptions(security: TemporalSecurity = {}): TemporalConnectionOptions {
  const { apiKey, tls } = security;
  if (!tls) return apiKey ? { apiKey } : {};
  const config: TLSConfig = {
    ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
    ...(tls.serverCaCertPath ? { serverRootCACertificate: readFileSync(tls.serverCaCertPath) } : {}),
    ...(tls.clientCertPath && tls.clientKeyPath ? { clientCertPair: { crt: readFileSync(tls.clientCertPath), key: readFileSync(tls.clientKeyPath) } } : {}),
  };
  return { tls: config, ...(apiKey ? { apiKey } : {}) };
}
