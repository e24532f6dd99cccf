/**
 * features: the model's one input/output contract. The 12 inputs and 5 outputs, their order, units and
 * normalization are defined here once and imported by the generator, the trainer, the exporter, the
 * evaluator and the agent. `computeFeatures` turns a raw usage window into the 12 inputs.
 *
 * Normalization. CPU spans 10 millicores .. 64 cores and memory 32 MiB .. 256 GiB: four and nearly four
 * orders of magnitude. A linear min-max map would give 10m the same absolute precision as 64 cores, so a
 * 1/255 step would be 250 millicores. Resource amounts are therefore mapped on a log scale:
 *   n = ln(x / min) / ln(max / min), clamped to [0, 1]
 * which keeps a constant *relative* precision: a float32 step of n is ~5e-7 relative in x everywhere in the
 * range. Worked numbers for CPU: ln(64 / 0.01) = 8.764; 0.25 cores → ln(25) / 8.764 = 0.3673.
 *
 * Memory percentiles carry peak information. Memory is sampled as an average over each sample interval,
 * and on real traces (Bitbrains, 7 days past → 3 days future) the future peak exceeds the past p99 of the
 * raw samples in 98% of windows. So mem_p50/p95/p99 are percentiles of the per-day PEAKS of memory (the
 * maximum of the samples in each UTC day of the window), exactly as VPA builds its memory histogram from
 * per-24h peaks: over a 7-day window, mem_p99 is (nearly) the window's maximum and mem_p50 the typical
 * daily peak. CPU percentiles are over the raw samples: CPU is a rate, and its limit is breached by the
 * samples themselves.
 */
import { GiB, MiB } from '../../core/units.js';
import { mean, percentileSorted, sortedCopy } from '../../util/stats.js';
import { denormalize, normalize, normalizeRow } from '../../core/contract.js';
import type { FieldSpec, ModelContract, Normalization } from '../../core/contract.js';
import { InputError } from '../../util/errors.js';

/** CONTRACT_VERSION changes whenever anything in this file changes what a number means. */
export const CONTRACT_VERSION = '3';

/** FEATURE_NAMES is the order of the model's 12 inputs. */
export const FEATURE_NAMES = [
  'cpu_p50', 'cpu_p95', 'cpu_p99',
  'mem_p50', 'mem_p95', 'mem_p99',
  'cpu_variance', 'mem_trend', 'throttle_ratio',
  'hour', 'day_of_week', 'workload_age',
] as const;
export type FeatureName = (typeof FEATURE_NAMES)[number];

/** OUTPUT_NAMES is the order of the model's 5 outputs. */
export const OUTPUT_NAMES = ['cpu_request', 'cpu_limit', 'mem_request', 'mem_limit', 'confidence'] as const;
export type OutputName = (typeof OUTPUT_NAMES)[number];

export const N_FEATURES = FEATURE_NAMES.length; // 12
export const N_OUTPUTS = OUTPUT_NAMES.length; // 5
/** MEM_P50: the index of mem_p50 (the window's median daily memory peak, the memory request's floor). */
export const MEM_P50 = FEATURE_NAMES.indexOf('mem_p50'); // 3

/** PEAK_INTERVAL_SEC is the interval whose maximum memory sample makes one "peak" (24 hours, as VPA). */
export const PEAK_INTERVAL_SEC = 86400;

export type { FieldSpec, Normalization } from '../../core/contract.js';
export { denormalize, normalize } from '../../core/contract.js';

/** The physical bounds the agent accepts for a feature (serving/input.ts), not the model's scale. */
export const CPU_RANGE = { min: 0.01, max: 64 } as const; // cores
export const MEM_RANGE = { min: 32 * MiB, max: 256 * GiB } as const; // bytes
export const AGE_RANGE = { min: 1, max: 2 * 365 * 24 } as const; // hours

