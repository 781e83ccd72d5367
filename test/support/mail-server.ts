/**
 * A real SMTP server for tests (smtp-server on 127.0.0.1, a free port) that keeps every mail it takes,
 * read back into headers and bodies; what it says to a recipient (refuse for good, defer) is scripted.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

export interface ReceivedMail {
  /** The envelope's recipients (RCPT TO). */
  to: string[];
  /** Header names in lower case, values unfolded and decoded (RFC 2047). */
  headers: Record<string, string>;
  subject: string;
  text?: string;
  html?: string;
}

/** What the server answers a recipient: undefined takes it; otherwise an SMTP reply code and text. */
export type RecipientAnswer = { code: number; text: string } | undefined;

export interface MailServerOptions {
  user: string;
  password: string;
  answer?: (address: string) => RecipientAnswer;
}

export interface TestMailServer {
  port: number;
  received: ReceivedMail[];
  /** Every RCPT TO the server was asked, with the code it answered (250 taken). */
  asked: { address: string; code: number }[];
  close(): Promise<void>;
}

export async function startMailServer(options: MailServerOptions): Promise<TestMailServer> {
  const received: ReceivedMail[] = [];
  const asked: TestMailServer['asked'] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.password) return callback(null, { user: auth.username });
      return callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const answer = options.answer?.(address.address);
      asked.push({ address: address.address, code: answer?.code ?? 250 });
      if (!answer) return callback();
      return callback(Object.assign(new Error(answer.text), { responseCode: answer.code }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({ to: session.envelope.rcptTo.map((r) => r.address), ...readMail(Buffer.concat(chunks).toString('latin1')) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.server.address() as AddressInfo).port,
    received,
    asked,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Headers and the text and HTML bodies of a mail (one part, or multipart/alternative as nodemailer writes it). */
function readMail(raw: string): Omit<ReceivedMail, 'to'> {
  const { headers, body } = split(raw);
  const mail: Omit<ReceivedMail, 'to'> = { headers, subject: headers.subject ?? '' };
  for (const part of parts(headers, body)) {
    const type = (part.headers['content-type'] ?? 'text/plain').split(';')[0]!.trim();
    const content = decodeBody(part.body, part.headers['content-transfer-encoding']);
    if (type === 'text/plain') mail.text = content;
    if (type === 'text/html') mail.html = content;
  }
  return mail;
}

function split(raw: string): { headers: Record<string, string>; body: string } {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, end).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
  }
  return { headers, body: raw.slice(end + 4) };
}

function parts(headers: Record<string, string>, body: string): { headers: Record<string, string>; body: string }[] {
  const boundary = /boundary="?([^";]+)"?/.exec(headers['content-type'] ?? '')?.[1];
  if (!boundary) return [{ headers, body }];
  return body
    .split(`--${boundary}`)
    .slice(1, -1)
    .map((part) => split(part.replace(/^\r\n/, '')));
}

/** A body in its transfer encoding (the text is latin1, byte for byte), as UTF-8 text. */
function decodeBody(body: string, encoding = '7bit'): string {
  const text = body.replace(/\r\n$/, '');
  if (/base64/i.test(encoding)) return Buffer.from(text, 'base64').toString('utf8');
  if (/quoted-printable/i.test(encoding)) return quotedPrintable(text.replace(/=\r\n/g, '')).toString('utf8');
  return Buffer.from(text, 'latin1').toString('utf8');
}

function quotedPrintable(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '=' && /^[0-9A-F]{2}$/i.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(text.charCodeAt(i));
  }
  return Buffer.from(bytes);
}

/** RFC 2047 encoded words (`=?UTF-8?B?...?=`); adjacent ones are joined byte for byte, without the space between them. */
function decodeWords(value: string): string {
  const pieces = value.split(/(=\?[^?]+\?[BbQq]\?[^?]*\?=)/);
  let out = '';
  let bytes: Buffer[] = [];
  pieces.forEach((piece, i) => {
    const word = /^=\?[^?]+\?([BbQq])\?([^?]*)\?=$/.exec(piece);
    if (word) {
      bytes.push(/b/i.test(word[1]!) ? Buffer.from(word[2]!, 'base64') : quotedPrintable(word[2]!.replace(/_/g, ' ')));
      return;
    }
    if (piece.trim() === '' && i > 0 && i < pieces.length - 1) return;
    out += Buffer.concat(bytes).toString('utf8') + Buffer.from(piece, 'latin1').toString('utf8');
    bytes = [];
  });
  return out + Buffer.concat(bytes).toString('utf8');
}
