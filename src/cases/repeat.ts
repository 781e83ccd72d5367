/**
 * Runs `pass` every `intervalMs` (the first one after an interval, or at once with `now`) until
 * stopped; stopping waits for a pass in flight. `pass` handles its own failures: the next pass is the
 * retry.
 */
export function repeatEvery(intervalMs: number, pass: () => Promise<void>, { now = false } = {}): () => Promise<void> {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = pass().finally(() => {
      if (!stopped) timer = setTimeout(tick, intervalMs);
    });
  };
  if (now) tick();
  else timer = setTimeout(tick, intervalMs);
  return async () => {
    stopped = true;
    clearTimeout(timer);
    await running;
  };
}
