/** Bearer API keys and roles: who may call which route. */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Actor } from '../plan/case.js';
import type { Pool } from '../store/pool.js';
import { authenticate, type ApiKey, type Role } from '../services/keys.js';
import { problem, sendProblem, sendRateLimited } from './problems.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed to call the route; absent: the route is public (health, docs). */
    roles?: readonly Role[];
  }
  interface FastifyRequest {
    apiKey?: ApiKey;
  }
  interface FastifyInstance {
    /** Drops a key revoked through this API from the keys recently authenticated, so it stops working at once. */
    forgetApiKey(id: string): void;
  }
}

/** How long a key, once authenticated, is taken without asking Postgres again: what a revocation elsewhere waits at most. */
export const KEY_CACHE_MS = 10_000;

export const READERS: readonly Role[] = ['ops-lead', 'agent', 'auditor', 'admin'];
/** Who works the task and escalation queues; auditors read them. */
export const AGENT_WORKERS: readonly Role[] = ['agent', 'ops-lead', 'admin'];

/** An API key as a name that names it too: `name (key id)` (playbook_versions.published_by, a repair's `by`). */
export const keyNamed = (apiKey: ApiKey): string => `${apiKey.name} (key ${apiKey.id})`;

/** The actor a request's API key stands for in the audit trail: its id and name. */
export function actorOf(request: FastifyRequest): Actor {
  const apiKey = request.apiKey;
  if (!apiKey) throw new Error(`${request.method} ${request.url} has no API key to attribute`);
  return { keyId: apiKey.id, name: apiKey.name };
}

/**
 * Routes with `config.roles` need a key of one of those roles. Failed authentications are counted per
 * client address: past `failuresPerMinute` in a minute, they answer 429 with Retry-After instead of 401.
 * A valid key is checked first and never counted or held back, whoever else shares its address.
 */
export function registerAuth(
  app: FastifyInstance,
  pool: Pool,
  { failuresPerMinute, keyCacheMs = KEY_CACHE_MS }: { failuresPerMinute: number; keyCacheMs?: number },
): void {
  const failures = new FailureCounter(failuresPerMinute, 60_000);
  const recent = new RecentKeys(keyCacheMs);
  app.decorateRequest('apiKey', undefined);
  app.decorate('forgetApiKey', (id: string) => recent.forget(id));
  app.addHook('onRequest', async (request, reply) => {
    const roles = request.routeOptions.config.roles;
    if (!roles) return;
    const apiKey = await keyOf(request, pool, recent);
    if (!apiKey) {
      const retryAfter = failures.fail(request.ip, Date.now());
      if (retryAfter !== undefined) return sendRateLimited(reply, retryAfter, 'too many failed authentications from this address');
      reply.header('www-authenticate', 'Bearer realm="casebook"');
      return sendProblem(reply, problem('unauthorized', 'a valid API key is required: Authorization: Bearer <key>'));
    }
    request.apiKey = apiKey;
    if (!roles.includes(apiKey.role)) {
      return sendProblem(
        reply,
        problem('forbidden', `the role ${apiKey.role} may not ${request.method} ${request.routeOptions.url}; allowed: ${roles.join(', ')}`),
      );
    }
  });
}

async function keyOf(request: FastifyRequest, pool: Pool, recent: RecentKeys): Promise<ApiKey | undefined> {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer ([^\s]{1,200})$/.exec(header);
  return match ? recent.authenticate(match[1]!, (token) => authenticate(pool, token), Date.now()) : undefined;
}

/**
 * Keys authenticated in the last `ttlMs`, by their token's digest: a busy client's key is not looked up
 * on every request. Only keys that authenticated are kept (a wrong token is asked about every time, and
 * counted as a failure), at most MAX_RECENT_KEYS of them.
 */
class RecentKeys {
  private readonly keys = new Map<string, { apiKey: ApiKey; until: number }>();

  constructor(private readonly ttlMs: number) {}

  async authenticate(token: string, lookUp: (token: string) => Promise<ApiKey | undefined>, now: number): Promise<ApiKey | undefined> {
    const digest = createHash('sha256').update(token).digest('base64url');
    const known = this.keys.get(digest);
    if (known && known.until > now) return known.apiKey;
    this.keys.delete(digest);
    const apiKey = await lookUp(token);
    if (apiKey && this.ttlMs > 0) {
      if (this.keys.size >= MAX_RECENT_KEYS) this.keys.delete(this.keys.keys().next().value!);
      this.keys.set(digest, { apiKey, until: now + this.ttlMs });
    }
    return apiKey;
  }

  forget(id: string): void {
    for (const [digest, { apiKey }] of this.keys) if (apiKey.id === id) this.keys.delete(digest);
  }
}

const MAX_RECENT_KEYS = 10_000;

/** Failures per address in fixed windows; `fail` answers the seconds to wait once an address is over the limit. */
class FailureCounter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  fail(address: string, now: number): number | undefined {
    if (this.windows.size > 10_000) {
      for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
    }
    let window = this.windows.get(address);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + this.windowMs };
      this.windows.set(address, window);
    }
    window.count += 1;
    return window.count > this.limit ? Math.max(1, Math.ceil((window.resetAt - now) / 1000)) : undefined;
  }
}
