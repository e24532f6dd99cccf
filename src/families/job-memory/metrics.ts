/**
 * metrics: how a job allocation is scored (pure). With peaks p_i and allocations a_i over N jobs:
 *   under %     100 · #{a_i < p_i} / N                      (jobs that would be OOM-killed)
 *   over %      100 · Σ (a_i − p_i)⁺ / Σ p_i                  (bytes wasted, as a share of bytes used)
 *   business    5 · under % + over %                         (SAP's figure of merit; lower is better)
 *   R², MAE     of the point estimate against the peaks, in bytes
 *   calibration of the confidence: mean confidence, observed hold rate, ECE over 10 equal-width bins
 * Worked numbers: peaks [10, 10], allocations [8, 15] → under 50 %, over 5/20 = 25 %, business 275.
 */

export interface Calibration {
  meanConfidence: number;
  observedHoldPct: number;
  ece: number;
}

export interface JobMetrics {
  jobs: number;
  businessScore: number;
  underPct: number;
  overPct: number;
  r2: number | null;
  maeBytes: number | null;
  calibration: Calibration | null;
}

/** jobMetrics scores allocations (and optionally point estimates and confidences) against peaks. */
export function jobMetrics(peaks: ArrayLike<number>, alloc: ArrayLike<number>, point?: ArrayLike<number> | null, conf?: ArrayLike<number> | null): JobMetrics {
  const n = peaks.length;
  let under = 0;
  let over = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const p = peaks[i]!;
    const a = alloc[i]!;
    if (a < p) under++;
    else over += a - p;
    sum += p;
  }
  const underPct = (100 * under) / n;
  const overPct = (100 * over) / sum;
  let r2: number | null = null;
  let maeBytes: number | null = null;
  if (point) {
    const mean = sum / n;
    let ssRes = 0;
    let ssTot = 0;
    let abs = 0;
    for (let i = 0; i < n; i++) {
      ssRes += (peaks[i]! - point[i]!) ** 2;
      ssTot += (peaks[i]! - mean) ** 2;
      abs += Math.abs(peaks[i]! - point[i]!);
    }
    r2 = 1 - ssRes / ssTot;
    maeBytes = abs / n;
  }
  return { jobs: n, businessScore: 5 * underPct + overPct, underPct, overPct, r2, maeBytes, calibration: conf ? calibration(peaks, alloc, conf) : null };
}

/** calibration of a confidence that the allocation holds (a_i ≥ p_i). */
export function calibration(peaks: ArrayLike<number>, alloc: ArrayLike<number>, conf: ArrayLike<number>): Calibration {
  const n = peaks.length;
  const bins = Array.from({ length: 10 }, () => ({ n: 0, c: 0, h: 0 }));
  let c = 0;
  let h = 0;
  for (let i = 0; i < n; i++) {
    const held = alloc[i]! >= peaks[i]! ? 1 : 0;
    const b = bins[Math.min(9, Math.floor(conf[i]! * 10))]!;
    b.n++;
    b.c += conf[i]!;
    b.h += held;
    c += conf[i]!;
    h += held;
  }
  const ece = bins.reduce((e, b) => e + (b.n ? (b.n / n) * Math.abs(b.c / b.n - b.h / b.n) : 0), 0);
  return { meanConfidence: c / n, observedHoldPct: (100 * h) / n, ece };
}

/**
 * bestFactor: the factor f from `grid` whose allocations f · base score best (lowest business score),
 * among those with under % ≤ maxUnderPct when any is (else the lowest score overall).
 */
export function bestFactor(peaks: ArrayLike<number>, base: ArrayLike<number>, grid: readonly number[], maxUnderPct = Infinity): { factor: number; metrics: JobMetrics } {
  let best: { factor: number; metrics: JobMetrics } | null = null;
  let bestOk = false;
  const a = new Float64Array(base.length);
  for (const f of grid) {
    for (let i = 0; i < a.length; i++) a[i] = base[i]! * f;
    const m = jobMetrics(peaks, a);
    const ok = m.underPct <= maxUnderPct;
    if (!best || (ok && !bestOk) || (ok === bestOk && m.businessScore < best.metrics.businessScore)) {
      best = { factor: f, metrics: m };
      bestOk = ok;
    }
  }
  return best!;
}

/** SAFETY_GRID: 1.00, 1.02, … 3.00. */
export const SAFETY_GRID: readonly number[] = Array.from({ length: 101 }, (_, i) => +(1 + i * 0.02).toFixed(2));
/** THRESHOLD_GRID: exceedance probabilities 0.01 … 0.5. */
export const THRESHOLD_GRID: readonly number[] = Array.from({ length: 50 }, (_, i) => +((i + 1) * 0.01).toFixed(2));
