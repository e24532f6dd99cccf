/**
 * spec: a job-memory model's preprocessing and decision, the JobSpec, which travels WITH the model: it
 * is the family contract's descriptor, so npm run train embeds it in the ONNX metadata ("contract") and
 * npm run export records it in the manifest entry (contract.features); the agent and the Rust module
 * encode raw attributes with it. A new vocabulary is a new contract (a major version).
 *
 * Encoding raw attributes (encodeRaw → contract inputs in real units → normalizeRow):
 *   number     one input, x + 1 on a log scale from 1 to 4 × (the training maximum + 1), clamped:
 *              an input of 0 (Galaxy's "absent") → 0; the training maximum → 1 − ln 4 / ln(4(max+1));
 *              and one-hot over its frequent exact values (seen ≥ VALUE_MIN_COUNT times, at most
 *              MAX_VALUES; a reference genome's index has one size) with `<other>` for the rest.
 *   category   one-hot over the vocabulary (training values seen ≥ MIN_COUNT times, at most MAX_VOCAB,
 *              most frequent first) and one `<other>` input: an unseen or rare value sets `<other>`
 *              (the documented fallback; the agent names such attributes in its answer, "unseen").
 *   list       multi-hot over the vocabulary of its items ("all,dist" → all=1, dist=1), `<other>` = 1
 *              when any item is outside it.
 *
 * Outputs (log bytes from memory.min to memory.max; sigmoid outputs are probabilities):
 *   regression      [mem_point, mem_quantile, confidence]: the allocation is mem_quantile × safety,
 *                   confidence P(peak ≤ allocation) as the network learned it for its own allocation
 *   classification  [mem_point, p_exceeds_0 … p_exceeds_{K−2}]: P(peak > edges[k]); the allocation is the
 *                   upper edge of the lowest bin whose exceedance probability (made monotone from the
 *                   top) is ≤ threshold, its confidence 1 − that probability
 * mem_point is a point estimate of the peak (R², MAE).
 */
import type { FieldSpec, ModelContract, Normalization } from '../../core/contract.js';
import { denormalize, normalize } from '../../core/contract.js';
import type { AttributeDef, JobFormat, JobTable } from './data.js';
import { InputError } from '../../util/errors.js';
import type { Bytes } from '../../core/units.js';

export const JOB_CONTRACT_VERSION = '1';
export const MIN_COUNT = 2;
export const MAX_VOCAB = 64;
export const OTHER = '<other>';
export const VALUE_MIN_COUNT = 3;
export const MAX_VALUES = 32;

export type EncodedAttribute =
  | { name: string; kind: 'number'; max: number; values: number[] }
  | { name: string; kind: 'category'; vocab: string[] }
  | { name: string; kind: 'list'; separator: string; vocab: string[] };

export interface RegressionTask {
  type: 'regression';
  /**
   * what mem_quantile is: pinball at `quantile` on log peak, or a smooth copy of the business score, or
   * (tree models) the point estimate itself (the allocation is then the point × safety)
   */
  objective: 'quantile' | 'cost' | 'point';
  quantile: number;
  /** allocation = mem_quantile × safety */
  safety: number;
}

export interface ClassificationTask {
  type: 'classification';
  binning: 'quantile' | 'geometric';
  /** upper edges of the K bins in bytes, ascending; the last is the training maximum */
  edges: number[];
  /** the highest acceptable exceedance probability of the chosen bin */
  threshold: number;
}

export type JobTask = RegressionTask | ClassificationTask;

/** JobSpec: see the module header. */
export interface JobSpec {
  schemaVersion: 1;
  family: string;
  format: JobFormat;
  attributes: EncodedAttribute[];
  /** the output scale (log bytes) */
  memory: { min: number; max: number };
  task: JobTask;
  /** the network's hidden widths ([] for a tree model) */
  hidden: number[];
  /**
   * the model kind: a dense network (absent: models before tree kinds), gradient-boosted trees or a random
   * forest (onnx/trees.ts: an ai.onnx.ml TreeEnsembleRegressor), with the settings it was trained with
   */
  model?: ModelKind;
  /** facts of the training split, for baselines and reports */
  training: { rows: number; maxPeak: number; meanPeak: number; split: 'chronological' | 'random'; splitSeed: number | null };
}

