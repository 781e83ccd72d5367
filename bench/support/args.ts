/** `--name value` options of a benchmark's command line, as positive numbers. */
export function numberOptions<T extends Record<string, number>>(defaults: T, argv = process.argv.slice(2)): T {
  const options: Record<string, number> = { ...defaults };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]!.replace(/^--/, '');
    const value = Number(argv[i + 1]);
    if (!(name in defaults) || !(value > 0))
      throw new Error(
        `unknown option or bad value: ${argv[i]} ${argv[i + 1] ?? ''} (options: ${Object.keys(defaults)
          .map((n) => `--${n}`)
          .join(' ')})`,
      );
    options[name] = value;
  }
  return options as T;
}

/** Runs `task` for every item with at most `limit` in flight. */
export async function inParallel<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
