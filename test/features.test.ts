/**
 * features: the maths of computeFeatures on small hand-computed windows, with the expected numbers
 * written out: CPU percentiles (numpy's linear interpolation), memory percentiles over per-interval PEAKS
 * (not raw samples), cpu_variance = population std / mean, mem_trend = least-squares slope × 86400 / mean,
 * throttle_ratio from cumulative CFS counters (with a counter reset), hour and day of week in UTC from the
 * last sample, workload_age in hours; then every FeatureError case, each naming the bad field.
 */
import { describe, it, expect } from 'vitest';
import {
  computeFeatures,
  counterIncrease,
  FEATURE_NAMES,
  FeatureError,
  memoryPeaks,
  PEAK_INTERVAL_SEC,
  toVector,
} from '../src/families/container-resources/features.js';
import type { UsageWindow } from '../src/families/container-resources/features.js';
import { GiB, MiB } from '../src/core/units.js';
import { percentile, percentileSorted } from '../src/util/stats.js';

const HOUR = 3600;
const DAY = 86400;
/** MONDAY = 2026-11-23T00:00:00Z, a Monday and a UTC midnight (divisible by 3600 and by 86400). */
const MONDAY = Date.UTC(2026, 10, 23) / 1000;

/** win builds a window of samples every stepSec from `start`, with the given CPU and memory series. */
function win(start: number, stepSec: number, cpuCores: number[], memoryBytes: number[], extra: Partial<UsageWindow> = {}): UsageWindow {
  const timestampsSec = cpuCores.map((_, i) => start + i * stepSec);
  return { timestampsSec, cpuCores, memoryBytes, ...extra };
}

/** featureError runs computeFeatures and returns the FeatureError it throws (fails if none). */
function featureError(w: UsageWindow): FeatureError {
  try {
    computeFeatures(w);
  } catch (e) {
    expect(e).toBeInstanceOf(FeatureError);
    return e as FeatureError;
  }
  throw new Error('computeFeatures accepted a bad window');
}

describe('percentiles (numpy linear interpolation: rank = q/100 × (n − 1))', () => {
  it('percentileSorted matches hand-computed ranks', () => {
    // [1, 2, 3, 4] q50: rank 0.5·3 = 1.5 → 2 + 0.5·1 = 2.5
    expect(percentileSorted([1, 2, 3, 4], 50)).toBe(2.5);
    // [10, 20, 30, 40, 50] q90: rank 0.9·4 = 3.6 → 40 + 0.6·10 = 46 (np.percentile gives 46.0)
    expect(percentileSorted([10, 20, 30, 40, 50], 90)).toBeCloseTo(46, 12);
    // q0 and q100 are the ends; one element is itself; none is NaN
    expect(percentileSorted([10, 20, 30, 40, 50], 0)).toBe(10);
    expect(percentileSorted([10, 20, 30, 40, 50], 100)).toBe(50);
    expect(percentileSorted([7], 95)).toBe(7);
    expect(percentileSorted([], 50)).toBeNaN();
    // percentile sorts a copy first: [4, 1, 3, 2] q50 → 2.5 like [1, 2, 3, 4]
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
  });

  it('cpu_p50/p95/p99 of CPU [0.1, 0.2, 0.3, 0.4] (given out of order) are 0.25, 0.385, 0.397', () => {
    // sorted [0.1, 0.2, 0.3, 0.4]:
    //   p50: rank 0.50·3 = 1.50 → 0.2 + 0.50·0.1 = 0.25
    //   p95: rank 0.95·3 = 2.85 → 0.3 + 0.85·0.1 = 0.385
    //   p99: rank 0.99·3 = 2.97 → 0.3 + 0.97·0.1 = 0.397
    const f = computeFeatures(win(MONDAY, 60, [0.3, 0.1, 0.4, 0.2], [GiB, GiB, GiB, GiB]));
    expect(f.cpu_p50).toBeCloseTo(0.25, 12);
    expect(f.cpu_p95).toBeCloseTo(0.385, 12);
    expect(f.cpu_p99).toBeCloseTo(0.397, 12);
  });
});

