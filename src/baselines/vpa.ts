/**
 * vpa: the Kubernetes Vertical Pod Autoscaler recommender, re-implemented from its Go source so that the
 * evaluation compares against VPA's own arithmetic rather than a paraphrase of it.
 *
 * Upstream: github.com/kubernetes/autoscaler, vertical-pod-autoscaler/pkg/recommender/ (paths below are
 * relative to it). Each section names the file it mirrors:
 *   util/histogram_options.go     exponential buckets: bucket n starts at first × (ratio^n − 1)/(ratio − 1)
 *   util/histogram.go             bucket weights; Percentile() returns the END of the bucket it stops in
 *   util/decaying_histogram.go    weight × 2^((t − ref)/halfLife), ref renormalised past 2^100
 *   model/aggregations_config.go  the constants (half-life 24 h, 5 % bucket growth, ε = 1e-4, OOM bump 1.2 / 100 MiB)
 *   model/types.go                ResourceAmount: integer millicores or bytes, truncated, capped at 1e14
 *   model/aggregate_container_state.go  CPU samples weighted by max(request, 0.1); confidence counts CPU samples
 *   model/container.go            one memory peak per 24 h interval; RecordOOM
 *   logic/estimator.go            percentile → margin → confidence multiplier → minimum, as decorators
 *   logic/recommender.go          the default chain: p90 / p50 / p95, 15 % margin, 25 m and 250 MiB floors
 *   ../utils/vpa/limit_and_request_scaling.go  limits kept proportional to the original limit/request ratio
 *
 * Choices where upstream is not one fixed thing (all overridable through VpaOptions):
 * - CPU first bucket 0.01 core: the value VPA releases have shipped for years. A newer upstream revision
 *   (model/aggregations_config.go at commit 115087573e54, cf. PR #7554 "Fix firstBucketSize for CPU
 *   histogram") uses 0.001 core; pass `aggregations: { cpuFirstBucketCores: 0.001 }` to match it.
 * - The memory peak of an interval is added to the histogram at the interval's END (container.go sets
 *   MeasureStart = WindowEnd), not its start. Only relative times matter to the decay, so this shifts every
 *   peak's weight by the same factor and changes no percentile.
 * - Time is epoch seconds (Go uses time.Time); Go's zero time (year 1) is kept as the initial decay reference
 *   so the first renormalisation rounds to UTC midnights exactly as upstream.
 * - Limits: with no original limit upstream sets none. That is what we do for CPU (cpuLimitCores = null);
 *   for memory BaselineRecommendation needs a number, so memLimitBytes = the memory request (documented
 *   deviation: an unlimited container cannot be scored for OOM kills).
 * - Invalid usage (negative, NaN) is discarded like upstream's isValid(); NaN is our addition.
 *
 * Example: 2 days of constant 0.5 core / 1 GiB at 1-minute samples →
 *   CPU target = bucket end 0.01 × (1.05^26 − 1)/0.05 = 0.51113 core → 511 m → +15 % (76 m) = 587 m;
 *   memory target = bucket end 1e7 × (1.05^38 − 1)/0.05 = 1.0771e9 B → +15 % = 1.2387e9 B.
 */
import type { BaselineRecommendation, UsageSeries } from './types.js';
import { usageSeriesLength } from './types.js';

export type { BaselineRecommendation, UsageSeries } from './types.js';

const MiB = 1024 * 1024;
const DAY_SEC = 24 * 3600;

// ---------------------------------------------------------------------------------------------------------
// model/types.go: ResourceAmount
// ---------------------------------------------------------------------------------------------------------

/** ResourceAmount is an integer amount: millicores for CPU, bytes for memory (model/types.go). */
export type ResourceAmount = number;

/** MAX_RESOURCE_AMOUNT is upstream's MaxResourceAmount = 1e14, the ceiling of every ResourceAmount. */
export const MAX_RESOURCE_AMOUNT: ResourceAmount = 1e14;

/**
 * resourceAmountFromFloat mirrors Go's ResourceAmount(float64): cap at 1e14, clamp negatives to 0, truncate
 * toward zero. NaN (0 × ∞ in the confidence multiplier) becomes 0, which the minimum then lifts; Go's
 * int64(NaN) is undefined but ends in the same minimum. Example: 511.13 → 511.
 */
export function resourceAmountFromFloat(amount: number): ResourceAmount {
  if (Number.isNaN(amount)) return 0;
  if (amount > MAX_RESOURCE_AMOUNT) return MAX_RESOURCE_AMOUNT;
  if (amount < 0) return 0;
  return Math.trunc(amount);
}

/** cpuAmountFromCores(0.51113) === 511 millicores (truncated, model/types.go CPUAmountFromCores). */
export function cpuAmountFromCores(cores: number): ResourceAmount {
  return resourceAmountFromFloat(cores * 1000);
}

/** coresFromCpuAmount(511) === 0.511 cores. */
export function coresFromCpuAmount(millicores: ResourceAmount): number {
  return millicores / 1000;
}

/** memoryAmountFromBytes(1288490188.8) === 1288490188 bytes (truncated). */
export function memoryAmountFromBytes(bytes: number): ResourceAmount {
  return resourceAmountFromFloat(bytes);
}

