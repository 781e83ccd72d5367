/**
 * Signed checkpoints of the audit chain, kept where the database's owner cannot rewrite them: each one
 * signs (Ed25519) the chain's last position and head and a digest of the refunds ledger
 * (`chainAnchor`), is appended as one JSON line to a file outside Postgres, and is POSTed to a
 * configured destination. `casebook audit verify` checks the chain against them (docs/auditing.md).
 *
 * The signing key comes from CASEBOOK_AUDIT_SIGNING_KEY or a key file in the data directory, made on
 * first use (mode 0600); it is never written anywhere else, logged or put in a message.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { repeatEvery } from './repeat.js';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, fstatSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { chainAnchor, type Anchor, type AuditProblem, type ChainAnchor } from '../store/audit-chain.js';
import type { Pool } from '../store/pool.js';

/** The chain checked row by row, and against the checkpoints' anchors when given (`casebook audit verify`). */
export { verifyAuditTrail } from '../store/audit-chain.js';

/** One line of the checkpoint file: what it anchors, the sha256 of the line before it, the key's fingerprint, the signature. */
export interface Checkpoint extends Anchor {
  prev: string | null;
  key: string;
  signature: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The first 16 hex digits of sha256 of the raw public key: names the key without revealing anything. */
export function keyFingerprint(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(publicKey.export({ format: 'der', type: 'spki' }))
    .digest('hex')
    .slice(0, 16);
}

/** The bytes signed: the fields in this order, whatever order a line has them in. */
function signedText(c: Omit<Checkpoint, 'signature'>): string {
  return JSON.stringify({
    checkpoint: c.checkpoint,
    at: c.at,
    position: c.position,
    head: c.head,
    refunds: { through: c.refunds.through, count: c.refunds.count, sha256: c.refunds.sha256 },
    prev: c.prev,
    key: c.key,
  });
}

const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The line of the checkpoint that follows `previous` (the last line of the file, if any). */
export function signCheckpoint(anchor: ChainAnchor, previous: string | undefined, key: KeyObject, at: Date): Checkpoint {
  const before = previous === undefined ? undefined : parseCheckpoint(previous);
  const unsigned = {
    checkpoint: (before?.checkpoint ?? 0) + 1,
    at: at.toISOString(),
    ...anchor,
    prev: previous === undefined ? null : sha256Hex(previous),
    key: keyFingerprint(key),
  };
  return { ...unsigned, signature: sign(null, Buffer.from(signedText(unsigned)), key).toString('base64') };
}

export const checkpointLine = (checkpoint: Checkpoint): string => JSON.stringify({ ...JSON.parse(signedText(checkpoint)), signature: checkpoint.signature });

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/** A line as a checkpoint when it has every field with the right type; undefined otherwise. */
function parseCheckpoint(line: string): Checkpoint | undefined {
  let c: Checkpoint;
  try {
    c = JSON.parse(line) as Checkpoint;
  } catch {
    return undefined;
  }
  const ok =
    c !== null &&
    typeof c === 'object' &&
    isCount(c.checkpoint) &&
    c.checkpoint >= 1 &&
    typeof c.at === 'string' &&
    isCount(c.position) &&
    (c.head === null || (typeof c.head === 'string' && HEX64.test(c.head))) &&
    c.refunds !== null &&
    typeof c.refunds === 'object' &&
    isCount(c.refunds.through) &&
    isCount(c.refunds.count) &&
    typeof c.refunds.sha256 === 'string' &&
    HEX64.test(c.refunds.sha256) &&
    (c.prev === null || (typeof c.prev === 'string' && HEX64.test(c.prev))) &&
    typeof c.key === 'string' &&
    typeof c.signature === 'string';
  return ok ? c : undefined;
}

export interface CheckpointReading {
  /** The checkpoints whose signature verified, by number: what verify checks the chain against. */
  anchors: Anchor[];
  /** Lines that are not checkpoints, do not verify, or do not follow the line before. */
  problems: AuditProblem[];
  /** The newest checkpoint that verified. */
  latest?: Checkpoint;
  lines: number;
}

/** Reads a checkpoint file's text: each line's signature by `key` (its public half), number and link to the line before. */
export function readCheckpoints(text: string, key: KeyObject, file: string): CheckpointReading {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const fingerprint = keyFingerprint(key);
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const problems: AuditProblem[] = [];
  const valid: Checkpoint[] = [];
  const invalid = (n: number, what: string): void => {
    problems.push({ problem: 'checkpoint-invalid', message: `line ${n} of ${file}: ${what}` });
  };
  for (const [i, line] of lines.entries()) {
    const n = i + 1;
    const c = parseCheckpoint(line);
    if (!c) {
      invalid(n, 'not a checkpoint (unreadable)');
      continue;
    }
    const named = `checkpoint ${c.checkpoint} (${c.at})`;
    if (c.key !== fingerprint) {
      invalid(n, `${named} was signed by key ${c.key}, not by this key (${fingerprint})`);
      continue;
    }
    let signed = false;
    try {
      signed = verify(null, Buffer.from(signedText(c)), publicKey, Buffer.from(c.signature, 'base64'));
    } catch {
      signed = false;
    }
    if (!signed) {
      invalid(n, `${named}: its signature does not verify (forged or altered)`);
      continue;
    }
    if (c.checkpoint !== n) invalid(n, `${named} is numbered ${c.checkpoint} where ${n} was expected (a checkpoint was removed or inserted before it)`);
    else if (c.prev !== (i === 0 ? null : sha256Hex(lines[i - 1]!)))
      invalid(n, `${named} does not follow line ${i} (a checkpoint before it was altered, removed or inserted)`);
    valid.push(c);
  }
  valid.sort((a, b) => a.checkpoint - b.checkpoint);
  const anchors = valid.map(({ checkpoint, at, position, head, refunds }) => ({ checkpoint, at, position, head, refunds }));
  return { anchors, problems, ...(valid.length > 0 ? { latest: valid.at(-1)! } : {}), lines: lines.length };
}

/** The file's last line (a checkpoint is far shorter than the 64 KiB read), or undefined when it is empty or missing. */
export function lastLine(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, 65_536);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const lines = buffer
      .toString('utf8')
      .split('\n')
      .filter((line) => line !== '');
    return lines.at(-1);
  } finally {
    closeSync(fd);
  }
}

