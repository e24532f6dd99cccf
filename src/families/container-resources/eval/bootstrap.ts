/**
 * bootstrap: confidence intervals over VMs (or workloads), never over windows. Windows of one VM are
 * strongly correlated, so "the model is better" is a claim about VMs: resample the VMs with replacement
 * (B times, seeded), recompute every system's scores on the windows of the drawn VMs, and take the 2.5th
 * and 97.5th percentiles of the difference model − baseline (the percentile bootstrap).
 *
 * Every metric of metrics.ts is a ratio of sums over windows (a count over N, or Σ over ⁄ Σ peak), so each
 * VM is reduced once to its sums and a resample only adds sums: 2,000 resamples of 50 VMs cost nothing.
 * Worked example: VMs A (business 10) and B (business 30) with equal windows and peaks: a resample {A, A}
 * scores 10, {B, B} 30, {A, B} 20.
 */
import { Rng } from '../../../util/rng.js';
import type { Recommendations, ResourceMetrics, WindowOutcomes } from './metrics.js';

/** Sums: a group's windows reduced to the sums every metric is a ratio of. */
export interface Sums {
  n: number;
  under: number;
  breach: number;
  over: number;
  peak: number;
  cpuSlack: number;
  cpuMean: number;
  memSlack: number;
  memMean: number;
  /** windows whose memory request is below the future mean memory */
  belowMean: number;
}

const ZERO: Sums = { n: 0, under: 0, breach: 0, over: 0, peak: 0, cpuSlack: 0, cpuMean: 0, memSlack: 0, memMean: 0, belowMean: 0 };

/** sumsOf reduces the windows `rows` of one group. */
export function sumsOf(r: Recommendations, o: WindowOutcomes, rows: ArrayLike<number>): Sums {
  const s = { ...ZERO };
  for (let k = 0; k < rows.length; k++) {
    const i = rows[k]!;
    const p = o.futureMemPeak[i]!;
    const lim = r.memLimit[i]!;
    s.n++;
    if (p > lim) s.under++;
    const cl = r.cpuLimit[i]!;
    if (Number.isFinite(cl) && o.futureCpuP99[i]! > cl) s.breach++;
    s.over += Math.max(lim - p, 0);
    s.peak += p;
    s.cpuSlack += Math.max(r.cpuRequest[i]! - o.futureCpuMean[i]!, 0);
    s.cpuMean += o.futureCpuMean[i]!;
    s.memSlack += Math.max(r.memRequest[i]! - o.futureMemMean[i]!, 0);
    s.memMean += o.futureMemMean[i]!;
    if (r.memRequest[i]! < o.futureMemMean[i]!) s.belowMean++;
  }
  return s;
}

/** metricsOfSums: the metrics of metrics.ts from sums (identical to resourceMetrics on the same windows). */
export function metricsOfSums(s: Sums): ResourceMetrics {
  const pct = (a: number, b: number) => (b > 0 ? (100 * a) / b : 0);
  const under = pct(s.under, s.n);
  const over = pct(s.over, s.peak);
  return { windows: s.n, memUnderAllocationPct: under, cpuLimitBreachPct: pct(s.breach, s.n), memOverAllocationPct: over, cpuRequestSlackPct: pct(s.cpuSlack, s.cpuMean), memRequestSlackPct: pct(s.memSlack, s.memMean), memRequestBelowMeanPct: pct(s.belowMean, s.n), businessScore: 5 * under + over };
}

function add(a: Sums, b: Sums, times = 1): void {
  for (const k of Object.keys(a) as (keyof Sums)[]) a[k] += times * b[k];
}

export type MetricName = Exclude<keyof ResourceMetrics, 'windows'>;
export const METRIC_NAMES: MetricName[] = ['businessScore', 'memUnderAllocationPct', 'memOverAllocationPct', 'memRequestSlackPct', 'cpuRequestSlackPct', 'cpuLimitBreachPct', 'memRequestBelowMeanPct'];