/** The input rows of the two scales: every CPU amount is relative to cpu_p99, every memory amount to mem_p99. */
export const CPU_SCALE_INPUT = 2;
export const MEM_SCALE_INPUT = 5;
/**
 * The scales' floors: below them a window's answer no longer scales with its usage (documented minimums;
 * the agent's default --min-cpu-millicores 10 and --min-memory-bytes 32Mi sit above them).
 */
export const CPU_SCALE_FLOOR = 0.001; // 1 millicore
export const MEM_SCALE_FLOOR = 1 * MiB;
/** The output multiples' range: an answer is between 1/64 and 64 times its scale (S = ln 4096 = 8.32). */
export const OUTPUT_RATIO = { min: 1 / 64, max: 64 } as const;
/** The input ratios' range: a percentile over the window's p99, 0.001 … 1 (lower is clamped). */
export const INPUT_RATIO = { min: 0.001, max: 1 } as const;

const cpuIn: Normalization = { type: 'ratio', of: CPU_SCALE_INPUT, floor: CPU_SCALE_FLOOR, ...INPUT_RATIO };
const memIn: Normalization = { type: 'ratio', of: MEM_SCALE_INPUT, floor: MEM_SCALE_FLOOR, ...INPUT_RATIO };
const cpuOut: Normalization = { type: 'ratio', of: CPU_SCALE_INPUT, floor: CPU_SCALE_FLOOR, ...OUTPUT_RATIO };
const memOut: Normalization = { type: 'ratio', of: MEM_SCALE_INPUT, floor: MEM_SCALE_FLOOR, ...OUTPUT_RATIO };
const unused: Normalization = { type: 'constant' };

/**
 * INPUTS describes each input in FEATURE_NAMES order. Since contract 3 the network sees no absolute
 * amount: CPU percentiles relative to cpu_p99, memory percentiles relative to mem_p99 (so cpu_p99 and
 * mem_p99 themselves are the constant 1), and every answer is a multiple of those two scales. Doubling a
 * window's memory doubles its memory request and limit (scale equivariance), which a network that saw
 * bytes did not do: it learned its training fleet's sizes. `hour` and `workload_age` are still read and
 * checked but not seen (constant 0): real training windows all end at the same hour, and callers rarely
 * know a workload's start.
 */
export const INPUTS: readonly FieldSpec[] = [
  { name: 'cpu_p50', unit: 'cores', description: 'median CPU usage of the window samples', normalization: cpuIn },
  { name: 'cpu_p95', unit: 'cores', description: '95th percentile CPU usage of the window samples', normalization: cpuIn },
  { name: 'cpu_p99', unit: 'cores', description: '99th percentile CPU usage of the window samples (the CPU scale)', normalization: cpuIn },
  { name: 'mem_p50', unit: 'bytes', description: 'median of the per-day (UTC) memory peaks', normalization: memIn },
  { name: 'mem_p95', unit: 'bytes', description: '95th percentile of the per-day (UTC) memory peaks', normalization: memIn },
  { name: 'mem_p99', unit: 'bytes', description: '99th percentile of the per-day (UTC) memory peaks (the memory scale)', normalization: memIn },
  { name: 'cpu_variance', unit: 'ratio (std/mean)', description: 'coefficient of variation of CPU usage (population std / mean)', normalization: { type: 'odds' } },
  { name: 'mem_trend', unit: 'fraction of mean memory per day', description: 'least-squares slope of memory usage × 86400 / mean memory', normalization: { type: 'signed-odds' } },
  { name: 'throttle_ratio', unit: 'ratio', description: 'throttled / total CFS periods over the window (0 when no counters)', normalization: { type: 'linear', min: 0, max: 1 } },
  { name: 'hour', unit: 'hour of day (UTC)', description: 'hour of the last sample, 0..23 (checked, not seen by the model)', normalization: unused },
  { name: 'day_of_week', unit: 'day (0 = Sunday, UTC)', description: 'weekday of the last sample, 0..6', normalization: { type: 'linear', min: 0, max: 6 } },
  { name: 'workload_age', unit: 'hours', description: 'time from the workload start (or first sample) to the last sample (checked, not seen by the model)', normalization: unused },
];

