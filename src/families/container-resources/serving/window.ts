/**
 * window: turns a raw usage window as monitoring systems send it into the strictly increasing window
 * computeFeatures reads, or a RequestFieldError naming the field and the likely mistake.
 *
 * Real monitoring data is accepted as it comes:
 * - repeated timestamps (two scrapes in one second, a replayed batch) are MERGED into one sample with the
 *   rule of the Bitbrains reader (src/sources/bitbrains.ts): CPU the MEAN of the rows (a rate over the
 *   interval), memory the MAXIMUM (limits are sized on peaks, a peak must never be lost), cumulative CFS
 *   counters the maximum (the later reading of a counter that only grows);
 * - samples out of time order are refused, naming the first one, unless the window says "sort": true,
 *   when they are sorted by time (a stable sort, then repeats are merged);
 * each merge or sort adds a warning to the answer ("window.timestampsSec: 3 repeated timestamps merged
 * into one sample (CPU the mean, memory the maximum)").
 *
 * Physical bounds: timestamps are seconds since the epoch between 2000-01-01 (946,684,800) and 2100-01-01
 * (4,102,444,800). Above 1e11 they may be milliseconds (1e11 s is the year 5138): when a time divided by
 * 1e3, 1e6 or 1e9 lands in that range the message says milliseconds, microseconds or nanoseconds and
 * gives the seconds; any other value gets the range (1e300 is no unit of time).
 */
import { RequestFieldError } from '../../../core/family.js';
import type { UsageWindow } from '../features.js';

/** EPOCH_MIN_SEC, EPOCH_MAX_SEC: the timestamps accepted (2000-01-01 .. 2100-01-01 UTC, in seconds). */
export const EPOCH_MIN_SEC = 946_684_800;
export const EPOCH_MAX_SEC = 4_102_444_800;
/** Above this a timestamp is taken for milliseconds: 1e11 s is the year 5138, 1e11 ms is 1973. */
const LOOKS_LIKE_MS = 1e11;

const SERIES = ['timestampsSec', 'cpuCores', 'memoryBytes', 'throttledPeriods', 'totalPeriods'] as const;
type Series = (typeof SERIES)[number];

const fail = (field: string, problem: string) => new RequestFieldError(field, problem);
const describe = (v: unknown) => (typeof v === 'string' ? `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}` : Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v));

/**
 * checkEpochSeconds checks one time in seconds since the epoch; `field` names it.
 * Example: 1700000000000 → "is 1700000000000; timestamps look like milliseconds; give seconds since the
 * epoch (1700000000)".
 */
export function checkEpochSeconds(v: unknown, field: string): number {
  if (typeof v !== 'number') throw fail(field, `is ${describe(v)}; expected a number (seconds since the epoch)`);
  if (!Number.isFinite(v)) throw fail(field, `is ${v}; expected a finite number of seconds since the epoch`);
  if (v > LOOKS_LIKE_MS) {
    // milliseconds, microseconds or nanoseconds since the epoch: say which only when it lands in range
    for (const [k, unit] of [[1e3, 'milliseconds'], [1e6, 'microseconds'], [1e9, 'nanoseconds']] as const) {
      const sec = Math.floor(v / k);
      if (sec >= EPOCH_MIN_SEC && sec <= EPOCH_MAX_SEC) throw fail(field, `is ${v}; timestamps look like ${unit}; give seconds since the epoch (${sec})`);
    }
  }
  if (v < EPOCH_MIN_SEC || v > EPOCH_MAX_SEC) throw fail(field, `is ${v}; give seconds since the epoch (UTC) between ${EPOCH_MIN_SEC} (2000-01-01) and ${EPOCH_MAX_SEC} (2100-01-01)`);
  return v;
}

function numbers(field: string, s: unknown[], n: number, nonNegative: boolean, what: string): void {
  if (s.length !== n) throw fail(field, `has ${s.length} values but timestampsSec has ${n}; give one value per timestamp`);
  for (let i = 0; i < n; i++) {
    const x = s[i];
    if (typeof x !== 'number') throw fail(`${field}[${i}]`, `is ${describe(x)}; expected a number (${what})`);
    if (!Number.isFinite(x)) throw fail(`${field}[${i}]`, `is ${x}; expected a finite number (${what})`);
    if (nonNegative && x < 0) throw fail(`${field}[${i}]`, `is ${x}; ${what} cannot be negative`);
  }
}

/** PreparedWindow: a strictly increasing window and what was done to get it. */
export interface PreparedWindow {
  window: UsageWindow;
  warnings: string[];
}