/** scaleResource(amount, factor) = ResourceAmount(amount × factor); scaleResource(511, 0.15) === 76. */
export function scaleResource(amount: ResourceAmount, factor: number): ResourceAmount {
  return resourceAmountFromFloat(amount * factor);
}

// ---------------------------------------------------------------------------------------------------------
// util/histogram_options.go: exponential bucketing
// ---------------------------------------------------------------------------------------------------------

/**
 * ExponentialHistogramOptions: bucket 0 covers [0, first); bucket n ≥ 1 starts at
 * first × (1 + ratio + … + ratio^(n−1)) = first × (ratio^n − 1)/(ratio − 1).
 * CPU defaults (first 0.01 core, ratio 1.05): starts 0, 0.01, 0.0205, 0.031525, 0.04310125, …
 * numBuckets = ceil(log_ratio(max × (ratio − 1)/first + 1)) + 1 = ceil(log_1.05(5001)) + 1 = 175 + 1 = 176
 * for both CPU (max 1000 cores) and memory (first 1e7 B, max 1e12 B).
 */
export class ExponentialHistogramOptions {
  readonly numBuckets: number;

  constructor(
    readonly maxValue: number,
    readonly firstBucketSize: number,
    readonly ratio: number,
    readonly epsilon: number,
  ) {
    if (!(maxValue > 0 && firstBucketSize > 0 && ratio > 1 && epsilon > 0)) {
      throw new RangeError('ExponentialHistogramOptions: maxValue, firstBucketSize and epsilon must be > 0, ratio > 1');
    }
    this.numBuckets = Math.ceil(logBase(ratio, (maxValue * (ratio - 1)) / firstBucketSize + 1)) + 1;
  }

  /**
   * findBucket is the inverse of getBucketStart: floor(log_ratio(value × (ratio − 1)/first + 1)), clamped to
   * [0, numBuckets − 1]. findBucket(0.015) === 1 (0.01 ≤ 0.015 < 0.0205). Values exactly on a boundary can
   * land one bucket low through floating point, as upstream (log_1.05(1.1025) = 1.999…).
   */
  findBucket(value: number): number {
    if (value < this.firstBucketSize) return 0;
    const bucket = Math.trunc(logBase(this.ratio, (value * (this.ratio - 1)) / this.firstBucketSize + 1));
    return bucket >= this.numBuckets ? this.numBuckets - 1 : bucket;
  }

  /** getBucketStart(2) === 0.01 × (1.05² − 1)/0.05 = 0.0205 for the CPU options. */
  getBucketStart(bucket: number): number {
    if (bucket < 0 || bucket >= this.numBuckets) {
      throw new RangeError(`index ${bucket} out of range [0..${this.numBuckets - 1}]`);
    }
    if (bucket === 0) return 0;
    return (this.firstBucketSize * (Math.pow(this.ratio, bucket) - 1)) / (this.ratio - 1);
  }
}

/** logBase(base, x) = ln x / ln base, as upstream's log(). */
function logBase(base: number, x: number): number {
  return Math.log(x) / Math.log(base);
}

// ---------------------------------------------------------------------------------------------------------
// util/histogram.go: bucket weights and percentile
// ---------------------------------------------------------------------------------------------------------

/**
 * Histogram holds the total weight of the samples in each bucket; no interpolation inside a bucket.
 * A bucket is empty when its weight is below options.epsilon.
 */
export class Histogram {
  private readonly weights: Float64Array;
  private total = 0;
  /** Index of the first non-empty bucket, or the last bucket when empty. */
  private minBucket: number;
  /** Index of the last non-empty bucket, or 0 when empty. */
  private maxBucket = 0;

  constructor(readonly options: ExponentialHistogramOptions) {
    this.weights = new Float64Array(options.numBuckets);
    this.minBucket = options.numBuckets - 1;
  }

  /** totalWeight is the sum of all bucket weights. */
  get totalWeight(): number {
    return this.total;
  }

  /** bucketWeight(i) is the weight held by bucket i. */
  bucketWeight(bucket: number): number {
    return this.weights[bucket]!;
  }

  addSample(value: number, weight: number): void {
    if (weight < 0) throw new RangeError('sample weight must be non-negative');
    const bucket = this.options.findBucket(value);
    this.weights[bucket] += weight;
    this.total += weight;
    if (bucket < this.minBucket && this.weights[bucket]! >= this.options.epsilon) this.minBucket = bucket;
    if (bucket > this.maxBucket && this.weights[bucket]! >= this.options.epsilon) this.maxBucket = bucket;
  }

  /** subtractSample removes weight from value's bucket, never leaving it below 0 (within ε). */
  subtractSample(value: number, weight: number): void {
    if (weight < 0) throw new RangeError('sample weight must be non-negative');
    const bucket = this.options.findBucket(value);
    if (weight > this.weights[bucket]! - this.options.epsilon) weight = this.weights[bucket]!;
    this.total -= weight;
    this.weights[bucket] -= weight;
    this.updateMinAndMaxBucket();
  }