/**
 * The signing key: the one given (CASEBOOK_AUDIT_SIGNING_KEY), else the key file's; with `create`, a
 * new Ed25519 key is written to the key file (0600) when there is none. Undefined: no key at all.
 */
export function signingKey(settings: { key?: KeyObject; keyFile: string }, { create }: { create: boolean }): KeyObject | undefined {
  if (settings.key) return settings.key;
  try {
    return keyOfFile(settings.keyFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (!create) return undefined;
  mkdirSync(dirname(settings.keyFile), { recursive: true });
  const { privateKey } = generateKeyPairSync('ed25519');
  try {
    const fd = openSync(settings.keyFile, 'wx', 0o600);
    try {
      writeSync(fd, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return privateKey;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return keyOfFile(settings.keyFile); // made at the same moment by another process
    throw error;
  }
}

function keyOfFile(file: string): KeyObject {
  const pem = readFileSync(file, 'utf8');
  let key: KeyObject | undefined;
  try {
    key = createPrivateKey(pem);
  } catch {
    key = undefined;
  }
  if (key?.asymmetricKeyType !== 'ed25519') throw new Error(`the audit signing key file ${file} does not hold an Ed25519 private key (PKCS#8 PEM)`);
  return key;
}

/** Appends one line and flushes it to disk before answering. The file is only ever opened to append. */
function appendLine(file: string, line: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const fd = openSync(file, 'a', 0o644);
  try {
    writeSync(fd, `${line}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const sameAnchor = (a: ChainAnchor, b: ChainAnchor) =>
  a.position === b.position &&
  a.head === b.head &&
  a.refunds.through === b.refunds.through &&
  a.refunds.count === b.refunds.count &&
  a.refunds.sha256 === b.refunds.sha256;

/** Lines kept for the destination while it does not answer; older ones are still in the file. */
const UNSENT_KEPT = 1_000;

/**
 * Writes checkpoints: on demand (`checkpoint({ always: true })`), and every interval when the chain or
 * the ledger changed since the file's last one. Each is appended to the file, then POSTed to the
 * destination (application/json, the line as written); what the destination did not take is sent
 * again, in order, before the next one.
 */
export class AuditCheckpointer {
  private unsent: string[] = [];
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly pool: Pool,
    private readonly options: { file: string; url?: string | undefined; key: KeyObject },
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** Writes a checkpoint (only when something changed unless `always`); answers it, or undefined when none was needed. */
  checkpoint({ always = false }: { always?: boolean } = {}): Promise<Checkpoint | undefined> {
    const next = this.running.then(() => this.write(always));
    this.running = next.catch(() => {});
    return next;
  }

  private async write(always: boolean): Promise<Checkpoint | undefined> {
    const anchor = await chainAnchor(this.pool);
    const previous = lastLine(this.options.file);
    const before = previous === undefined ? undefined : parseCheckpoint(previous);
    let written: Checkpoint | undefined;
    if (always || !before || !sameAnchor(before, anchor)) {
      written = signCheckpoint(anchor, previous, this.options.key, new Date());
      const line = checkpointLine(written);
      appendLine(this.options.file, line);
      if (this.options.url) this.unsent.push(line);
    }
    await this.send();
    return written;
  }

  private async send(): Promise<void> {
    if (!this.options.url) return;
    this.unsent = this.unsent.slice(-UNSENT_KEPT);
    while (this.unsent.length > 0) {
      try {
        const response = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: this.unsent[0]!,
          signal: AbortSignal.timeout(5_000),
        });
        await response.body?.cancel();
        if (!response.ok) throw new Error(`it answered ${response.status}`);
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code;
        // The origin only: the URL's path or query may carry a token.
        this.log(
          `casebook: sending an audit checkpoint to ${new URL(this.options.url).origin} failed (${cause ?? (error as Error).message}); it is sent again with the next one`,
        );
        return;
      }
      this.unsent.shift();
    }
  }

  /** A checkpoint now when the chain changed, then every `intervalMs`, and one more when stopped. */
  start(intervalMs: number): () => Promise<void> {
    const stop = repeatEvery(
      intervalMs,
      async () => {
        await this.checkpoint().catch((error: Error) => this.log(`casebook: writing an audit checkpoint failed (${error.message}); trying again`));
      },
      { now: true },
    );
    return async () => {
      await stop();
      await this.checkpoint().catch((error: Error) => this.log(`casebook: writing the last audit checkpoint failed (${error.message})`));
    };
  }
}
