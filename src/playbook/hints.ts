/** "Did you mean" suggestions for misspelt names. */

/** "did you mean 'x'?" when `name` is close to a candidate, else `otherwise`. */
export function hintFor(name: string, candidates: string[], otherwise: string): string {
  const suggestion = closest(name, candidates);
  return suggestion ? `did you mean '${suggestion}'?` : otherwise;
}

/** The allowed name closest to a misspelt one (edit distance ≤ 2), if any. */
export function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
