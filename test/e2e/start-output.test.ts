/**
 * What `casebook start` prints from start to stop: lines for people, with no deprecation warning and no
 * raw JSON; JSON lines only, each a record, with CASEBOOK_LOG_FORMAT=json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { envFor, pickPorts, spawnCasebook, startOnFreePorts, stopCasebook } from './casebook-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'casebook-output-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('what casebook start prints', () => {
  it('lines for people by default, none of them JSON or a deprecation warning', async () => {
    const { casebook } = await startOnFreePorts(dataDir);
    expect(await stopCasebook(casebook)).toBe(0);
    const output = casebook.output();
    expect(
      output
        .trimEnd()
        .split('\n')
        .filter((line) => !line.startsWith('casebook: ')),
    ).toEqual([]);
    expect(output).not.toMatch(/Deprecation|FSTDEP|\{"level"/);
    expect(output).toMatch(/^casebook: \S+Z INFO Server listening at http/m);
    expect(output).toContain('casebook: stopped');
  });

  it('JSON lines with CASEBOOK_LOG_FORMAT=json', async () => {
    const casebook = spawnCasebook({ ...envFor(dataDir, await pickPorts()), CASEBOOK_LOG_FORMAT: 'json' });
    await expect.poll(() => casebook.output(), { timeout: 90_000, interval: 250 }).toContain('"msg":"ready; Ctrl-C stops everything"');
    expect(await stopCasebook(casebook)).toBe(0);
    const records = casebook
      .output()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.filter((r) => typeof r.level !== 'number' || typeof r.time !== 'number' || typeof r.msg !== 'string')).toEqual([]);
    expect(records.map((r) => r.msg)).toEqual(expect.arrayContaining([expect.stringMatching(/^Server listening at http/), 'stopped']));
  });
});