  /**
   * percentile(p), p in [0, 1]: walk buckets from the first non-empty one, accumulating weight, and stop at
   * the first bucket where the running sum reaches p × total (or at the last non-empty bucket); return that
   * bucket's END (the start of the next one), or the start of the last bucket, which has no end.
   * Example: weights {bucket0: 1, bucket1: 2, bucket2: 1}, p = 0.5 → threshold 2, sums 1, 3 → stop in
   * bucket 1 → 0.0205. Empty histogram → 0.
   */
  percentile(p: number): number {
    if (this.isEmpty()) return 0;
    let partialSum = 0;
    const threshold = p * this.total;
    let bucket = this.minBucket;
    for (; bucket < this.maxBucket; bucket++) {
      partialSum += this.weights[bucket]!;
      if (partialSum >= threshold) break;
    }
    if (bucket < this.options.numBuckets - 1) return this.options.getBucketStart(bucket + 1);
    return this.options.getBucketStart(bucket);
  }

  isEmpty(): boolean {
    return this.weights[this.minBucket]! < this.options.epsilon;
  }

  /** scale multiplies every weight by factor ≥ 0; percentiles do not change. */
  scale(factor: number): void {
    if (factor < 0) throw new RangeError('scale factor must be non-negative');
    for (let b = this.minBucket; b <= this.maxBucket; b++) this.weights[b] *= factor;
    this.total *= factor;
    this.updateMinAndMaxBucket();
  }

  private updateMinAndMaxBucket(): void {
    const eps = this.options.epsilon;
    const last = this.options.numBuckets - 1;
    while (this.weights[this.minBucket]! < eps && this.minBucket < last) this.minBucket++;
    while (this.weights[this.maxBucket]! < eps && this.maxBucket > 0) this.maxBucket--;
  }
}

// ---------------------------------------------------------------------------------------------------------
// util/decaying_histogram.go: exponential forgetting
// ---------------------------------------------------------------------------------------------------------

/** GO_ZERO_TIME_SEC is Go's time.Time{} (0001-01-01T00:00:00Z) in epoch seconds: −719162 days. */
export const GO_ZERO_TIME_SEC = -62135596800;

/** MAX_DECAY_EXPONENT: past 2^100 the reference time is moved forward (upstream maxDecayExponent). */
const MAX_DECAY_EXPONENT = 100;

/**
 * goRoundTime mirrors Go's Time.Round(d): the nearest multiple of d counted from Go's zero time, halfway
 * rounding up. With d = 24 h that is the nearest UTC midnight: 2013-07-01T13:00Z → 2013-07-02T00:00Z.
 */
export function goRoundTime(timeSec: number, dSec: number): number {
  const r = mod(timeSec - GO_ZERO_TIME_SEC, dSec);
  return r + r < dSec ? timeSec - r : timeSec + (dSec - r);
}

function mod(a: number, m: number): number {
  return ((a % m) + m) % m;
}

/**
 * DecayingHistogram weighs a sample by 2^((t − ref)/halfLife): with a 24 h half-life a sample taken 24 h
 * later counts twice as much. ref starts at Go's zero time and is moved (to a multiple of halfLife) when a
 * sample comes more than 100 half-lives after it, rescaling the stored weights by 2^(old − new)/halfLife.
 */
export class DecayingHistogram {
  readonly histogram: Histogram;
  private ref = GO_ZERO_TIME_SEC;

  constructor(
    options: ExponentialHistogramOptions,
    readonly halfLifeSec: number,
  ) {
    this.histogram = new Histogram(options);
  }

  /** referenceTimestampSec is the current decay reference (a multiple of halfLife from Go's zero time). */
  get referenceTimestampSec(): number {
    return this.ref;
  }

  addSample(value: number, weight: number, timeSec: number): void {
    this.histogram.addSample(value, weight * this.decayFactor(timeSec));
  }

  subtractSample(value: number, weight: number, timeSec: number): void {
    this.histogram.subtractSample(value, weight * this.decayFactor(timeSec));
  }

  percentile(p: number): number {
    return this.histogram.percentile(p);
  }

  isEmpty(): boolean {
    return this.histogram.isEmpty();
  }

  /** decayFactor(t) = 2^((t − ref)/halfLife), renormalising first when t > ref + 100 half-lives. */
  decayFactor(timeSec: number): number {
    const maxAllowed = this.ref + this.halfLifeSec * MAX_DECAY_EXPONENT;
    if (timeSec > maxAllowed) this.shiftReferenceTimestamp(timeSec);
    return Math.pow(2, (timeSec - this.ref) / this.halfLifeSec);
  }

  private shiftReferenceTimestamp(newRefSec: number): void {
    const rounded = goRoundTime(newRefSec, this.halfLifeSec);
    const exponent = Math.floor((this.ref - rounded) / this.halfLifeSec + 0.5);
    this.histogram.scale(Math.pow(2, exponent)); // 2^exponent, as math.Ldexp(1, exponent)
    this.ref = rounded;
  }
}

// ---------------------------------------------------------------------------------------------------------
// model/aggregations_config.go: constants
// ---------------------------------------------------------------------------------------------------------