describe('memory percentiles are over per-interval PEAKS, not raw samples', () => {
  it('memoryPeaks keeps the maximum of each clock-hour bucket (module example, intervalSec 3600)', () => {
    // samples at 00:00, 00:30, 01:10 with 1, 3, 2 GiB → hour 0 peak 3 GiB, hour 1 peak 2 GiB
    const t = [MONDAY, MONDAY + 30 * 60, MONDAY + 70 * 60];
    expect(Array.from(memoryPeaks(t, [1 * GiB, 3 * GiB, 2 * GiB], HOUR))).toEqual([3 * GiB, 2 * GiB]);
  });

  it('buckets are aligned to the epoch: 1 s apart across a boundary are two peaks, 59 min apart inside one are one', () => {
    // 00:59:59 and 01:00:00 fall in different clock hours; 01:00:00 and 01:59:59 in the same one
    const t = [MONDAY + HOUR - 1, MONDAY + HOUR, MONDAY + 2 * HOUR - 1];
    expect(Array.from(memoryPeaks(t, [5, 1, 2], HOUR))).toEqual([5, 2]);
    // with the default interval (PEAK_INTERVAL_SEC) a bucket boundary 1 s apart still splits: MONDAY is a
    // multiple of both 3600 and 86400
    expect(Array.from(memoryPeaks([MONDAY - 1, MONDAY], [5, 1]))).toEqual([5, 1]);
  });

  it('mem_p50/p95/p99 of a 4-bucket window are percentiles of the 4 peaks [2, 3, 4, 5] GiB', () => {
    // One bucket = PEAK_INTERVAL_SEC (the contract's peak interval); 3 samples per bucket, at 0, 1/3, 2/3
    // of it:
    //   bucket 0: 1, 1, 5 GiB → peak 5     bucket 1: 1, 1, 2 GiB → peak 2
    //   bucket 2: 1, 1, 3 GiB → peak 3     bucket 3: 1, 1, 4 GiB → peak 4
    // peaks sorted [2, 3, 4, 5] GiB:
    //   p50: rank 1.50 → 3 + 0.50 = 3.5 GiB; p95: rank 2.85 → 4 + 0.85 = 4.85 GiB; p99: rank 2.97 → 4.97 GiB
    // Over the 12 RAW samples [1 ×8, 2, 3, 4, 5] the median would be 1 GiB and p95 rank 10.45 → 4.45 GiB.
    const P = PEAK_INTERVAL_SEC;
    const memG = [1, 1, 5, 1, 1, 2, 1, 1, 3, 1, 1, 4];
    const timestampsSec = memG.map((_, i) => MONDAY + Math.floor(i / 3) * P + (i % 3) * Math.floor(P / 3));
    const w: UsageWindow = { timestampsSec, cpuCores: memG.map(() => 0.5), memoryBytes: memG.map((g) => g * GiB) };
    const f = computeFeatures(w);
    expect(f.mem_p50 / GiB).toBeCloseTo(3.5, 12);
    expect(f.mem_p95 / GiB).toBeCloseTo(4.85, 12);
    expect(f.mem_p99 / GiB).toBeCloseTo(4.97, 12);
    // the raw-sample percentiles really are different (so the test above can tell the two apart)
    expect(percentile(memG, 50)).toBe(1);
    expect(percentile(memG, 95)).toBeCloseTo(4.45, 12);
  });

  it('all samples in one bucket give one peak: mem_p50 = mem_p95 = mem_p99 = the window maximum', () => {
    // 4 samples 10 minutes apart from 10:00 on the Monday: one clock hour and one day, so one peak of
    // 700 MiB whatever PEAK_INTERVAL_SEC is (an hour or a day)
    const f = computeFeatures(win(MONDAY + 10 * HOUR, 600, [1, 1, 1, 1], [500 * MiB, 700 * MiB, 600 * MiB, 550 * MiB]));
    expect(f.mem_p50).toBe(700 * MiB);
    expect(f.mem_p95).toBe(700 * MiB);
    expect(f.mem_p99).toBe(700 * MiB);
  });
});

