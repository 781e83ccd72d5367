/**
 * GET requests under load with autocannon, rotating over many paths (cases) and many API keys (the API
 * limits each key to 1,200 requests a minute: spread over enough keys, no request is throttled, and a
 * 429 shows up among the non-2xx answers). Latency is each response's own, from autocannon's clients.
 */
import autocannon from 'autocannon';
import { distribution, roundTo } from './stats.js';

export interface LoadOptions {
  apiUrl: string;
  /** The API key of the next request. */
  nextKey: () => string;
  /** Rotated in order, one per request. */
  paths: readonly string[];
  connections: number;
  durationSeconds: number;
  /** A fixed rate over all connections; absent: as fast as the server answers. */
  requestsPerSecond?: number;
}

export interface LoadFigures {
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
}

export function runLoad(options: LoadOptions): Promise<LoadFigures> {
  let sent = 0;
  const latencies: number[] = [];
  return new Promise((resolve, reject) => {
    const instance = autocannon({
      url: options.apiUrl,
      connections: options.connections,
      duration: options.durationSeconds,
      ...(options.requestsPerSecond !== undefined ? { overallRate: options.requestsPerSecond } : {}),
      requests: [{
        method: 'GET',
        setupRequest: (request) => {
          const turn = sent++;
          return {
            ...request,
            path: options.paths[turn % options.paths.length]!,
            headers: { ...request.headers, authorization: `Bearer ${options.nextKey()}` },
          };
        },
      }],
    }, (error, result) => {
      if (error) return reject(error);
      const { p50, p95, p99, max } = distribution(latencies, 2);
      resolve({
        requests: latencies.length,
        requestsPerSecond: roundTo(latencies.length / result.duration, 1),
        latencyMs: { p50, p95, p99, max },
        errors: result.errors,
        timeouts: result.timeouts,
        non2xx: result.non2xx,
        statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count ?? 0])),
      });
    });
    instance.on('response', (_client, _status, _bytes, milliseconds) => latencies.push(milliseconds));
  });
}
