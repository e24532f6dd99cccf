/**
 * data: reads a job table (one CSV per data set) and splits it the way reality does.
 *
 * Two formats, told apart by the header (formatOf):
 *   build-jobs  ';'-separated, a `time` column, target `max_rss` (bytes), `memreq` (MiB, what was requested);
 *               the attributes are the ones known when the job is submitted (BUILD_JOB_ATTRIBUTES); ids
 *               and outcomes (atom_id, cgroup, memory_fail_count, ts_status, max_cache) are never inputs.
 *   galaxy      ','-separated, target `memory.max_usage_in_bytes`; every other column is an attribute:
 *               a column whose every value is a number is a number (input sizes, 0 = absent), any other
 *               a category ('nan' and '?' are categories like the rest). This holds for any Galaxy tool's
 *               CSV, so a tool this project has never seen reads the same way.
 *
 * Splits (splitJobs): chronological 80/20 when there is a time column (train on the past, hold out the
 * last 20%, as a live simulation would), else a seeded random 80/20 (seed JOB_SPLIT_SEED).
 */
import { basename } from 'node:path';
import { sha256Hex } from '../../util/hash.js';
import { InputError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { MiB } from '../../core/units.js';
import { readTextOrThrow } from '../../util/read.js';

/** JobDataError: a job table that cannot be read (names the file, the line and the fix). */
export class JobDataError extends InputError {}

export type AttributeKind = 'number' | 'category' | 'list';

/** AttributeDef: one raw job attribute and how it is read. A list is split at `separator` ("all,dist"). */
export interface AttributeDef {
  name: string;
  kind: AttributeKind;
  separator?: string;
}

export type JobFormat = 'build-jobs' | 'galaxy';

/** BUILD_JOB_ATTRIBUTES: what is known about a build job before it runs. */
export const BUILD_JOB_ATTRIBUTES: readonly AttributeDef[] = [
  { name: 'location', kind: 'category' },
  { name: 'branch', kind: 'category' },
  { name: 'buildProfile', kind: 'category' },
  { name: 'jobs', kind: 'number' },
  { name: 'localJobs', kind: 'number' },
  { name: 'makeType', kind: 'category' },
  { name: 'targets', kind: 'list', separator: ',' },
  { name: 'component', kind: 'category' },
  { name: 'ts_phase', kind: 'category' },
];

/** JobTable: the rows of one file; `values[a][i]` is attribute a's raw text in row i. */
export interface JobTable {
  path: string;
  sha256: string;
  format: JobFormat;
  /** the data set's name: the file's stem ("bowtie2") */
  dataset: string;
  header: string[];
  /** the file's data lines, verbatim (the hold-out is written from them) */
  lines: string[];
  attributes: AttributeDef[];
  values: Record<string, string[]>;
  /** the target: peak memory in bytes */
  peak: Float64Array;
  /** what was requested, in bytes (build jobs' memreq), or null */
  requested: Float64Array | null;
  /** ms since the epoch (build jobs), or null */
  time: Float64Array | null;
  n: number;
}

/** formatOf tells the format from a header line. */
export function formatOf(headerLine: string, path: string): JobFormat {
  if (headerLine.includes(';') && headerLine.split(';').includes('max_rss')) return 'build-jobs';
  if (headerLine.split(',')[0] === 'memory.max_usage_in_bytes') return 'galaxy';
  throw new JobDataError(`${path}: not a job table: expected a build-jobs header (';'-separated, with max_rss) or a Galaxy one (first column memory.max_usage_in_bytes)`);
}

const isNumber = (s: string) => s.trim() !== '' && Number.isFinite(Number(s));

/** readJobTable reads a job CSV (either format). Throws JobDataError naming the file and line. */
export function readJobTable(path: string): JobTable {
  const text = readTextOrThrow(path, { fix: 'give a job CSV such as ../shared/data/galaxy/bowtie2.csv', error: JobDataError });
  const all = text.split(/\r?\n/);
  const headerLine = all[0] ?? '';
  const format = formatOf(headerLine, path);
  const sep = format === 'build-jobs' ? ';' : ',';
  const header = headerLine.split(sep);
  const lines = all.slice(1).filter((l) => l.trim() !== '');
  if (lines.length < 50) throw new JobDataError(`${path}: has ${lines.length} jobs; at least 50 are needed`);
  const cells = lines.map((l, i) => {
    const c = l.split(sep);
    if (c.length !== header.length) throw new JobDataError(`${path}:${i + 2}: has ${c.length} fields, the header ${header.length} (separator '${sep}')`);
    return c;
  });
  const col = (name: string) => {
    const j = header.indexOf(name);
    if (j < 0) throw new JobDataError(`${path}: has no column ${name}`);
    return cells.map((c) => c[j]!);
  };
  const target = format === 'build-jobs' ? 'max_rss' : 'memory.max_usage_in_bytes';
  const peak = Float64Array.from(col(target), (s, i) => {
    const v = Number(s);
    if (!(v > 0)) throw new JobDataError(`${path}:${i + 2}: ${target} is '${s}'; it must be a positive number of bytes`);
    return v;
  });
  let attributes: AttributeDef[];
  let requested: Float64Array | null = null;
  let time: Float64Array | null = null;
  if (format === 'build-jobs') {
    attributes = [...BUILD_JOB_ATTRIBUTES];
    requested = Float64Array.from(col('memreq'), (s) => Number(s) * MiB);
    time = Float64Array.from(col('time'), (s, i) => {
      const t = Date.parse(s.replace(' ', 'T') + 'Z');
      if (!Number.isFinite(t)) throw new JobDataError(`${path}:${i + 2}: time '${s}' is not a date`);
      return t;
    });
  } else {
    attributes = header.slice(1).map((name) => ({ name, kind: col(name).every(isNumber) ? 'number' : 'category' }));
  }
  const values: Record<string, string[]> = {};
  for (const a of attributes) values[a.name] = col(a.name);
  return { path, sha256: sha256Hex(text), format, dataset: basename(path).replace(/\.csv$/, ''), header, lines, attributes, values, peak, requested, time, n: lines.length };
}

/** The seed of Galaxy's random 80/20 split (the project's validation seed). */
export const JOB_SPLIT_SEED = 20261123;
export const TRAIN_SHARE = 0.8;

/** JobSplit: row indices of the training 80% and the hold-out 20%, and how they were made. */
export interface JobSplit {
  kind: 'chronological' | 'random';
  seed: number | null;
  train: number[];
  holdout: number[];
}

/**
 * splitJobs: chronological when the table has times (rows sorted by time, ties by file order; the first
 * 80% train), else a seeded shuffle (JOB_SPLIT_SEED). 4,598 build jobs → 3,678 train, 920 held out.
 */
export function splitJobs(t: JobTable): JobSplit {
  const idx = Array.from({ length: t.n }, (_, i) => i);
  const nTrain = Math.round(t.n * TRAIN_SHARE);
  if (t.time) {
    const time = t.time;
    idx.sort((a, b) => time[a]! - time[b]! || a - b);
    return { kind: 'chronological', seed: null, train: idx.slice(0, nTrain), holdout: idx.slice(nTrain) };
  }
  const rng = new Rng(JOB_SPLIT_SEED);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return { kind: 'random', seed: JOB_SPLIT_SEED, train: idx.slice(0, nTrain).sort((a, b) => a - b), holdout: idx.slice(nTrain).sort((a, b) => a - b) };
}

/** holdoutCsv: the header and the held-out lines, verbatim (written beside the model for replay). */
export function holdoutCsv(t: JobTable, rows: readonly number[]): string {
  const sep = t.format === 'build-jobs' ? ';' : ',';
  return [t.header.join(sep), ...rows.map((i) => t.lines[i]!)].join('\n') + '\n';
}

/** rawRow: row i's attributes as a request would send them (numbers as numbers, lists as arrays). */
export function rawRow(t: JobTable, i: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const a of t.attributes) {
    const s = t.values[a.name]![i]!;
    o[a.name] = a.kind === 'number' ? Number(s) : a.kind === 'list' ? s.split(a.separator ?? ',').filter((x) => x !== '') : s;
  }
  return o;
}
