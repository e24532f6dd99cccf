import { describe, it, expect } from 'vitest';
import {
  AggregateContainerState,
  ContainerState,
  DecayingHistogram,
  DEFAULT_AGGREGATIONS_CONFIG,
  ExponentialHistogramOptions,
  Histogram,
  constEstimator,
  cpuAmountFromCores,
  getConfidence,
  goRoundTime,
  proportionalLimit,
  recommendVpa,
  withConfidenceMultiplier,
  withMargin,
  withMinResource,
} from '../src/families/container-resources/baselines/vpa/index.js';
import type { ContainerStateAggregator, ContainerUsageSample } from '../src/families/container-resources/baselines/vpa/index.js';
import { krrRoundValue, prometheusQuantile, recommendKrr } from '../src/families/container-resources/baselines/krr.js';
import { asProvisioned, recommendFixedRule } from '../src/families/container-resources/baselines/fixed-rule.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const DAY = 86400;
/** T0 = 2013-07-01T00:00:00Z, a UTC midnight, so the decay reference lands exactly on it. */
const T0 = 1372636800;

/** series builds a constant usage series: n samples every stepSec from T0. */
function constantSeries(n: number, stepSec: number, cpuCores: number, memoryBytes: number) {
  const timestampsSec = Array.from({ length: n }, (_, i) => T0 + i * stepSec);
  return { timestampsSec, cpuCores: timestampsSec.map(() => cpuCores), memoryBytes: timestampsSec.map(() => memoryBytes) };
}

/** Records what a ContainerState sends to its aggregator. */
class RecordingAggregator implements ContainerStateAggregator {
  ops: { op: 'add' | 'subtract'; sample: ContainerUsageSample }[] = [];
  addSample(sample: ContainerUsageSample): void {
    this.ops.push({ op: 'add', sample });
  }
  subtractSample(sample: ContainerUsageSample): void {
    this.ops.push({ op: 'subtract', sample });
  }
  /** net memory peaks: timestamp → usage after applying adds and subtracts. */
  netPeaks(): Map<number, number> {
    const m = new Map<number, number>();
    for (const { op, sample } of this.ops) {
      if (sample.resource !== 'memory') continue;
      if (op === 'add') m.set(sample.measureStartSec, sample.usage);
      else if (m.get(sample.measureStartSec) === sample.usage) m.delete(sample.measureStartSec);
    }
    return m;
  }
}

const cpuOptions = () => new ExponentialHistogramOptions(1000, 0.01, 1.05, 1e-4);

describe('VPA exponential histogram options (util/histogram_options.go)', () => {
  it('bucket starts are first × (1.05^n − 1)/0.05', () => {
    const o = cpuOptions();
    // numBuckets = ceil(log_1.05(1000 × 0.05/0.01 + 1)) + 1 = ceil(log_1.05(5001)) + 1 = ceil(174.57) + 1 = 176
    expect(o.numBuckets).toBe(176);
    expect(o.getBucketStart(0)).toBe(0);
    expect(o.getBucketStart(1)).toBeCloseTo(0.01, 12); // 0.01 × (1.05 − 1)/0.05
    expect(o.getBucketStart(2)).toBeCloseTo(0.0205, 12); // 0.01 × (1.1025 − 1)/0.05
    expect(o.getBucketStart(3)).toBeCloseTo(0.031525, 12); // 0.01 × (1.157625 − 1)/0.05
    expect(o.getBucketStart(4)).toBeCloseTo(0.04310125, 12); // 0.01 × (1.21550625 − 1)/0.05
    // memory: first 1e7 B, max 1e12 B → same count, 176
    expect(new ExponentialHistogramOptions(1e12, 1e7, 1.05, 1e-4).numBuckets).toBe(176);
  });

  it('findBucket = floor(log_1.05(v × 0.05/first + 1)), clamped', () => {
    const o = cpuOptions();
    expect(o.findBucket(0.005)).toBe(0); // below the first bucket size
    expect(o.findBucket(0.015)).toBe(1); // 0.01 ≤ v < 0.0205
    expect(o.findBucket(0.025)).toBe(2); // 0.0205 ≤ v < 0.031525
    // 0.5 core: log_1.05(0.5 × 5 + 1) = log_1.05(3.5) = 25.68 → 25
    expect(o.findBucket(0.5)).toBe(25);
    expect(o.findBucket(1e6)).toBe(175); // past max → last bucket
    // 1 GiB: log_1.05(1073741824 × 0.05/1e7 + 1) = log_1.05(6.3687) = 37.95 → 37
    expect(new ExponentialHistogramOptions(1e12, 1e7, 1.05, 1e-4).findBucket(GiB)).toBe(37);
  });
});

