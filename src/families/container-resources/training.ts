/**
 * training: the container family's training-data reader. Reads one or more .npz files written by
 * `npm run generate` (simulated or real windows), each with a weight, into one TrainingSet: normalized
 * features X (n × 12), labels Y (n × 5), aux (n × 4: the normalized future CPU p99 and memory peak, what
 * the confidence head's target is computed from, and the same outcomes ⁄ the set's mean, the surrogate
 * objective's byte weights) and per-row sample weights.
 *
 * Weights: a file's weight w spreads over its rows so that the file counts w / Σw of the total, whatever
 * its row count: real 50,000 rows at weight 1 + synthetic 100,000 rows at weight 1 → each file half.
 * Row weights are then scaled to mean 1, so with one file every row weighs exactly 1 (as before weights).
 */
import { denormalize, normalize } from '../../core/contract.js';
import { calibrateRisk } from '../../core/risk.js';
import { AUX_COLUMNS } from './objective.js';
import { sha256Hex } from '../../util/hash.js';
import { InputError } from '../../util/errors.js';
import type { DataSource, TrainingSet } from '../../core/family.js';
import type { TrainData } from '../../model/tf.js';
import { N_FEATURES, N_OUTPUTS, normalizeFeatures, normalizeOutputs, OUTPUTS } from './features.js';
import { labelsOf, OUTCOME_NAMES } from './data/simulate.js';
import type { OutcomeName } from './data/simulate.js';
import { loadDataset } from './data/dataset-io.js';
import type { Dataset } from './data/simulate.js';

/** AUX: aux columns per row (objective.ts AUX_COLUMNS). */
const AUX = AUX_COLUMNS.length;

/**
 * relativeOutcomes turns aux columns 2 and 3 (raw future CPU p99 and memory peak) into outcome ⁄ the set's
 * weighted mean outcome, the p ⁄ p̄ of the surrogate objective's waste term.
 */
function relativeOutcomes(t: TrainData): void {
  for (const c of [2, 3]) {
    let s = 0;
    let w = 0;
    for (let i = 0; i < t.n; i++) {
      s += t.weight[i]! * t.aux[AUX * i + c]!;
      w += t.weight[i]!;
    }
    const mean = s / w;
    for (let i = 0; i < t.n; i++) t.aux[AUX * i + c] = mean > 0 ? t.aux[AUX * i + c]! / mean : 1;
  }
}

/**
 * gatherRows copies rows of a Dataset into a TrainingSet layout (aux: normalized future CPU p99, memory
 * peak). Inputs and labels are normalized anew from the file's real-unit features and outcomes, so a file
 * written under an earlier contract (absolute log scales) trains a model of this one.
 */
export function gatherRows(ds: Dataset, rows: ArrayLike<number>, out: { X: Float32Array; Y: Float32Array; aux: Float32Array }, at: number): void {
  const o = {} as Record<OutcomeName, number>;
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k]!;
    const i = at + k;
    const raw = ds.featuresRaw.subarray(r * N_FEATURES, (r + 1) * N_FEATURES);
    normalizeFeatures(raw, out.X, i * N_FEATURES);
    for (const name of OUTCOME_NAMES) o[name] = ds.outcomes[name][r]!;
    normalizeOutputs(labelsOf(o, raw[2]!), raw, out.Y, i * N_OUTPUTS);
    out.aux[AUX * i] = normalize(OUTPUTS[1]!.normalization, ds.outcomes.future_cpu_p99[r]!, raw);
    out.aux[AUX * i + 1] = normalize(OUTPUTS[3]!.normalization, ds.outcomes.future_mem_peak[r]!, raw);
    // columns 2, 3: the raw outcomes for now; relativeOutcomes divides them by the set's weighted means
    out.aux[AUX * i + 2] = ds.outcomes.future_cpu_p99[r]!;
    out.aux[AUX * i + 3] = ds.outcomes.future_mem_peak[r]!;
  }
}

/** labelMatrix: the normalized hindsight labels (n × 5) of every row, from its real-unit features and outcomes. */
export function labelMatrix(ds: Dataset): Float32Array {
  const Y = new Float32Array(ds.n * N_OUTPUTS);
  const o = {} as Record<OutcomeName, number>;
  for (let r = 0; r < ds.n; r++) {
    const raw = ds.featuresRaw.subarray(r * N_FEATURES, (r + 1) * N_FEATURES);
    for (const name of OUTCOME_NAMES) o[name] = ds.outcomes[name][r]!;
    normalizeOutputs(labelsOf(o, raw[2]!), raw, Y, r * N_OUTPUTS);
  }
  return Y;
}

