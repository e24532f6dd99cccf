/**
 * types: the one shape usage data has in this project, whatever its source (Bitbrains files today,
 * Prometheus next). A source reads its input into UsageTraces; evaluation and training cut UsageWindows out
 * of them; the container family's features, the baselines (VPA, KRR, fixed rules) and the agent all read
 * a UsageWindow. Units are in the names: seconds since the epoch, cores, bytes.
 */
import type { Bytes, Cores } from '../core/units.js';

/** A raw usage window: samples in time order, as a metrics collector scrapes them. */
export interface UsageWindow {
  /** Sample times, seconds since the epoch, strictly increasing. */
  timestampsSec: ArrayLike<number>;
  /** CPU usage of each sample interval, cores (≥ 0). */
  cpuCores: ArrayLike<number>;
  /** Memory usage (working set) at each sample, bytes (≥ 0). */
  memoryBytes: ArrayLike<number>;
  /** Optional cumulative CFS counters (container_cpu_cfs_throttled_periods_total, ..._periods_total). */
  throttledPeriods?: ArrayLike<number>;
  totalPeriods?: ArrayLike<number>;
  /** Optional workload start, seconds since the epoch; defaults to the first sample. */
  workloadStartSec?: number;
}

/** ReadReport: what a source did with one input file or series, so dirty data is counted, never hidden. */
export interface ReadReport {
  /** the file (or query) read */
  input: string;
  /** data rows read */
  rows: number;
  /** samples kept after skipping and merging */
  samples: number;
  /** rows skipped, by reason ("switched off", "malformed", …) */
  skipped: Record<string, number>;
  /** rows merged into another with the same timestamp (CPU averaged, memory maximum) */
  merged: number;
  /** rows out of time order (sorted back into place) */
  reordered: number;
  /** gaps longer than 3 sample intervals, and the longest one */
  gaps: number;
  longestGapSec: number;
  /** the first few skipped rows, with their line and reason, for the user to look at */
  examples: { line: number; reason: string }[];
}

/** UsageTrace: one workload's (or VM's) whole history from a source. */
export interface UsageTrace {
  /** the workload's name ("vm20", "default/Deployment/api/app") */
  name: string;
  timestampsSec: Float64Array;
  cpuCores: Float64Array;
  memoryBytes: Float64Array;
  /** the allocation it ran with, where the source knows it (Bitbrains: provisioned capacity) */
  provisioned: { cpuCores: Cores; memoryBytes: Bytes } | null;
  report: ReadReport;
}

/** ReadOptions: how strictly a source treats dirty input. */
export interface ReadOptions {
  /** refuse the whole input at the first bad row (the default skips, merges and counts) */
  strict?: boolean;
  /** one line per file read */
  log?: (line: string) => void;
  /** read only the traces whose name this keeps (e.g. --vms 1-150), before reading them */
  select?: (name: string) => boolean;
}

/** UsageSource: a kind of usage data. Adding a source is one file implementing this, and one registry line. */
export interface UsageSource {
  name: string;
  /** one line for --help */
  describe: string;
  /** reads files or folders (each path a file or a folder of them) into traces, in natural name order */
  read(paths: string[], opts?: ReadOptions): UsageTrace[];
}

/** summarizeReport renders a ReadReport as one line: "vm20.csv.gz: 8,261 rows → 3,784 samples; skipped 4,477 switched off; …". */
export function summarizeReport(r: ReadReport): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const parts = [`${r.input}: ${n(r.rows)} rows → ${n(r.samples)} samples`];
  const skipped = Object.entries(r.skipped).filter(([, c]) => c > 0);
  if (skipped.length) parts.push(`skipped ${skipped.map(([why, c]) => `${n(c)} ${why}`).join(', ')}`);
  if (r.merged) parts.push(`merged ${n(r.merged)} repeated timestamps`);
  if (r.reordered) parts.push(`sorted ${n(r.reordered)} rows out of time order`);
  if (r.gaps) parts.push(`${n(r.gaps)} gaps (longest ${(r.longestGapSec / 3600).toFixed(1)} h)`);
  if (parts.length === 1) parts.push('clean');
  return parts.join('; ');
}
