/**
 * Request lines at INFO only when asked for (CASEBOOK_REQUEST_LOG=1), else at DEBUG; the level
 * (CASEBOOK_LOG_LEVEL); how `casebook start` formats its logs, and what it never writes (secrets).
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import type { ApiDependencies } from '../../src/api/dependencies.js';
import { loadConfig } from '../../src/stack/config.js';
import { apiLogger, formatKeyNote, formatNote, formatRecord, temporalLogger } from '../../src/stack/logging.js';

/** Dependencies that only /healthz and the error paths reach: nothing here touches a database. */
const deps = { temporalReady: async () => true } as unknown as ApiDependencies;

async function linesLogged(requestLogging: boolean, url: string, level = 'info', headers: Record<string, string> = {}): Promise<string[]> {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const api = await buildApi(deps, { logger: { level, stream }, requestLogging });
  try {
    await api.inject({ method: 'GET', url, headers });
  } finally {
    await api.close();
  }
  return lines;
}

const requestLines = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r.msg === 'request');

describe('request logging', () => {
  it('logs no request by default', async () => {
    expect(requestLines(await linesLogged(false, '/healthz'))).toEqual([]);
  });

  it('logs one line per request when asked, at INFO, with its route, status and request id', async () => {
    const [line, ...more] = requestLines(await linesLogged(true, '/healthz', 'info', { 'x-request-id': 'r-42' }));
    expect(more).toEqual([]);
    expect(line).toMatchObject({ level: 30, reqId: 'r-42', method: 'GET', route: '/healthz', statusCode: 200, responseTimeMs: expect.any(Number) });
  });

  it('logs it at DEBUG otherwise, so CASEBOOK_LOG_LEVEL=debug shows it', async () => {
    expect(requestLines(await linesLogged(false, '/healthz', 'debug'))).toEqual([expect.objectContaining({ level: 20, route: '/healthz' })]);
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
    const logger = apiLogger('text', { write: (line) => lines.push(line) }) as { stream: { write(json: string): void } };
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
    const lines: string[] = [];
    const logger = apiLogger('json', { write: (line) => lines.push(line) }) as { level: string; stream: { write(json: string): void } };
    expect(logger.level).toBe('info');
    logger.stream.write(JSON.stringify({ level: 30, time, reqId: 'r-3', msg: 'case opened', caseId: 'c-1' }));
    expect(lines.map((line) => JSON.parse(line))).toEqual([{ level: 30, time, reqId: 'r-3', msg: 'case opened', caseId: 'c-1' }]);
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

describe('log levels (CASEBOOK_LOG_LEVEL)', () => {
  it('are info unless given, one of pino’s names otherwise', () => {
    expect(loadConfig({}).logLevel).toBe('info');
    expect(loadConfig({ CASEBOOK_LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
    expect(() => loadConfig({ CASEBOOK_LOG_LEVEL: 'loud' })).toThrow("CASEBOOK_LOG_LEVEL must be one of trace, debug, info, warn, error, not 'loud'");
  });

  it('set the API logger’s level', () => {
    expect((apiLogger('json', { level: 'warn' }) as { level: string }).level).toBe('warn');
  });

  it('keep the SDK’s own lines from WARN at info, Casebook’s activity lines from the level itself', () => {
    const written: string[] = [];
    const logger = temporalLogger('WARN', (record) => written.push(record.msg), 'INFO');
    logger.info('Worker state changed', { sdkComponent: 'worker' });
    logger.warn('Activity failed', { sdkComponent: 'worker' });
    logger.info('refund issued', { sdkComponent: 'activity', caseId: 'c-1' });
    logger.debug('Activity started', { sdkComponent: 'activity' });
    expect(written).toEqual(['Activity failed', 'refund issued']);
  });
});

describe('secrets', () => {
  const key = `cb_abcdefghijkl_${'S'.repeat(43)}`;
  const time = Date.parse('2026-12-06T10:00:00.000Z');

  it('are never written: fields named like one, API keys, bearer tokens and URL passwords in any text', () => {
    const record = JSON.parse(
      formatRecord('json', {
        level: 50,
        time,
        msg: `refused ${key}`,
        req: { headers: { authorization: `Bearer ${key}`, 'x-api-key': 'k-1', accept: 'application/json' } },
        smtpPassword: 'hunter2',
        webhookSecret: 'whsec_abc',
        signingKey: 'MC4CAQAwBQYDK2VwBCIEI',
        err: new Error('connect postgres://casebook:s3cret@db.internal:5432/casebook failed; sent Bearer tok-123'),
      }),
    );
    const text = JSON.stringify(record);
    for (const secret of ['S'.repeat(43), 'k-1', 'hunter2', 'whsec_abc', 'MC4CAQAwBQYDK2VwBCIEI', 's3cret', 'tok-123']) expect(text).not.toContain(secret);
    expect(record).toMatchObject({
      msg: 'refused cb_abcdefghijkl_[redacted]',
      req: { headers: { authorization: '[redacted]', 'x-api-key': '[redacted]', accept: 'application/json' } },
      smtpPassword: '[redacted]',
      err: { message: 'connect postgres://casebook:[redacted]@db.internal:5432/casebook failed; sent Bearer [redacted]' },
    });
    expect(formatRecord('text', { level: 30, time, msg: 'hello', authorization: key })).not.toContain('S'.repeat(43));
  });

  it('are cut out of the start command’s notes too, but the first admin key, shown once on a terminal', () => {
    expect(formatNote('text', 'could not start: postgres://casebook:s3cret@db/casebook refused')).toBe(
      'casebook: could not start: postgres://casebook:[redacted]@db/casebook refused',
    );
    expect(formatKeyNote('text', `  ${key}`)).toBe(`casebook:   ${key}`);
    expect(JSON.parse(formatKeyNote('json', `  ${key}`)).msg).toBe('  cb_abcdefghijkl_[redacted]');
  });

  it('are blanked by pino too, in the request headers it would log', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = apiLogger('json', { write: (line) => lines.push(line) }) as { redact: unknown };
    const api = await buildApi(deps, { logger: { level: 'info', stream, redact: logger.redact as never } });
    try {
      api.log.info({ headers: { authorization: `Bearer ${key}` } }, 'headers');
    } finally {
      await api.close();
    }
    expect(lines.join('')).toContain('"authorization":"[redacted]"');
    expect(lines.join('')).not.toContain('S'.repeat(43));
  });
});
