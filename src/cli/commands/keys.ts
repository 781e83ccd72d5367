/**
 * `casebook keys create --role <role> [--name N]`, `keys list`, `keys revoke <id>`: API keys in the
 * database `casebook start` uses ($DATABASE_URL, or the embedded one while it runs).
 */
import { createApiKey, listApiKeys, revokeApiKey, ROLES, type Role } from '../../services/keys.js';
import { composePool } from '../../stack/compose.js';
import { databaseFailure, databaseUrlOf } from '../connections.js';

export const USAGE = `usage:
  casebook keys create --role <${ROLES.join('|')}> [--name <name>]
  casebook keys list
  casebook keys revoke <key id>
`;

export async function run(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const option = (name: string) => {
    const index = rest.indexOf(`--${name}`);
    return index >= 0 ? rest[index + 1] : undefined;
  };
  if (action === 'create' && !ROLES.includes(option('role') as Role)) {
    process.stderr.write(`casebook keys: --role must be one of ${ROLES.join(', ')}\n${USAGE}`);
    return 2;
  }
  if (!['create', 'list', 'revoke'].includes(action ?? '') || (action === 'revoke' && !rest[0])) {
    process.stderr.write(USAGE);
    return 2;
  }
  const url = databaseUrlOf();
  const pool = composePool(url, 1);
  try {
    if (action === 'create') {
      const role = option('role') as Role;
      const { key, apiKey } = await createApiKey(pool, role, option('name') ?? `${role} key`);
      process.stdout.write(`created key ${apiKey.id} (${apiKey.role}, "${apiKey.name}"); it is shown only now:\n${key}\n`);
    } else if (action === 'list') {
      for (const k of await listApiKeys(pool)) {
        process.stdout.write(`${k.id}  ${k.role.padEnd(9)}  ${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}  ${k.name}\n`);
      }
    } else {
      if (!(await revokeApiKey(pool, rest[0]!))) {
        process.stderr.write(`casebook keys: no active key ${rest[0]}\n`);
        return 1;
      }
      process.stdout.write(`revoked ${rest[0]}\n`);
    }
    return 0;
  } catch (error) {
    process.stderr.write(databaseFailure('keys', error, url));
    return 1;
  } finally {
    await pool.end();
  }
}
