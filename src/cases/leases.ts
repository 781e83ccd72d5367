/**
 * What runs once across every API process of a deployment (docs/operations.md, "API and workers
 * apart"): a lease per singleton or per job, a Postgres advisory lock on this process's lease
 * connection (src/store/leases.ts). When the process dies its connection closes and its leases are
 * free; another process takes each at its next try. When the connection is lost while this process
 * lives, every lease it held is over too: what ran under them stops, and is taken again like the others.
 */
import { leaseSessionAlive, openLeaseConnection, releaseLease, tryLease, type LeaseConnection } from '../store/leases.js';

/** A lease held: `signal` aborts when it is lost (the connection to Postgres closed). */
export interface Claim {
  signal: AbortSignal;
  release(): Promise<void>;
}

/** Takes a lease, or answers undefined when another process holds it (or Postgres cannot be reached). */
export type ClaimLease = (name: string) => Promise<Claim | undefined>;

interface Session {
  connection: LeaseConnection;
  lost: AbortController;
}

export class Leases {
  private opening: Promise<Session> | undefined;
  /** The current session's end, to know whether a session lost is the current one. */
  private openingLost: AbortController | undefined;
  /** Names held on the current session: an advisory lock is re-entrant, so this process refuses itself a second time. */
  private readonly held = new Set<string>();
  private closed = false;

  constructor(private readonly databaseUrl: string) {}

  readonly claim: ClaimLease = async (name) => {
    if (this.closed || this.held.has(name)) return undefined;
    this.held.add(name);
    try {
      const session = await this.current();
      if (!(await tryLease(session.connection, name))) {
        this.held.delete(name);
        return undefined;
      }
      let released = false;
      const free = () => {
        if (released) return false;
        released = true;
        this.held.delete(name);
        session.lost.signal.removeEventListener('abort', free);
        return true;
      };
      session.lost.signal.addEventListener('abort', free, { once: true });
      return {
        signal: session.lost.signal,
        release: async () => {
          if (free()) await releaseLease(session.connection, name).catch(() => undefined);
        },
      };
    } catch {
      this.held.delete(name);
      return undefined;
    }
  };

  /**
   * Runs what `start` starts while this process holds the lease `name`; tries to take it every
   * `retryMs` while another process holds it, and checks that its session still answers as often while
   * it holds it. `onChange` is told when it takes the lease, loses it, or first finds it held elsewhere,
   * and when `start` throws (the lease is then freed, and taken again at a later try).
   * Returns the stop: it stops what runs and frees the lease.
   */
  hold(
    name: string,
    start: () => () => Promise<void>,
    retryMs: number,
    onChange: (state: 'held' | 'elsewhere' | 'lost' | 'failed', error?: Error) => void,
  ): () => Promise<void> {
    const stopping = new AbortController();
    const pause = (ms: number, also?: AbortSignal) =>
      new Promise<void>((resolve) => {
        const signals = also ? [stopping.signal, also] : [stopping.signal];
        const done = () => {
          clearTimeout(timer);
          for (const signal of signals) signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        for (const signal of signals) signal.addEventListener('abort', done, { once: true });
      });
    const loop = async () => {
      let toldElsewhere = false;
      while (!stopping.signal.aborted) {
        const claim = await this.claim(name);
        if (claim) {
          toldElsewhere = false;
          let stop: () => Promise<void>;
          try {
            stop = start();
          } catch (error) {
            await claim.release();
            onChange('failed', error as Error);
            await pause(retryMs);
            continue;
          }
          onChange('held');
          while (!stopping.signal.aborted && !claim.signal.aborted) {
            await pause(retryMs, claim.signal);
            if (!stopping.signal.aborted) await this.check();
          }
          await stop();
          await claim.release();
          if (stopping.signal.aborted) return;
          onChange('lost');
        } else if (!toldElsewhere) {
          toldElsewhere = true;
          onChange('elsewhere');
        }
        await pause(retryMs);
      }
    };
    const running = loop();
    return async () => {
      stopping.abort();
      await running;
    };
  }

  /** Ends the lease connection: every lease this process holds is free. */
  async close(): Promise<void> {
    this.closed = true;
    const session = await this.opening?.catch(() => undefined);
    if (session) this.drop(session);
    await session?.connection.end().catch(() => undefined);
  }

  /** The session answers, or it is taken as lost (its leases end with it). */
  private async check(): Promise<void> {
    const session = await this.opening?.catch(() => undefined);
    if (!session || session.lost.signal.aborted) return;
    await leaseSessionAlive(session.connection).catch(() => {
      this.drop(session);
      void session.connection.end().catch(() => undefined);
    });
  }

  /** The open session, or a new one when there is none (the first lease, or the last one was lost). */
  private current(): Promise<Session> {
    if (!this.opening) {
      const lost = new AbortController();
      const opening: Promise<Session> = openLeaseConnection(this.databaseUrl, () => lost.abort()).then((connection) => {
        const session = { connection, lost };
        if (lost.signal.aborted) this.drop(session);
        else lost.signal.addEventListener('abort', () => this.drop(session), { once: true });
        return session;
      });
      opening.catch(() => {
        if (this.opening === opening) this.opening = this.openingLost = undefined;
      });
      this.opening = opening;
      this.openingLost = lost;
    }
    return this.opening;
  }

  private drop(session: Session): void {
    session.lost.abort();
    if (this.openingLost === session.lost) this.opening = this.openingLost = undefined;
  }
}
