/**
 * What stands in front of one destination, so that a receiver that hangs or fails harms only its own
 * deliveries: a bound on requests in flight (the rest fail at once and are retried on the schedule,
 * instead of holding the worker's activity slots) and a circuit breaker (after `failuresToOpen`
 * failures in a row no request goes for `openMs`; then one trial, whose answer closes or reopens it).
 * Time is the caller's: the attempts' clock (Temporal's), the one the retry schedule runs on.
 */
export interface GateSettings {
  maxInFlight: number;
  failuresToOpen: number;
  openMs: number;
}

export const GATE_DEFAULTS: GateSettings = { maxInFlight: 32, failuresToOpen: 5, openMs: 30_000 };

/** Admitted (`trial`: the one request a half-open breaker lets through), or why not. */
export type Admission = { admitted: true; trial: boolean } | { admitted: false; kind: 'circuit_open' | 'busy'; message: string };

export class DestinationGate {
  private inFlight = 0;
  private failuresInARow = 0;
  private openUntil = 0;
  private trialInFlight = false;

  constructor(private readonly settings: GateSettings = GATE_DEFAULTS) {}

  admit(now: number): Admission {
    if (this.failuresInARow >= this.settings.failuresToOpen) {
      const left = this.openUntil - now;
      if (left > 0 || this.trialInFlight)
        return { admitted: false, kind: 'circuit_open', message: `the destination failed ${this.failuresInARow} times in a row; circuit open` };
    }
    if (this.inFlight >= this.settings.maxInFlight)
      return { admitted: false, kind: 'busy', message: `${this.inFlight} requests already in flight to the destination` };
    const trial = this.failuresInARow >= this.settings.failuresToOpen;
    if (trial) this.trialInFlight = true;
    this.inFlight += 1;
    return { admitted: true, trial };
  }

  /** Ends an admitted request: `healthy` when the receiver answered (whatever it said but a server error). */
  release(admission: { trial: boolean }, healthy: boolean, now: number): void {
    this.inFlight -= 1;
    if (admission.trial) this.trialInFlight = false;
    if (healthy) {
      this.failuresInARow = 0;
      return;
    }
    this.failuresInARow += 1;
    if (this.failuresInARow >= this.settings.failuresToOpen) this.openUntil = now + this.settings.openMs;
  }
}
