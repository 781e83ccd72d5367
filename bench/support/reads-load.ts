/**
 * GET requests under load, rotating over many paths (cases) and many API keys (the API limits each key
 * to 1,200 requests a minute: spread over enough keys, no request is throttled, and a 429 shows up among
 * the non-2xx answers).
 *
 * The fixed rate is not autocannon's `overallRate`: with a rate, each autocannon client sends its share
 * back to back at the start of every second and then idles (`reqsMadeThisSecond`, reset every second, in
 * node_modules/autocannon/lib/httpClient.js), so it measures queueing inside a once-a-second burst, not an
 * arrival rate. Saturation (N connections, each asking again as soon as it is answered) is autocannon's.
 */
import { Agent, request } from 'node:http';
import autocannon from 'autocannon';
import { distribution, roundTo } from './stats.js';

/** Autocannon's default, for both loads: a request with no answer after this long counts as a timeout. */
const REQUEST_TIMEOUT_MS = 10_000;

interface ReadLoad {
  apiUrl: string;
  /** The API key of the next request. */
  nextKey: () => string;
  /** Rotated in order, one per request. */
  paths: readonly string[];
  durationSeconds: number;
}

export interface FixedRateLoad extends ReadLoad {
  requestsPerSecond: number;
}

export interface SaturationLoad extends ReadLoad {
  connections: number;
}

export interface LoadFigures {
  /** Answered requests, whatever their status. */
  requests: number;
  /** At a fixed rate, requests sent per second from the first send to the last; at saturation, answers per second. */
  requestsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** Requests with no answer, timeouts included. */
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
}

export interface FixedRateFigures extends LoadFigures {
  /** How late each request was sent against its due time: the client's own delay, which its latency includes. */
  sendLagMs: { p50: number; p99: number; max: number };
  maxInFlight: number;
}

type Answer = { status: number; endedAt: number } | { failure: 'error' | 'timeout' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function latencyFigures(latenciesMs: readonly number[]): LoadFigures['latencyMs'] {
  const { p50, p95, p99, max } = distribution(latenciesMs, 2);
  return { p50, p95, p99, max };
}

function get(agent: Agent, apiUrl: URL, path: string, key: string): Promise<Answer> {
  return new Promise((resolve) => {
    let timedOut = false;
    const outgoing = request(
      { agent, host: apiUrl.hostname, port: apiUrl.port, path, headers: { authorization: `Bearer ${key}` }, timeout: REQUEST_TIMEOUT_MS },
      (response) => {
        response.on('end', () => resolve({ status: response.statusCode ?? 0, endedAt: performance.now() }));
        response.on('error', () => resolve({ failure: 'error' }));
        response.resume();
      },
    );
    outgoing.on('timeout', () => {
      timedOut = true;
      outgoing.destroy();
    });
    outgoing.on('error', () => resolve({ failure: timedOut ? 'timeout' : 'error' }));
    outgoing.end();
  });
}

/** Figures of the answers, each answer's latency counted from the time its request was due. */
function fixedRateFigures(answers: readonly Answer[], dueAts: readonly number[]) {
  const latenciesMs: number[] = [];
  const statusCodes: Record<string, number> = {};
  answers.forEach((answer, index) => {
    if (!('status' in answer)) return;
    latenciesMs.push(answer.endedAt - dueAts[index]!);
    statusCodes[answer.status] = (statusCodes[answer.status] ?? 0) + 1;
  });
  const failures = answers.filter((answer) => 'failure' in answer);
  return {
    requests: latenciesMs.length,
    latencyMs: latencyFigures(latenciesMs),
    errors: failures.length,
    timeouts: failures.filter((failure) => failure.failure === 'timeout').length,
    non2xx: Object.entries(statusCodes)
      .filter(([status]) => !status.startsWith('2'))
      .reduce((sum, [, count]) => sum + count, 0),
    statusCodes,
  };
}

/**
 * Open model: request i is due at start + i / rate and is sent then, however many earlier ones are
 * still unanswered, so a slow or stalled server shows in the latency instead of slowing the load.
 */
export async function runFixedRate(load: FixedRateLoad): Promise<FixedRateFigures> {
  const apiUrl = new URL(load.apiUrl);
  // Keep-alive connections for a second's worth of requests in flight; beyond that requests wait in the
  // agent's queue, a wait their latency (from their due time) still counts.
  const agent = new Agent({ keepAlive: true, maxSockets: load.requestsPerSecond });
  const intervalMs = 1_000 / load.requestsPerSecond;
  const count = Math.round(load.durationSeconds * load.requestsPerSecond);
  const dueAts: number[] = [];
  const sentAts: number[] = [];
  const answers: Promise<Answer>[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const start = performance.now();
  for (let index = 0; index < count; index++) {
    const dueAt = start + index * intervalMs;
    // Timers run on a whole-millisecond clock and may wake a little before the due time.
    for (let wait = dueAt - performance.now(); wait > 0; wait = dueAt - performance.now()) await sleep(wait);
    dueAts.push(dueAt);
    sentAts.push(performance.now());
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    answers.push(get(agent, apiUrl, load.paths[index % load.paths.length]!, load.nextKey()).finally(() => inFlight--));
  }
  const figures = fixedRateFigures(await Promise.all(answers), dueAts);
  agent.destroy();
  const { p50, p99, max } = distribution(
    sentAts.map((sentAt, index) => sentAt - dueAts[index]!),
    2,
  );
  return {
    ...figures,
    requestsPerSecond: roundTo((count - 1) / ((sentAts[count - 1]! - sentAts[0]!) / 1_000), 1),
    sendLagMs: { p50, p99, max },
    maxInFlight,
  };
}

/** Closed model: autocannon's connections, each sending its next request as soon as the last is answered. */
export function runSaturation(load: SaturationLoad): Promise<LoadFigures> {
  let sent = 0;
  const latenciesMs: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: load.apiUrl,
        connections: load.connections,
        duration: load.durationSeconds,
        timeout: REQUEST_TIMEOUT_MS / 1_000,
        requests: [
          {
            method: 'GET',
            setupRequest: (request) => ({
              ...request,
              path: load.paths[sent++ % load.paths.length]!,
              headers: { ...request.headers, authorization: `Bearer ${load.nextKey()}` },
            }),
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          requests: latenciesMs.length,
          requestsPerSecond: roundTo(latenciesMs.length / result.duration, 1),
          latencyMs: latencyFigures(latenciesMs),
          errors: result.errors,
          timeouts: result.timeouts,
          non2xx: result.non2xx,
          statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count ?? 0])),
        });
      },
    );
    instance.on('response', (_client, _status, _bytes, milliseconds) => latenciesMs.push(milliseconds));
  });
}