/** TreeSettings: how a tree model is grown (trees/boost.ts); `trees` is an upper bound for boosting. */
export interface TreeSettings {
  trees: number;
  learningRate: number;
  maxLeaves: number;
  minLeaf: number;
  featureFraction: number;
  /** boosting rounds without a better early-stopping loss before it stops (default 30) */
  patience?: number;
}

/**
 * ModelKind: a network, or trees: `gbdt` boosts mem_quantile with these settings and its point estimate
 * with `point` (default: the same settings); `forest` is a random forest of these settings.
 */
export type ModelKind = { kind: 'network' } | ({ kind: 'gbdt' | 'forest' } & TreeSettings & { point?: TreeSettings });

/** Strategy: what a search chooses (and `train --strategy` reads); the rest of the spec comes from the data. */
export interface Strategy {
  /** the model kind (absent: a network with the settings below) */
  model?: ModelKind;
  hidden: number[];
  learningRate: number;
  batchSize: number;
  epochs: number;
  patience: number;
  seed: number;
  task: { type: 'regression'; objective: 'quantile' | 'cost' | 'point'; quantile: number; safety: number } | { type: 'classification'; binning: 'quantile' | 'geometric'; bins: number; threshold: number };
}

const countOf = (xs: Iterable<string>) => {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
};

/** vocabulary: the values seen ≥ MIN_COUNT times, most frequent first (ties by name), at most MAX_VOCAB. */
export function vocabulary(values: Iterable<string>): string[] {
  return [...countOf(values)].filter(([, c]) => c >= MIN_COUNT).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, MAX_VOCAB).map(([v]) => v);
}

/** quantileEdges: K upper edges at the k/K quantiles of the peaks (duplicates dropped), the last the max. */
export function binEdges(peaks: readonly number[], binning: 'quantile' | 'geometric', bins: number): number[] {
  const s = [...peaks].sort((a, b) => a - b);
  const max = s.at(-1)!;
  const min = s[0]!;
  const edges: number[] = [];
  for (let k = 1; k <= bins; k++) {
    const e = binning === 'quantile' ? s[Math.min(s.length - 1, Math.ceil((k / bins) * s.length) - 1)]! : min * Math.pow(max / min, k / bins);
    if (k === bins) edges.push(max);
    else if (!edges.length || e > edges.at(-1)!) edges.push(e);
  }
  return [...new Set(edges)];
}

/** fitSpec learns the preprocessing from the training rows and fixes the task from a strategy. */
export function fitSpec(family: string, t: JobTable, rows: readonly number[], st: Strategy, split: { kind: 'chronological' | 'random'; seed: number | null }): JobSpec {
  const attributes: EncodedAttribute[] = t.attributes.map((a: AttributeDef): EncodedAttribute => {
    const vs = rows.map((i) => t.values[a.name]![i]!);
    if (a.kind === 'number') {
      const values = [...countOf(vs.map((v) => String(Number(v))))].filter(([, c]) => c >= VALUE_MIN_COUNT).sort((x, y) => y[1] - x[1] || Number(x[0]) - Number(y[0])).slice(0, MAX_VALUES).map(([v]) => Number(v));
      return { name: a.name, kind: 'number', max: Math.max(0, ...vs.map(Number)), values };
    }
    if (a.kind === 'list') return { name: a.name, kind: 'list', separator: a.separator ?? ',', vocab: vocabulary(vs.flatMap((v) => v.split(a.separator ?? ',').filter((x) => x !== ''))) };
    return { name: a.name, kind: 'category', vocab: vocabulary(vs) };
  });
  const peaks = rows.map((i) => t.peak[i]!);
  const maxPeak = Math.max(...peaks);
  const minPeak = Math.min(...peaks);
  const task: JobTask = st.task.type === 'regression'
    ? { ...st.task }
    : { type: 'classification', binning: st.task.binning, edges: binEdges(peaks, st.task.binning, st.task.bins), threshold: st.task.threshold };
  return {
    schemaVersion: 1,
    family,
    format: t.format,
    attributes,
    memory: { min: 2 ** Math.floor(Math.log2(minPeak / 2)), max: 2 ** Math.ceil(Math.log2(maxPeak * 2)) },
    task,
    hidden: st.model && st.model.kind !== 'network' ? [] : [...st.hidden],
    ...(st.model && st.model.kind !== 'network' ? { model: { ...st.model } } : {}),
    training: { rows: rows.length, maxPeak, meanPeak: peaks.reduce((a, b) => a + b, 0) / peaks.length, split: split.kind, splitSeed: split.seed },
  };
}

