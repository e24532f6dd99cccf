/**
 * window-samples: a container's usage window reduced to a bounded number of points, for the dashboard's
 * per-workload chart (GET /v1/workloads/{namespace}/{kind}/{name}?samples=1). Pure: no HTTP, no clock.
 *
 * The window's n samples are cut, in time order, into consecutive buckets of b = ceil(n / maxPoints)
 * samples (the last bucket may be shorter), so there are at most maxPoints points. Each point gives:
 *   t         the bucket's first sample time, seconds since the epoch
 *   cpuMean   the mean CPU of its samples, cores
 *   cpuMax    the highest CPU sample, cores (what a CPU limit is measured against)
 *   memMax    the highest memory sample, bytes (what an OOM kill is measured against)
 * Worked numbers: 2,016 samples (7 days at 5 minutes) and maxPoints 300 → b = ceil(2016 / 300) = 7
 * samples (35 minutes) per point, 288 points; 600 samples → b = 2, 300 points; 100 samples → 100 points,
 * each the sample itself (mean = max).
 *
 * Memory: a point is 4 doubles (32 bytes), so a container's samples take at most 300 × 32 = 9,600 bytes
 * (with arrays' overhead, ~10 KB): 1,000 containers ~10 MB. The full window it replaces (2,016 samples
 * × 5 series × 8 bytes ≈ 80 KB) is not kept.
 */
import type { UsageWindow } from '../src/sources/types.js';

/** SAMPLE_POINTS: the most points a container's window is reduced to. */
export const SAMPLE_POINTS = 300;

/** WindowSamples: a downsampled window (see the header); arrays of equal length, in time order. */
export interface WindowSamples {
  /** samples in the window, and how many went into each point (the last point may hold fewer) */
  samples: number;
  perPoint: number;
  timestampsSec: number[];
  cpuCoresMean: number[];
  cpuCoresMax: number[];
  memoryBytesMax: number[];
}

/** downsampleWindow reduces a window to at most maxPoints points (see the header). */
export function downsampleWindow(w: UsageWindow, maxPoints = SAMPLE_POINTS): WindowSamples {
  const n = w.timestampsSec.length;
  const b = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(maxPoints))));
  const out: WindowSamples = { samples: n, perPoint: b, timestampsSec: [], cpuCoresMean: [], cpuCoresMax: [], memoryBytesMax: [] };
  for (let s = 0; s < n; s += b) {
    const e = Math.min(n, s + b);
    let sum = 0;
    let cpuMax = -Infinity;
    let memMax = -Infinity;
    for (let i = s; i < e; i++) {
      const c = w.cpuCores[i]!;
      sum += c;
      if (c > cpuMax) cpuMax = c;
      const m = w.memoryBytes[i]!;
      if (m > memMax) memMax = m;
    }
    out.timestampsSec.push(w.timestampsSec[s]!);
    out.cpuCoresMean.push(sum / (e - s));
    out.cpuCoresMax.push(cpuMax);
    out.memoryBytesMax.push(memMax);
  }
  return out;
}
