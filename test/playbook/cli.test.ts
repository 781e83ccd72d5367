/** The `casebook` command as an ops lead runs it. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/stack/free-port.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const casebook = (...args: string[]) => spawnSync(process.execPath, ['bin/casebook.js', ...args], { cwd: ROOT, encoding: 'utf8' });

describe('casebook validate / compile / diagram', () => {
  const dir = mkdtempSync(join(tmpdir(), 'casebook-cli-'));
  const broken = join(dir, 'broken.yaml');
  writeFileSync(
    broken,
    'playbook: broken\ncase_type: return\ncurrency: CNY\nfields: {}\nsteps:\n  - id: only\n    end: { outcome: resolved, reason: done }\n  - id: after\n    sned: { to: buyer }\n',
  );

  it('prints path:line:column: severity code: message per problem and exits 1 on errors', () => {
    const result = casebook('validate', 'playbooks/return.yaml', broken);
    expect(result.status).toBe(1);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toEqual([
      `${broken}:8:5: error SCHEMA006: step steps[1] has no action (hint: add one of: send, wait, delay, branch, refund, escalate, task, set, remark, call, playbook, end, parallel, for_each)`,
      `${broken}:9:5: error SCHEMA001: unknown property 'sned' in steps[1] (hint: did you mean 'send'?)`,
    ]);
  });

  it('reads a sub-playbook from the folder of the playbook that runs it, and names one it does not hold', () => {
    const folder = mkdtempSync(join(tmpdir(), 'casebook-sub-'));
    const head = (name: string) => `playbook: ${name}\ncase_type: return\ncurrency: CNY\nfields:\n  order_id: { type: string }\nsteps:\n`;
    writeFileSync(join(folder, 'child.yaml'), `${head('child')}  - id: done\n    end: { outcome: resolved, reason: done }\n`);
    const parent = join(folder, 'parent.yaml');
    writeFileSync(
      parent,
      `${head('parent')}  - id: run\n    playbook: { name: child, input: { order_id: data.order_id }, outcomes: { done: done } }\n  - id: done\n    end: { outcome: resolved, reason: done }\n`,
    );
    expect([casebook('validate', parent).status, casebook('validate', parent).stdout]).toEqual([0, '']);
    expect(casebook('diagram', parent).stdout).toContain('playbook child v1');
    // A playbook the folder does not hold.
    const orphan = join(folder, 'orphan.yaml');
    writeFileSync(orphan, `${head('orphan')}  - id: run\n    playbook: { name: chlid }\n  - id: done\n    end: { outcome: resolved, reason: done }\n`);
    expect(casebook('validate', orphan).stdout).toBe(
      `${orphan}:8:23: error PB330: no playbook named chlid is published (hint: publish chlid before the playbooks that run it (casebook validate and test read chlid.yaml beside this playbook))\n`,
    );
  });

  it('exits 0 with no output for valid playbooks, and prints JSON on request', () => {
    const ok = casebook('validate', 'playbooks/return.yaml', 'playbooks/exchange.yaml');
    expect([ok.status, ok.stdout]).toEqual([0, '']);
    const json = casebook('validate', '--format', 'json', broken);
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ severity: 'error', code: 'SCHEMA006', file: broken, line: 8, column: 5 }),
      expect.objectContaining({ code: 'SCHEMA001', line: 9, column: 5, endLine: 9, endColumn: 9 }),
    ]);
  });

  it('compiles to the plan and draws the flow', () => {
    const compiled = casebook('compile', 'playbooks/return.yaml');
    expect(compiled.status).toBe(0);
    const output = JSON.parse(compiled.stdout) as { hash: string; plan: { planVersion: number; name: string } };
    expect(output.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(output.plan).toMatchObject({ planVersion: 1, name: 'return' });
    const diagram = casebook('diagram', 'playbooks/return.yaml');
    expect(diagram.stdout).toContain('flowchart TD');
    expect(diagram.stdout).toContain('s_wait_receipt -->|"timeout 10d"| s_escalate_missing_parcel');
    const missing = casebook('compile', join(dir, 'missing.yaml'));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('missing.yaml:1:1: error IO001: cannot read the file: ENOENT');
  });
});

describe('casebook, as a new user meets it', () => {
  // One process per subcommand, each loading its module: a few seconds each on a busy machine.
  it('answers --help with the usage of every subcommand', () => {
    const names = [...casebook('--help').stdout.matchAll(/^ {2}(\w+) /gm)].map((m) => m[1]!);
    expect(names).toEqual(expect.arrayContaining(['start', 'validate', 'compile', 'test', 'keys', 'audit', 'diagram', 'export', 'replay']));
    for (const name of names) {
      const help = casebook(name, '--help');
      expect([name, help.status, help.stderr]).toEqual([name, 0, '']);
      expect(help.stdout).toMatch(new RegExp(`^usage:[\\s\\S]*casebook ${name}\\b`));
    }
    expect(casebook('validate', '-h').stdout).toContain('usage: casebook validate');
  }, 240_000);

  it('validates what docs/playbook-language.md says to, scenario files included, as scenarios', () => {
    const doc = readFileSync(join(ROOT, 'docs/playbook-language.md'), 'utf8');
    const command = /^npx casebook (validate playbooks\/\*\.yaml)/m.exec(doc)![1]!;
    const documented = spawnSync('bash', ['-c', `node bin/casebook.js ${command}`], { cwd: ROOT, encoding: 'utf8' });
    expect([documented.status, documented.stdout, documented.stderr]).toEqual([0, '', '']);
    const dir = mkdtempSync(join(tmpdir(), 'casebook-cli-'));
    const scenario = join(dir, 'broken.test.yaml');
    writeFileSync(scenario, 'playbook: return\nscenarios:\n  - name: x\n    bogus: 1\n');
    const broken = casebook('validate', scenario);
    expect(broken.status).toBe(1);
    expect(broken.stdout).toContain(`${scenario}:4:5: error SCHEMA001: unknown property 'bogus' in scenarios[0]`);
  });

  it('names the address and the variable that moves it when the database cannot be reached', async () => {
    const port = await freePort();
    const { DATABASE_URL: _unset, ...env } = process.env;
    const run = (extra: NodeJS.ProcessEnv) =>
      spawnSync(process.execPath, ['bin/casebook.js', 'keys', 'list'], { cwd: ROOT, encoding: 'utf8', env: { ...env, ...extra } });
    const embedded = run({ CASEBOOK_POSTGRES_PORT: String(port) });
    expect(embedded.status).toBe(1);
    expect(embedded.stderr).toContain(`casebook keys: cannot reach the database at 127.0.0.1:${port}/casebook: connect ECONNREFUSED`);
    expect(embedded.stderr).toContain('set CASEBOOK_POSTGRES_PORT to the port its Postgres listens on (default 5433), or DATABASE_URL to another Postgres');
    const configured = run({ DATABASE_URL: `postgres://casebook_app:x@127.0.0.1:${port}/shop` });
    expect(configured.stderr).toContain(`cannot reach the database at 127.0.0.1:${port}/shop`);
    expect(configured.stderr).toContain("the address is DATABASE_URL's");
    expect(configured.stderr).not.toContain('    at ');
  });
});