describe('VPA histogram percentile (util/histogram.go)', () => {
  it('returns the END of the bucket where the running weight reaches p × total', () => {
    const h = new Histogram(cpuOptions());
    h.addSample(0.005, 1); // bucket 0 [0, 0.01)
    h.addSample(0.015, 2); // bucket 1 [0.01, 0.0205)
    h.addSample(0.025, 1); // bucket 2 [0.0205, 0.031525)
    expect(h.totalWeight).toBe(4);
    // p25: threshold 1; bucket 0 sum 1 ≥ 1 → end of bucket 0 = 0.01
    expect(h.percentile(0.25)).toBeCloseTo(0.01, 12);
    // p50: threshold 2; sums 1, 3 → bucket 1 → 0.0205
    expect(h.percentile(0.5)).toBeCloseTo(0.0205, 12);
    // p90: threshold 3.6; sums 1, 3, then the last non-empty bucket 2 → 0.031525
    expect(h.percentile(0.9)).toBeCloseTo(0.031525, 12);
  });

  it('an empty histogram answers 0; subtracting a sample empties it again', () => {
    const h = new Histogram(cpuOptions());
    expect(h.percentile(0.9)).toBe(0);
    h.addSample(0.5, 1);
    h.subtractSample(0.5, 1);
    expect(h.isEmpty()).toBe(true);
    expect(h.percentile(0.9)).toBe(0);
  });
});

describe('VPA decaying histogram (util/decaying_histogram.go)', () => {
  it('a sample 24 h later weighs 2× (half-life 24 h)', () => {
    const d = new DecayingHistogram(cpuOptions(), DAY);
    d.addSample(0.015, 1, T0); // first sample: reference moves from Go's zero time to round(T0, 24 h) = T0
    expect(d.referenceTimestampSec).toBe(T0);
    d.addSample(0.025, 1, T0 + DAY); // 2^((T0 + 24 h − T0)/24 h) = 2
    expect(d.histogram.bucketWeight(1)).toBe(1);
    expect(d.histogram.bucketWeight(2)).toBe(2);
    // p50: threshold 1.5 of 3; bucket 1 sum 1 < 1.5 → bucket 2 → 0.031525
    expect(d.percentile(0.5)).toBeCloseTo(0.031525, 12);
  });

  it('renormalises past 100 half-lives without changing relative weights', () => {
    const d = new DecayingHistogram(cpuOptions(), DAY);
    d.addSample(0.015, 1, T0);
    d.addSample(0.025, 1, T0 + 101 * DAY); // > ref + 100 days → ref = T0 + 101 d, old weights × 2^−101
    expect(d.referenceTimestampSec).toBe(T0 + 101 * DAY);
    expect(d.histogram.bucketWeight(2)).toBe(1);
    expect(d.histogram.bucketWeight(1)).toBe(Math.pow(2, -101));
  });

  it('goRoundTime rounds to the nearest multiple from Go zero time, halves up', () => {
    expect(goRoundTime(T0 + 11 * 3600, DAY)).toBe(T0);
    expect(goRoundTime(T0 + 12 * 3600, DAY)).toBe(T0 + DAY);
  });
});

