/** Memory of a running Casebook's three parts, read from /proc, and the workflow cache size in force. */
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import type { CasebookUnderTest } from './casebook.js';
import { processTree, rssBytes, treeRssBytes } from './proc.js';
import { roundTo } from './stats.js';

const MiB = 1024 * 1024;
const toMiB = (bytes: number) => roundTo(bytes / MiB, 1);

/** Proportional set size: shared pages divided among the processes that map them (Postgres's shared buffers). */
function pssBytes(pid: number): number {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export interface MemoryReading {
  casebookRssMiB: number;
  temporalRssMiB: number;
  /** Every Postgres process summed: RSS counts the shared buffers once per backend, PSS once in all. */
  postgresRssSumMiB: number;
  postgresPssMiB: number;
}

export function readMemory(pids: CasebookUnderTest['pids']): MemoryReading {
  return {
    casebookRssMiB: toMiB(rssBytes(pids.casebook)),
    temporalRssMiB: toMiB(rssBytes(pids.temporal)),
    postgresRssSumMiB: toMiB(treeRssBytes(pids.postgres)),
    postgresPssMiB: toMiB(processTree(pids.postgres).reduce((sum, pid) => sum + pssBytes(pid), 0)),
  };
}

/**
 * Waits `settleMs`, reading memory every second; answers the last reading and the range of the Casebook
 * process's RSS over the period (its JavaScript heap grows and is collected meanwhile: RSS is what the
 * machine pays, whenever the collector runs).
 */
export async function settledMemory(pids: CasebookUnderTest['pids'], settleMs: number) {
  const casebookRss: number[] = [];
  let reading = readMemory(pids);
  for (let waited = 0; waited < settleMs; waited += 1_000) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    reading = readMemory(pids);
    casebookRss.push(reading.casebookRssMiB);
  }
  return { ...reading, casebookRssMinMiB: Math.min(...casebookRss), casebookRssMaxMiB: Math.max(...casebookRss) };
}

/**
 * The SDK's default `maxCachedWorkflows` (Casebook sets its own: WORKER_DEFAULTS in src/stack/worker.ts), by its formula in @temporalio/worker's
 * worker-options (V8 context reused): 600 workflows per GiB of heap limit above 200 MiB. The Casebook
 * process runs the same node binary with the same NODE_OPTIONS, so its heap limit is this process's.
 */
export function defaultMaxCachedWorkflows(): { heapLimitMiB: number; maxCachedWorkflows: number } {
  const heapLimitMiB = getHeapStatistics().heap_size_limit / MiB;
  return { heapLimitMiB: Math.round(heapLimitMiB), maxCachedWorkflows: Math.max(Math.floor((Math.max(heapLimitMiB - 200, 0) * 600) / 1024), 10) };
}
