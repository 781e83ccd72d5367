/**
 * What stands in front of one destination, so that a receiver that hangs or fails harms only its own
 * deliveries: a bound on requests in flight (a request finding them all taken waits up to `slotWaitMs`
 * for one, then fails and is retried on the schedule, instead of holding the worker's activity slots)
 * and a circuit breaker (after `failuresToOpen` failures in a row no request goes for `openMs`; then
 * one trial, whose answer closes or reopens it). Time is the caller's: the attempts' clock (Temporal's),
 * the one the retry schedule runs on.
 */
export interface GateSettings {
  maxInFlight: number;
  /** Real milliseconds a request waits for a request in flight to end (a burst, not a saturated receiver). */
  slotWaitMs: number;
  failuresToOpen: number;
  openMs: number;
}

export const GATE_DEFAULTS: GateSettings = { maxInFlight: 32, slotWaitMs: 1_000, failuresToOpen: 5, openMs: 30_000 };

/** Admitted (`trial`: the one request a half-open breaker lets through), or why not. */
export type Admission = { admitted: true; trial: boolean } | { admitted: false; kind: 'circuit_open' | 'busy'; message: string };

export class DestinationGate {
  private inFlight = 0;
  /** Requests waiting for a slot, first first; a slot freed is handed to the first. */
  private readonly waiting: ((slot: boolean) => void)[] = [];
  private failuresInARow = 0;
  private openUntil = 0;
  private trialInFlight = false;

  constructor(private readonly settings: GateSettings = GATE_DEFAULTS) {}

  /** `waitMs`: how long this request may wait for a slot (none inside a workflow task, which must stay short). */
  async admit(now: number, waitMs = this.settings.slotWaitMs): Promise<Admission> {
    const closed = this.breakerRefuses(now);
    if (closed) return closed;
    if (this.inFlight < this.settings.maxInFlight) this.inFlight += 1;
    else if (waitMs <= 0 || !(await this.slotWithin(waitMs)))
      return { admitted: false, kind: 'busy', message: `${this.inFlight} requests already in flight to the destination` };
    // The breaker may have opened while this request waited for its slot.
    const opened = this.breakerRefuses(now);
    if (opened) {
      this.freeSlot();
      return opened;
    }
    const trial = this.failuresInARow >= this.settings.failuresToOpen;
    if (trial) this.trialInFlight = true;
    return { admitted: true, trial };
  }

  /** Ends an admitted request: `healthy` when the receiver answered (whatever it said but a server error). */
  release(admission: { trial: boolean }, healthy: boolean, now: number): void {
    this.freeSlot();
    if (admission.trial) this.trialInFlight = false;
    if (healthy) {
      this.failuresInARow = 0;
      return;
    }
    this.failuresInARow += 1;
    if (this.failuresInARow >= this.settings.failuresToOpen) this.openUntil = now + this.settings.openMs;
  }

  /** Gives back an admission whose request never left (its attempt could not be recorded): nothing learnt of the receiver. */
  cancel(admission: { trial: boolean }): void {
    this.freeSlot();
    if (admission.trial) this.trialInFlight = false;
  }

  private breakerRefuses(now: number): Admission | undefined {
    if (this.failuresInARow < this.settings.failuresToOpen) return undefined;
    if (this.openUntil > now || this.trialInFlight)
      return { admitted: false, kind: 'circuit_open', message: `the destination failed ${this.failuresInARow} times in a row; circuit open` };
    return undefined;
  }

  /** Whether a slot came within `ms` (it is then this request's: inFlight already counts it). */
  private slotWithin(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(take), 1);
        resolve(false);
      }, ms);
      const take = (slot: boolean) => {
        clearTimeout(timer);
        resolve(slot);
      };
      this.waiting.push(take);
    });
  }

  private freeSlot(): void {
    const next = this.waiting.shift();
    if (next) next(true);
    else this.inFlight -= 1;
  }
}
