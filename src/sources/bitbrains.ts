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
 * Steps: find the columns in the header, read the rows (skipping or, with `strict`, refusing bad ones),
 * put them in time order, merge repeated timestamps into one sample, count the gaps.
 */
export function parseBitbrains(text: string, name: string, file: string = name, opts: ReadOptions = {}): UsageTrace {
  const strict = !!opts.strict;
  const lines = text.split('\n');
  const header = splitFields((lines[0] ?? '').replace(/\r$/, ''));
  const index = columnIndex(header, file);
  const report: ReadReport = { input: file, rows: 0, samples: 0, skipped: {}, merged: 0, reordered: 0, gaps: 0, longestGapSec: 0, examples: [] };
  const rows = readRows(lines, header.length, index, { file, strict, report });
  if (report.reordered) rows.sort((x, y) => x.time - y.time || x.line - y.line); // stable: equal times keep file order
  const s = mergeSamples(rows, report);
  report.samples = s.t.length;
  countGaps(s.t, report);
  return {
    name,
    timestampsSec: Float64Array.from(s.t),
    cpuCores: Float64Array.from(s.cpu),
    memoryBytes: Float64Array.from(s.mem),
    provisioned: s.t.length ? { cpuCores: mode(s.coresSeen), memoryBytes: mode(s.memCapSeen) * KIB } : null,
    report,
  };
}

/** columnIndex: where each GWA-T-12 column is in the header (case and spacing folded); a missing one is refused by name. */
function columnIndex(header: readonly string[], file: string): Record<ColKey, number> {
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
  return index;
}

/** Reading: the file being read, whether a bad row is refused (strict) or skipped, and the report counting them. */
interface Reading {
  file: string;
  strict: boolean;
  report: ReadReport;
}

/** skipRow counts a skipped row under `why` and quotes the first MAX_EXAMPLES; in strict mode it throws instead. */
function skipRow(r: Reading, line: number, why: string, detail: string, field?: string): void {
  if (r.strict) throw new TraceParseError(r.file, line, detail, field);
  r.report.skipped[why] = (r.report.skipped[why] ?? 0) + 1;
  if (r.report.examples.length < MAX_EXAMPLES) r.report.examples.push({ line, reason: `${why}: ${detail}` });
}

/**
 * readRows reads the data lines into rows (CPU in cores, memory in bytes), in file order. Blank,
 * malformed, invalid and switched-off rows are skipped (named in the report); rows out of time order are
 * counted as reordered (refused when strict).
 */
function readRows(lines: readonly string[], width: number, index: Record<ColKey, number>, r: Reading): Row[] {
  const { file, strict, report } = r;
  const rows: Row[] = [];
  let lastTime = -Infinity;
  let lastTimeLine = 0;
  for (let li = 1; li < lines.length; li++) {
    const lineNo = li + 1;
    const raw = lines[li]!.replace(/\r$/, '');
    if (raw.trim() === '') {
      if (li === lines.length - 1) break; // the empty line after the final newline
      report.rows++;
      skipRow(r, lineNo, 'blank', 'empty line inside the data; delete it');
      continue;
    }
    report.rows++;
    const values = rowValues(splitFields(raw), width, index, lineNo, r);
    if (!values) continue;
    if (values.time < lastTime) {
      if (strict) throw new TraceParseError(file, lineNo, `timestamp ${values.time} is earlier than ${lastTime} on line ${lastTimeLine}; sort the rows by "${COL.time}"`, COL.time);
      report.reordered++;
    } else {
      lastTime = values.time;
      lastTimeLine = lineNo;
    }
    rows.push({ line: lineNo, time: values.time, cpu: values.cpuUsageMhz / (values.cpuCapacityMhz / values.cores), mem: values.memUsageKb * KIB, cores: values.cores, memCapKb: values.memCapacityKb });
  }
  return rows;
}

/**
 * rowValues reads a row's columns as numbers, or skips the row (null): a wrong field count, a value that
 * is not a number ≥ 0, or a switched-off VM (0 cores or 0 MHz capacity).
 */
function rowValues(fields: readonly string[], width: number, index: Record<ColKey, number>, lineNo: number, r: Reading): Record<ColKey, number> | null {
  if (fields.length !== width) {
    skipRow(r, lineNo, 'malformed', `expected ${width} fields separated by ';' but found ${fields.length}; the row is truncated or has a stray ';' — repair or delete it`);
    return null;
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
    skipRow(r, lineNo, 'invalid value', `column "${COL[bad]}" is "${fields[index[bad]]}", expected a number ≥ 0; correct the value or delete the row`, COL[bad]);
    return null;
  }
  if (values.cores === 0 || values.cpuCapacityMhz === 0) {
    const col = values.cores === 0 ? 'cores' : 'cpuCapacityMhz';
    skipRow(r, lineNo, 'switched off', `column "${COL[col]}" is "${fields[index[col]]}", expected a number > 0 (the VM is switched off in this row); delete the row`, COL[col]);
    return null;
  }
  return values;
}

/** Samples: one per distinct timestamp, with how often each core count and memory capacity was seen. */
interface Samples {
  t: number[];
  cpu: number[];
  mem: number[];
  coresSeen: Map<number, { count: number; last: number }>;
  memCapSeen: Map<number, { count: number; last: number }>;
}

/** mergeSamples turns time-ordered rows into samples: a repeated timestamp is one sample, CPU the running mean, memory the maximum. */
function mergeSamples(rows: readonly Row[], report: ReadReport): Samples {
  const s: Samples = { t: [], cpu: [], mem: [], coresSeen: new Map(), memCapSeen: new Map() };
  const { t, cpu, mem } = s;
  let dupCount = 1;
  for (const r of rows) {
    const k = t.length - 1;
    if (k >= 0 && r.time === t[k]) {
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
    tally(s.coresSeen, r.cores, t.length);
    tally(s.memCapSeen, r.memCapKb, t.length);
  }
  return s;
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
