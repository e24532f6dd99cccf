/**
 * training: what `npm run train` reads for a job-memory family. prepareJobTraining splits the data set
 * (data.ts), writes the hold-out beside the model (holdout.csv, split.json), learns the preprocessing from
 * the training 80% and fixes the task from the strategy (a search's summary file, or DEFAULT_STRATEGY);
 * the family it returns reads the training rows encoded with that preprocessing.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeRow } from '../../core/contract.js';
import type { ModelContract } from '../../core/contract.js';
import type { DataSource, TrainingSet } from '../../core/family.js';
import { writeFileAtomic } from '../../util/fs-atomic.js';
import { UserError } from '../../util/errors.js';
import { holdoutCsv, readJobTable, splitJobs } from './data.js';
import type { JobSplit, JobTable } from './data.js';
import { contractOf, encodeRaw, fitSpec } from './spec.js';
import type { JobSpec, Strategy } from './spec.js';
import { jobLabels } from './objective.js';

/** DEFAULT_STRATEGY: used without --strategy (a 0.95-quantile regression, ×1.1). */
export const DEFAULT_STRATEGY: Strategy = {
  hidden: [32, 16],
  learningRate: 0.003,
  batchSize: 128,
  epochs: 200,
  patience: 20,
  seed: 1,
  task: { type: 'regression', objective: 'quantile', quantile: 0.95, safety: 1.1 },
};

/** readStrategy reads a search summary (its `best.strategy`) or a bare Strategy file. */
export function readStrategy(path: string): Strategy {
  let j: { best?: { strategy?: Strategy } } & Partial<Strategy>;
  try {
    j = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`--strategy ${path}: cannot read it as JSON (${(e as Error).message}); give the summary file npm run search wrote`);
  }
  const s = (j.best?.strategy ?? j) as Strategy;
  const tree = !!s.model && s.model.kind !== 'network';
  if (!Array.isArray(s.hidden) || !s.task || !(tree || s.learningRate > 0)) throw new UserError(`--strategy ${path}: has no strategy (hidden, learningRate, task); give the summary file npm run search wrote`);
  return s;
}

/** encodeRows: the normalized contract inputs of table rows. */
export function encodeRows(s: JobSpec, c: ModelContract, t: JobTable, rows: readonly number[]): Float32Array {
  const w = c.inputs.length;
  const X = new Float32Array(rows.length * w);
  const real = new Float64Array(w);
  rows.forEach((r, k) => {
    const raw: Record<string, unknown> = {};
    for (const a of s.attributes) raw[a.name] = t.values[a.name]![r]!;
    encodeRaw(s, raw, real);
    normalizeRow(c.inputs, real, X, k * w);
  });
  return X;
}

/** trainingSetOf: the spec's training rows of a table, encoded and labelled. */
export function trainingSetOf(s: JobSpec, t: JobTable, rows: readonly number[]): TrainingSet {
  const c = contractOf(s);
  const { Y, aux, width } = jobLabels(s, rows.map((i) => t.peak[i]!));
  return {
    X: encodeRows(s, c, t, rows), Y, aux, weight: new Float32Array(rows.length).fill(1), n: rows.length,
    widths: { x: c.inputs.length, y: width, aux: 2 },
    groups: null,
    sources: [{ path: t.path, sha256: t.sha256, rows: rows.length, weight: 1, info: { dataset: t.dataset, format: t.format, split: `${s.training.split} 80% (of ${t.n})` } }],
  };
}

/** oneSource: a job family trains on exactly one data set. */
export function oneSource(data: DataSource[]): string {
  if (data.length !== 1) throw new UserError(`--data: a job-memory family trains on exactly one job CSV, got ${data.length}`);
  return data[0]!.path;
}

export interface PreparedJobTraining {
  spec: JobSpec;
  table: JobTable;
  split: JobSplit;
  strategy: Strategy;
}

/** prepareJobTraining: split, write the hold-out to `output`, fit the spec (see the module header). */
export function prepareJobTraining(familyName: string | null, data: DataSource[], strategy: Strategy, output: string | null): PreparedJobTraining {
  const table = readJobTable(oneSource(data));
  const split = splitJobs(table);
  const spec = fitSpec(familyName ?? `job-memory/${table.dataset}`, table, split.train, strategy, split);
  if (output) {
    mkdirSync(output, { recursive: true });
    writeFileAtomic(join(output, 'holdout.csv'), holdoutCsv(table, split.holdout));
    writeFileAtomic(join(output, 'split.json'), JSON.stringify({ data: table.path, sha256: table.sha256, kind: split.kind, seed: split.seed, train: split.train, holdout: split.holdout }) + '\n');
  }
  return { spec, table, split, strategy };
}