/** AggregationsConfig gathers the aggregation constants of model/aggregations_config.go. */
export interface AggregationsConfig {
  /** One memory peak per interval: DefaultMemoryAggregationInterval = 24 h. */
  memoryAggregationIntervalSec: number;
  /** Bucket growth: DefaultHistogramBucketSizeGrowth = 0.05 (each bucket 5 % wider). */
  histogramBucketSizeGrowth: number;
  /** DefaultMemoryHistogramDecayHalfLife = 24 h. */
  memoryHistogramDecayHalfLifeSec: number;
  /** DefaultCPUHistogramDecayHalfLife = 24 h. */
  cpuHistogramDecayHalfLifeSec: number;
  /** DefaultOOMBumpUpRatio = 1.2 (memory +20 % after an OOM kill). */
  oomBumpUpRatio: number;
  /** DefaultOOMMinBumpUp = 100 MiB = 104 857 600 B. */
  oomMinBumpUpBytes: number;
  /** CPU histogram first bucket: 0.01 core (see the module header for the 0.001 revision). */
  cpuFirstBucketCores: number;
  /** CPU histogram max value: 1000 cores. */
  cpuMaxCores: number;
  /** Memory histogram first bucket: 1e7 B (10 MB). */
  memoryFirstBucketBytes: number;
  /** Memory histogram max value: 1e12 B (1 TB). */
  memoryMaxBytes: number;
  /** minSampleWeight = 0.1: the least weight of a CPU sample (before decay). */
  minSampleWeight: number;
  /** epsilon = 0.001 × minSampleWeight = 1e-4: a bucket lighter than this is empty. */
  epsilon: number;
}

export const DEFAULT_AGGREGATIONS_CONFIG: Readonly<AggregationsConfig> = Object.freeze({
  memoryAggregationIntervalSec: DAY_SEC,
  histogramBucketSizeGrowth: 0.05,
  memoryHistogramDecayHalfLifeSec: DAY_SEC,
  cpuHistogramDecayHalfLifeSec: DAY_SEC,
  oomBumpUpRatio: 1.2,
  oomMinBumpUpBytes: 100 * MiB,
  cpuFirstBucketCores: 0.01,
  cpuMaxCores: 1000,
  memoryFirstBucketBytes: 1e7,
  memoryMaxBytes: 1e12,
  minSampleWeight: 0.1,
  epsilon: 0.001 * 0.1,
});

/** cpuHistogramOptions: NewExponentialHistogramOptions(1000, 0.01, 1.05, 1e-4) with the defaults. */
export function cpuHistogramOptions(cfg: AggregationsConfig): ExponentialHistogramOptions {
  return new ExponentialHistogramOptions(cfg.cpuMaxCores, cfg.cpuFirstBucketCores, 1 + cfg.histogramBucketSizeGrowth, cfg.epsilon);
}

/** memoryHistogramOptions: NewExponentialHistogramOptions(1e12, 1e7, 1.05, 1e-4) with the defaults. */
export function memoryHistogramOptions(cfg: AggregationsConfig): ExponentialHistogramOptions {
  return new ExponentialHistogramOptions(cfg.memoryMaxBytes, cfg.memoryFirstBucketBytes, 1 + cfg.histogramBucketSizeGrowth, cfg.epsilon);
}

// ---------------------------------------------------------------------------------------------------------
// model/aggregate_container_state.go
// ---------------------------------------------------------------------------------------------------------

export type ResourceName = 'cpu' | 'memory';

/** ContainerUsageSample: usage over an interval starting at measureStartSec (model/container.go). */
export interface ContainerUsageSample {
  measureStartSec: number;
  /** Millicores for CPU, bytes for memory. */
  usage: ResourceAmount;
  /** The container's CPU request when the sample was taken, millicores (weights CPU samples). */
  request: ResourceAmount;
  resource: ResourceName;
}

/** ContainerStateAggregator consumes samples; tests can record what a ContainerState sends it. */
export interface ContainerStateAggregator {
  addSample(sample: ContainerUsageSample): void;
  subtractSample(sample: ContainerUsageSample): void;
}

/**
 * AggregateContainerState holds the CPU usage histogram and the memory-peaks histogram, plus the first and
 * last CPU sample times and the CPU sample count that the confidence is computed from.
 */
export class AggregateContainerState implements ContainerStateAggregator {
  readonly aggregateCpuUsage: DecayingHistogram;
  readonly aggregateMemoryPeaks: DecayingHistogram;
  firstSampleStartSec: number | null = null;
  lastSampleStartSec: number | null = null;
  totalSamplesCount = 0;

  constructor(readonly config: AggregationsConfig = DEFAULT_AGGREGATIONS_CONFIG) {
    this.aggregateCpuUsage = new DecayingHistogram(cpuHistogramOptions(config), config.cpuHistogramDecayHalfLifeSec);
    this.aggregateMemoryPeaks = new DecayingHistogram(memoryHistogramOptions(config), config.memoryHistogramDecayHalfLifeSec);
  }

  addSample(sample: ContainerUsageSample): void {
    if (sample.resource === 'cpu') {
      this.addCpuSample(sample);
    } else {
      this.aggregateMemoryPeaks.addSample(sample.usage, 1.0, sample.measureStartSec);
    }
  }

  /** subtractSample supports memory only, as upstream. */
  subtractSample(sample: ContainerUsageSample): void {
    if (sample.resource !== 'memory') throw new Error(`SubtractSample doesn't support resource '${sample.resource}'`);
    this.aggregateMemoryPeaks.subtractSample(sample.usage, 1.0, sample.measureStartSec);
  }