describe('VPA memory peaks per 24 h interval (model/container.go)', () => {
  it('keeps one peak per interval, recorded at the interval end', () => {
    const rec = new RecordingAggregator();
    const c = new ContainerState({ cpu: 0, memory: 0 }, rec);
    const mem = (h: number, usage: number) =>
      c.addSample({ measureStartSec: T0 + h * 3600, usage, request: 0, resource: 'memory' });
    // The first sample sets windowEnd = T0, so it opens the interval [T0, T0 + 24 h) and is added at T0 + 24 h.
    mem(0, 100e6);
    mem(1, 300e6); // higher: subtract 100 MB @ T0+24h, add 300 MB @ T0+24h
    mem(2, 200e6); // lower: no change
    mem(25, 50e6); // past windowEnd: new interval ends T0 + 24 h + floor(1 h/24 h)·24 h + 24 h = T0 + 48 h
    expect(rec.ops.map((o) => o.op)).toEqual(['add', 'subtract', 'add', 'add']);
    expect([...rec.netPeaks()]).toEqual([
      [T0 + DAY, 300e6],
      [T0 + 2 * DAY, 50e6],
    ]);
    expect(mem(24, 999e6)).toBe(false); // older than the last sample (25 h): discarded
  });

  it('recommendVpa takes p90 of the daily peaks, not of all samples', () => {
    // 3 days every 5 min at 500 MB, with one 2 GB spike on day 2: the peaks are 500 MB, 2 GB, 500 MB
    const s = constantSeries(3 * 288, 300, 0.1, 500e6);
    s.memoryBytes[288 + 10] = 2e9;
    const r = recommendVpa(s);
    // Rows 0–287 fall in [T0, T0 + 1 d), 288–575 in [T0 + 1 d, T0 + 2 d), 576–863 in the third day. Peaks are
    // recorded at each interval END, weighted 2^1, 2^2, 2^3: 500 MB (2), 2 GB (4), 500 MB (8); total 14.
    // p90 threshold 12.6: the 500 MB bucket carries 2 + 8 = 10 < 12.6 → the 2 GB bucket.
    // 2e9 B: bucket floor(log_1.05(2e9 × 0.05/1e7 + 1)) = floor(log_1.05(11)) = 49, end = 1e7 × (1.05^50 − 1)/0.05
    const end = (1e7 * (Math.pow(1.05, 50) - 1)) / 0.05; // ≈ 2.0935e9
    expect(r.memRequestBytes).toBe(Math.trunc(end) + Math.trunc(Math.trunc(end) * 0.15));
  });
});

describe('VPA estimators (logic/estimator.go)', () => {
  it('withMargin adds trunc(base × 0.15): 1000 → 1150, 511 → 587', () => {
    const s = new AggregateContainerState();
    expect(withMargin(0.15, constEstimator(1000))(s)).toBe(1150);
    expect(withMargin(0.15, constEstimator(511))(s)).toBe(511 + 76); // 511 × 0.15 = 76.65 → 76
  });

  it('confidence multiplier on a worked example', () => {
    // 1 day at 1 sample/min: 1441 samples, lifespan 1 day → confidence = min(1, 1441/1440) = 1
    const s = new AggregateContainerState();
    for (let i = 0; i <= 1440; i++) s.addSample({ measureStartSec: T0 + 60 * i, usage: 100, request: 0, resource: 'cpu' });
    expect(getConfidence(s)).toBe(1);
    // upper bound: (1 + 1/1)^1 = 2 → 1000 m × 2 = 2000 m
    expect(withConfidenceMultiplier(1, 1, constEstimator(1000))(s)).toBe(2000);
    // lower bound: (1 + 0.001/1)^−2 = 0.998003 → 998 m
    expect(withConfidenceMultiplier(0.001, -2, constEstimator(1000))(s)).toBe(998);

    // 2 days at 1 sample/5 min: 577 samples → confidence = min(2, 577/1440) = 0.400694
    const s2 = new AggregateContainerState();
    for (let i = 0; i <= 576; i++) s2.addSample({ measureStartSec: T0 + 300 * i, usage: 100, request: 0, resource: 'cpu' });
    expect(getConfidence(s2)).toBeCloseTo(577 / 1440, 12);
    // upper: 1000 × (1 + 1440/577) = 1000 × 3.49567 = 3495 m
    expect(withConfidenceMultiplier(1, 1, constEstimator(1000))(s2)).toBe(3495);
  });

  it('no history: upper bound ×∞ capped at 1e14, lower bound ×0', () => {
    const s = new AggregateContainerState();
    expect(withConfidenceMultiplier(1, 1, constEstimator(1000))(s)).toBe(1e14);
    expect(withConfidenceMultiplier(0.001, -2, constEstimator(1000))(s)).toBe(0);
  });

  it('withMinResource lifts to the minimum', () => {
    const s = new AggregateContainerState();
    expect(withMinResource(25, constEstimator(11))(s)).toBe(25);
    expect(withMinResource(25, constEstimator(587))(s)).toBe(587);
  });
});