/** OUTPUTS describes each output in OUTPUT_NAMES order: multiples of cpu_p99 (CPU) and mem_p99 (memory). */
export const OUTPUTS: readonly FieldSpec[] = [
  { name: 'cpu_request', unit: 'cores', description: 'recommended CPU request (a multiple of cpu_p99)', normalization: cpuOut },
  { name: 'cpu_limit', unit: 'cores', description: 'recommended CPU limit (a multiple of cpu_p99)', normalization: cpuOut },
  { name: 'mem_request', unit: 'bytes', description: 'recommended memory request (a multiple of mem_p99, never below mem_p50)', normalization: memOut },
  { name: 'mem_limit', unit: 'bytes', description: 'recommended memory limit (a multiple of mem_p99)', normalization: memOut },
  { name: 'confidence', unit: 'probability', description: 'probability that the recommendation holds over the next window (no OOM kill, no CPU-limit breach)', normalization: { type: 'linear', min: 0, max: 1 } },
];

/** The 12 features in real units, named. */
export type FeatureValues = Record<FeatureName, number>;

/** toVector puts named real-unit features into contract order. */
export function toVector(f: FeatureValues): number[] {
  return FEATURE_NAMES.map((n) => f[n]);
}

/** normalizeFeatures writes the 12 normalized features of real-unit vector `x` into `out` at `offset`. */
export function normalizeFeatures(x: ArrayLike<number>, out: Float32Array = new Float32Array(N_FEATURES), offset = 0): Float32Array {
  return normalizeRow(INPUTS, x, out, offset);
}

/**
 * normalizeOutputs maps 5 real-unit outputs (cores, cores, bytes, bytes, probability) to [0, 1], as
 * multiples of the scales of `inputs` (the window's 12 real-unit features).
 */
export function normalizeOutputs(y: ArrayLike<number>, inputs: ArrayLike<number>, out: Float32Array = new Float32Array(N_OUTPUTS), offset = 0): Float32Array {
  for (let j = 0; j < N_OUTPUTS; j++) out[offset + j] = normalize(OUTPUTS[j]!.normalization, y[j]!, inputs);
  return out;
}

import type { ModelRecommendation } from './recommendation.js';

const [OUT_CPU_REQ, OUT_CPU_LIM, OUT_MEM_REQ, OUT_MEM_LIM, OUT_CONF] = OUTPUTS.map((o) => o.normalization) as [Normalization, Normalization, Normalization, Normalization, Normalization];

/**
 * denormalizeOutputs maps the model's 5 normalized outputs (row at `offset`) back to real units, as
 * multiples of the scales of `inputs` (the 12 real-unit features of the same window). The memory request
 * is never below mem_p50, the window's median daily peak: a request under the usage to come invites
 * eviction under node pressure. No closure or array per call: the agent calls it for every row of a
 * 10,000-row batch.
 * Example: mem_p99 4 GiB, mem_p50 2 GiB, mem_limit output n = 0.5 → 4 GiB × (1/64) × 4096^0.5 = 4 GiB.
 */
export function denormalizeOutputs(n: ArrayLike<number>, offset: number, inputs: ArrayLike<number>): ModelRecommendation {
  return {
    cpuRequestCores: denormalize(OUT_CPU_REQ, n[offset]!, inputs),
    cpuLimitCores: denormalize(OUT_CPU_LIM, n[offset + 1]!, inputs),
    memRequestBytes: Math.max(denormalize(OUT_MEM_REQ, n[offset + 2]!, inputs), inputs[MEM_P50]!),
    memLimitBytes: denormalize(OUT_MEM_LIM, n[offset + 3]!, inputs),
    confidence: denormalize(OUT_CONF, n[offset + 4]!),
  };
}

/**
 * memRequestFloored: whether the memory request of output row `offset` is the mem_p50 floor of
 * denormalizeOutputs rather than the model's own figure (the model asked for less than the window's median
 * daily peak). Example: mem_p50 700 MB, the model's request 650 MB → true (the answer says 700 MB).
 */