/**
 * prepareWindow checks the series of window `w` (already known to be arrays, at most the sample limit)
 * and returns a strictly increasing window; `at(k)` names field k in errors ("window.cpuCores").
 * Example: timestamps [t, t+300, t+300, t+600], CPU [0.1, 0.2, 0.4, 0.1], memory [1, 2, 5, 1] GiB →
 * timestamps [t, t+300, t+600], CPU [0.1, 0.3, 0.1], memory [1, 5, 1] GiB, one warning.
 */
export function prepareWindow(w: Record<string, unknown>, sort: boolean, at: (k: string) => string): PreparedWindow {
  const t = w.timestampsSec as unknown[] | undefined;
  if (t === undefined) throw fail(at('timestampsSec'), 'is required: an array of sample times in seconds since the epoch');
  const n = t.length;
  if (n < 2) throw fail(at('timestampsSec'), `has ${n} samples; a window needs at least 2`);
  for (let i = 0; i < n; i++) checkEpochSeconds(t[i], `${at('timestampsSec')}[${i}]`);
  for (const k of ['cpuCores', 'memoryBytes'] as const) {
    if (w[k] === undefined) throw fail(at(k), 'is required: an array of numbers, one per timestamp');
  }
  numbers(at('cpuCores'), w.cpuCores as unknown[], n, true, 'CPU usage in cores');
  numbers(at('memoryBytes'), w.memoryBytes as unknown[], n, true, 'memory usage in bytes');
  const counters = w.throttledPeriods !== undefined || w.totalPeriods !== undefined;
  if (counters) {
    for (const k of ['throttledPeriods', 'totalPeriods'] as const) {
      if (w[k] === undefined) throw fail(at(k), 'is required with the other CFS counter: an array of cumulative counts, one per timestamp');
      numbers(at(k), w[k] as unknown[], n, true, 'a cumulative count of CFS periods');
    }
  }
  const series = (k: Series) => w[k] as number[];
  const ts = series('timestampsSec');
  const warnings: string[] = [];

  // Order: refused unless told to sort.
  let order: number[] | null = null;
  let outOfOrder = 0;
  for (let i = 1; i < n; i++) {
    if (ts[i]! < ts[i - 1]!) {
      if (!sort) throw fail(`${at('timestampsSec')}[${i}]`, `is ${ts[i]}, before the previous sample (${ts[i - 1]}); order the samples by time, or send "sort": true in the window`);
      outOfOrder++;
    }
  }
  if (outOfOrder > 0) {
    order = Array.from({ length: n }, (_, i) => i).sort((a, b) => ts[a]! - ts[b]! || a - b);
    warnings.push(`${at('timestampsSec')}: ${outOfOrder} sample${outOfOrder === 1 ? '' : 's'} out of order, sorted by time`);
  }
  const idx = (i: number) => (order ? order[i]! : i);

  // Repeats: merged (CPU mean, memory and counters max).
  const keys: Series[] = counters ? [...SERIES] : ['timestampsSec', 'cpuCores', 'memoryBytes'];
  const out: Record<string, number[]> = Object.fromEntries(keys.map((k) => [k, [] as number[]]));
  let merged = 0;
  let run = 1;
  for (let i = 0; i < n; i++) {
    const j = idx(i);
    const last = out.timestampsSec!.length - 1;
    if (last >= 0 && out.timestampsSec![last] === ts[j]) {
      merged++;
      run++;
      const cpu = out.cpuCores!;
      cpu[last] = cpu[last]! + (series('cpuCores')[j]! - cpu[last]!) / run; // running mean
      for (const k of keys) if (k !== 'timestampsSec' && k !== 'cpuCores') out[k]![last] = Math.max(out[k]![last]!, series(k)[j]!);
      continue;
    }
    run = 1;
    for (const k of keys) out[k]!.push(series(k)[j]!);
  }
  if (merged > 0) warnings.push(`${at('timestampsSec')}: ${merged} repeated timestamp${merged === 1 ? '' : 's'} merged into one sample (CPU the mean, memory the maximum)`);
  if (out.timestampsSec!.length < 2) throw fail(at('timestampsSec'), `has ${out.timestampsSec!.length} distinct time; a window needs at least 2`);
  const window: UsageWindow = { timestampsSec: out.timestampsSec!, cpuCores: out.cpuCores!, memoryBytes: out.memoryBytes! };
  if (counters) {
    window.throttledPeriods = out.throttledPeriods!;
    window.totalPeriods = out.totalPeriods!;
  }
  if (w.workloadStartSec !== undefined) window.workloadStartSec = w.workloadStartSec as number;
  return { window, warnings };
}
