/**
 * E-mail over SMTP (nodemailer): each message is one mail through the configured server to the buyer's
 * address (the case's `buyer_email`), with the subject, text and HTML the template gave in the case's
 * language. Its Message-ID comes from the idempotency key, so a mail sent again after a crash is the same
 * mail to anyone who looks (and to mail servers that drop duplicates).
 */
import { createHash } from 'node:crypto';
import { createTransport, type Transporter } from 'nodemailer';
import type { MessageRequest } from '../plan/activities.js';
import { markMessageSent } from '../store/outbox.js';
import type { Pool } from '../store/pool.js';
import { type MailServer, MissingSecretError, secretsOf } from './config.js';
import { type ChannelAdapter, DeliveryFailure, type EffectAttempt } from './ports.js';

/** Per mail: connecting, the server's greeting, and silence on the socket. A hanging server delays only its own mails. */
export const SMTP_TIMEOUT_MS = 10_000;
/**
 * The same within the case's workflow task: a slow server is left to the activity, which sends the mail
 * again under the same Message-ID, so the task is never held for long.
 */
export const IN_TASK_SMTP_TIMEOUT_MS = 3_000;

/** One plain address, `local@domain`: never a list or a display name that would reach someone else too. */
const ONE_ADDRESS = /^[^\s@,;:<>()"[\]\\]+@[^\s@,;:<>()"[\]\\]+$/;

/** The header carrying the idempotency key (case, step, visit), so a resend is recognisable by it too. */
export const KEY_HEADER = 'X-Casebook-Key';

export class SmtpChannel implements ChannelAdapter {
  constructor(
    private readonly server: MailServer,
    private readonly pool: Pool,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** Sends the mail, then marks the message's outbox row sent, as the local channel does. */
  async deliver(message: MessageRequest & { messageId: number }, attempt?: EffectAttempt): Promise<void> {
    if (message.recipient.kind !== 'buyer') throw new DeliveryFailure(`e-mail reaches the buyer only, not the ${message.recipient.kind}`, undefined);
    if (!message.address) throw new DeliveryFailure('the case has no e-mail address for the buyer (its buyer_email field is empty)', undefined);
    if (!ONE_ADDRESS.test(message.address)) throw new DeliveryFailure("the buyer's e-mail address (buyer_email) is not one address", undefined);
    const timeout = attempt?.inWorkflowTask ? IN_TASK_SMTP_TIMEOUT_MS : SMTP_TIMEOUT_MS;
    let transport: Transporter;
    try {
      transport = transportTo(this.server, timeout, this.env);
    } catch (error) {
      // A login variable unset: tried again, naming the variable.
      throw new DeliveryFailure((error as Error).message, 0);
    }
    try {
      await transport.sendMail({
        from: this.server.from,
        to: { name: '', address: message.address },
        subject: message.subject ?? '',
        text: message.body,
        ...(message.html !== undefined ? { html: message.html } : {}),
        messageId: messageIdOf(message.key, this.server.from),
        headers: {
          [KEY_HEADER]: message.key,
          ...(message.language ? { 'Content-Language': message.language } : {}),
        },
      });
    } catch (error) {
      throw failureOf(error, this.server.name);
    } finally {
      transport.close();
    }
    await markMessageSent(this.pool, message.messageId);
  }
}

/**
 * A connection to the mail server with the login read from its variables now, so a restart with new
 * values rotates it (a MissingSecretError names a variable that is unset); `timeoutMs` for connecting,
 * the greeting and silence on the socket.
 */
function transportTo(server: MailServer, timeoutMs: number, env: NodeJS.ProcessEnv): Transporter {
  const { userVariable, passwordVariable } = server;
  const [user, pass] = userVariable && passwordVariable ? secretsOf([userVariable, passwordVariable], env) : [];
  return createTransport({
    host: server.host,
    port: server.port,
    secure: server.secure,
    ...(user !== undefined && pass !== undefined ? { auth: { user, pass } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    // The content is text the workflow rendered: never a file or a URL for nodemailer to read.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
}

export interface CheckResult {
  ok: boolean;
  latencyMs: number;
  /** Why not ok; never a secret. */
  problem?: string;
}

/**
 * Whether a configured mail server takes Casebook's login, for `casebook config check`: nodemailer's
 * `verify()` (connect, greeting, STARTTLS or TLS, and the login when the server has one configured),
 * sending nothing.
 */
export async function verifyMailServer(server: MailServer, env: NodeJS.ProcessEnv = process.env): Promise<CheckResult> {
  const begun = performance.now();
  const latencyMs = () => Math.round(performance.now() - begun);
  let transport: Transporter;
  try {
    transport = transportTo(server, SMTP_TIMEOUT_MS, env);
  } catch (error) {
    if (error instanceof MissingSecretError) return { ok: false, latencyMs: latencyMs(), problem: error.message };
    throw error;
  }
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

/** `<hash of the key@the sender's domain>`: the same key, the same Message-ID. */
export function messageIdOf(key: string, from: string): string {
  const domain = /@([^\s<>@]+)>?\s*$/.exec(from)?.[1] ?? 'casebook.invalid';
  return `<${createHash('sha256').update(key).digest('hex').slice(0, 40)}.casebook@${domain}>`;
}

interface SmtpError {
  code?: string;
  command?: string;
  responseCode?: number;
}

/**
 * A recipient or a message the server refuses (5xx to RCPT TO or DATA), or an address that is not one,
 * fails for good: the send's `on_error`, else the case's failure path. Anything else (4xx, no
 * connection, a timeout, a login refused) is tried again: by the activity at once (not again within the
 * workflow task), then on its retry policy. The server's reply is kept, never a secret.
 */
function failureOf(error: unknown, server: string): Error {
  const { code, command, responseCode } = error as SmtpError;
  const reply = firstLine((error as Error).message ?? String(error));
  const refused =
    (responseCode !== undefined && responseCode >= 500 && (command === 'RCPT TO' || command === 'DATA')) || (code === 'EENVELOPE' && command === 'API');
  if (refused) return new DeliveryFailure(`mail server ${server} refused the mail: ${reply}`, undefined);
  return new DeliveryFailure(`mail server ${server} did not take the mail: ${reply}`, 0);
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 300);
}