describe('cpu_variance = population std / mean', () => {
  it('CPU [0.1, 0.2, 0.3, 0.4]: mean 0.25, std √(0.05/4) = 0.1118, cv 0.4472 (= 1/√5)', () => {
    // deviations ±0.15, ±0.05 → squares 0.0225 + 0.0025 + 0.0025 + 0.0225 = 0.05; /n (population) = 0.0125
    const f = computeFeatures(win(MONDAY, 60, [0.1, 0.2, 0.3, 0.4], [GiB, GiB, GiB, GiB]));
    expect(f.cpu_variance).toBeCloseTo(1 / Math.sqrt(5), 12);
    expect(f.cpu_variance).toBeCloseTo(0.4472, 4);
  });

  it('constant CPU → 0; all-zero CPU → 0 (no division by a zero mean)', () => {
    expect(computeFeatures(win(MONDAY, 60, [2, 2, 2], [GiB, GiB, GiB])).cpu_variance).toBe(0);
    expect(computeFeatures(win(MONDAY, 60, [0, 0, 0], [GiB, GiB, GiB])).cpu_variance).toBe(0);
  });

  it('CPU [0, 2]: mean 1, std 1 → cv 1 (population, not sample, std: the sample std would give √2)', () => {
    expect(computeFeatures(win(MONDAY, 60, [0, 2], [GiB, GiB])).cpu_variance).toBeCloseTo(1, 12);
  });
});

describe('mem_trend = least-squares slope (bytes/s) × 86400 / mean memory', () => {
  // 49 hourly samples over 2 days, memory = 1 GiB + 1 GiB · (elapsed days): 1 GiB → 3 GiB, symmetric, so
  // the mean is 2 GiB and the slope 1 GiB/day → trend = 1 / 2 = 0.5 per day.
  const hours = Array.from({ length: 49 }, (_, i) => i);
  const t = hours.map((h) => MONDAY + h * HOUR);
  const cpu = hours.map(() => 0.5);

  it('memory rising 1 GiB/day on a 2 GiB mean → 0.5', () => {
    const f = computeFeatures({ timestampsSec: t, cpuCores: cpu, memoryBytes: hours.map((h) => GiB + (GiB * h) / 24) });
    expect(f.mem_trend).toBeCloseTo(0.5, 9);
  });

  it('memory falling 1 GiB/day on a 2 GiB mean → −0.5; flat memory → 0', () => {
    const down = computeFeatures({ timestampsSec: t, cpuCores: cpu, memoryBytes: hours.map((h) => 3 * GiB - (GiB * h) / 24) });
    expect(down.mem_trend).toBeCloseTo(-0.5, 9);
    const flat = computeFeatures({ timestampsSec: t, cpuCores: cpu, memoryBytes: hours.map(() => 2 * GiB) });
    expect(flat.mem_trend).toBe(0);
  });

  it('the slope is least squares over all samples, not (last − first): 2, 4, 1, 2 GiB → −0.4', () => {
    // 4 samples at 0, 8, 16, 24 h with 2, 4, 1, 2 GiB; last − first = 0, but
    // t̄ = 12 h, m̄ = 2.25 GiB; dt = −12, −4, 4, 12 h; dm = −0.25, 1.75, −1.25, −0.25 GiB
    // Σ dt·dm = 3 − 7 − 5 − 3 = −12 h·GiB; Σ dt² = 144 + 16 + 16 + 144 = 320 h²
    // slope = −12/320 GiB/h = −0.0375 GiB/h = −0.9 GiB/day → trend = −0.9 / 2.25 = −0.4
    const t4 = [0, 8, 16, 24].map((h) => MONDAY + h * HOUR);
    const f = computeFeatures({ timestampsSec: t4, cpuCores: [1, 1, 1, 1], memoryBytes: [2 * GiB, 4 * GiB, 1 * GiB, 2 * GiB] });
    expect(f.mem_trend).toBeCloseTo(-0.4, 9);
  });

  it('all-zero memory → 0 (no division by a zero mean)', () => {
    expect(computeFeatures({ timestampsSec: t, cpuCores: cpu, memoryBytes: hours.map(() => 0) }).mem_trend).toBe(0);
  });
});

