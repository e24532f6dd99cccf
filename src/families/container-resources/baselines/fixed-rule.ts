/**
 * fixed-rule: the two rules of thumb an operator applies without any tool.
 *
 * - recommendFixedRule, "past max × 1.3": memory request = limit = max × 1.3; CPU request = p95 of CPU
 *   (linear interpolation, rank = 0.95 × (n − 1), as numpy and Prometheus), CPU limit = max CPU × 1.3.
 * - asProvisioned: leave the VM/container as it was sized: request = limit = what was provisioned.
 *
 * Example: CPU [0.1, 0.2, 0.3, 0.4, 0.5], memory max 5e8 B →
 *   cpuRequest = 0.4 × 0.2 + 0.5 × 0.8 = 0.48, cpuLimit = 0.5 × 1.3 = 0.65, memory = 5e8 × 1.3 = 6.5e8 B.
 */
import type { Recommendation } from '../recommendation.js';
import type { UsageWindow } from './types.js';
import { usageSeriesLength } from './types.js';
import { prometheusQuantile } from './krr.js';
import { maxOf } from '../../../util/stats.js';

export interface FixedRuleOptions {
  /** Multiplier on the past maxima (default 1.3). */
  factor?: number;
  /** CPU request percentile, 0–100 (default 95). */
  cpuPercentile?: number;
}

/** recommendFixedRule: see the module header. An empty series gives NaN everywhere. */
export function recommendFixedRule(series: UsageWindow, opts: FixedRuleOptions = {}): Recommendation {
  usageSeriesLength(series, 'recommendFixedRule');
  const factor = opts.factor ?? 1.3;
  const memory = maxOf(series.memoryBytes) * factor;
  return {
    cpuRequestCores: prometheusQuantile((opts.cpuPercentile ?? 95) / 100, series.cpuCores),
    cpuLimitCores: maxOf(series.cpuCores) * factor,
    memRequestBytes: memory,
    memLimitBytes: memory,
  };
}

/** asProvisioned(2, 8 GiB) → request = limit = 2 cores and 8 GiB. */
export function asProvisioned(provisionedCores: number, provisionedMemoryBytes: number): Recommendation {
  return {
    cpuRequestCores: provisionedCores,
    cpuLimitCores: provisionedCores,
    memRequestBytes: provisionedMemoryBytes,
    memLimitBytes: provisionedMemoryBytes,
  };
}
