/**
 * risk-eval: what a hold-rate target costs, measured. For every target of a model version's conformal risk
 * table (src/core/risk.ts), the model's limits are multiplied by the target's factor and scored on windows
 * the table was NOT calibrated on: the observed hold rate (should be within a couple of points of the
 * target) and the over-allocation it costs: the "price of safety" curve that evaluate and validate report
 * beside VPA's and KRR's single points.
 */
import type { RiskTable } from '../../../core/risk.js';
import { resourceMetrics } from './metrics.js';
import { withRiskFactors } from '../postprocess.js';
import type { Recommendations, WindowOutcomes } from './metrics.js';

/** RiskPoint: one target of the risk table applied to every window. */
export interface RiskPoint {
  resource: 'memory' | 'cpu';
  target: number;
  factor: number;
  /** % of windows that held (memory: future peak ≤ limit; CPU: future p99 ≤ limit) */
  observedHoldPct: number;
  /** memory: over-allocation %; CPU: limit slack % (Σ(limit − p99)⁺ / Σ p99) */
  overPct: number;
  businessScore: number | null;
}

/**
 * scaleLimits multiplies the model's memory and CPU limits (requests stay at most the limits) on every
 * window: the serving pipeline's own risk step (postprocess.ts withRiskFactors), row by row.
 */
export function scaleLimits(r: Recommendations, memFactor: number, cpuFactor: number): Recommendations {
  const step = withRiskFactors(memFactor, cpuFactor);
  const n = r.memLimit.length;
  const out = { cpuRequest: new Float64Array(n), cpuLimit: new Float64Array(n), memRequest: new Float64Array(n), memLimit: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const s = step({ cpuRequestCores: r.cpuRequest[i]!, cpuLimitCores: r.cpuLimit[i]!, memRequestBytes: r.memRequest[i]!, memLimitBytes: r.memLimit[i]!, confidence: 0 });
    out.cpuRequest[i] = s.cpuRequestCores;
    out.cpuLimit[i] = s.cpuLimitCores;
    out.memRequest[i] = s.memRequestBytes;
    out.memLimit[i] = s.memLimitBytes;
  }
  return { ...r, ...out };
}

/** riskCurve scores every calibrated target of `table` on the windows. */
export function riskCurve(r: Recommendations, o: WindowOutcomes, table: RiskTable): RiskPoint[] {
  const pts: RiskPoint[] = [];
  for (const [target, factor] of table.factors.mem_limit ?? []) {
    const m = resourceMetrics(scaleLimits(r, factor, 1), o);
    pts.push({ resource: 'memory', target, factor, observedHoldPct: 100 - m.memUnderAllocationPct, overPct: m.memOverAllocationPct, businessScore: m.businessScore });
  }
  for (const [target, factor] of table.factors.cpu_limit ?? []) {
    let held = 0;
    let slack = 0;
    let p99 = 0;
    for (let i = 0; i < o.futureCpuP99.length; i++) {
      const lim = r.cpuLimit[i]! * factor;
      if (o.futureCpuP99[i]! <= lim) held++;
      slack += Math.max(lim - o.futureCpuP99[i]!, 0);
      p99 += o.futureCpuP99[i]!;
    }
    pts.push({ resource: 'cpu', target, factor, observedHoldPct: (100 * held) / o.futureCpuP99.length, overPct: (100 * slack) / p99, businessScore: null });
  }
  return pts;
}

