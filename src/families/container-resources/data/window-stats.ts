/**
 * window-stats: a few shape statistics of one protocol window (past 7 d → next 3 d), computed the same way
 * for a simulated window and a real one, so that the simulator can be compared with (and calibrated on)
 * real traces. The input is the window as labelSample sees it: the past usage (what a recommender sees;
 * for a simulated container, the CPU as observed under its limit) and the future CPU and memory.
 *
 * "Days" here are the 7 consecutive 24-hour blocks counted from the past window's first sample (block
 * k = ⌊(t − t₀) / 86400⌋), not UTC days as in the feature contract's mem_p50..p99: windows cut from a
 * trace start at any time of day, and a partial UTC day at either end would add a low "peak" and inflate
 * the daily-peak variability of real windows but not of simulated ones (or the other way round).
 *
 * Statistics (STAT_NAMES order; the ratios are dimensionless, so they compare workloads of any size):
 *   peak_cv          coefficient of variation (population std / mean) of the per-day memory peaks
 *   future_peak_ratio  next-3-day memory peak / past memory maximum (> 1: the future set a new peak)
 *   peak_max_median  past memory maximum / median per-day memory peak (isolated maxima)
 *   mem_trend        the contract's mem_trend: least-squares slope of memory × 86400 / mean memory
 *   cpu_p95_p50      past CPU p95 / p50 (burstiness); a p50 below CPU_FLOOR cores counts as CPU_FLOOR
 *   cpu_cv           the contract's cpu_variance: population std / mean of past CPU
 *   future_cpu_ratio next-3-day CPU p99 / past CPU p99 (both floored at CPU_FLOOR)
 *   cpu_mean         past mean CPU, cores (a level: reported, not fitted)
 *   mem_peak         past memory maximum, bytes (a level: reported, not fitted)
 */
import { percentileSorted, sortedCopy } from '../../../util/stats.js';
import type { UsageWindow } from '../../../sources/types.js';

export const STAT_NAMES = [
  'peak_cv', 'future_peak_ratio', 'peak_max_median', 'mem_trend',
  'cpu_p95_p50', 'cpu_cv', 'future_cpu_ratio',
  'cpu_mean', 'mem_peak',
] as const;
export type StatName = (typeof STAT_NAMES)[number];

/**
 * FITTED_STATS: the statistics calibration matches. The two levels (cpu_mean, mem_peak) are reported but
 * not fitted: workload sizes are drawn independently of the kind (drawParams), and the simulator keeps
 * its broad size range on purpose, for the sizes a training fleet lacks.
 */
export const FITTED_STATS: readonly StatName[] = ['peak_cv', 'future_peak_ratio', 'peak_max_median', 'mem_trend', 'cpu_p95_p50', 'cpu_cv', 'future_cpu_ratio'];

/** CPU_FLOOR: CPU values below 1 millicore count as 1 millicore in the CPU ratios (an idle VM has p50 = 0). */
export const CPU_FLOOR = 0.001;
const DAY = 86400;

export type WindowStats = Record<StatName, number>;

/** The window the statistics read: past usage and the future's CPU and memory, one value per sample. */
export interface StatsWindow {
  past: Pick<UsageWindow, 'timestampsSec' | 'cpuCores' | 'memoryBytes'>;
  futureCpu: ArrayLike<number>;
  futureMemory: ArrayLike<number>;
}

/** dailyPeaks returns the maximum memory of each 24-hour block counted from the first sample (empty blocks skipped). */
export function dailyPeaks(timestampsSec: ArrayLike<number>, memoryBytes: ArrayLike<number>): number[] {
  const t0 = timestampsSec[0]!;
  const byBlock = new Map<number, number>();
  for (let i = 0; i < timestampsSec.length; i++) {
    const b = Math.floor((timestampsSec[i]! - t0) / DAY);
    const m = memoryBytes[i]!;
    const cur = byBlock.get(b);
    if (cur === undefined || m > cur) byBlock.set(b, m);
  }
  return [...byBlock.keys()].sort((a, b) => a - b).map((b) => byBlock.get(b)!);
}

function maxOf(v: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < v.length; i++) if (v[i]! > m) m = v[i]!;
  return m;
}

/** ratio a / b, 1 when both are 0 (nothing changed) and a large finite number when only b is 0. */
function ratio(a: number, b: number): number {
  if (b > 0) return a / b;
  return a > 0 ? 1e6 : 1;
}

