/** Following a bulk job from a command: a progress bar on stderr, redrawn every second, until the job is done. */
import type { BulkJob, BulkOperations } from '../cases/bulk.js';

/** Waits for the job to finish here, showing its progress; answers it as it ended. */
export async function followBulkJob(bulk: BulkOperations, id: string): Promise<BulkJob> {
  const ticker = setInterval(() => void bulk.job(id).then((job) => job && process.stderr.write(`\r${progressLine(job)}`)), 1_000);
  try {
    await bulk.wait(id);
  } finally {
    clearInterval(ticker);
  }
  const job = (await bulk.job(id))!;
  process.stderr.write(`\r${progressLine(job)}\n`);
  return job;
}

function progressLine(job: BulkJob): string {
  const { total, pending } = job.progress;
  const reached = total - pending;
  const width = 30;
  const filled = total === 0 ? width : Math.round((reached / total) * width);
  return `${job.operation} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${reached}/${total}`;
}
