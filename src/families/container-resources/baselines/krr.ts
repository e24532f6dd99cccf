/**
 * krr: Robusta KRR's "simple" strategy (github.com/robusta-dev/krr), re-implemented on a usage series.
 *
 * Upstream, and what each contributes:
 *   robusta_krr/strategies/simple.py           cpu_percentile = 95, memory_buffer_percentage = 15,
 *                                              points_required = 100; CPU request = the percentile, CPU
 *                                              limit = None; memory request = limit = max × (1 + 15/100)
 *   robusta_krr/core/integrations/prometheus/metrics/cpu.py     the percentile is PromQL
 *                                              quantile_over_time(0.95, rate(...)[duration:step]) — computed by
 *                                              Prometheus, not numpy
 *   robusta_krr/core/integrations/prometheus/metrics/memory.py  the max is max_over_time(working set)
 *   robusta_krr/core/runner.py                 _round_value: CPU rounded UP to 1 m, memory UP to 1 MB
 *                                              (10^6 B), then max(value, cpu_min_value = 10 m,
 *                                              memory_min_value = 100 MB) (defaults of core/models/config.py)
 *
 * Percentile: Prometheus's quantile (promql/quantile.go) uses rank = q × (n − 1) and interpolates linearly
 * between the two nearest samples: the same definition as numpy's default `np.percentile(..., 'linear')`.
 * We compute it with Prometheus's exact expression lower × (1 − w) + upper × w.
 * Example: CPU [0.1, 0.2, 0.3, 0.4, 0.5] → rank 0.95 × 4 = 3.8 → 0.4 × 0.2 + 0.5 × 0.8 = 0.48 cores.
 *
 * KRR recommends per workload from one max-over-pods series; here the series is that one series.
 * With fewer than points_required samples KRR answers "?" (undefined): we return NaN and `info`.
 */
import type { Recommendation } from '../recommendation.js';
import type { UsageWindow } from './types.js';
import { usageSeriesLength } from './types.js';
import { maxOf } from '../../../util/stats.js';
import type { Millicores } from '../../../core/units.js';

/** KrrOptions: SimpleStrategySettings and the runner's rounding, with KRR's defaults. */
export interface KrrOptions {
  /** cpu_percentile, 0–100 (default 95). KRR passes round(p/100, 2) to PromQL. */
  cpuPercentile?: number;
  /** memory_buffer_percentage (default 15). */
  memoryBufferPercentage?: number;
  /** points_required (default 100): fewer samples → no recommendation (NaN). */
  pointsRequired?: number;
  /** Apply runner.py's _round_value (default true). */
  round?: boolean;
  /** cpu_min_value in millicores (default 10). */
  cpuMinMillicores?: Millicores;
  /** memory_min_value in MB of 10^6 B (default 100). */
  memoryMinMb?: number;
}

export type KrrRecommendation = Recommendation & { cpuLimitCores: null; info: string | null };

/**
 * prometheusQuantile is PromQL's quantile(q, values), q in [0, 1]: sort, rank = q × (n − 1),
 * lower = floor(rank), upper = min(n − 1, lower + 1), w = rank − floor(rank),
 * result = v[lower] × (1 − w) + v[upper] × w. Empty → NaN; q < 0 → −∞; q > 1 → +∞.
 * Example: prometheusQuantile(0.5, [4, 1, 3, 2]) → rank 1.5 → 2 × 0.5 + 3 × 0.5 = 2.5.
 */
export function prometheusQuantile(q: number, values: ArrayLike<number>): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = Float64Array.from(values as ArrayLike<number>).sort();
  const n = sorted.length;
  const rank = q * (n - 1);
  const lowerIndex = Math.max(0, Math.floor(rank));
  const upperIndex = Math.min(n - 1, lowerIndex + 1);
  const weight = rank - Math.floor(rank);
  return sorted[lowerIndex]! * (1 - weight) + sorted[upperIndex]! * weight;
}

/**
 * krrRoundValue is runner.py's _round_value: CPU → ceil(v × 10³)/10³ cores, memory →
 * ceil(v × 10⁻⁶)/10⁻⁶ bytes (the same float operations as the Python), then at least the minimum
 * (10 m = 0.01 core, 100 MB = 1e8 B). Example: memory 575 000 000.4 B → 576 MB = 5.76e8 B.
 */
export function krrRoundValue(value: number, resource: 'cpu' | 'memory', cpuMinMillicores = 10, memoryMinMb = 100): number {
  if (Number.isNaN(value)) return value;
  const precPower = resource === 'cpu' ? 10 ** 3 : 1 / 10 ** 6;
  const rounded = Math.ceil(value * precPower) / precPower;
  const minimal = resource === 'cpu' ? (1 / 1000) * cpuMinMillicores : 1_000_000 * memoryMinMb;
  return Math.max(rounded, minimal);
}

/**
 * recommendKrr: CPU request = p95 of CPU (Prometheus interpolation), no CPU limit; memory request = limit
 * = max × 1.15; then KRR's rounding and minimums.
 * Example (round off): CPU [0.1 … 0.5], memory max 5e8 B → 0.48 cores, null, 5.75e8 B, 5.75e8 B.
 */
export function recommendKrr(series: UsageWindow, opts: KrrOptions = {}): KrrRecommendation {
  const n = usageSeriesLength(series, 'recommendKrr');
  const cpuPercentile = opts.cpuPercentile ?? 95;
  const buffer = opts.memoryBufferPercentage ?? 15;
  const pointsRequired = opts.pointsRequired ?? 100;
  if (n < pointsRequired) {
    return { cpuRequestCores: NaN, cpuLimitCores: null, memRequestBytes: NaN, memLimitBytes: NaN, info: 'Not enough data' };
  }
  // PercentileCPULoader renders the quantile as round(percentile / 100, 2).
  const q = Math.round((cpuPercentile / 100) * 100) / 100;
  let cpu = prometheusQuantile(q, series.cpuCores);
  let mem = maxOf(series.memoryBytes) * (1 + buffer / 100);
  if (opts.round ?? true) {
    cpu = krrRoundValue(cpu, 'cpu', opts.cpuMinMillicores, opts.memoryMinMb);
    mem = krrRoundValue(mem, 'memory', opts.cpuMinMillicores, opts.memoryMinMb);
  }
  return { cpuRequestCores: cpu, cpuLimitCores: null, memRequestBytes: mem, memLimitBytes: mem, info: null };
}
