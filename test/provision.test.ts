/**
 * Provisioning waits for another apt-get instead of failing on its lock: `apt_update` (scripts/apt-lock.sh,
 * used by provision.sh) run against its own package-lists directory while a process holds that
 * directory's lock, as apt-get does, finishes once the lock is released.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './e2e/casebook-process.js';

const dir = mkdtempSync(join(tmpdir(), 'casebook-apt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasApt = spawnSync('apt-get', ['--version']).status === 0;

describe.runIf(hasApt)('provisioning and the apt lock', () => {
  it('apt_update waits while another process holds the package lists lock', async () => {
    mkdirSync(join(dir, 'lists/partial'), { recursive: true });
    mkdirSync(join(dir, 'parts'));
    mkdirSync(join(dir, 'cache/archives/partial'), { recursive: true });
    writeFileSync(join(dir, 'sources.list'), '');
    // apt's locks are fcntl locks, as Python's lockf takes them.
    const holder = spawn('python3', [
      '-c',
      [
        'import fcntl, sys, time',
        `f = open(${JSON.stringify(join(dir, 'lists/lock'))}, "w")`,
        'fcntl.lockf(f, fcntl.LOCK_EX)',
        'print("held", flush=True)',
        'time.sleep(3)',
      ].join('\n'),
    ]);
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    const started = Date.now();
    const options = [
      `-o Dir::State::Lists=${dir}/lists`,
      `-o Dir::Etc::SourceList=${dir}/sources.list`,
      `-o Dir::Etc::SourceParts=${dir}/parts`,
      `-o Dir::Cache=${dir}/cache`,
    ].join(' ');
    const update = spawnSync('bash', ['-c', `source scripts/apt-lock.sh && apt_update ${options}`], { cwd: ROOT, encoding: 'utf8' });
    expect(update.status, update.stderr).toBe(0);
    expect(update.stderr).toContain('another apt-get holds the package lists; waiting for it');
    expect(Date.now() - started).toBeGreaterThan(2_000);
  }, 30_000);
});