  /**
   * addCpuSample weighs the sample by max(request cores, minSampleWeight): a 2-core request → weight 2,
   * no request → 0.1. Raising the request thus makes older history count less.
   */
  private addCpuSample(sample: ContainerUsageSample): void {
    const usageCores = coresFromCpuAmount(sample.usage);
    const requestCores = coresFromCpuAmount(sample.request);
    this.aggregateCpuUsage.addSample(usageCores, Math.max(requestCores, this.config.minSampleWeight), sample.measureStartSec);
    const t = sample.measureStartSec;
    if (this.lastSampleStartSec === null || t > this.lastSampleStartSec) this.lastSampleStartSec = t;
    if (this.firstSampleStartSec === null || t < this.firstSampleStartSec) this.firstSampleStartSec = t;
    this.totalSamplesCount++;
  }
}

// ---------------------------------------------------------------------------------------------------------
// model/container.go: per-container state, memory peaks per interval, OOM
// ---------------------------------------------------------------------------------------------------------

/**
 * ContainerState feeds one container's samples to an aggregator. Memory is aggregated as ONE peak per
 * interval (24 h): the interval runs [windowEnd − 24 h, windowEnd); a higher sample inside it replaces the
 * peak (subtract the old, add the new), and the peak is recorded at time windowEnd. A sample at or past
 * windowEnd opens the next interval: windowEnd += floor((t − windowEnd)/24 h) × 24 h + 24 h.
 * Example: samples 100 MB @ 0 h, 300 MB @ 1 h, 200 MB @ 2 h, 50 MB @ 25 h → peaks 300 MB @ 24 h and
 * 50 MB @ 48 h (the first sample sets windowEnd = 0 h, so it already opens the interval ending at 24 h).
 */
export class ContainerState {
  lastCpuSampleStartSec = -Infinity;
  private memoryPeak: ResourceAmount = 0;
  private oomPeak: ResourceAmount = 0;
  /** End (exclusive) of the current memory interval; null before the first memory sample. */
  windowEndSec: number | null = null;
  private lastMemorySampleStartSec = -Infinity;

  constructor(
    readonly request: { cpu: ResourceAmount; memory: ResourceAmount },
    private readonly aggregator: ContainerStateAggregator,
    private readonly config: AggregationsConfig = DEFAULT_AGGREGATIONS_CONFIG,
  ) {}

  /** getMaxMemoryPeak is the current interval's peak, usage or OOM-derived. */
  getMaxMemoryPeak(): ResourceAmount {
    return Math.max(this.memoryPeak, this.oomPeak);
  }

  /** addSample returns false when the sample is discarded (invalid, duplicate or out of order). */
  addSample(sample: ContainerUsageSample): boolean {
    return sample.resource === 'cpu' ? this.addCpuSample(sample) : this.addMemorySample(sample, false);
  }

  private addCpuSample(sample: ContainerUsageSample): boolean {
    if (!isValid(sample, 'cpu') || !(sample.measureStartSec > this.lastCpuSampleStartSec)) return false;
    this.aggregator.addSample(sample);
    this.lastCpuSampleStartSec = sample.measureStartSec;
    return true;
  }

  private addMemorySample(sample: ContainerUsageSample, isOom: boolean): boolean {
    const ts = sample.measureStartSec;
    // OOM samples are always processed; usage samples older than the last one are discarded.
    if (!isValid(sample, 'memory') || (!isOom && ts < this.lastMemorySampleStartSec)) return false;
    this.lastMemorySampleStartSec = ts;
    if (this.windowEndSec === null) this.windowEndSec = ts; // first sample

    let addNewPeak = false;
    if (ts < this.windowEndSec) {
      const oldMaxMem = this.getMaxMemoryPeak();
      if (oldMaxMem !== 0 && sample.usage > oldMaxMem) {
        this.aggregator.subtractSample({ measureStartSec: this.windowEndSec, usage: oldMaxMem, request: 0, resource: 'memory' });
        addNewPeak = true;
      }
    } else {
      const interval = this.config.memoryAggregationIntervalSec;
      const shift = Math.trunc((ts - this.windowEndSec) / interval) * interval + interval;
      this.windowEndSec += shift;
      this.memoryPeak = 0;
      this.oomPeak = 0;
      addNewPeak = true;
    }
    if (addNewPeak) {
      this.aggregator.addSample({ measureStartSec: this.windowEndSec, usage: sample.usage, request: 0, resource: 'memory' });
      if (isOom) this.oomPeak = sample.usage;
      else this.memoryPeak = sample.usage;
    }
    return true;
  }

  /**
   * recordOom adds an artificial memory sample for an OOM kill at timeSec:
   *   used = max(requestedMemory, this interval's usage peak)
   *   needed = max(used + 100 MiB, used × 1.2)
   * so 1 GiB → max(1.1 GiB, 1.2 GiB) = 1.2 GiB (×1.2 wins above 500 MiB), 200 MiB → max(300, 240) = 300 MiB.
   * OOMs older than windowEnd − 24 h are discarded (returns false).
   */
  recordOom(timeSec: number, requestedMemory: ResourceAmount): boolean {
    const interval = this.config.memoryAggregationIntervalSec;
    if (this.windowEndSec !== null && timeSec < this.windowEndSec - interval) return false;
    const memoryUsed = Math.max(requestedMemory, this.memoryPeak);
    const memoryNeeded = Math.max(
      memoryUsed + memoryAmountFromBytes(this.config.oomMinBumpUpBytes),
      scaleResource(memoryUsed, this.config.oomBumpUpRatio),
    );
    return this.addMemorySample({ measureStartSec: timeSec, usage: memoryNeeded, request: 0, resource: 'memory' }, true);
  }
}

