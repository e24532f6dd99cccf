/**
 * baselines/types: what every baseline recommender (VPA, KRR, the fixed rule, as-provisioned) reads (the
 * project's UsageWindow) and returns, so the evaluation can score them side by side, plus the one shape check they share.
 *
 * Units are in the names: CPU in cores (a float; 0.25 = 250m), memory in bytes, time in epoch seconds.
 */

/** The baselines read the project's one window type (src/sources/types.ts), as the model does. */
export type { UsageWindow } from '../../../sources/types.js';
import type { UsageWindow } from '../../../sources/types.js';

/**
 * usageSeriesLength returns the number of samples after checking that the three arrays have the same
 * length; `who` names the caller in the message. Example: usageSeriesLength({timestampsSec: [0, 60],
 * cpuCores: [0.1, 0.2], memoryBytes: [1e8, 1e8]}, 'krr') === 2.
 */
export function usageSeriesLength(series: UsageWindow, who: string): number {
  const n = series.timestampsSec.length;
  if (series.cpuCores.length !== n || series.memoryBytes.length !== n) {
    throw new RangeError(
      `${who}: UsageWindow arrays differ in length (timestampsSec ${n}, cpuCores ${series.cpuCores.length}, ` +
        `memoryBytes ${series.memoryBytes.length}); pass one entry per sample in each array`,
    );
  }
  return n;
}