/** memoryNorm: the output scale of a spec. */
export const memoryNorm = (s: JobSpec): Normalization => ({ type: 'log', min: s.memory.min, max: s.memory.max });

/** inputFields: the contract's inputs, in order (one per number, one per vocabulary value and `<other>`). */
export function inputFields(s: JobSpec): FieldSpec[] {
  const onehot = (a: string, v: string): FieldSpec => ({ name: `${a}=${v}`, unit: 'indicator', description: v === OTHER ? `${a} is a value outside the vocabulary` : `${a} is (or contains) ${v}`, normalization: { type: 'linear', min: 0, max: 1 } });
  return s.attributes.flatMap((a): FieldSpec[] => a.kind === 'number'
    ? [{ name: a.name, unit: 'value + 1', description: `${a.name} + 1 on a log scale (training maximum ${a.max})`, normalization: { type: 'log', min: 1, max: 4 * (a.max + 1) } }, ...(a.values.length ? [...a.values.map((v) => onehot(a.name, String(v))), onehot(a.name, OTHER)] : [])]
    : [...a.vocab.map((v) => onehot(a.name, v)), onehot(a.name, OTHER)]);
}

/** outputFields: the contract's outputs for the spec's task. */
export function outputFields(s: JobSpec): FieldSpec[] {
  const mem = memoryNorm(s);
  const prob: Normalization = { type: 'linear', min: 0, max: 1 };
  const point: FieldSpec = { name: 'mem_point', unit: 'bytes', description: 'point estimate of the peak', normalization: mem };
  if (s.task.type === 'regression') {
    return [point, { name: 'mem_quantile', unit: 'bytes', description: `the peak's ${s.task.objective === 'quantile' ? `${s.task.quantile} quantile` : s.task.objective === 'cost' ? 'cost-aware allocation' : 'point estimate'} (before × safety)`, normalization: mem }, { name: 'confidence', unit: 'probability', description: 'P(peak ≤ allocation)', normalization: prob }];
  }
  return [point, ...s.task.edges.slice(0, -1).map((e, k) => ({ name: `p_exceeds_${k}`, unit: 'probability', description: `P(peak > ${Math.round(e)} bytes)`, normalization: prob }))];
}

/** contractOf: the ModelContract of a spec; its descriptor is the whole spec. */
export function contractOf(s: JobSpec): ModelContract {
  const outputs = outputFields(s);
  return {
    family: s.family,
    version: JOB_CONTRACT_VERSION,
    inputs: inputFields(s),
    outputs,
    hidden: s.hidden,
    sigmoid: s.task.type === 'regression' ? [2] : outputs.slice(1).map((_, k) => k + 1),
    descriptor: () => ({ contractVersion: JOB_CONTRACT_VERSION, jobSpec: s }),
  };
}

/** specFromDescriptor reads a JobSpec back from a model's embedded contract (its metadata). */
export function specFromDescriptor(d: unknown, label: string): JobSpec {
  const s = (d as { jobSpec?: JobSpec } | null)?.jobSpec;
  if (!s || s.schemaVersion !== 1 || !Array.isArray(s.attributes) || !s.task || !s.memory) throw new InputError(`${label}: has no job-memory preprocessing (contract.jobSpec, schema 1) in its metadata; is it a model of the job-memory family, trained by npm run train?`);
  return s;
}

