/**
 * One HTTP POST to a configured destination, made safe to aim at a receiver Casebook does not control:
 * no redirect followed, the address checked when the connection is made (not only when configured),
 * the whole exchange bounded in time (a slow, trickling answer too) and the answer in size.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPrivateAddress } from '../config.js';

/** Why an attempt got no usable answer; recorded with the attempt (`error_kind`). */
export type AttemptErrorKind = 'timeout' | 'connection' | 'dns' | 'private_address' | 'too_large' | 'tls';

export class AttemptError extends Error {
  constructor(
    readonly kind: AttemptErrorKind,
    message: string,
    /** The answer's status when it came before the failure (too large). */
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = 'AttemptError';
  }
}

export interface PostLimits {
  timeoutMs: number;
  maxResponseBytes: number;
  allowPrivateAddress: boolean;
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Resolves like dns.lookup, refusing a name any of whose addresses is loopback, private or
 * link-local: a name that answers a public address to the configuration check and a private one later
 * (DNS rebinding) is refused at connect time.
 */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    const refused = addresses.find(({ address }) => isPrivateAddress(address));
    if (refused) return callback(new AttemptError('private_address', `${hostname} resolves to ${refused.address}, a private address`), '', 0);
    if (options.all) return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
};

/** POSTs `body` once; answers the status, headers and body of any answer, or throws an AttemptError. */
export function postOnce(url: URL, headers: Record<string, string>, body: string, limits: PostLimits, agent?: http.Agent): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    if (!limits.allowPrivateAddress && isIP(host) !== 0 && isPrivateAddress(host)) {
      reject(new AttemptError('private_address', `${host} is a private address`));
      return;
    }
    const client = url.protocol === 'https:' ? https : http;
    let settled = false;
    const fail = (error: AttemptError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
      request.destroy();
    };
    let request: http.ClientRequest;
    try {
      request = client.request(url, {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        ...(limits.allowPrivateAddress ? {} : { lookup: publicOnlyLookup }),
        ...(agent ? { agent } : {}),
      });
    } catch (error) {
      reject(error);
      return;
    }
    const timer = setTimeout(() => fail(new AttemptError('timeout', `no whole answer within ${limits.timeoutMs} ms`)), limits.timeoutMs);
    request.on('error', (error) => fail(error instanceof AttemptError ? error : transportError(error)));
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const declared = Number(response.headers['content-length'] ?? Number.NaN);
      if (declared > limits.maxResponseBytes) {
        fail(new AttemptError('too_large', `the answer declares ${declared} bytes, more than ${limits.maxResponseBytes}`, status));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limits.maxResponseBytes) fail(new AttemptError('too_large', `the answer is longer than ${limits.maxResponseBytes} bytes`, status));
        else chunks.push(chunk);
      });
      response.on('error', (error) => fail(transportError(error)));
      response.on('aborted', () => fail(new AttemptError('connection', 'the receiver closed the connection mid-answer')));
      response.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status, headers: response.headers, body: Buffer.concat(chunks) });
      });
    });
    request.end(body);
  });
}

function transportError(error: Error & { code?: string }): AttemptError {
  const code = error.code ?? '';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ENODATA') return new AttemptError('dns', `cannot resolve the destination's host (${code})`);
  if (code.startsWith('ERR_TLS') || code.includes('CERT') || code === 'EPROTO') return new AttemptError('tls', `TLS failed (${code})`);
  return new AttemptError('connection', code ? `connection failed (${code})` : `connection failed: ${error.message}`);
}
