/** Request logging is off unless asked for (CASEBOOK_REQUEST_LOG=1); how `casebook start` formats its logs. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import type { ApiDependencies } from '../../src/api/dependencies.js';
import { loadConfig } from '../../src/stack/config.js';
import { apiLogger, formatNote, formatRecord } from '../../src/stack/logging.js';

/** Dependencies that only /healthz and the error paths reach: nothing here touches a database. */
const deps = { temporalReady: async () => true } as unknown as ApiDependencies;

async function linesLogged(requestLogging: boolean, url: string): Promise<string[]> {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
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

describe('what casebook start logs (CASEBOOK_LOG_FORMAT)', () => {
  const time = Date.parse('2026-12-06T10:00:00.000Z');

  it('builds the API without a deprecation warning', async () => {
    const warnings: Error[] = [];
    const collect = (warning: Error) => warnings.push(warning);
    process.on('warning', collect);
    try {
      await linesLogged(false, '/healthz');
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', collect);
    }
    expect(warnings.map((w) => w.message)).toEqual([]);
  });

  it('writes the API’s records as lines for people by default, with an error’s stack only at ERROR', () => {
    expect(loadConfig({}).logFormat).toBe('text');
    const lines: string[] = [];
    const logger = apiLogger('text', (line) => lines.push(line)) as { stream: { write(json: string): void } };
    const error = new Error('connection refused');
    logger.stream.write(
      JSON.stringify({
        level: 40,
        time,
        pid: 1,
        hostname: 'h',
        reqId: 'r-1',
        err: { type: 'Error', message: error.message, stack: error.stack },
        msg: 'the database cannot be reached',
      }),
    );
    logger.stream.write(
      JSON.stringify({
        level: 50,
        time,
        reqId: 'r-2',
        err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at route (src/api/x.ts:1:1)' },
        msg: 'request failed',
      }),
    );
    expect(lines).toEqual([
      'casebook: 2026-12-06T10:00:00.000Z WARN the database cannot be reached (reqId=r-1): connection refused',
      'casebook: 2026-12-06T10:00:00.000Z ERROR request failed (reqId=r-2): boom\n    at route (src/api/x.ts:1:1)',
    ]);
  });

  it('writes JSON lines with CASEBOOK_LOG_FORMAT=json, the start command’s notes and the SDK’s records alike', () => {
    expect(loadConfig({ CASEBOOK_LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(apiLogger('json')).toEqual({ level: 'info' });
    expect(JSON.parse(formatNote('json', 'ready'))).toMatchObject({ level: 30, msg: 'ready' });
    const record = JSON.parse(
      formatRecord('json', { level: 40, time, msg: 'Activity failed', activityType: 'issueRefund', error: new Error('payment provider unavailable') }),
    );
    expect(record).toMatchObject({
      level: 40,
      time,
      msg: 'Activity failed',
      activityType: 'issueRefund',
      error: { type: 'Error', message: 'payment provider unavailable' },
    });
    expect(formatNote('text', 'ready')).toBe('casebook: ready');
  });

  it('refuses another format, naming the variable', () => {
    expect(() => loadConfig({ CASEBOOK_LOG_FORMAT: 'yaml' })).toThrow("CASEBOOK_LOG_FORMAT must be one of text, json, not 'yaml'");
  });
});