function isValid(sample: ContainerUsageSample, expected: ResourceName): boolean {
  return sample.usage >= 0 && sample.resource === expected; // NaN fails `>= 0`
}

// ---------------------------------------------------------------------------------------------------------
// logic/estimator.go: estimators as composable decorators
// ---------------------------------------------------------------------------------------------------------

/** Estimator maps the aggregated state to one ResourceAmount (millicores or bytes). */
export type Estimator = (s: AggregateContainerState) => ResourceAmount;

/** constEstimator always returns value: a fixed input for testing the decorators. */
export function constEstimator(value: ResourceAmount): Estimator {
  return (_s) => value;
}

/** percentileCpuEstimator(0.9): the p90 of the CPU histogram, as millicores. */
export function percentileCpuEstimator(percentile: number): Estimator {
  return (s) => cpuAmountFromCores(s.aggregateCpuUsage.percentile(percentile));
}

/** percentileMemoryEstimator(0.9): the p90 of the memory-peaks histogram, as bytes. */
export function percentileMemoryEstimator(percentile: number): Estimator {
  return (s) => memoryAmountFromBytes(s.aggregateMemoryPeaks.percentile(percentile));
}

/** withMargin(0.15, base): base + ResourceAmount(base × 0.15); 511 m → 511 + 76 = 587 m. */
export function withMargin(marginFraction: number, base: Estimator): Estimator {
  return (s) => {
    const b = base(s);
    return b + scaleResource(b, marginFraction);
  };
}

/**
 * getConfidence measures history in "days of 1 sample per minute": min(lifespan, samples/1440) with the
 * default 24 h interval, lifespan = (last − first CPU sample) in days. Examples: 1 day at 1/min (1441
 * samples) → min(1, 1.0007) = 1; 2 days at 1 per 5 min (577 samples) → min(2, 577/1440) = 0.40069.
 */
export function getConfidence(s: AggregateContainerState, confidenceIntervalSec: number = DAY_SEC): number {
  const first = s.firstSampleStartSec ?? 0;
  const last = s.lastSampleStartSec ?? 0;
  const lifespan = (last - first) / confidenceIntervalSec;
  const samplesAmount = s.totalSamplesCount / (confidenceIntervalSec / 60);
  return Math.min(lifespan, samplesAmount);
}

/**
 * withConfidenceMultiplier scales base by (1 + multiplier/confidence)^exponent. Upstream uses
 * (1, +1) for upper bounds: 12 h → ×3, 24 h → ×2, 1 week → ×1.14, none → ×∞ (capped at 1e14);
 * and (0.001, −2) for lower bounds: 5 min → ×0.6, 60 min → ×0.95, 1 day → ×0.998.
 */
export function withConfidenceMultiplier(
  multiplier: number,
  exponent: number,
  base: Estimator,
  confidenceIntervalSec: number = DAY_SEC,
): Estimator {
  return (s) => {
    const confidence = getConfidence(s, confidenceIntervalSec);
    return scaleResource(base(s), Math.pow(1 + multiplier / confidence, exponent));
  };
}

/** withMinResource(min, base): max(base, min). */
export function withMinResource(minResource: ResourceAmount, base: Estimator): Estimator {
  return (s) => Math.max(base(s), minResource);
}

// ---------------------------------------------------------------------------------------------------------
// logic/recommender.go: the default chain
// ---------------------------------------------------------------------------------------------------------

/** RecommenderConfig: the recommender flags and their defaults (logic/recommender.go). */
export interface RecommenderConfig {
  /** --recommendation-margin-fraction = 0.15 */
  safetyMarginFraction: number;
  /** --pod-recommendation-min-cpu-millicores = 25 */
  podMinCpuMillicores: number;
  /** --pod-recommendation-min-memory-mb = 250 (× 1024 × 1024 = 262 144 000 B) */
  podMinMemoryMb: number;
  /** --target-cpu-percentile = 0.9 */
  targetCpuPercentile: number;
  /** --recommendation-lower-bound-cpu-percentile = 0.5 */
  lowerBoundCpuPercentile: number;
  /** --recommendation-upper-bound-cpu-percentile = 0.95 */
  upperBoundCpuPercentile: number;
  /** --target-memory-percentile = 0.9 */
  targetMemoryPercentile: number;
  /** --recommendation-lower-bound-memory-percentile = 0.5 */
  lowerBoundMemoryPercentile: number;
  /** --recommendation-upper-bound-memory-percentile = 0.95 */
  upperBoundMemoryPercentile: number;
  /** --confidence-interval-cpu = 24 h */
  confidenceIntervalCpuSec: number;
  /** --confidence-interval-memory = 24 h */
  confidenceIntervalMemorySec: number;
}

export const DEFAULT_RECOMMENDER_CONFIG: Readonly<RecommenderConfig> = Object.freeze({
  safetyMarginFraction: 0.15,
  podMinCpuMillicores: 25,
  podMinMemoryMb: 250,
  targetCpuPercentile: 0.9,
  lowerBoundCpuPercentile: 0.5,
  upperBoundCpuPercentile: 0.95,
  targetMemoryPercentile: 0.9,
  lowerBoundMemoryPercentile: 0.5,
  upperBoundMemoryPercentile: 0.95,
  confidenceIntervalCpuSec: DAY_SEC,
  confidenceIntervalMemorySec: DAY_SEC,
});

