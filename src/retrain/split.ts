/**
 * split: a history cut into the protocol's windows (past 7 d → next 3 d, stride 1 d: data/windows.ts
 * PROTOCOL) and split for a retraining, by WORKLOAD and by TIME, never by window:
 *
 *   windows    anchored at the history's end: window k covers (end − k days − 10 days, end − k days], so
 *              the newest window's future ends at the last sample; only windows whose past lies inside
 *              the history are cut (a window needs ≥ 2 past and ≥ 1 future sample, as windowsOf);
 *   held out   a share of the workloads (`holdoutShare`), chosen by a seeded hash of the workload's name,
 *              so a workload keeps its role from one night's retraining to the next while it exists;
 *   cutoff     end − `holdoutPeriodSec`: no window used for training or calibration has a future after
 *              it, and every shadow window's future lies after it (a window is 10 days, so the period
 *              must be ≥ 3 days; 4 days gives 2 shadow windows per held-out workload).
 *
 *   train        the other workloads' windows ending at or before the cutoff   (the candidate learns them)
 *   calibration  the held-out workloads' windows ending at or before the cutoff (its risk table)
 *   shadow       the held-out workloads' windows whose future is after the cutoff (the promotion decision)
 *
 * Worked example: 21 days of history ending 2025-06-02T00:00Z, period 4 d: windows k = 0 … 10 (k = 11
 * would start before the history); train/calibration windows k = 4 … 10 (ending May 29 or earlier), shadow
 * windows k = 0, 1 (futures from May 29 + 1 s on). A 14-day history with the same period has windows
 * k = 0 … 3, so no training window: the error says to read more history or shorten the period.
 */
import { createHash } from 'node:crypto';
import { PROTOCOL } from '../families/container-resources/data/windows.js';
import type { TraceWindow } from '../families/container-resources/data/windows.js';
import { maxOf, mean, percentile } from '../util/stats.js';
import { UserError } from '../util/errors.js';
import type { History, SeriesHistory } from './history.js';

export const DAY = 86400;
/** WINDOW_SEC: one protocol window, past and future (10 days). */
export const WINDOW_SEC = (PROTOCOL.pastDays + PROTOCOL.futureDays) * DAY;
/** MIN_TRAIN_WINDOWS: what `train` needs at least (model/pipeline.ts refuses fewer). */
export const MIN_TRAIN_WINDOWS = 100;

export interface SplitOptions {
  /** the held-back period at the end of the history, seconds (≥ 3 days) */
  holdoutPeriodSec: number;
  /** share of the workloads held out (0 < share < 1) */
  holdoutShare: number;
  /** seed of the workload hash */
  seed: number;
}

/** RetrainSplit: the three window sets, and who is where. */
export interface RetrainSplit {
  cutoffSec: number;
  train: TraceWindow[];
  calibration: TraceWindow[];
  shadow: TraceWindow[];
  /** series name → workload (the bootstrap's and the training split's group) */
  workloadOf: Map<string, string>;
  trainWorkloads: string[];
  heldOutWorkloads: string[];
}

