/**
 * baselines/types: the shapes every baseline recommender (VPA, KRR, the fixed rule, as-provisioned) reads
 * and returns, so the evaluation can score them side by side, plus the one shape check they share.
 *
 * Units are in the names: CPU in cores (a float; 0.25 = 250m), memory in bytes, time in epoch seconds.
 */

/** UsageSeries is one container's (or VM's) usage history, one entry per sample, oldest first. */
export interface UsageSeries {
  /** Sample start times, epoch seconds, ascending. */
  timestampsSec: Float64Array | number[];
  /** Average CPU used over the sample, in cores. */
  cpuCores: Float64Array | number[];
  /** Memory used (working set) at the sample, in bytes. */
  memoryBytes: Float64Array | number[];
}

/**
 * BaselineRecommendation is what a baseline would write into the pod spec.
 * cpuLimitCores is null when the baseline sets no CPU limit (KRR, or VPA without an original limit).
 */
export interface BaselineRecommendation {
  cpuRequestCores: number;
  cpuLimitCores: number | null;
  memRequestBytes: number;
  memLimitBytes: number;
}

/**
 * usageSeriesLength returns the number of samples after checking that the three arrays have the same
 * length; `who` names the caller in the message. Example: usageSeriesLength({timestampsSec: [0, 60],
 * cpuCores: [0.1, 0.2], memoryBytes: [1e8, 1e8]}, 'krr') === 2.
 */
export function usageSeriesLength(series: UsageSeries, who: string): number {
  const n = series.timestampsSec.length;
  if (series.cpuCores.length !== n || series.memoryBytes.length !== n) {
    throw new RangeError(
      `${who}: UsageSeries arrays differ in length (timestampsSec ${n}, cpuCores ${series.cpuCores.length}, ` +
        `memoryBytes ${series.memoryBytes.length}); pass one entry per sample in each array`,
    );
  }
  return n;
}
