/**
 * The two roles Casebook uses on a Postgres server: the owner, which runs the migrations and owns every
 * table, and `casebook_app`, the application's role, which may only read and write rows as the grants of
 * migration 305 allow (no schema changes, no triggers switched off, ledger and audit rows append-only).
 */
import { withConnection } from './databases.js';

export const APP_ROLE = 'casebook_app';
/** The application role's password on the embedded server, which listens on 127.0.0.1 only. */
const EMBEDDED_APP_PASSWORD = 'casebook_app';

/** `url` with its user and password replaced by the application role's (embedded password). */
export function applicationUrl(url: string): string {
  const parsed = new URL(url);
  parsed.username = APP_ROLE;
  parsed.password = EMBEDDED_APP_PASSWORD;
  return parsed.toString();
}

/**
 * Makes `casebook_app` a login role with the embedded password, on the server whose superuser URL is
 * `adminUrl` (the embedded server and test servers only; on a managed Postgres an administrator does it).
 */
export async function ensureApplicationRole(adminUrl: string): Promise<void> {
  await withConnection(adminUrl, async (admin) => {
    const { rows } = await admin.query<{ login: boolean }>('SELECT rolcanlogin AS login FROM pg_roles WHERE rolname = $1', [APP_ROLE]);
    if (rows[0]?.login) return;
    const statement = rows[0] ? 'ALTER' : 'CREATE';
    await admin.query(`${statement} ROLE ${APP_ROLE} LOGIN PASSWORD '${EMBEDDED_APP_PASSWORD}'`).catch((error: { code?: string }) => {
      // Two test workers may create it at the same moment.
      if (error.code !== '42710' && error.code !== '23505' && error.code !== 'XX000') throw error;
    });
  });
}
