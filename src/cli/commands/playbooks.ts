/**
 * `casebook playbooks current <name>`: which version of a playbook new cases take, and the changes
 * that made it so; `casebook playbooks current <name> <version> --reason <text> [--by <name>]` makes
 * another published version current (a later or an earlier one), recorded as done by `--by` (default:
 * the shell's user), in the audit trail too. Exit 0 when done (or already current), 1 for a playbook or
 * version not published, 2 on bad arguments or no database.
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { changeCurrentVersion, playbookVersions } from '../../services/playbooks.js';
import { composePool } from '../../stack/compose.js';
import { databaseFailure, databaseUrlOf } from '../connections.js';

export const USAGE = `usage:
  casebook playbooks current <name>
  casebook playbooks current <name> <version> --reason <text> [--by <name>]
`;

type Request = { name: string } | { name: string; version: number; reason: string; by: string };

function parse(args: string[]): Request | undefined {
  try {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { reason: { type: 'string' }, by: { type: 'string' } } });
    const [action, name, version, ...more] = positionals;
    if (action !== 'current' || !name || more.length > 0) return undefined;
    if (version === undefined) return values.reason === undefined && values.by === undefined ? { name } : undefined;
    const reason = values.reason?.trim();
    if (!/^[1-9][0-9]{0,8}$/.test(version) || !reason || reason.length > 500) return undefined;
    return { name, version: Number(version), reason, by: values.by?.trim() || userInfo().username };
  } catch {
    return undefined;
  }
}

/** `databaseUrl`: where the playbooks are, for tests. */
export async function run(args: string[], databaseUrl = databaseUrlOf()): Promise<number> {
  const request = parse(args);
  if (!request) {
    process.stderr.write(USAGE);
    return 2;
  }
  const pool = composePool(databaseUrl, 1);
  try {
    if (!('version' in request)) {
      const found = await playbookVersions(pool, request.name);
      if (!found) {
        process.stderr.write(`casebook playbooks: no playbook named ${request.name} is published\n`);
        return 1;
      }
      process.stdout.write(`${found.name}: version ${found.current} is current (of ${found.versions.length})\n`);
      for (const c of found.changes) process.stdout.write(`  ${c.at}  ${c.from === null ? '-' : `v${c.from}`} -> v${c.to}  by ${c.by.name}: ${c.reason}\n`);
      if (found.approvalRequired) process.stdout.write('  a version needs an approval by a second ops lead before it becomes current\n');
      for (const a of found.approvals) process.stdout.write(`  ${a.at}  v${a.version} approved by ${a.by.name}: ${a.reason}\n`);
      return 0;
    }
    const result = await changeCurrentVersion(pool, {
      name: request.name,
      version: request.version,
      reason: request.reason,
      by: { keyId: null, name: request.by },
    });
    switch (result.kind) {
      case 'unknown-playbook':
      case 'unknown-version':
      case 'unapproved':
        process.stderr.write(`casebook playbooks: ${result.message}\n`);
        return 1;
      case 'unchanged':
        process.stdout.write(`${request.name}: version ${result.current} is already current\n`);
        return 0;
      case 'changed':
        process.stdout.write(
          `${request.name}: version ${result.current} is now current (was ${result.change.from === null ? 'none' : `v${result.change.from}`}); new cases take it\n`,
        );
        return 0;
    }
  } catch (error) {
    process.stderr.write(databaseFailure('playbooks', error, databaseUrl));
    return 2;
  } finally {
    await pool.end();
  }
}
