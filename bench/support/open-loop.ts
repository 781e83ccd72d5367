/**
 * An open-loop load: item i is sent at start + i / rate whether or not earlier ones are done (so a slow
 * system shows in the latency instead of holding back the load), with a cap on deliveries in flight.
 */
import { type Distribution, distribution, roundTo } from './stats.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface OpenLoopFigures {
  offeredPerSecond: number;
  achievedPerSecond: number;
  concurrencyCap: number;
  capHit: boolean;
  sendsDelayedByCap: number;
  maxInFlight: number;
  /** Every send's lateness against the schedule. */
  startLagMs: Distribution;
}

/**
 * Delivery i starts at start + i / rate; it is in flight until `deliver` settles. Only when
 * `concurrency` are in flight does a send wait for a slot, and then it starts late: the cap was hit.
 * `deliver` should not throw (answer the error instead): a rejection fails the whole load.
 */
export async function openLoop<T, R>(
  items: readonly T[],
  load: { rate: number; concurrency: number },
  deliver: (item: T) => Promise<R>,
): Promise<{ figures: OpenLoopFigures; results: R[] }> {
  const intervalMs = 1_000 / load.rate;
  const inFlight = new Set<Promise<R>>();
  const deliveries: Promise<R>[] = [];
  const startLagsMs: number[] = [];
  let capHits = 0;
  let maxInFlight = 0;
  const start = performance.now();
  for (const [index, item] of items.entries()) {
    const scheduledAt = start + index * intervalMs;
    await sleep(scheduledAt - performance.now());
    if (inFlight.size >= load.concurrency) capHits++;
    while (inFlight.size >= load.concurrency) await Promise.race(inFlight);
    startLagsMs.push(performance.now() - scheduledAt);
    const delivery = deliver(item);
    inFlight.add(delivery);
    void delivery.then(() => inFlight.delete(delivery));
    maxInFlight = Math.max(maxInFlight, inFlight.size);
    deliveries.push(delivery);
  }
  const sendingSeconds = (performance.now() - start) / 1000;
  return {
    figures: {
      offeredPerSecond: load.rate,
      // Sends over the time from the first to the last, which the schedule puts (n - 1) / rate apart.
      achievedPerSecond: roundTo((items.length - 1) / sendingSeconds, 2),
      concurrencyCap: load.concurrency,
      capHit: capHits > 0,
      sendsDelayedByCap: capHits,
      maxInFlight,
      startLagMs: distribution(startLagsMs),
    },
    results: await Promise.all(deliveries),
  };
}

/** A promise that rejects with `message` after `ms` (not keeping the process alive), to race against. */
export function failAfter(ms: number, message: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(message)), ms).unref());
}