/** PodResourceRecommender: the six composed estimators. */
export interface PodResourceRecommender {
  targetCpu: Estimator;
  targetMemory: Estimator;
  lowerBoundCpu: Estimator;
  lowerBoundMemory: Estimator;
  upperBoundCpu: Estimator;
  upperBoundMemory: Estimator;
}

/**
 * createPodResourceRecommender composes, as CreatePodResourceRecommender + GetRecommendedPodResources:
 *   target = min(margin(p90))             lower = min(conf(0.001, −2, margin(p50)))
 *   upper  = min(conf(1, +1, margin(p95)))
 * The minimums (25 m, 250 MiB) are split evenly across containersPerPod, as upstream.
 */
export function createPodResourceRecommender(
  cfg: RecommenderConfig = DEFAULT_RECOMMENDER_CONFIG,
  containersPerPod = 1,
): PodResourceRecommender {
  const fraction = 1 / containersPerPod;
  const minCpu = scaleResource(cpuAmountFromCores(cfg.podMinCpuMillicores * 0.001), fraction);
  const minMemory = scaleResource(memoryAmountFromBytes(cfg.podMinMemoryMb * 1024 * 1024), fraction);
  const m = cfg.safetyMarginFraction;
  const targetCpu = withMargin(m, percentileCpuEstimator(cfg.targetCpuPercentile));
  const targetMemory = withMargin(m, percentileMemoryEstimator(cfg.targetMemoryPercentile));
  const lowerCpu = withConfidenceMultiplier(0.001, -2, withMargin(m, percentileCpuEstimator(cfg.lowerBoundCpuPercentile)), cfg.confidenceIntervalCpuSec);
  const lowerMemory = withConfidenceMultiplier(0.001, -2, withMargin(m, percentileMemoryEstimator(cfg.lowerBoundMemoryPercentile)), cfg.confidenceIntervalMemorySec);
  const upperCpu = withConfidenceMultiplier(1.0, 1.0, withMargin(m, percentileCpuEstimator(cfg.upperBoundCpuPercentile)), cfg.confidenceIntervalCpuSec);
  const upperMemory = withConfidenceMultiplier(1.0, 1.0, withMargin(m, percentileMemoryEstimator(cfg.upperBoundMemoryPercentile)), cfg.confidenceIntervalMemorySec);
  return {
    targetCpu: withMinResource(minCpu, targetCpu),
    targetMemory: withMinResource(minMemory, targetMemory),
    lowerBoundCpu: withMinResource(minCpu, lowerCpu),
    lowerBoundMemory: withMinResource(minMemory, lowerMemory),
    upperBoundCpu: withMinResource(minCpu, upperCpu),
    upperBoundMemory: withMinResource(minMemory, upperMemory),
  };
}

/** RecommendedResources: millicores and bytes. */
export interface RecommendedResources {
  cpu: ResourceAmount;
  memory: ResourceAmount;
}

/** estimateContainerResources evaluates the six estimators on one aggregated state. */
export function estimateContainerResources(
  r: PodResourceRecommender,
  s: AggregateContainerState,
): { target: RecommendedResources; lowerBound: RecommendedResources; upperBound: RecommendedResources } {
  return {
    target: { cpu: r.targetCpu(s), memory: r.targetMemory(s) },
    lowerBound: { cpu: r.lowerBoundCpu(s), memory: r.lowerBoundMemory(s) },
    upperBound: { cpu: r.upperBoundCpu(s), memory: r.upperBoundMemory(s) },
  };
}

// ---------------------------------------------------------------------------------------------------------
// utils/vpa/limit_and_request_scaling.go: proportional limits
// ---------------------------------------------------------------------------------------------------------

const MAX_INT64 = 2n ** 63n - 1n;

/**
 * proportionalLimit keeps limit/request as it was: originalLimit × recommended / originalRequest, computed
 * in integer milli-units for CPU and whole bytes for memory with floor division (big.Int), as upstream.
 * Returns null (no limit) when there was no original limit or the recommendation is 0; the recommended
 * request itself when there was no original request or request == limit.
 * Example: CPU request 0.5 / limit 1.0, recommended 0.587 → 1000 × 587 / 500 = 1174 m = 1.174 cores.
 * Units: CPU amounts in cores (returned in cores), memory in bytes.
 */
export function proportionalLimit(
  resource: ResourceName,
  originalLimit: number | undefined,
  originalRequest: number | undefined,
  recommendedRequest: number,
): number | null {
  // Quantity.MilliValue()/Value() round up; toFixed undoes float noise (0.1 × 1000 must be 100, not 101).
  const units = (x: number): bigint =>
    resource === 'cpu' ? BigInt(Math.ceil(Number((x * 1000).toFixed(6)))) : BigInt(Math.ceil(Number(x.toFixed(3))));
  if (originalLimit === undefined || units(originalLimit) === 0n) return null;
  if (units(recommendedRequest) === 0n) return null;
  if (originalRequest === undefined || units(originalRequest) === 0n) return recommendedRequest;
  if (units(originalRequest) === units(originalLimit)) return recommendedRequest;
  let scaled = (units(originalLimit) * units(recommendedRequest)) / units(originalRequest);
  if (scaled > MAX_INT64) scaled = MAX_INT64;
  return resource === 'cpu' ? Number(scaled) / 1000 : Number(scaled);
}

