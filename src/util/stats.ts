/**
 * stats: the few order statistics the project needs, all with numpy's default ("linear") interpolation
 * so that figures agree with `np.percentile`.
 */

/**
 * percentileSorted returns the q-th percentile (q in [0, 100]) of an ascending array with linear
 * interpolation between closest ranks: rank = q/100 × (n − 1).
 * Example: [1, 2, 3, 4] at q = 50 → rank 1.5 → 2.5.
 */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (n === 1) return sorted[0]!;
  const rank = (q / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, n - 1);
  const frac = rank - lo;
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * frac;
}

/** sortedCopy returns an ascending Float64Array copy of values. */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  const out = Float64Array.from(values as ArrayLike<number>);
  out.sort();
  return out;
}

/** percentile of unsorted values (copies and sorts). */
export function percentile(values: ArrayLike<number>, q: number): number {
  return percentileSorted(sortedCopy(values), q);
}

/** mean of values (NaN for none). */
export function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return values.length ? s / values.length : NaN;
}

/**
 * maxOf returns the largest value, NaN for none (the maximum of nothing is undefined: a NaN shows up in
 * every score it reaches, where −∞ would pass as a very small limit). maxOf([3, 1, 2]) === 3.
 */
export function maxOf(values: ArrayLike<number>): number {
  if (values.length === 0) return NaN;
  let m = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i]! > m) m = values[i]!;
  return m;
}