/** lowerBound: the first index with ts[i] ≥ t. */
function lowerBound(ts: ArrayLike<number>, t: number): number {
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ts[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const sub = (a: ArrayLike<number>, i: number, j: number) => (a instanceof Float64Array ? a.subarray(i, j) : Float64Array.from(Array.prototype.slice.call(a, i, j) as number[]));

/**
 * cutWindows: the series' windows ending at end − k days (k = 0, 1, …) whose past starts at or after
 * `startSec`, each with the second it ends on.
 */
export function cutWindows(s: SeriesHistory, startSec: number, endSec: number): { window: TraceWindow; endSec: number }[] {
  const w = s.window;
  const ts = w.timestampsSec;
  const out: { window: TraceWindow; endSec: number }[] = [];
  if (ts.length < 2) return out;
  for (let k = 0; ; k++) {
    const last = endSec - k * DAY;
    const from = last + 1 - WINDOW_SEC;
    if (from < startSec) break;
    const mid = from + PROTOCOL.pastDays * DAY;
    const pa = lowerBound(ts, from);
    const pb = lowerBound(ts, mid);
    const fb = lowerBound(ts, last + 1);
    if (pb - pa < 2 || fb - pb < 1) continue;
    const fc = sub(w.cpuCores, pb, fb);
    const fm = sub(w.memoryBytes, pb, fb);
    const past: TraceWindow['past'] = { timestampsSec: sub(ts, pa, pb), cpuCores: sub(w.cpuCores, pa, pb), memoryBytes: sub(w.memoryBytes, pa, pb), workloadStartSec: w.workloadStartSec ?? ts[0]! };
    if (w.throttledPeriods && w.totalPeriods) {
      past.throttledPeriods = sub(w.throttledPeriods, pa, pb);
      past.totalPeriods = sub(w.totalPeriods, pa, pb);
    }
    out.push({
      endSec: last,
      window: { vm: s.name, startSec: from, past, future: { cpuCores: fc, memoryBytes: fm }, original: s.original, outcome: { cpuP99: percentile(fc, 99), cpuMean: mean(fc), memPeak: maxOf(fm), memMean: mean(fm) } },
    });
  }
  return out.reverse();
}

/** hashUnit: a workload's place in [0, 1) for a seed (sha256 of "seed:name", first 32 bits). */
export function hashUnit(seed: number, name: string): number {
  return createHash('sha256').update(`${seed}:${name}`).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * heldOut: the workloads whose hash is below `share`, at least one and never all of them (the lowest
 * hash is held out if none is; the highest is kept for training if all are).
 */
export function heldOut(workloads: readonly string[], share: number, seed: number): Set<string> {
  const ranked = [...new Set(workloads)].map((w) => ({ w, u: hashUnit(seed, w) })).sort((a, b) => a.u - b.u);
  if (ranked.length < 2) throw new UserError(`the history has ${ranked.length} workload; a retraining needs at least 2 (one to train on, one held out to judge the candidate on)`);
  const out = new Set(ranked.filter((r) => r.u < share).map((r) => r.w));
  if (out.size === 0) out.add(ranked[0]!.w);
  if (out.size === ranked.length) out.delete(ranked.at(-1)!.w);
  return out;
}

/** splitHistory cuts and splits a history (see the header). Throws naming the fix when a set is empty. */
export function splitHistory(h: History, o: SplitOptions): RetrainSplit {
  if (!(o.holdoutPeriodSec >= PROTOCOL.futureDays * DAY)) throw new UserError(`--holdout-period must be at least ${PROTOCOL.futureDays} days (a shadow window's ${PROTOCOL.futureDays}-day future must lie inside it)`);
  if (!(o.holdoutShare > 0 && o.holdoutShare < 1)) throw new UserError(`--holdout-share must be between 0 and 1 (exclusive), got ${o.holdoutShare}`);
  const cutoffSec = h.endSec - o.holdoutPeriodSec;
  const shadowFrom = cutoffSec + PROTOCOL.futureDays * DAY;
  const workloadOf = new Map(h.series.map((s) => [s.name, s.workload]));
  const out = heldOut(h.series.map((s) => s.workload), o.holdoutShare, o.seed);
  const split: RetrainSplit = { cutoffSec, train: [], calibration: [], shadow: [], workloadOf, trainWorkloads: [], heldOutWorkloads: [] };
  for (const s of h.series) {
    const held = out.has(s.workload);
    for (const { window, endSec } of cutWindows(s, h.startSec, h.endSec)) {
      if (endSec <= cutoffSec) (held ? split.calibration : split.train).push(window);
      else if (held && endSec >= shadowFrom) split.shadow.push(window);
    }
  }
  const names = (ws: TraceWindow[]) => [...new Set(ws.map((w) => workloadOf.get(w.vm)!))].sort();
  split.trainWorkloads = names(split.train);
  split.heldOutWorkloads = [...out].sort();
  const days = (sec: number) => +(sec / DAY).toFixed(2);
  const span = days(h.endSec - h.startSec);
  if (split.train.length < MIN_TRAIN_WINDOWS) {
    const need = days(WINDOW_SEC + o.holdoutPeriodSec + DAY);
    throw new UserError(`the history gives ${split.train.length} training windows (${split.trainWorkloads.length} workloads, ${span} days ending ${new Date(h.endSec * 1000).toISOString()}, held-back period ${days(o.holdoutPeriodSec)} d); training needs at least ${MIN_TRAIN_WINDOWS}: read more history (--history; a training window needs ${PROTOCOL.pastDays + PROTOCOL.futureDays} d ending before the held-back period, so ≥ ${need} d gives one per workload), shorten --holdout-period, or mix in other data (--base-data)`);
  }
  if (!split.shadow.length) throw new UserError(`no held-out workload (${split.heldOutWorkloads.length} of ${new Set(workloadOf.values()).size}) has a window whose future lies in the held-back period; raise --holdout-share or read a history whose last days every workload covers`);
  return split;
}