describe('recommendVpa (logic/recommender.go defaults)', () => {
  it('constant 0.5 core / 1 GiB for 2 days at 1/min', () => {
    const r = recommendVpa(constantSeries(2 * 1440 + 1, 60, 0.5, GiB));
    // CPU: bucket 25, end 0.01 × (1.05^26 − 1)/0.05 = 0.51113 → 511 m; + trunc(511 × 0.15) = 76 → 587 m
    expect(cpuAmountFromCores((0.01 * (Math.pow(1.05, 26) - 1)) / 0.05)).toBe(511);
    expect(r.cpuRequestCores).toBe(0.587);
    // memory: bucket 37, end 1e7 × (1.05^38 − 1)/0.05 = 1 077 095 457 B; + 15 % (truncated)
    const memEnd = Math.trunc((1e7 * (Math.pow(1.05, 38) - 1)) / 0.05);
    expect(r.memRequestBytes).toBe(memEnd + Math.trunc(memEnd * 0.15));
    // confidence = min(2 days, 2881/1440 = 2.0007) = 2
    expect(r.diagnostics.confidenceCpu).toBe(2);
    // upper: p95 is the same bucket → 587 m × (1 + 1/2) = 880.5 → 880 m
    expect(r.upperBound.cpuCores).toBe(0.88);
    // lower: 587 m × (1 + 0.001/2)^−2 = 587 × 0.999001 = 586.41 → 586 m
    expect(r.lowerBound.cpuCores).toBe(0.586);
    // no original limits: CPU limit unset (upstream), memory limit = request (our documented choice)
    expect(r.cpuLimitCores).toBeNull();
    expect(r.memLimitBytes).toBe(r.memRequestBytes);
  });

  it('minimums: 25 millicores and 250 MiB', () => {
    // 1 m CPU → bucket 0 → p90 = 0.01 → 10 m + 1 m margin = 11 m < 25 m
    // 1 MB → bucket 0 → p90 = 1e7 → 1.15e7 B < 250 × 1024 × 1024 = 262 144 000 B
    const r = recommendVpa(constantSeries(1441, 60, 0.001, 1e6));
    expect(r.cpuRequestCores).toBe(0.025);
    expect(r.memRequestBytes).toBe(262_144_000);
    expect(r.lowerBound).toEqual({ cpuCores: 0.025, memoryBytes: 262_144_000 });
  });

  it('OOM bump: ×1.2 above 500 MiB, +100 MiB below', () => {
    const bumped = (requestBytes: number) => {
      const rec = new RecordingAggregator();
      const c = new ContainerState({ cpu: 0, memory: 0 }, rec);
      expect(c.recordOom(T0, requestBytes)).toBe(true);
      return rec.ops[0]!.sample.usage;
    };
    // 1 GiB: max(1 GiB + 100 MiB = 1 178 599 424, 1 GiB × 1.2 = 1 288 490 188.8) → 1 288 490 188
    expect(bumped(GiB)).toBe(1_288_490_188);
    // 200 MiB: max(200 MiB + 100 MiB = 314 572 800, 200 MiB × 1.2 = 251 658 240) → 314 572 800
    expect(bumped(200 * MiB)).toBe(314_572_800);
  });

  it('OOM bump uses the interval peak when it exceeds the request', () => {
    const rec = new RecordingAggregator();
    const c = new ContainerState({ cpu: 0, memory: 0 }, rec);
    c.addSample({ measureStartSec: T0, usage: 800 * MiB, request: 0, resource: 'memory' });
    c.recordOom(T0 + 60, 500 * MiB);
    // used = max(500 MiB, peak 800 MiB) = 800 MiB → max(900 MiB, 960 MiB) = 960 MiB replaces the peak
    expect([...rec.netPeaks()]).toEqual([[T0 + DAY, 960 * MiB]]);
  });

  it('an OOM event raises the memory target through recommendVpa', () => {
    const s = constantSeries(1441, 60, 0.1, 500 * MiB);
    const plain = recommendVpa(s);
    const withOom = recommendVpa(s, { oomEvents: [{ timestampSec: T0 + 600, memoryBytes: 500 * MiB }] });
    // used = max(request 500 MiB, peak 500 MiB); needed = max(500 + 100 MiB, 500 MiB × 1.2) = 600 MiB replaces
    // day 1's peak (weight 2); the last row opens day 2 with 500 MiB (weight 4). p90 of 6 = 5.4 > 4 → 600 MiB.
    expect(withOom.memRequestBytes).toBeGreaterThan(plain.memRequestBytes);
    const b = Math.floor(Math.log((600 * MiB * 0.05) / 1e7 + 1) / Math.log(1.05)); // 600 MiB → log_1.05(629145600 × 0.05/1e7 + 1) = 29.15 → bucket 29
    const end = Math.trunc((1e7 * (Math.pow(1.05, b + 1) - 1)) / 0.05);
    expect(withOom.memRequestBytes).toBe(end + Math.trunc(end * 0.15));
  });

  it('limits keep the original limit/request ratio (utils/vpa/limit_and_request_scaling.go)', () => {
    // CPU 0.5 → 1.0 (×2): recommended 0.587 → 1000 m × 587 m / 500 m = 1174 m
    expect(proportionalLimit('cpu', 1.0, 0.5, 0.587)).toBe(1.174);
    // memory 1 GiB → 1.5 GiB: 1 288 490 188 × 1.5 = 1 932 735 282 (floor division)
    expect(proportionalLimit('memory', 1.5 * GiB, GiB, 1_288_490_188)).toBe(Math.floor((1.5 * GiB * 1_288_490_188) / GiB));
    expect(proportionalLimit('cpu', 2, 2, 0.3)).toBe(0.3); // request == limit → limit = request
    expect(proportionalLimit('cpu', 2, undefined, 0.3)).toBe(0.3); // no original request → request
    expect(proportionalLimit('cpu', undefined, 0.5, 0.3)).toBeNull(); // no original limit → none
    const r = recommendVpa(constantSeries(2881, 60, 0.5, GiB), {
      originalCpuRequestCores: 0.5,
      originalCpuLimitCores: 1,
      originalMemRequestBytes: GiB,
      originalMemLimitBytes: 2 * GiB,
    });
    expect(r.cpuLimitCores).toBe(1.174);
    expect(r.memLimitBytes).toBe(2 * r.memRequestBytes);
  });

  it('EXPECTED FAILURE - arrays of different lengths', () => {
    expect(() => recommendVpa({ timestampsSec: [1, 2], cpuCores: [0.1], memoryBytes: [1, 2] })).toThrow(/differ in length/);
  });

  it('uses the default constants of model/aggregations_config.go', () => {
    expect(DEFAULT_AGGREGATIONS_CONFIG.epsilon).toBeCloseTo(1e-4, 15);
    expect(DEFAULT_AGGREGATIONS_CONFIG.oomMinBumpUpBytes).toBe(104_857_600);
  });
});

