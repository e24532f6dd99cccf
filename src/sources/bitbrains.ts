/**
 * traces/bitbrains: parser for the Bitbrains GWA-T-12 "rnd" VM traces (one CSV per VM, 5-minute rows;
 * see ../shared/data/bitbrains/SOURCE.txt).
 *
 * Format: a header, then rows whose fields are separated by ';' followed by a TAB:
 *   Timestamp [ms]; CPU cores; CPU capacity provisioned [MHZ]; CPU usage [MHZ]; CPU usage [%];
 *   Memory capacity provisioned [KB]; Memory usage [KB]; Disk read/write [KB/s]; Network rx/tx [KB/s]
 * Columns are found by header name, so their order does not matter; every row must have as many fields as
 * the header.
 *
 * Conversions:
 * - time: "Timestamp [ms]" holds epoch SECONDS despite its name (1372629804 = 2013-07-01); used as is.
 * - CPU used, cores = usage MHz / (capacity MHz / cores), the row's own MHz per core.
 *   vm1 row 1: 87.78 MHz / (5851.9989 MHz / 2) = 87.78 / 2925.99945 = 0.03 cores.
 * - memory used, bytes = usage KB × 1024 (the trace's KB are KiB): 1034592.8 KB → 1 059 423 027 B.
 * - provisioned cores / memory: the MOST COMMON value of "CPU cores" / "Memory capacity provisioned [KB]"
 *   × 1024 over the rows, ties going to the value seen last. A few VMs change capacity mid-trace (vm1:
 *   8 218 624 KB for 295 rows, then 8 388 608 KB for 7 962; vm4 balloons over 1 244 values); the mode is
 *   what the VM had most of the time, and for vm1 and vm4 it is also the last value.
 *
 * Errors, decided once here: a row with the wrong number of fields, or a needed column that is empty,
 * non-numeric or negative (or a zero CPU cores / capacity, which the conversion divides by), throws
 * TraceParseError naming the file, the 1-based line, the column and the fix. We throw rather than skip
 * because a silently shortened trace shifts every window the evaluation cuts from it. The one exception is
 * the empty line after the final newline, which every file has. Rows must be in time order: a timestamp
 * lower than the previous one throws; an EQUAL timestamp keeps the first row and records the later one in
 * skippedRows. Columns we do not use (disk, network, CPU %) are not checked.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../util/errors.js';

/** BitbrainsVm is one VM's trace in project units (seconds, cores, bytes). */
export interface BitbrainsVm {
  name: string;
  timestampsSec: Float64Array;
  cpuCores: Float64Array;
  memoryBytes: Float64Array;
  provisionedCores: number;
  provisionedMemoryBytes: number;
  skippedRows: { line: number; reason: string }[];
}

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

/**
 * parseBitbrains parses one GWA-T-12 CSV. `name` labels the VM; `file` (default: name) is what errors cite.
 * Example: parseBitbrains(readFileSync('vm1.csv', 'utf8'), 'vm1').cpuCores[0] ≈ 0.03.
 */
export function parseBitbrains(text: string, name: string, file: string = name): BitbrainsVm {
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

  const t: number[] = [];
  const cpu: number[] = [];
  const mem: number[] = [];
  const coresSeen = new Map<number, { count: number; last: number }>();
  const memCapSeen = new Map<number, { count: number; last: number }>();
  const skippedRows: { line: number; reason: string }[] = [];
  let lastTime = -Infinity;
  let lastTimeLine = 0;

  for (let li = 1; li < lines.length; li++) {
    const lineNo = li + 1;
    const raw = lines[li]!.replace(/\r$/, '');
    if (raw.trim() === '') {
      if (li === lines.length - 1) break; // the empty line after the final newline
      throw new TraceParseError(file, lineNo, 'empty line inside the data; delete it', undefined);
    }
    const fields = splitFields(raw);
    if (fields.length !== header.length) {
      throw new TraceParseError(
        file,
        lineNo,
        `expected ${header.length} fields separated by ';' but found ${fields.length}; ` +
          'the row is truncated or has a stray \';\' — repair or delete it',
      );
    }
    const num = (key: ColKey, positive: boolean): number => {
      const s = fields[index[key]]!;
      const v = s === '' ? NaN : Number(s);
      if (!Number.isFinite(v) || v < 0 || (positive && v === 0)) {
        const need = positive ? 'a number > 0' : 'a number ≥ 0';
        throw new TraceParseError(
          file,
          lineNo,
          `column "${COL[key]}" is "${s}", expected ${need}; correct the value or delete the row`,
          COL[key],
        );
      }
      return v;
    };
    const time = num('time', false);
    const cores = num('cores', true);
    const capacityMhz = num('cpuCapacityMhz', true);
    const usageMhz = num('cpuUsageMhz', false);
    const memCapKb = num('memCapacityKb', false);
    const memUsageKb = num('memUsageKb', false);

    if (time < lastTime) {
      throw new TraceParseError(
        file,
        lineNo,
        `timestamp ${time} is earlier than ${lastTime} on line ${lastTimeLine}; sort the rows by "${COL.time}"`,
        COL.time,
      );
    }
    if (time === lastTime) {
      skippedRows.push({ line: lineNo, reason: `duplicate timestamp ${time} (kept line ${lastTimeLine})` });
      continue;
    }
    lastTime = time;
    lastTimeLine = lineNo;

    t.push(time);
    cpu.push(usageMhz / (capacityMhz / cores));
    mem.push(memUsageKb * KIB);
    tally(coresSeen, cores, t.length);
    tally(memCapSeen, memCapKb, t.length);
  }

  return {
    name,
    timestampsSec: Float64Array.from(t),
    cpuCores: Float64Array.from(cpu),
    memoryBytes: Float64Array.from(mem),
    provisionedCores: mode(coresSeen),
    provisionedMemoryBytes: mode(memCapSeen) * KIB,
    skippedRows,
  };
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

/**
 * loadBitbrainsDir parses every *.csv in dir, in natural name order (vm1, vm2, …, vm10); each VM is named
 * after its file without ".csv".
 */
export function loadBitbrainsDir(dir: string): BitbrainsVm[] {
  const files = readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith('.csv'))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return files.map((f) => {
    const path = join(dir, f);
    return parseBitbrains(readFileSync(path, 'utf8'), f.replace(/\.csv$/i, ''), path);
  });
}
