/**
 * vpa/container-state: how usage samples become VPA's aggregated state (a CPU histogram and a histogram of
 * daily memory peaks).
 *
 * Mirrors (upstream root: github.com/kubernetes/autoscaler, vertical-pod-autoscaler/pkg/recommender/):
 *   model/aggregations_config.go  the constants (half-life 24 h, 5 % bucket growth, ε = 1e-4, OOM bump 1.2 / 100 MiB)
 *   model/aggregate_container_state.go  CPU samples weighted by max(request, 0.1); confidence counts CPU samples
 *   model/container.go            one memory peak per 24 h interval; RecordOOM
 *
 * Choices where upstream is not one fixed thing (all overridable through AggregationsConfig):
 * - CPU first bucket 0.01 core: the value VPA releases have shipped for years. A newer upstream revision
 *   (model/aggregations_config.go at commit 115087573e54, cf. PR #7554 "Fix firstBucketSize for CPU
 *   histogram") uses 0.001 core; pass `aggregations: { cpuFirstBucketCores: 0.001 }` to match it.
 * - The memory peak of an interval is added to the histogram at the interval's END (container.go sets
 *   MeasureStart = WindowEnd), not its start. Only relative times matter to the decay, so this shifts every
 *   peak's weight by the same factor and changes no percentile.
 * - Invalid usage (negative, NaN) is discarded like upstream's isValid(); NaN is our addition.
 */
import { DecayingHistogram } from './decaying-histogram.js';
import { ExponentialHistogramOptions } from './histogram.js';
import type { ResourceAmount, ResourceName } from './resource-amount.js';
import { coresFromCpuAmount, memoryAmountFromBytes, scaleResource } from './resource-amount.js';
import { MiB } from '../../../../core/units.js';

const DAY_SEC = 24 * 3600;

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

