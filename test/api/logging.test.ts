/** Request logging is off unless asked for (CASEBOOK_REQUEST_LOG=1). */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import type { ApiDependencies } from '../../src/api/dependencies.js';
import { loadConfig } from '../../src/stack/config.js';

/** Dependencies that only /healthz and the error paths reach: nothing here touches a database. */
const deps = { temporalReady: async () => true } as unknown as ApiDependencies;

async function linesLogged(requestLogging: boolean, url: string): Promise<string[]> {
  const lines: string[] = [];
  const stream = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } });
  const api = await buildApi(deps, { logger: { level: 'info', stream }, requestLogging });
  try {
    await api.inject({ method: 'GET', url });
  } finally {
    await api.close();
  }
  return lines;
}

describe('request logging', () => {
  it('logs no request by default', async () => {
    expect((await linesLogged(false, '/healthz')).filter((l) => /incoming request|request completed/.test(l))).toEqual([]);
  });

  it('logs every request when asked', async () => {
    expect((await linesLogged(true, '/healthz')).filter((l) => /incoming request|request completed/.test(l))).toHaveLength(2);
  });

  it('is asked for with CASEBOOK_REQUEST_LOG=1', () => {
    expect(loadConfig({}).requestLogging).toBe(false);
    expect(loadConfig({ CASEBOOK_REQUEST_LOG: '1' }).requestLogging).toBe(true);
  });
});