/** Interval: a point estimate and its 95% percentile-bootstrap interval. */
export interface Interval {
  point: number;
  lo: number;
  hi: number;
}

export interface BootstrapResult {
  groups: number;
  resamples: number;
  seed: number;
  /** per baseline, per metric: model − baseline, and model ⁄ baseline */
  versus: Record<string, Record<MetricName, { difference: Interval; ratio: Interval }>>;
}

const quantile = (sorted: Float64Array, q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))]!;

/**
 * bootstrapVersus compares `model` with each other system over groups (VMs). `perGroup[system][g]` holds
 * group g's sums. Seeded: the same inputs give the same intervals.
 */
export function bootstrapVersus(perGroup: Record<string, Sums[]>, model = 'model', resamples = 2000, seed = 20261123): BootstrapResult {
  const systems = Object.keys(perGroup).filter((s) => s !== model);
  const G = perGroup[model]!.length;
  const rng = new Rng(seed);
  const total = (sys: string, counts?: Uint32Array) => {
    const t = { ...ZERO };
    perGroup[sys]!.forEach((s, g) => add(t, s, counts ? counts[g]! : 1));
    return metricsOfSums(t);
  };
  const draws: Record<string, Record<MetricName, { d: Float64Array; r: Float64Array }>> = {};
  for (const s of systems) draws[s] = Object.fromEntries(METRIC_NAMES.map((m) => [m, { d: new Float64Array(resamples), r: new Float64Array(resamples) }])) as Record<MetricName, { d: Float64Array; r: Float64Array }>;
  const counts = new Uint32Array(G);
  for (let b = 0; b < resamples; b++) {
    counts.fill(0);
    for (let k = 0; k < G; k++) counts[rng.int(G)]!++;
    const m = total(model, counts);
    for (const s of systems) {
      const x = total(s, counts);
      for (const name of METRIC_NAMES) {
        draws[s]![name].d[b] = m[name] - x[name];
        draws[s]![name].r[b] = x[name] > 0 ? m[name] / x[name] : NaN;
      }
    }
  }
  const m0 = total(model);
  const versus: BootstrapResult['versus'] = {};
  for (const s of systems) {
    const x0 = total(s);
    versus[s] = Object.fromEntries(METRIC_NAMES.map((name) => {
      const d = draws[s]![name].d.sort();
      const r = draws[s]![name].r.filter((v) => Number.isFinite(v)).sort();
      return [name, {
        difference: { point: m0[name] - x0[name], lo: quantile(d, 0.025), hi: quantile(d, 0.975) },
        ratio: { point: x0[name] > 0 ? m0[name] / x0[name] : NaN, lo: r.length ? quantile(r, 0.025) : NaN, hi: r.length ? quantile(r, 0.975) : NaN },
      }];
    })) as Record<MetricName, { difference: Interval; ratio: Interval }>;
  }
  return { groups: G, resamples, seed, versus };
}

/** formatIntervals: one line per baseline for the business score, e.g.
 *  "model − vpa  business −12.4 (95% CI −18.0 … −6.1), ratio 0.83 (0.76 … 0.91) over 50 VMs". */
export function formatIntervals(b: BootstrapResult, metric: MetricName = 'businessScore'): string {
  return Object.entries(b.versus).map(([s, v]) => {
    const { difference: d, ratio: r } = v[metric];
    return `model − ${s.padEnd(15)} ${metric} ${d.point >= 0 ? '+' : ''}${d.point.toFixed(2)} (95% CI ${d.lo.toFixed(2)} … ${d.hi.toFixed(2)}), ratio ${r.point.toFixed(3)} (${r.lo.toFixed(3)} … ${r.hi.toFixed(3)})`;
  }).join('\n') + `\n(bootstrap over ${b.groups} VMs, ${b.resamples} resamples, seed ${b.seed})`;
}
