/**
 * bitbrains: the usage source for the Bitbrains GWA-T-12 "rnd" VM traces (one CSV per VM, 5-minute rows;
 * see ../shared/data/bitbrains/SOURCE.txt), plain `.csv` or gzipped `.csv.gz`.
 *
 * Format: a header, then rows whose fields are separated by ';' followed by a TAB:
 *   Timestamp [ms]; CPU cores; CPU capacity provisioned [MHZ]; CPU usage [MHZ]; CPU usage [%];
 *   Memory capacity provisioned [KB]; Memory usage [KB]; Disk read/write [KB/s]; Network rx/tx [KB/s]
 * Columns are found by header name, so their order does not matter.
 *
 * Conversions:
 * - time: "Timestamp [ms]" holds epoch SECONDS despite its name (1372629804 = 2013-07-01); used as is.
 * - CPU used, cores = usage MHz / (capacity MHz / cores), the row's own MHz per core.
 *   vm1 row 1: 87.78 MHz / (5851.9989 MHz / 2) = 87.78 / 2925.99945 = 0.03 cores.
 * - memory used, bytes = usage KB × 1024 (the trace's KB are KiB): 1034592.8 KB → 1 059 423 027 B.
 * - provisioned cores / memory: the MOST COMMON value of "CPU cores" / "Memory capacity provisioned [KB]"
 *   × 1024 over the kept rows, ties going to the value seen last. A few VMs change capacity mid-trace (vm1:
 *   8 218 624 KB for 295 rows, then 8 388 608 KB for 7 962; vm4 balloons over 1 244 values); the mode is
 *   what the VM had most of the time, and for vm1 and vm4 it is also the last value.
 *
 * Dirty data (real traces have it; users feed exactly such data), by default skipped, merged and COUNTED
 * in the trace's ReadReport, never a refusal of the whole data set:
 * - a row whose "CPU cores" or "CPU capacity provisioned" is 0: the VM is switched off (vm20 from line
 *   4,478 on): skipped as "switched off";
 * - a row with the wrong number of fields, or an empty, non-numeric or negative needed value: skipped as
 *   "malformed" / "invalid value"; an empty line inside the data: skipped as "blank";
 * - rows out of time order: sorted back into place (counted as reordered);
 * - repeated timestamps: merged into one sample, CPU the MEAN of the rows (CPU is a rate over the
 *   interval) and memory the MAXIMUM (a peak must never be lost: limits are sized on peaks);
 * - gaps (a step over 3 × the median step): kept as they are, counted.
 * With `strict`, the first bad row throws TraceParseError naming the file, the 1-based line, the column
 * and the fix (what this reader did before it learned to skip); repeated timestamps are merged in both
 * modes. The empty line after the final newline, which every file has, is never counted.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../util/errors.js';
import type { ReadOptions, ReadReport, UsageSource, UsageTrace } from './types.js';
import { summarizeReport } from './types.js';
import { readBytesOrThrow } from '../util/read.js';

/** TraceParseError names the file, the 1-based line and, when one is at fault, the column. */
export class TraceParseError extends UserError {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
    readonly field?: string,
  ) {
    super(`${file}:${line}: ${message}`);
  }
}

const COL = {
  time: 'Timestamp [ms]',
  cores: 'CPU cores',
  cpuCapacityMhz: 'CPU capacity provisioned [MHZ]',
  cpuUsageMhz: 'CPU usage [MHZ]',
  memCapacityKb: 'Memory capacity provisioned [KB]',
  memUsageKb: 'Memory usage [KB]',
} as const;

type ColKey = keyof typeof COL;

const KIB = 1024;

/** normalizeName folds case and runs of whitespace so "CPU usage [MHZ]" matches "cpu  usage [MHz]". */
function normalizeName(s: string): string {
  return s.trim().replace(/\s+/g, ' ').toLowerCase();
}

/** splitFields splits on ';' and trims the TAB (and any spaces) that follow it. */
function splitFields(line: string): string[] {
  return line.split(';').map((f) => f.trim());
}

/** MAX_EXAMPLES: skipped rows quoted in a report. */
const MAX_EXAMPLES = 5;

interface Row {
  line: number;
  time: number;
  cpu: number;
  mem: number;
  cores: number;
  memCapKb: number;
}