export function memRequestFloored(n: ArrayLike<number>, offset: number, inputs: ArrayLike<number>): boolean {
  return denormalize(OUT_MEM_REQ, n[offset + 2]!, inputs) < inputs[MEM_P50]!;
}

/**
 * FLOOR_NOTE: the reason beside a memory request that is the window's median daily peak (mem_p50, the
 * floor of denormalizeOutputs) because the model's own figure was lower: a request under the usage to come
 * invites eviction under node pressure. The request shown is that peak, rounded up.
 */
export const FLOOR_NOTE = "memory request raised to the median daily peak (the model's was lower)";

/** The window computeFeatures reads is the project's one usage window (src/sources/types.ts). */
export type { UsageWindow } from '../../sources/types.js';
import type { UsageWindow } from '../../sources/types.js';

/** FeatureError names the field of a bad usage window and how to fix it. */
export class FeatureError extends InputError {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

function checkSeries(field: string, v: ArrayLike<number> | undefined, n: number, nonNegative: boolean): void {
  if (v === undefined || typeof v.length !== 'number') throw new FeatureError(field, 'is required: an array of numbers, one per timestamp');
  if (v.length !== n) throw new FeatureError(field, `has ${v.length} values but timestampsSec has ${n}; give one value per timestamp`);
  for (let i = 0; i < n; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new FeatureError(`${field}[${i}]`, `is ${String(x)}; every value must be a finite number`);
    if (nonNegative && x < 0) throw new FeatureError(`${field}[${i}]`, `is ${x}; usage cannot be negative`);
  }
}

/**
 * counterIncrease sums the increases of a cumulative counter, treating a decrease as a counter reset
 * (the new value is then the increase since the reset), as Prometheus' increase() does.
 * Example: [10, 15, 3, 5] → (15 − 10) + 3 + (5 − 3) = 10.
 */
export function counterIncrease(c: ArrayLike<number>): number {
  let total = 0;
  for (let i = 1; i < c.length; i++) {
    const d = c[i]! - c[i - 1]!;
    total += d >= 0 ? d : c[i]!;
  }
  return total;
}

/**
 * memoryPeaks returns the maximum memory sample of each `intervalSec` bucket (default PEAK_INTERVAL_SEC,
 * one UTC day), buckets aligned to the epoch, skipping empty buckets.
 * Example (intervalSec 3600): samples at 00:00, 00:30, 01:10 with 1, 3, 2 GiB → [3, 2] GiB.
 */
export function memoryPeaks(timestampsSec: ArrayLike<number>, memoryBytes: ArrayLike<number>, intervalSec = PEAK_INTERVAL_SEC): Float64Array {
  const n = timestampsSec.length;
  const out = new Float64Array(n);
  let k = -1;
  let bucket = NaN;
  for (let i = 0; i < n; i++) {
    const b = Math.floor(timestampsSec[i]! / intervalSec);
    if (b !== bucket) {
      bucket = b;
      out[++k] = memoryBytes[i]!;
    } else if (memoryBytes[i]! > out[k]!) out[k] = memoryBytes[i]!;
  }
  return out.subarray(0, k + 1);
}

/**
 * computeFeatures turns a raw usage window into the 12 features in real units (contract order), checking
 * the window first. At least 2 samples are needed.
 *
 * Example: CPU [0.1, 0.2, 0.3, 0.4] cores → cpu_p50 = 0.25, cpu_p95 = 0.385, cpu_p99 = 0.397;
 * cpu_variance = std/mean = 0.1118/0.25 = 0.4472.
 */
export function computeFeatures(w: UsageWindow): FeatureValues {
  const t = w.timestampsSec;
  if (t === undefined || typeof t.length !== 'number') throw new FeatureError('timestampsSec', 'is required: an array of sample times in seconds since the epoch');
  const n = t.length;
  if (n < 2) throw new FeatureError('timestampsSec', `has ${n} samples; a window needs at least 2`);
  checkSeries('timestampsSec', t, n, true);
  for (let i = 1; i < n; i++) {
    if (!(t[i]! > t[i - 1]!)) throw new FeatureError(`timestampsSec[${i}]`, `is ${t[i]} after ${t[i - 1]}; timestamps must be strictly increasing`);
  }
  checkSeries('cpuCores', w.cpuCores, n, true);
  checkSeries('memoryBytes', w.memoryBytes, n, true);
  const hasThrottle = w.throttledPeriods !== undefined || w.totalPeriods !== undefined;
  if (hasThrottle) {
    checkSeries('throttledPeriods', w.throttledPeriods, n, true);
    checkSeries('totalPeriods', w.totalPeriods, n, true);
  }
  const start = w.workloadStartSec ?? t[0]!;
  if (!Number.isFinite(start)) throw new FeatureError('workloadStartSec', 'must be a finite number of seconds since the epoch');
  if (start > t[n - 1]!) throw new FeatureError('workloadStartSec', 'is after the last sample; give the time the workload started');

  const cpuSorted = sortedCopy(w.cpuCores);
  const cpuMean = mean(w.cpuCores);
  let sq = 0;
  for (let i = 0; i < n; i++) sq += (w.cpuCores[i]! - cpuMean) ** 2;
  const cpuStd = Math.sqrt(sq / n);

  const peaks = memoryPeaks(t, w.memoryBytes);
  peaks.sort();

  // Least-squares slope of memory against time (bytes per second), as a fraction of mean memory per day.
  const memMean = mean(w.memoryBytes);
  const tMean = mean(t);
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    const dt = t[i]! - tMean;
    sxy += dt * (w.memoryBytes[i]! - memMean);
    sxx += dt * dt;
  }
  const memTrend = memMean > 0 && sxx > 0 ? ((sxy / sxx) * 86400) / memMean : 0;