describe('throttle_ratio from cumulative CFS counters', () => {
  it('counterIncrease treats a decrease as a reset (module example [10, 15, 3, 5] → 5 + 3 + 2 = 10)', () => {
    expect(counterIncrease([10, 15, 3, 5])).toBe(10);
    expect(counterIncrease([0, 100, 250])).toBe(250);
    expect(counterIncrease([42])).toBe(0);
  });

  it('totals [1000, 1100, 1200, 100, 200] and throttled [50, 60, 80, 10, 30] (reset at sample 3) → 60/400 = 0.15', () => {
    // total increase:     100 + 100 + 100 (reset: 100 since the reset) + 100 = 400
    // throttled increase:  10 +  20 +  10 (reset: 10 since the reset)  +  20 =  60
    const f = computeFeatures(win(MONDAY, 60, [1, 1, 1, 1, 1], [GiB, GiB, GiB, GiB, GiB], {
      totalPeriods: [1000, 1100, 1200, 100, 200],
      throttledPeriods: [50, 60, 80, 10, 30],
    }));
    expect(f.throttle_ratio).toBeCloseTo(0.15, 12);
  });

  it('no counters → 0; counters that never move → 0 (no division by zero)', () => {
    expect(computeFeatures(win(MONDAY, 60, [1, 1], [GiB, GiB])).throttle_ratio).toBe(0);
    expect(computeFeatures(win(MONDAY, 60, [1, 1], [GiB, GiB], { totalPeriods: [7, 7], throttledPeriods: [3, 3] })).throttle_ratio).toBe(0);
  });

  it('every period throttled → 1', () => {
    expect(computeFeatures(win(MONDAY, 60, [1, 1, 1], [GiB, GiB, GiB], { totalPeriods: [0, 600, 1200], throttledPeriods: [0, 600, 1200] })).throttle_ratio).toBe(1);
  });
});

describe('hour and day_of_week: UTC, from the LAST sample', () => {
  it('2026-11-23T10:00:00Z is a Monday → day 1, hour 10', () => {
    const last = Date.UTC(2026, 10, 23, 10, 0, 0) / 1000;
    const f = computeFeatures({ timestampsSec: [last - 600, last], cpuCores: [1, 1], memoryBytes: [GiB, GiB] });
    expect(f.hour).toBe(10);
    expect(f.day_of_week).toBe(1);
  });

  it('a window from Sunday 23:00 to Monday 01:00 takes the last sample: hour 1, day 1 (not 23, 0)', () => {
    const t = [MONDAY - HOUR, MONDAY, MONDAY + HOUR];
    const f = computeFeatures({ timestampsSec: t, cpuCores: [1, 1, 1], memoryBytes: [GiB, GiB, GiB] });
    expect(f.hour).toBe(1);
    expect(f.day_of_week).toBe(1);
  });

  it('Sunday 2026-11-22T23:59:59Z → day 0, hour 23; Saturday 2026-11-28T00:00:00Z → day 6, hour 0', () => {
    const sun = MONDAY - 1;
    expect(computeFeatures({ timestampsSec: [sun - 60, sun], cpuCores: [1, 1], memoryBytes: [1, 1] })).toMatchObject({ hour: 23, day_of_week: 0 });
    const sat = MONDAY + 5 * DAY;
    expect(computeFeatures({ timestampsSec: [sat - 60, sat], cpuCores: [1, 1], memoryBytes: [1, 1] })).toMatchObject({ hour: 0, day_of_week: 6 });
  });
});

describe('workload_age in hours to the last sample', () => {
  const t = [MONDAY, MONDAY + HOUR, MONDAY + 2 * HOUR];
  const base = { timestampsSec: t, cpuCores: [1, 1, 1], memoryBytes: [GiB, GiB, GiB] };

  it('without workloadStartSec: from the first sample → 2 h', () => {
    expect(computeFeatures(base).workload_age).toBe(2);
  });

  it('with workloadStartSec 30 h before the last sample → 30 h; 90 min before → 1.5 h; at the last sample → 0', () => {
    expect(computeFeatures({ ...base, workloadStartSec: MONDAY + 2 * HOUR - 30 * HOUR }).workload_age).toBe(30);
    expect(computeFeatures({ ...base, workloadStartSec: MONDAY + 30 * 60 }).workload_age).toBe(1.5);
    expect(computeFeatures({ ...base, workloadStartSec: MONDAY + 2 * HOUR }).workload_age).toBe(0);
  });
});

describe('the 12 features come out in contract order', () => {
  it('toVector(computeFeatures(w)) follows FEATURE_NAMES', () => {
    const f = computeFeatures(win(MONDAY + 10 * HOUR, 60, [0.1, 0.2, 0.3, 0.4], [GiB, GiB, GiB, GiB]));
    expect(Object.keys(f).sort()).toEqual([...FEATURE_NAMES].sort());
    const v = toVector(f);
    expect(v).toHaveLength(12);
    FEATURE_NAMES.forEach((name, i) => expect(v[i]).toBe(f[name]));
    expect(v[0]).toBeCloseTo(0.25, 12); // cpu_p50 first
    expect(v[9]).toBe(10); // hour
    expect(v[10]).toBe(1); // day_of_week (Monday)
    expect(v[11]).toBeCloseTo(3 / 60, 12); // workload_age: 3 minutes = 0.05 h
  });
});

