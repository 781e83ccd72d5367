/**
 * The README's "The same return, through the shop's own systems", run as written: the example receiver
 * (examples/receivers/receiver.mjs) as the shop's endpoint, `casebook start` with
 * examples/receivers/casebook.yaml (its port moved to a free one), and the README's shell block, whose
 * warehouse receipt is posted signed by examples/send-event.mjs.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/stack/free-port.js';
import { newSecret } from '../connectors/webhook-receiver.js';
import { type Casebook, ROOT, startOnFreePorts, stopCasebook } from './casebook-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'casebook-receiver-walkthrough-'));
let running: Casebook | undefined;
let receiver: ChildProcess | undefined;

afterAll(async () => {
  receiver?.kill();
  if (running && running.child.exitCode === null) await stopCasebook(running);
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the README's return through the shop's own systems", () => {
  it('reaches the example receiver signed, takes the signed receipt, and closes with its reference', async () => {
    const secrets = { RECEIVER_SECRET: newSecret(), WAREHOUSE_SIGNING_SECRET: newSecret() };
    const port = await freePort();
    let printed = '';
    receiver = spawn(process.execPath, ['examples/receivers/receiver.mjs'], { cwd: ROOT, env: { ...process.env, ...secrets, PORT: String(port) } });
    receiver.stdout!.on('data', (chunk: Buffer) => {
      printed += chunk.toString();
    });
    const config = join(dataDir, 'casebook.yaml');
    writeFileSync(config, readFileSync(join(ROOT, 'examples/receivers/casebook.yaml'), 'utf8').replace('http://127.0.0.1:4000/', `http://127.0.0.1:${port}/`));
    Object.assign(process.env, secrets, { CASEBOOK_CONFIG: config });

    const { casebook, ports } = await startOnFreePorts(dataDir);
    running = casebook;
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const walkthrough = /## The same return, through the shop's own systems[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    const run = spawnSync('bash', ['-euo', 'pipefail', '-c', walkthrough], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, API: `http://127.0.0.1:${ports.api}`, CASEBOOK_DATA_DIR: dataDir, CASEBOOK_POSTGRES_PORT: String(ports.postgres) },
    });
    expect(run.status, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain('"caseId":"demo-2"');
    expect(run.stdout).toMatch(/^202 \{"status":"accepted","caseId":"demo-2"/m);
    expect(run.stdout).toContain('"outcome":{"outcome":"resolved","reason":"refunded"}');
    expect(run.stdout).toMatch(/18900\s+\| issued\s+\| R-1/);
    // spawnSync held this process's event loop: what the receiver printed is read now.
    await expect.poll(() => printed).toContain('refund.request demo-2/refund_no_reason/1');
    expect(printed).toMatch(/^message\.send demo-2\/send_address\/1$/m);
  }, 240_000);
});
