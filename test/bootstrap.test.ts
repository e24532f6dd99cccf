/**
 * bootstrap: intervals over VMs. Sums reproduce resourceMetrics exactly; the resampling is seeded; a system
 * compared with itself has a zero interval; a model that is better on every VM has an interval below 0.
 */
import { describe, it, expect } from 'vitest';
import { bootstrapVersus, metricsOfSums, sumsOf } from '../src/families/container-resources/eval/bootstrap.js';
import { resourceMetrics } from '../src/families/container-resources/eval/metrics.js';
import type { Recommendations, WindowOutcomes } from '../src/families/container-resources/eval/metrics.js';

const GiB = 2 ** 30;
// Two windows: limit 2 GiB vs peak 3 GiB (OOM), limit 4 GiB vs peak 2 GiB (2 GiB over): business 290.
const rec: Recommendations = { cpuRequest: [1, 1], cpuLimit: [1, Infinity], memRequest: [1 * GiB, 3 * GiB], memLimit: [2 * GiB, 4 * GiB] };
const out: WindowOutcomes = { futureCpuP99: [1.5, 9], futureCpuMean: [0.5, 0.5], futureMemPeak: [3 * GiB, 2 * GiB], futureMemMean: [1 * GiB, 1 * GiB] };

describe('bootstrap over VMs', () => {
  it('sums give the same metrics as resourceMetrics (business 5 × 50 + 40 = 290)', () => {
    const m = metricsOfSums(sumsOf(rec, out, [0, 1]));
    expect(m).toEqual(resourceMetrics(rec, out));
    expect(m.businessScore).toBeCloseTo(290, 10);
  });

  it('a system against itself: every difference interval is exactly 0, every ratio 1', () => {
    const g = [sumsOf(rec, out, [0]), sumsOf(rec, out, [1])];
    const b = bootstrapVersus({ model: g, same: g }, 'model', 200, 1);
    expect(b.versus.same!.businessScore.difference).toEqual({ point: 0, lo: 0, hi: 0 });
    expect(b.versus.same!.memOverAllocationPct.ratio.point).toBe(1);
  });

  it('better on every VM → the whole interval is below 0; seeded → the same interval twice', () => {
    // 20 VMs; on each the model's limit is 10% over the peak, the baseline's 50% over: over 10% vs 50%.
    const peaks = Array.from({ length: 20 }, (_, i) => (1 + i) * GiB);
    const o: WindowOutcomes = { futureCpuP99: peaks.map(() => 1), futureCpuMean: peaks.map(() => 1), futureMemPeak: peaks, futureMemMean: peaks };
    const mk = (f: number): Recommendations => ({ cpuRequest: peaks.map(() => 1), cpuLimit: peaks.map(() => 2), memRequest: peaks, memLimit: peaks.map((p) => p * f) });
    const groups = (r: Recommendations) => peaks.map((_, i) => sumsOf(r, o, [i]));
    const a = bootstrapVersus({ model: groups(mk(1.1)), base: groups(mk(1.5)) }, 'model', 500, 7);
    const d = a.versus.base!.businessScore.difference;
    expect(d.point).toBeCloseTo(10 - 50, 8);
    expect(d.hi).toBeLessThan(0);
    expect(d.lo).toBeLessThanOrEqual(d.point);
    expect(a.versus.base!.businessScore.ratio.point).toBeCloseTo(0.2, 8);
    expect(bootstrapVersus({ model: groups(mk(1.1)), base: groups(mk(1.5)) }, 'model', 500, 7)).toEqual(a);
  });
});
