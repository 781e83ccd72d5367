/**
 * What the API takes: bodies up to a size, failed authentications up to a count per address, and
 * request rates, as token buckets held in this API process: a bucket per key (its role's rate, or the
 * default), one per client address for requests without a key, and, where configured, one per role that
 * all its keys draw from. Each API process counts on its own: N processes behind a balancer let N times
 * the rate through.
 */
import type { FastifyInstance } from 'fastify';
import type { Role } from '../services/keys.js';
import { sendRateLimited } from './problems.js';

/** The largest body a request may have, unless configured (CASEBOOK_MAX_BODY_BYTES). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Failed authentications per minute per address before 429, unless configured (CASEBOOK_AUTH_FAILURES_PER_MINUTE). */
export const DEFAULT_AUTH_FAILURES_PER_MINUTE = 20;

export interface RateLimits {
  /** Requests per minute for each key without a rate of its role's, and for each address without a key. */
  perKey: number;
  /** The per-key rate of each role that has its own. */
  perKeyOfRole: Partial<Record<Role, number>>;
  /** Requests per minute of all the keys of a role together; a role not named has no such bound. */
  perRole: Partial<Record<Role, number>>;
}

/** Today's rate: 1,200 requests a minute per key, no bound per role. */
export const DEFAULT_RATE_LIMITS: RateLimits = { perKey: 1_200, perKeyOfRole: {}, perRole: {} };

/**
 * A bucket holds a minute's worth of requests (`perMinute`) and refills at `perMinute` a minute: a
 * client may spend its minute at once, then goes at the rate.
 */
class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  /** Takes a token from `name`'s bucket: undefined when there was one, else the whole seconds until there is. */
  take(name: string, perMinute: number, now: number): number | undefined {
    const perMs = perMinute / 60_000;
    const known = this.buckets.get(name);
    const tokens = known ? Math.min(perMinute, known.tokens + (now - known.at) * perMs) : perMinute;
    if (tokens >= 1) {
      this.buckets.set(name, { tokens: tokens - 1, at: now });
      this.sweep(now);
      return undefined;
    }
    this.buckets.set(name, { tokens, at: now });
    return Math.max(1, Math.ceil((1 - tokens) / perMs / 1_000));
  }

  /** Gives back a token taken from `name` (a request its role's bucket then refused). */
  giveBack(name: string): void {
    const known = this.buckets.get(name);
    if (known) known.tokens += 1;
  }

  /** Drops buckets idle for over a minute (full again, so the same as absent), once the map grows large. */
  private sweep(now: number): void {
    if (this.buckets.size <= MAX_BUCKETS) return;
    for (const [name, bucket] of this.buckets) if (now - bucket.at > 60_000) this.buckets.delete(name);
  }
}

const MAX_BUCKETS = 10_000;

/**
 * Refuses a request over its rate with 429 `rate-limited` and Retry-After. Runs after authentication
 * (an `onRequest` hook registered after registerAuth's), so a key is known by its id and its role; a
 * request without a key counts against its address.
 */
export function registerRateLimits(app: FastifyInstance, limits: RateLimits): void {
  const buckets = new TokenBuckets();
  app.addHook('onRequest', async (request, reply) => {
    if (reply.sent) return;
    const now = Date.now();
    const apiKey = request.apiKey;
    let wait: number | undefined;
    let whose = 'this address';
    if (!apiKey) wait = buckets.take(`ip:${request.ip}`, limits.perKey, now);
    else {
      const own = `key:${apiKey.id}`;
      whose = 'this key';
      wait = buckets.take(own, limits.perKeyOfRole[apiKey.role] ?? limits.perKey, now);
      const roleRate = limits.perRole[apiKey.role];
      if (wait === undefined && roleRate !== undefined) {
        whose = `the keys of role ${apiKey.role} together`;
        wait = buckets.take(`role:${apiKey.role}`, roleRate, now);
        if (wait !== undefined) buckets.giveBack(own);
      }
    }
    if (wait === undefined) return;
    return sendRateLimited(reply, wait, `too many requests from ${whose}`);
  });
}