/**
 * parseBitbrains parses one GWA-T-12 CSV. `name` labels the VM; `file` (default: name) is what errors and
 * the report cite. Example: parseBitbrains(readFileSync('vm1.csv', 'utf8'), 'vm1').cpuCores[0] ≈ 0.03.
 */
export function parseBitbrains(text: string, name: string, file: string = name, opts: ReadOptions = {}): UsageTrace {
  const strict = !!opts.strict;
  const lines = text.split('\n');
  const header = splitFields((lines[0] ?? '').replace(/\r$/, ''));
  const index = {} as Record<ColKey, number>;
  const normalized = header.map(normalizeName);
  for (const key of Object.keys(COL) as ColKey[]) {
    const i = normalized.indexOf(normalizeName(COL[key]));
    if (i < 0) {
      throw new TraceParseError(
        file,
        1,
        `header has no column "${COL[key]}"; the first line must be the GWA-T-12 header ` +
          `("${Object.values(COL).join(';\t')};\t…")`,
        COL[key],
      );
    }
    index[key] = i;
  }

  const report: ReadReport = { input: file, rows: 0, samples: 0, skipped: {}, merged: 0, reordered: 0, gaps: 0, longestGapSec: 0, examples: [] };
  const skip = (line: number, why: string, detail: string, field?: string): void => {
    if (strict) throw new TraceParseError(file, line, detail, field);
    report.skipped[why] = (report.skipped[why] ?? 0) + 1;
    if (report.examples.length < MAX_EXAMPLES) report.examples.push({ line, reason: `${why}: ${detail}` });
  };

  const rows: Row[] = [];
  let lastTime = -Infinity;
  let lastTimeLine = 0;
  for (let li = 1; li < lines.length; li++) {
    const lineNo = li + 1;
    const raw = lines[li]!.replace(/\r$/, '');
    if (raw.trim() === '') {
      if (li === lines.length - 1) break; // the empty line after the final newline
      report.rows++;
      skip(lineNo, 'blank', 'empty line inside the data; delete it');
      continue;
    }
    report.rows++;
    const fields = splitFields(raw);
    if (fields.length !== header.length) {
      skip(lineNo, 'malformed', `expected ${header.length} fields separated by ';' but found ${fields.length}; the row is truncated or has a stray ';' — repair or delete it`);
      continue;
    }
    const values = {} as Record<ColKey, number>;
    let bad: ColKey | null = null;
    for (const key of Object.keys(COL) as ColKey[]) {
      const str = fields[index[key]]!;
      const v = str === '' ? NaN : Number(str);
      values[key] = v;
      if (!Number.isFinite(v) || v < 0) {
        bad = key;
        break;
      }
    }
    if (bad) {
      skip(lineNo, 'invalid value', `column "${COL[bad]}" is "${fields[index[bad]]}", expected a number ≥ 0; correct the value or delete the row`, COL[bad]);
      continue;
    }
    if (values.cores === 0 || values.cpuCapacityMhz === 0) {
      const col = values.cores === 0 ? 'cores' : 'cpuCapacityMhz';
      skip(lineNo, 'switched off', `column "${COL[col]}" is "${fields[index[col]]}", expected a number > 0 (the VM is switched off in this row); delete the row`, COL[col]);
      continue;
    }
    if (values.time < lastTime) {
      if (strict) throw new TraceParseError(file, lineNo, `timestamp ${values.time} is earlier than ${lastTime} on line ${lastTimeLine}; sort the rows by "${COL.time}"`, COL.time);
      report.reordered++;
    } else {
      lastTime = values.time;
      lastTimeLine = lineNo;
    }
    rows.push({ line: lineNo, time: values.time, cpu: values.cpuUsageMhz / (values.cpuCapacityMhz / values.cores), mem: values.memUsageKb * KIB, cores: values.cores, memCapKb: values.memCapacityKb });
  }
  if (report.reordered) rows.sort((x, y) => x.time - y.time || x.line - y.line); // stable: equal times keep file order

  const t: number[] = [];
  const cpu: number[] = [];
  const mem: number[] = [];
  const coresSeen = new Map<number, { count: number; last: number }>();
  const memCapSeen = new Map<number, { count: number; last: number }>();
  let dupCount = 1;
  for (const r of rows) {
    const k = t.length - 1;
    if (k >= 0 && r.time === t[k]) {
      // Repeated timestamp: one sample, CPU the running mean, memory the maximum.
      dupCount++;
      cpu[k] = cpu[k]! + (r.cpu - cpu[k]!) / dupCount;
      if (r.mem > mem[k]!) mem[k] = r.mem;
      report.merged++;
      continue;
    }
    dupCount = 1;
    t.push(r.time);
    cpu.push(r.cpu);
    mem.push(r.mem);
    tally(coresSeen, r.cores, t.length);
    tally(memCapSeen, r.memCapKb, t.length);
  }
  report.samples = t.length;
  countGaps(t, report);
  return {
    name,
    timestampsSec: Float64Array.from(t),
    cpuCores: Float64Array.from(cpu),
    memoryBytes: Float64Array.from(mem),
    provisioned: t.length ? { cpuCores: mode(coresSeen), memoryBytes: mode(memCapSeen) * KIB } : null,
    report,
  };
}