/** trainDataOf turns one in-memory Dataset into training rows (every row weight 1). */
export function trainDataOf(ds: Dataset): TrainData {
  const out: TrainData = { X: new Float32Array(ds.n * N_FEATURES), Y: new Float32Array(ds.n * N_OUTPUTS), aux: new Float32Array(ds.n * AUX), weight: new Float32Array(ds.n).fill(1), n: ds.n, widths: { x: N_FEATURES, y: N_OUTPUTS, aux: AUX } };
  gatherRows(ds, Uint32Array.from({ length: ds.n }, (_, i) => i), out, 0);
  relativeOutcomes(out);
  return out;
}

/** loadContainerTraining reads and concatenates the files of `sources` (see the header for weights). */
export function loadContainerTraining(sources: DataSource[]): TrainingSet {
  if (!sources.length) throw new InputError('--data: give at least one training file');
  for (const s of sources) {
    if (!(Number.isFinite(s.weight) && s.weight > 0)) throw new InputError(`--data ${s.path}: weight ${s.weight} must be a positive number (e.g. --data real.npz:2)`);
  }
  const loaded = sources.map((s) => ({ s, ...loadDataset(s.path) }));
  const n = loaded.reduce((a, l) => a + l.ds.n, 0);
  const set: TrainingSet = {
    X: new Float32Array(n * N_FEATURES),
    Y: new Float32Array(n * N_OUTPUTS),
    aux: new Float32Array(n * AUX),
    weight: new Float32Array(n),
    n,
    widths: { x: N_FEATURES, y: N_OUTPUTS, aux: AUX },
    groups: loaded.some((l) => l.ds.group) ? [] : null,
    sources: [],
  };
  const wSum = sources.reduce((a, s) => a + s.weight, 0);
  let at = 0;
  for (const l of loaded) {
    gatherRows(l.ds, Uint32Array.from({ length: l.ds.n }, (_, i) => i), set, at);
    // mean row weight 1 overall: file share (w / Σw) × n rows / its own rows
    const rowW = ((l.s.weight / wSum) * n) / l.ds.n;
    set.weight.fill(rowW, at, at + l.ds.n);
    if (set.groups) for (let i = 0; i < l.ds.n; i++) set.groups.push(l.ds.group ? `${l.s.path}:${l.ds.group[i]}` : `${l.s.path}:row${i}`);
    set.sources.push({ path: l.s.path, sha256: sha256Hex(l.bytes), rows: l.ds.n, weight: l.s.weight, info: { generatorVersion: l.meta.generatorVersion, seed: l.meta.seed, source: l.meta.source ?? 'simulated' } });
    at += l.ds.n;
  }
  relativeOutcomes(set);
  return set;
}

/**
 * calibrateContainer: the conformal risk table (risk.ts) of the served (int8) model on a calibration set:
 * per window, future memory peak / memory limit and future CPU p99 / CPU limit, from the normalized aux
 * targets and outputs: both are multiples of the same window's scale, so their ratio is scale-free (the
 * scale cancels; denormalize without a row gives the multiples). Returned as ONNX metadata: { risk_calibration: JSON }.
 */
export function calibrateContainer(set: TrainingSet, outputs: Float32Array, sourceLabel: string): Record<string, string> {
  const mem = new Float64Array(set.n);
  const cpu = new Float64Array(set.n);
  for (let i = 0; i < set.n; i++) {
    mem[i] = denormalize(OUTPUTS[3]!.normalization, set.aux[AUX * i + 1]!) / denormalize(OUTPUTS[3]!.normalization, outputs[i * N_OUTPUTS + 3]!);
    cpu[i] = denormalize(OUTPUTS[1]!.normalization, set.aux[AUX * i]!) / denormalize(OUTPUTS[1]!.normalization, outputs[i * N_OUTPUTS + 1]!);
  }
  const groups = set.groups ? new Set(set.groups).size : set.n;
  return { risk_calibration: JSON.stringify(calibrateRisk({ mem_limit: mem, cpu_limit: cpu }, { source: sourceLabel, groups, windows: set.n })) };
}