describe('KRR simple strategy (robusta_krr/strategies/simple.py)', () => {
  const tiny = {
    timestampsSec: [0, 60, 120, 180, 240],
    cpuCores: [0.3, 0.1, 0.5, 0.2, 0.4],
    memoryBytes: [100e6, 500e6, 200e6, 300e6, 400e6],
  };

  it('p95 with linear interpolation, max × 1.15, no CPU limit (rounding off)', () => {
    const r = recommendKrr(tiny, { pointsRequired: 1, round: false });
    // sorted CPU [0.1 … 0.5]: rank 0.95 × 4 = 3.8 → 0.4 × 0.2 + 0.5 × 0.8 = 0.48
    expect(r.cpuRequestCores).toBeCloseTo(0.48, 12);
    expect(r.cpuLimitCores).toBeNull();
    // memory: 500 MB × 1.15 = 575 MB, request = limit
    expect(r.memRequestBytes).toBeCloseTo(575e6, 3);
    expect(r.memLimitBytes).toBe(r.memRequestBytes);
  });

  it('runner rounding: CPU up to 1 m, memory up to 1 MB, minimums 10 m and 100 MB', () => {
    const r = recommendKrr(tiny, { pointsRequired: 1 });
    expect(r.cpuRequestCores).toBe(0.48); // 0.4 × (1 − 0.8) + 0.5 × 0.8 = 0.48 → ceil(480) / 1000
    expect(krrRoundValue(0.4801, 'cpu')).toBe(0.481); // ceil(480.1) = 481 m
    expect(r.memRequestBytes).toBe(575e6);
    expect(krrRoundValue(0.0031, 'cpu')).toBe(0.01); // 4 m < 10 m
    expect(krrRoundValue(575_000_000.4, 'memory')).toBe(576e6);
    expect(krrRoundValue(20e6, 'memory')).toBe(100e6);
  });

  it('fewer than points_required (100) samples → no recommendation', () => {
    const r = recommendKrr(tiny);
    expect(r.info).toBe('Not enough data');
    expect(Number.isNaN(r.cpuRequestCores)).toBe(true);
  });

  it('prometheusQuantile matches numpy linear: [1, 2, 3, 4] at 0.5 → 2.5', () => {
    expect(prometheusQuantile(0.5, [4, 1, 3, 2])).toBe(2.5);
    expect(prometheusQuantile(1, [4, 1, 3, 2])).toBe(4);
    expect(prometheusQuantile(0, [4, 1, 3, 2])).toBe(1);
  });
});

describe('fixed rule and as-provisioned', () => {
  it('memory = max × 1.3, CPU request = p95, CPU limit = max × 1.3', () => {
    const r = recommendFixedRule({ timestampsSec: [0, 1, 2, 3, 4], cpuCores: [0.3, 0.1, 0.5, 0.2, 0.4], memoryBytes: [1e8, 5e8, 2e8, 3e8, 4e8] });
    expect(r.cpuRequestCores).toBeCloseTo(0.48, 12); // rank 3.8 → 0.4 × 0.2 + 0.5 × 0.8
    expect(r.cpuLimitCores).toBeCloseTo(0.65, 12); // 0.5 × 1.3
    expect(r.memRequestBytes).toBeCloseTo(6.5e8, 3); // 5e8 × 1.3
    expect(r.memLimitBytes).toBe(r.memRequestBytes);
  });

  it('asProvisioned returns request = limit = provisioned', () => {
    expect(asProvisioned(2, 8 * GiB)).toEqual({ cpuRequestCores: 2, cpuLimitCores: 2, memRequestBytes: 8 * GiB, memLimitBytes: 8 * GiB });
  });
});