/** countGaps counts steps longer than 3 × the median step (5 min → gaps over 15 min) and the longest. */
function countGaps(t: number[], report: ReadReport): void {
  if (t.length < 3) return;
  const steps = t.slice(1).map((x, i) => x - t[i]!);
  const median = [...steps].sort((a, b) => a - b)[steps.length >> 1]!;
  for (const d of steps) {
    if (d > 3 * median) {
      report.gaps++;
      if (d > report.longestGapSec) report.longestGapSec = d;
    }
  }
}

function tally(seen: Map<number, { count: number; last: number }>, value: number, rowIndex: number): void {
  const e = seen.get(value);
  if (e) {
    e.count++;
    e.last = rowIndex;
  } else {
    seen.set(value, { count: 1, last: rowIndex });
  }
}

/** mode: the most frequent value; ties go to the value seen last. NaN when there are no rows. */
function mode(seen: Map<number, { count: number; last: number }>): number {
  let best = NaN;
  let bestCount = 0;
  let bestLast = -1;
  for (const [value, { count, last }] of seen) {
    if (count > bestCount || (count === bestCount && last > bestLast)) {
      best = value;
      bestCount = count;
      bestLast = last;
    }
  }
  return best;
}

/** traceName: "vm20.csv.gz" → "vm20". */
const traceName = (file: string) => basename(file).replace(/\.csv(\.gz)?$/i, '');
const isTraceFile = (f: string) => /\.csv(\.gz)?$/i.test(f);

/** listTraceFiles expands folders into their .csv / .csv.gz files, in natural name order (vm1, vm2, …, vm10). */
export function listTraceFiles(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UserError(`--input ${p} does not exist; give a folder of Bitbrains .csv / .csv.gz files, or such files`);
    }
    if (st.isDirectory()) {
      out.push(...readdirSync(p).filter((f) => isTraceFile(f) && !statSync(join(p, f)).isDirectory()).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).map((f) => join(p, f)));
    } else if (isTraceFile(p)) {
      out.push(p);
    } else {
      throw new UserError(`--input ${p} is not a .csv or .csv.gz file`);
    }
  }
  return out;
}

/** readTraceFile reads one .csv or .csv.gz file (gunzipped in memory) and parses it. */
export function readTraceFile(path: string, opts: ReadOptions = {}): UsageTrace {
  let bytes = readBytesOrThrow(path, { fix: 'give readable .csv or .csv.gz files' });
  if (/\.gz$/i.test(path)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new UserError(`${path} is not a readable gzip file (${(e as Error).message}); re-download or gunzip it yourself`);
    }
  }
  const trace = parseBitbrains(bytes.toString('utf8'), traceName(path), path, opts);
  opts.log?.(summarizeReport(trace.report));
  return trace;
}

/** bitbrains: the UsageSource. read(['../shared/data/bitbrains-250']) → 250 traces. */
export const bitbrains: UsageSource = {
  name: 'bitbrains',
  describe: 'Bitbrains GWA-T-12 VM traces: folders or files of .csv / .csv.gz, one VM per file',
  read(paths: string[], opts: ReadOptions = {}): UsageTrace[] {
    return listTraceFiles(paths)
      .filter((f) => !opts.select || opts.select(traceName(f)))
      .map((f) => readTraceFile(f, opts));
  },
};

/** loadBitbrainsDir reads every trace file in dir (see bitbrains.read). */
export function loadBitbrainsDir(dir: string, opts: ReadOptions = {}): UsageTrace[] {
  return bitbrains.read([dir], opts);
}
