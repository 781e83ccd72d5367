/**
 * Whether a configured mail server takes Casebook's login, for `casebook config check`: nodemailer's
 * `verify()` (connect, greeting, STARTTLS or TLS, and the login when the server has one configured),
 * sending nothing.
 */
import { createTransport } from 'nodemailer';
import { type MailServer, MissingSecretError, secretsOf } from './config.js';

export interface CheckResult {
  ok: boolean;
  latencyMs: number;
  /** Why not ok; never a secret. */
  problem?: string;
}

/** Connecting, the greeting and each answer: as long as a mail may wait for each. */
const TIMEOUT_MS = 10_000;

export async function verifyMailServer(server: MailServer, env: NodeJS.ProcessEnv = process.env): Promise<CheckResult> {
  const begun = performance.now();
  const latencyMs = () => Math.round(performance.now() - begun);
  let auth: { user: string; pass: string } | undefined;
  if (server.userVariable && server.passwordVariable) {
    try {
      const [user, pass] = secretsOf([server.userVariable, server.passwordVariable], env);
      auth = { user: user!, pass: pass! };
    } catch (error) {
      if (error instanceof MissingSecretError) return { ok: false, latencyMs: latencyMs(), problem: error.message };
      throw error;
    }
  }
  const transport = createTransport({
    host: server.host,
    port: server.port,
    secure: server.secure,
    ...(auth ? { auth } : {}),
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
  });
  try {
    await transport.verify();
    return { ok: true, latencyMs: latencyMs() };
  } catch (error) {
    // nodemailer's messages name the server's answer (e.g. `535 authentication failed`), never the password.
    return { ok: false, latencyMs: latencyMs(), problem: (error as Error).message.split('\n')[0] || 'no answer' };
  } finally {
    transport.close();
  }
}