/**
 * windowStats computes STAT_NAMES for one window. Needs ≥ 2 past samples and ≥ 1 future sample.
 * Example (see test/simulator-calibration.test.ts): daily peaks 1, 1, 1, 1, 1, 1, 2 GiB → peak_cv = √6/8 = 0.3062,
 * peak_max_median = 2.
 */
export function windowStats(w: StatsWindow): WindowStats {
  const { timestampsSec: t, cpuCores: cpu, memoryBytes: mem } = w.past;
  const n = t.length;
  if (n < 2 || w.futureMemory.length < 1 || w.futureCpu.length < 1) throw new RangeError(`windowStats needs ≥ 2 past and ≥ 1 future samples, got ${n} and ${w.futureMemory.length}`);

  const peaks = dailyPeaks(t, mem);
  let pm = 0;
  for (const p of peaks) pm += p;
  pm /= peaks.length;
  let pv = 0;
  for (const p of peaks) pv += (p - pm) ** 2;
  const peakCv = pm > 0 ? Math.sqrt(pv / peaks.length) / pm : 0;
  const pastMax = maxOf(mem);
  const medianPeak = percentileSorted(sortedCopy(peaks), 50);

  // The contract's mem_trend and cpu_variance (features.ts computeFeatures), recomputed here without its checks.
  let memMean = 0;
  let tMean = 0;
  let cpuMean = 0;
  for (let i = 0; i < n; i++) {
    memMean += mem[i]!;
    tMean += t[i]!;
    cpuMean += cpu[i]!;
  }
  memMean /= n;
  tMean /= n;
  cpuMean /= n;
  let sxy = 0;
  let sxx = 0;
  let cq = 0;
  for (let i = 0; i < n; i++) {
    const dt = t[i]! - tMean;
    sxy += dt * (mem[i]! - memMean);
    sxx += dt * dt;
    cq += (cpu[i]! - cpuMean) ** 2;
  }
  const memTrend = memMean > 0 && sxx > 0 ? ((sxy / sxx) * DAY) / memMean : 0;
  const cpuCv = cpuMean > 0 ? Math.sqrt(cq / n) / cpuMean : 0;

  const cs = sortedCopy(cpu);
  const fcs = sortedCopy(w.futureCpu);
  const floor = (x: number) => Math.max(x, CPU_FLOOR);
  return {
    peak_cv: peakCv,
    future_peak_ratio: ratio(maxOf(w.futureMemory), pastMax),
    peak_max_median: ratio(pastMax, medianPeak),
    mem_trend: memTrend,
    cpu_p95_p50: floor(percentileSorted(cs, 95)) / floor(percentileSorted(cs, 50)),
    cpu_cv: cpuCv,
    future_cpu_ratio: floor(percentileSorted(fcs, 99)) / floor(percentileSorted(cs, 99)),
    cpu_mean: cpuMean,
    mem_peak: pastMax,
  };
}

/** StatColumns: one Float64Array per statistic, row i = window i. */
export type StatColumns = Record<StatName, Float64Array>;

/** toColumns turns a list of per-window statistics into columns. */
export function toColumns(rows: WindowStats[]): StatColumns {
  const out = {} as StatColumns;
  for (const s of STAT_NAMES) out[s] = Float64Array.from(rows, (r) => r[s]);
  return out;
}

/**
 * ksDistance is the two-sample Kolmogorov–Smirnov distance sup_x |F_a(x) − F_b(x)| between the empirical
 * distributions of a and b (right-continuous CDFs evaluated at every jump, so ties are exact).
 * ksDistance([1, 2, 3], [2, 3, 4]) = 1/3.
 */
export function ksDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const sa = sortedCopy(a);
  const sb = sortedCopy(b);
  if (!sa.length || !sb.length) return NaN;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < sa.length || j < sb.length) {
    const x = Math.min(i < sa.length ? sa[i]! : Infinity, j < sb.length ? sb[j]! : Infinity);
    while (i < sa.length && sa[i]! <= x) i++;
    while (j < sb.length && sb[j]! <= x) j++;
    d = Math.max(d, Math.abs(i / sa.length - j / sb.length));
  }
  return d;
}

export const REPORT_QUANTILES = [10, 50, 90, 99] as const;

/** quantiles returns p10, p50, p90, p99 (numpy's linear interpolation), rounded to 4 significant digits. */
export function quantiles(v: ArrayLike<number>): Record<string, number> {
  const s = sortedCopy(v);
  const out: Record<string, number> = {};
  for (const q of REPORT_QUANTILES) out[`p${q}`] = +percentileSorted(s, q).toPrecision(4);
  return out;
}