// ---------------------------------------------------------------------------------------------------------
// recommendVpa: the glue from a usage series to a recommendation
// ---------------------------------------------------------------------------------------------------------

/** VpaOptions: the container's current spec, OOM events, and overrides of the upstream defaults. */
export interface VpaOptions {
  /** Current CPU request: weighs CPU samples (max(request, 0.1)) and sets the limit ratio. */
  originalCpuRequestCores?: number;
  originalCpuLimitCores?: number;
  /** Current memory request: sets the limit ratio (OOM events carry their own request). */
  originalMemRequestBytes?: number;
  originalMemLimitBytes?: number;
  /** OOM kills; memoryBytes is the memory request at the kill (upstream's OomInfo.Memory). */
  oomEvents?: { timestampSec: number; memoryBytes: number }[];
  aggregations?: Partial<AggregationsConfig>;
  recommender?: Partial<RecommenderConfig>;
}

/** VpaBound is one of the bounds in the units of BaselineRecommendation. */
export interface VpaBound {
  cpuCores: number;
  memoryBytes: number;
}

export type VpaRecommendation = BaselineRecommendation & {
  lowerBound: VpaBound;
  upperBound: VpaBound;
  /** How much history backed the bounds and which OOM events upstream would have discarded. */
  diagnostics: { cpuSamples: number; confidenceCpu: number; confidenceMemory: number; oomEventsDiscarded: number };
};

/**
 * recommendVpa replays a usage series through VPA's model (ContainerState → AggregateContainerState) and
 * returns the target as requests, VPA's lower/upper bounds, and proportional limits.
 * Each row adds a CPU sample and a memory sample at timestampsSec[i]; OOM events are merged in time order
 * (a usage row first when times tie).
 * Example: 2 days of 0.5 core / 1 GiB every minute → cpuRequestCores 0.587, memRequestBytes ≈ 1.2387e9.
 */
export function recommendVpa(series: UsageSeries, opts: VpaOptions = {}): VpaRecommendation {
  const n = usageSeriesLength(series, 'recommendVpa');
  const agg: AggregationsConfig = { ...DEFAULT_AGGREGATIONS_CONFIG, ...opts.aggregations };
  const rcfg: RecommenderConfig = { ...DEFAULT_RECOMMENDER_CONFIG, ...opts.recommender };
  const state = new AggregateContainerState(agg);
  const cpuRequest = cpuAmountFromCores(opts.originalCpuRequestCores ?? 0);
  const container = new ContainerState({ cpu: cpuRequest, memory: memoryAmountFromBytes(opts.originalMemRequestBytes ?? 0) }, state, agg);

  const ooms = [...(opts.oomEvents ?? [])].sort((a, b) => a.timestampSec - b.timestampSec);
  let j = 0;
  let oomEventsDiscarded = 0;
  const recordOom = (e: { timestampSec: number; memoryBytes: number }): void => {
    if (!container.recordOom(e.timestampSec, memoryAmountFromBytes(e.memoryBytes))) oomEventsDiscarded++;
  };
  for (let i = 0; i < n; i++) {
    const t = series.timestampsSec[i]!;
    while (j < ooms.length && ooms[j]!.timestampSec < t) recordOom(ooms[j++]!);
    const cpu = series.cpuCores[i]!;
    const mem = series.memoryBytes[i]!;
    container.addSample({ measureStartSec: t, usage: Number.isNaN(cpu) ? NaN : cpuAmountFromCores(cpu), request: cpuRequest, resource: 'cpu' });
    container.addSample({ measureStartSec: t, usage: Number.isNaN(mem) ? NaN : memoryAmountFromBytes(mem), request: cpuRequest, resource: 'memory' });
  }
  while (j < ooms.length) recordOom(ooms[j++]!);

  const est = estimateContainerResources(createPodResourceRecommender(rcfg), state);
  const cpuRequestCores = coresFromCpuAmount(est.target.cpu);
  const memRequestBytes = est.target.memory;
  return {
    cpuRequestCores,
    cpuLimitCores: proportionalLimit('cpu', opts.originalCpuLimitCores, opts.originalCpuRequestCores, cpuRequestCores),
    memRequestBytes,
    memLimitBytes: proportionalLimit('memory', opts.originalMemLimitBytes, opts.originalMemRequestBytes, memRequestBytes) ?? memRequestBytes,
    lowerBound: { cpuCores: coresFromCpuAmount(est.lowerBound.cpu), memoryBytes: est.lowerBound.memory },
    upperBound: { cpuCores: coresFromCpuAmount(est.upperBound.cpu), memoryBytes: est.upperBound.memory },
    diagnostics: {
      cpuSamples: state.totalSamplesCount,
      confidenceCpu: getConfidence(state, rcfg.confidenceIntervalCpuSec),
      confidenceMemory: getConfidence(state, rcfg.confidenceIntervalMemorySec),
      oomEventsDiscarded,
    },
  };
}
