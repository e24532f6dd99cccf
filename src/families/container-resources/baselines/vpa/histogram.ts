/**
 * vpa/histogram: exponential buckets and the bucket-weight histogram VPA keeps its usage in.
 *
 * Mirrors (upstream root: github.com/kubernetes/autoscaler, vertical-pod-autoscaler/pkg/recommender/):
 *   util/histogram_options.go  exponential buckets: bucket n starts at first × (ratio^n − 1)/(ratio − 1)
 *   util/histogram.go          bucket weights; Percentile() returns the END of the bucket it stops in
 */

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