  let throttle = 0;
  if (hasThrottle) {
    const total = counterIncrease(w.totalPeriods!);
    const throttled = counterIncrease(w.throttledPeriods!);
    if (throttled > total) throw new FeatureError('throttledPeriods', 'increase exceeds totalPeriods; throttled periods are a subset of all periods');
    throttle = total > 0 ? throttled / total : 0;
  }

  const last = new Date(t[n - 1]! * 1000);
  return {
    cpu_p50: percentileSorted(cpuSorted, 50),
    cpu_p95: percentileSorted(cpuSorted, 95),
    cpu_p99: percentileSorted(cpuSorted, 99),
    mem_p50: percentileSorted(peaks, 50),
    mem_p95: percentileSorted(peaks, 95),
    mem_p99: percentileSorted(peaks, 99),
    cpu_variance: cpuMean > 0 ? cpuStd / cpuMean : 0,
    mem_trend: memTrend,
    throttle_ratio: throttle,
    hour: last.getUTCHours(),
    day_of_week: last.getUTCDay(),
    workload_age: Math.max((t[n - 1]! - start) / 3600, 0),
  };
}

/** contractDescriptor is the serializable contract stored in the manifest and compared across versions. */
export function contractDescriptor() {
  return {
    contractVersion: CONTRACT_VERSION,
    peakIntervalSec: PEAK_INTERVAL_SEC,
    inputs: INPUTS.map((f) => ({ ...f })),
    outputs: OUTPUTS.map((f) => ({ ...f })),
  };
}
export type ContractDescriptor = ReturnType<typeof contractDescriptor>;

/**
 * CONTAINER_CONTRACT: the container family's network contract, 12 → 32 → 16 → 5, the confidence (output 4)
 * through a sigmoid. Its descriptor is what the manifest has recorded since contract version 2.
 */
export const CONTAINER_CONTRACT: ModelContract = {
  family: 'container-resources',
  version: CONTRACT_VERSION,
  inputs: INPUTS,
  outputs: OUTPUTS,
  hidden: [32, 16],
  sigmoid: [4],
  descriptor: contractDescriptor,
};