/** EncodeProblem: why a raw attribute could not be encoded (`field` is the attribute's name). */
export class EncodeProblem extends InputError {
  constructor(readonly field: string, readonly problem: string) {
    super(`${field}: ${problem}`);
  }
}

/**
 * encodeRaw writes the contract inputs in real units (x + 1 for numbers, 0/1 indicators) of one job's raw
 * attributes into `out`; returns the attributes whose value fell back to `<other>`. Every attribute of
 * the spec is required; an attribute the spec does not know is refused (EncodeProblem).
 * Example (build jobs): {makeType: "opt", targets: ["all", "dist"], jobs: 500, …} → makeType=opt 1,
 * targets=all 1, targets=dist 1, jobs 501, ….
 */
export function encodeRaw(s: JobSpec, raw: Record<string, unknown>, out: Float64Array): string[] {
  out.fill(0);
  const unseen: string[] = [];
  for (const k in raw) if (!s.attributes.some((a) => a.name === k)) throw new EncodeProblem(k, `is not an attribute of ${s.family} (its attributes: ${s.attributes.map((a) => a.name).join(', ')})`);
  let j = 0;
  for (const a of s.attributes) {
    const v = raw[a.name];
    if (v === undefined) throw new EncodeProblem(a.name, `is missing; ${s.family} needs every attribute (${a.kind === 'number' ? 'a number ≥ 0' : a.kind === 'list' ? `a list of strings or one '${a.separator}'-separated string` : 'a string'})`);
    if (a.kind === 'number') {
      const x = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
      if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw new EncodeProblem(a.name, `is ${JSON.stringify(v)}; give a number ≥ 0`);
      out[j++] = x + 1;
      if (a.values.length) {
        const p = a.values.indexOf(x);
        out[j + (p < 0 ? a.values.length : p)] = 1;
        j += a.values.length + 1;
      }
      continue;
    }
    const items = a.kind === 'list'
      ? (Array.isArray(v) ? v : typeof v === 'string' ? v.split(a.separator).filter((x) => x !== '') : null)
      : (typeof v === 'string' ? [v] : typeof v === 'number' || typeof v === 'boolean' ? [String(v)] : null);
    if (!items || items.some((x) => typeof x !== 'string')) throw new EncodeProblem(a.name, `is ${Array.isArray(v) ? 'an array with a non-string item' : JSON.stringify(v)}; give ${a.kind === 'list' ? 'a list of strings' : 'a string'}`);
    let other = false;
    for (const x of items as string[]) {
      const p = a.vocab.indexOf(x);
      if (p < 0) other = true;
      else out[j + p] = 1;
    }
    if (other) {
      out[j + a.vocab.length] = 1;
      unseen.push(a.name);
    }
    j += a.vocab.length + 1;
  }
  return unseen;
}

/** JobDecision: what a model's outputs mean for one job. */
export interface JobDecision {
  pointBytes: Bytes;
  allocationBytes: Bytes;
  confidence: number;
}

/** decide turns one row of normalized outputs into the allocation (see the module header). */
export function decide(s: JobSpec, y: ArrayLike<number>, offset = 0): JobDecision {
  const mem = memoryNorm(s);
  const pointBytes = denormalize(mem, y[offset]!);
  const t = s.task;
  if (t.type === 'regression') return { pointBytes, allocationBytes: denormalize(mem, y[offset + 1]!) * t.safety, confidence: y[offset + 2]! };
  const K = t.edges.length;
  // exceedance probabilities made monotone from the top: p'_k = max_{j ≥ k} p_j; p'_{K−1} = 0 (no bin above)
  let run = 0;
  let chosen = K - 1;
  let pChosen = 0;
  for (let k = K - 2; k >= 0; k--) {
    run = Math.max(run, y[offset + 1 + k]!);
    if (run <= t.threshold) {
      chosen = k;
      pChosen = run;
    }
  }
  return { pointBytes, allocationBytes: t.edges[chosen]!, confidence: 1 - pChosen };
}

/** peakNorm: a peak in bytes on the spec's output scale (for labels). */
export const peakNorm = (s: JobSpec, bytes: number) => normalize(memoryNorm(s), bytes);