describe('EXPECTED FAILURE - bad windows throw FeatureError naming the field', () => {
  const ok = (): UsageWindow => ({ timestampsSec: [MONDAY, MONDAY + 60, MONDAY + 120], cpuCores: [1, 1, 1], memoryBytes: [GiB, GiB, GiB] });

  it('the baseline window is valid (so each case below fails for its one change)', () => {
    expect(computeFeatures(ok()).cpu_p50).toBe(1);
  });

  it('length mismatch: cpuCores has 2 values for 3 timestamps', () => {
    const e = featureError({ ...ok(), cpuCores: [1, 1] });
    expect(e.field).toBe('cpuCores');
    expect(e.message).toMatch(/^cpuCores: has 2 values but timestampsSec has 3/);
  });

  it('NaN: memoryBytes[1] is NaN', () => {
    const e = featureError({ ...ok(), memoryBytes: [GiB, NaN, GiB] });
    expect(e.field).toBe('memoryBytes[1]');
    expect(e.message).toMatch(/is NaN; every value must be a finite number/);
  });

  it('Infinity: cpuCores[2] is Infinity', () => {
    const e = featureError({ ...ok(), cpuCores: [1, 1, Infinity] });
    expect(e.field).toBe('cpuCores[2]');
    expect(e.message).toMatch(/is Infinity; every value must be a finite number/);
  });

  it('negative usage: cpuCores[0] = −0.5 and memoryBytes[2] = −1', () => {
    const c = featureError({ ...ok(), cpuCores: [-0.5, 1, 1] });
    expect(c.field).toBe('cpuCores[0]');
    expect(c.message).toMatch(/is -0.5; usage cannot be negative/);
    expect(featureError({ ...ok(), memoryBytes: [GiB, GiB, -1] }).field).toBe('memoryBytes[2]');
  });

  it('non-increasing timestamps: a repeat at index 2 and a step back at index 1', () => {
    const rep = featureError({ ...ok(), timestampsSec: [MONDAY, MONDAY + 60, MONDAY + 60] });
    expect(rep.field).toBe('timestampsSec[2]');
    expect(rep.message).toMatch(/strictly increasing/);
    expect(featureError({ ...ok(), timestampsSec: [MONDAY, MONDAY - 60, MONDAY + 60] }).field).toBe('timestampsSec[1]');
  });

  it('fewer than 2 samples: 1 sample and 0 samples', () => {
    const one = featureError({ timestampsSec: [MONDAY], cpuCores: [1], memoryBytes: [GiB] });
    expect(one.field).toBe('timestampsSec');
    expect(one.message).toMatch(/has 1 samples; a window needs at least 2/);
    expect(featureError({ timestampsSec: [], cpuCores: [], memoryBytes: [] }).message).toMatch(/has 0 samples/);
  });

  it('workloadStartSec after the last sample (1 s after), and not finite', () => {
    const e = featureError({ ...ok(), workloadStartSec: MONDAY + 121 });
    expect(e.field).toBe('workloadStartSec');
    expect(e.message).toMatch(/after the last sample/);
    expect(featureError({ ...ok(), workloadStartSec: NaN }).field).toBe('workloadStartSec');
  });

  it('throttled > total: throttled increase 30 over a total increase of 20', () => {
    const e = featureError({ ...ok(), totalPeriods: [0, 10, 20], throttledPeriods: [0, 15, 30] });
    expect(e.field).toBe('throttledPeriods');
    expect(e.message).toMatch(/exceeds totalPeriods/);
  });

  it('only one of the two counters given: the missing one is named', () => {
    const e = featureError({ ...ok(), throttledPeriods: [0, 1, 2] });
    expect(e.field).toBe('totalPeriods');
    expect(e.message).toMatch(/is required/);
  });

  it('missing series: memoryBytes absent', () => {
    const w = { timestampsSec: [MONDAY, MONDAY + 60], cpuCores: [1, 1] } as unknown as UsageWindow;
    expect(featureError(w).field).toBe('memoryBytes');
  });
});
