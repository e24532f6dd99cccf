/**
 * windows: the evaluation and training protocol for real traces. Rolling windows over each trace: the past
 * PROTOCOL.pastDays (7) → the 12 features and every baseline's input; the next futureDays (3) → the outcome
 * and the hindsight labels. Windows start every strideDays (1) from the trace's first sample, and only
 * windows whose future fits in the trace are used (a window needs ≥ 2 past samples and ≥ 1 future one).
 * These settings were fixed before any result was looked at and are the same for every system.
 */
import type { UsageTrace, UsageWindow } from '../../../sources/types.js';
import { maxOf, mean, percentile } from '../../../util/stats.js';
import type { Bytes, Cores } from '../../../core/units.js';

export const PROTOCOL = { pastDays: 7, futureDays: 3, strideDays: 1 } as const;
const DAY = 86400;

/** TraceWindow: one protocol window of a trace: the past (features, baselines), the future (labels, outcomes). */
export interface TraceWindow {
  vm: string;
  startSec: number;
  past: UsageWindow;
  future: { cpuCores: Float64Array; memoryBytes: Float64Array };
  /** the allocation the workload ran with, where the source knows it */
  original?: { cpuRequestCores: Cores; cpuLimitCores: Cores; memRequestBytes: Bytes; memLimitBytes: Bytes };
  outcome: { cpuP99: number; cpuMean: number; memPeak: number; memMean: number };
}

/** slice returns the index range [a, b) of samples with a time in [t0, t1). */
function slice(ts: Float64Array, t0: number, t1: number): [number, number] {
  let a = 0;
  while (a < ts.length && ts[a]! < t0) a++;
  let b = a;
  while (b < ts.length && ts[b]! < t1) b++;
  return [a, b];
}

/** windowsOf cuts one VM into protocol windows (skipping any with fewer than 2 past or 1 future sample). */
export function windowsOf(vm: UsageTrace, p = PROTOCOL): TraceWindow[] {
  const ts = vm.timestampsSec;
  if (ts.length < 2) return [];
  const first = ts[0]!;
  const last = ts[ts.length - 1]!;
  const out: TraceWindow[] = [];
  for (let s = first; s + (p.pastDays + p.futureDays) * DAY <= last + 1; s += p.strideDays * DAY) {
    const [pa, pb] = slice(ts, s, s + p.pastDays * DAY);
    const [fa, fb] = slice(ts, s + p.pastDays * DAY, s + (p.pastDays + p.futureDays) * DAY);
    if (pb - pa < 2 || fb - fa < 1) continue;
    const fc = vm.cpuCores.subarray(fa, fb);
    const fm = vm.memoryBytes.subarray(fa, fb);
    out.push({
      vm: vm.name,
      startSec: s,
      past: { timestampsSec: ts.subarray(pa, pb), cpuCores: vm.cpuCores.subarray(pa, pb), memoryBytes: vm.memoryBytes.subarray(pa, pb), workloadStartSec: first },
      future: { cpuCores: fc, memoryBytes: fm },
      original: vm.provisioned ? { cpuRequestCores: vm.provisioned.cpuCores, cpuLimitCores: vm.provisioned.cpuCores, memRequestBytes: vm.provisioned.memoryBytes, memLimitBytes: vm.provisioned.memoryBytes } : undefined,
      outcome: { cpuP99: percentile(fc, 99), cpuMean: mean(fc), memPeak: maxOf(fm), memMean: mean(fm) },
    });
  }
  return out;
}

