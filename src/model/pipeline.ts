/**
 * pipeline: what `train.ts` runs for a family, end to end: read its training files, split them (by
 * group when the rows carry one), train the family's network on its objective, quantize it, and write the
 * float model (tfjs format), the int8 and fp32 ONNX files and the training reports. Nothing here knows a
 * family's widths or names: they come from family.contract.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { architectureName, layerSizes } from '../core/contract.js';
import type { ModelFamily, TrainingSet } from '../core/family.js';
import { initBackend, predictTf, saveTfModel, train } from './tf.js';
import type { TrainData } from './tf.js';
import { forwardFloat } from '../core/weights.js';
import { forwardQuantized, maxAbsDeviation, quantizeModel } from '../core/quantize.js';
import type { QuantizedModel } from '../core/quantize.js';
import { buildFloatOnnx, buildQuantizedOnnx, IR_VERSION, OPSET } from '../onnx/build.js';
import { loadOnnx } from '../onnx/runtime.js';
import { Rng } from '../util/rng.js';
import { sha256Hex } from '../util/hash.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { InputError } from '../util/errors.js';
import { trainingReportHtml } from '../report/training.js';
import type { DataSource } from '../core/family.js';

export interface TrainConfig {
  /** training files with their weights in the mix */
  data: DataSource[];
  output: string;
  epochs: number;
  seed: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  valFraction: number;
  quantization: QuantizedModel['mode'];
  /** real windows of workloads NOT in `data`, for the family's calibration (risk table); optional */
  calibration?: DataSource[];
  /** the family's objective hyperparameters (defaults: family.training.hyperDefaults) */
  hyper: Record<string, number | string>;
  log: (line: string) => void;
}

export const TRAIN_DEFAULTS = {
  epochs: 60,
  seed: 42,
  batchSize: 512,
  learningRate: 1e-3,
  patience: 10,
  valFraction: 0.1,
  quantization: 'weights' as QuantizedModel['mode'],
};

/** splitRows returns a seeded permutation split into train and validation row indices. */
export function splitRows(n: number, valFraction: number, seed: number): { train: Uint32Array; val: Uint32Array } {
  const rng = new Rng(seed ^ 0x51ab);
  const p = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  const nv = Math.max(1, Math.round(n * valFraction));
  return { val: p.slice(0, nv), train: p.slice(nv) };
}

/**
 * splitGroups holds out whole groups (VMs, workloads): a seeded permutation of the distinct groups, the
 * first ⌈valFraction · groups⌉ of them for validation, so no window of a validation VM is trained on.
 */
export function splitGroups(groups: readonly string[], valFraction: number, seed: number): { train: Uint32Array; val: Uint32Array } {
  const names = [...new Set(groups)].sort();
  const perm = splitRows(names.length, valFraction, seed);
  const valNames = new Set(Array.from(perm.val, (i) => names[i]!));
  const train: number[] = [];
  const val: number[] = [];
  groups.forEach((g, i) => (valNames.has(g) ? val : train).push(i));
  return { train: Uint32Array.from(train), val: Uint32Array.from(val) };
}

/** subset gathers rows of a training set into a TrainData. */
export function subset(set: TrainData, rows: Uint32Array): TrainData {
  const { x, y, aux } = set.widths;
  const n = rows.length;
  const out: TrainData = { X: new Float32Array(n * x), Y: new Float32Array(n * y), aux: new Float32Array(n * aux), weight: new Float32Array(n), n, widths: set.widths };
  rows.forEach((r, k) => {
    out.X.set(set.X.subarray(r * x, (r + 1) * x), k * x);
    out.Y.set(set.Y.subarray(r * y, (r + 1) * y), k * y);
    out.aux.set(set.aux.subarray(r * aux, (r + 1) * aux), k * aux);
    out.weight[k] = set.weight[r]!;
  });
  return out;
}

/**
 * runTraining trains and writes every artifact; it returns the report object. The steps: load the
 * family's data and split it, fit the network, quantize it into the int8 and fp32 ONNX files (calibrated
 * when asked), measure how far they are from the float model, write the files and the report.
 */
export async function runTraining(family: ModelFamily, cfg: TrainConfig) {
  const t0 = performance.now();
  const c = family.contract;
  const hyper = { ...family.training.hyperDefaults, ...cfg.hyper };
  family.training.checkHyper?.(hyper);
  const { set, dataSha256 } = loadTrainingSet(family, cfg);
  const backend = await initBackend();
  cfg.log(`train: backend ${backend.name}${backend.failures.length ? ` (not available: ${backend.failures.join('; ')})` : ''}`);
  for (const s of set.sources) cfg.log(`train: ${s.rows} samples from ${s.path} (weight ${s.weight}; ${Object.entries(s.info).map(([k, v]) => `${k} ${v}`).join(', ')}), sha256 ${s.sha256.slice(0, 12)}…`);
  const { tr, va } = splitTrainingSet(set, cfg);
  const result = await fitNetwork(family, cfg, hyper, tr, va);
  const trainSeconds = (performance.now() - t0) / 1000;
  cfg.log(`train: best epoch ${result.bestEpoch} (val_loss ${result.history[result.bestEpoch - 1]!.valLoss.toFixed(5)})${result.stoppedEarly ? ', stopped early' : ''}`);
  const onnx = await buildOnnxFiles(family, cfg, result, tr, set, dataSha256);
  const dev = await measureDeviation(c, result, onnx, va, cfg.log);
  await writeModelFiles(cfg, result, c, onnx);
  const report = trainingReport({ family, cfg, hyper, backend: backend.name, set, dataSha256, tr, va, result, trainSeconds, onnx, dev });
  writeFileAtomic(join(cfg.output, 'training_report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileAtomic(join(cfg.output, 'training_report.html'), trainingReportHtml(report));
  return report;
}
export type TrainingReport = Awaited<ReturnType<typeof runTraining>>;

/** loadTrainingSet reads the family's training files (at least 100 samples) and fingerprints them. */
function loadTrainingSet(family: ModelFamily, cfg: TrainConfig): { set: TrainingSet; dataSha256: string } {
  const set: TrainingSet = family.training.load(cfg.data);
  if (set.n < 100) throw new InputError(`--data has ${set.n} samples in all; training needs at least 100`);
  const dataSha256 = set.sources.length === 1 ? set.sources[0]!.sha256 : sha256Hex(set.sources.map((s) => `${s.sha256}:${s.weight}`).join(','));
  return { set, dataSha256 };
}

/** splitTrainingSet holds out the validation rows (whole groups when the rows carry one); both sides must be non-empty. */
function splitTrainingSet(set: TrainingSet, cfg: TrainConfig): { tr: TrainData; va: TrainData } {
  const split = set.groups ? splitGroups(set.groups, cfg.valFraction, cfg.seed) : splitRows(set.n, cfg.valFraction, cfg.seed);
  if (set.groups) cfg.log(`train: validation holds out whole groups (${new Set(Array.from(split.val, (i) => set.groups![i])).size} of ${new Set(set.groups).size}), ${split.val.length} rows`);
  if (!split.train.length || !split.val.length) {
    const groups = set.groups ? `${new Set(set.groups).size} groups (VMs)` : `${set.n} rows`;
    throw new InputError(`--val-fraction ${cfg.valFraction} leaves ${split.train.length ? 'no validation' : 'no training'} data out of ${groups}; choose a fraction that keeps both (e.g. 0.2), or give more data`);
  }
  const tr = subset(set, split.train);
  const va = subset(set, split.val);
  return { tr, va };
}

/** fitNetwork trains the family's network on its objective, logging each epoch with an ETA. */
function fitNetwork(family: ModelFamily, cfg: TrainConfig, hyper: Record<string, number | string>, tr: TrainData, va: TrainData) {
  const c = family.contract;
  return train(tr, va, {
    sizes: layerSizes(c),
    sigmoid: c.sigmoid,
    objective: family.training.objective(hyper),
    epochs: cfg.epochs,
    batchSize: Math.min(cfg.batchSize, tr.n),
    learningRate: cfg.learningRate,
    patience: cfg.patience,
    seed: cfg.seed,
    onEpoch: (e) => {
      const eta = (e.seconds / e.epoch) * (cfg.epochs - e.epoch);
      cfg.log(`train: epoch ${e.epoch}/${cfg.epochs} loss ${e.loss.toFixed(5)} val_loss ${e.valLoss.toFixed(5)} ${e.seconds.toFixed(1)}s ETA ≤ ${eta.toFixed(0)}s`);
    },
  });
}

type Fitted = Awaited<ReturnType<typeof fitNetwork>>;

/** OnnxFiles: the quantized model, its int8 and fp32 ONNX files (with their names) and the calibration embedded in them. */
interface OnnxFiles {
  q: QuantizedModel;
  nCal: number;
  files: { int8: string; fp32: string };
  int8Bytes: Uint8Array;
  fp32Bytes: Uint8Array;
  calibration: Record<string, unknown> | null;
}

/**
 * buildOnnxFiles quantizes the network (activation scales calibrated on up to 10,000 training rows) and
 * builds the int8 and fp32 ONNX files with their metadata; with --calibration-data, the family calibrates
 * the int8 model and both files are rebuilt with the result in their metadata.
 */
async function buildOnnxFiles(family: ModelFamily, cfg: TrainConfig, result: Fitted, tr: TrainData, set: TrainingSet, dataSha256: string): Promise<OnnxFiles> {
  const c = family.contract;
  const nCal = Math.min(10000, tr.n);
  const q = quantizeModel(result.weights, tr.X.subarray(0, nCal * c.inputs.length), nCal, cfg.quantization);
  const files = { int8: `${family.fileStem}.onnx`, fp32: `${family.fileStem}_fp32.onnx` };
  const metadata: Record<string, string> = {
    contract: JSON.stringify(c.descriptor()),
    quantization_params: JSON.stringify({
      weights: 'int8 symmetric per output channel',
      weightQmax: q.weightQmax,
      activations: q.mode === 'static' ? 'uint8 per tensor, calibrated' : 'float32',
      activationScales: q.mode === 'static' ? Array.from(q.actScales) : null,
    }),
    contract_version: c.version,
    architecture: architectureName(c),
    training_data_sha256: dataSha256,
    training_seed: String(cfg.seed),
  };
  // The default family keeps the metadata it has always had; others also name their family.
  if (family.fileStem !== 'predictor') Object.assign(metadata, { family: family.name });
  let int8Bytes = buildQuantizedOnnx(c, q, metadata);
  let fp32Bytes = buildFloatOnnx(c, result.weights, metadata);
  let calibration: Record<string, unknown> | null = null;
  if (cfg.calibration?.length && family.training.calibrate) {
    calibration = await calibrate(family, cfg, set, int8Bytes, files.int8, metadata);
    int8Bytes = buildQuantizedOnnx(c, q, metadata);
    fp32Bytes = buildFloatOnnx(c, result.weights, metadata);
  }
  return { q, nCal, files, int8Bytes, fp32Bytes, calibration };
}

/**
 * calibrate runs the family's calibration on what is served (the int8 model), on workloads it never
 * trained on, adds the result to `metadata` and returns it parsed.
 */
async function calibrate(family: ModelFamily, cfg: TrainConfig, set: TrainingSet, int8Bytes: Uint8Array, int8Name: string, metadata: Record<string, string>): Promise<Record<string, unknown>> {
  const cal = family.training.load(cfg.calibration!);
  if (set.groups && cal.groups) {
    const trained = new Set(set.groups.map((g) => g.slice(g.lastIndexOf(':') + 1)));
    const shared = [...new Set(cal.groups.map((g) => g.slice(g.lastIndexOf(':') + 1)))].filter((g) => trained.has(g));
    if (shared.length) throw new InputError(`--calibration-data shares ${shared.length} workloads with --data (${shared.slice(0, 5).join(', ')}${shared.length > 5 ? ', …' : ''}); calibrate on workloads the model was not trained on`);
  }
  const sess = await loadOnnx(int8Bytes, int8Name);
  const outputs = await sess.predict(cal.X, cal.n);
  await sess.release();
  const label = cfg.calibration!.map((s) => s.path).join(', ');
  const extra = family.training.calibrate!(cal, outputs, label);
  Object.assign(metadata, extra);
  const calibration = Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, JSON.parse(v) as unknown]));
  cfg.log(`train: calibrated on ${cal.n} windows of ${label}`);
  return calibration;
}

/** Deviation: the ONNX files' and TypeScript forwards' max |Δ| per output on `nDev` held-out rows. */
interface Deviation {
  nDev: number;
  int8Dev: number[];
  fp32Dev: number[];
  tsQuantDev: number[];
  tsFloatDev: number[];
}

/** measureDeviation compares the ONNX files with the float tfjs model on (up to) 10,000 held-out rows. */
async function measureDeviation(c: ModelFamily['contract'], result: Fitted, onnx: OnnxFiles, va: TrainData, log: (line: string) => void): Promise<Deviation> {
  const { q, files, int8Bytes, fp32Bytes } = onnx;
  const W = c.outputs.length;
  const nDev = Math.min(10000, va.n);
  const xDev = va.X.subarray(0, nDev * c.inputs.length);
  const ref = predictTf(result.model, xDev, nDev, c.sigmoid);
  const int8Sess = await loadOnnx(int8Bytes, files.int8);
  const fp32Sess = await loadOnnx(fp32Bytes, files.fp32);
  const int8Dev = maxAbsDeviation(ref, await int8Sess.predict(xDev, nDev), W);
  const fp32Dev = maxAbsDeviation(ref, await fp32Sess.predict(xDev, nDev), W);
  const tsQuantDev = maxAbsDeviation(await int8Sess.predict(xDev, nDev), forwardQuantized(q, xDev, nDev), W);
  const tsFloatDev = maxAbsDeviation(ref, forwardFloat(result.weights, xDev, nDev), W);
  await int8Sess.release();
  await fp32Sess.release();
  log(`train: int8 ONNX vs float tfjs, max |Δ| per output (normalized): ${int8Dev.map((d) => d.toFixed(4)).join(' ')}`);
  log(`train: fp32 ONNX vs float tfjs, max |Δ|: ${Math.max(...fp32Dev).toExponential(2)}`);
  return { nDev, int8Dev, fp32Dev, tsQuantDev, tsFloatDev };
}

/** writeModelFiles writes the float model (tfjs: model.json, weights.bin) and the fp32 and int8 ONNX files. */
async function writeModelFiles(cfg: TrainConfig, result: Fitted, c: ModelFamily['contract'], onnx: OnnxFiles): Promise<void> {
  const { files, int8Bytes, fp32Bytes } = onnx;
  mkdirSync(cfg.output, { recursive: true });
  const tfArtifacts = await saveTfModel(result.model, { contract: c.descriptor(), note: `outputs ${c.sigmoid.join(', ')} are logits: apply a sigmoid` });
  writeFileAtomic(join(cfg.output, 'weights.bin'), tfArtifacts.weightsBin);
  writeFileAtomic(join(cfg.output, 'model.json'), tfArtifacts.modelJson);
  writeFileAtomic(join(cfg.output, files.fp32), fp32Bytes);
  writeFileAtomic(join(cfg.output, files.int8), int8Bytes);
}

/** trainingReport: training_report.json's content (also rendered as training_report.html). */
function trainingReport(r: { family: ModelFamily; cfg: TrainConfig; hyper: Record<string, number | string>; backend: string; set: TrainingSet; dataSha256: string; tr: TrainData; va: TrainData; result: Fitted; trainSeconds: number; onnx: OnnxFiles; dev: Deviation }) {
  const { family, cfg, hyper, set, dataSha256, tr, va, result, trainSeconds } = r;
  const { q, nCal, files, int8Bytes, fp32Bytes, calibration } = r.onnx;
  const { nDev, int8Dev, fp32Dev, tsQuantDev, tsFloatDev } = r.dev;
  const c = family.contract;
  const named = (d: number[]) => Object.fromEntries(c.outputs.map((o, i) => [o.name, d[i]]));
  return {
    schemaVersion: 1,
    createdAt: new Date().toISOString(),
    backend: r.backend,
    family: family.name,
    architecture: { name: architectureName(c), layers: layerSizes(c), activations: [...c.hidden.map(() => 'relu'), `linear${c.sigmoid.length ? ` + sigmoid (${c.sigmoid.map((i) => c.outputs[i]!.name).join(', ')})` : ''}`] },
    hyperparameters: {
      epochs: cfg.epochs, seed: cfg.seed, ...hyper, batchSize: cfg.batchSize, learningRate: cfg.learningRate,
      patience: cfg.patience, valFraction: cfg.valFraction, optimizer: 'adam',
      loss: family.training.describeObjective(hyper),
    },
    data: { sha256: dataSha256, samples: set.n, train: tr.n, validation: va.n, validationSplit: set.groups ? 'by group' : 'by row', sources: set.sources },
    epochs: result.history,
    bestEpoch: result.bestEpoch,
    stoppedEarly: result.stoppedEarly,
    trainSeconds: +trainSeconds.toFixed(2),
    final: { loss: result.history[result.bestEpoch - 1]!.loss, valLoss: result.history[result.bestEpoch - 1]!.valLoss },
    quantization: {
      mode: q.mode,
      weights: 'int8, symmetric, per output channel',
      activations: q.mode === 'static' ? 'uint8, zero point 0, per tensor, calibrated max/255 on training rows' : 'float32',
      calibrationRows: nCal,
      activationScales: Array.from(q.actScales),
    },
    onnx: {
      opset: OPSET, irVersion: IR_VERSION,
      int8Bytes: int8Bytes.length, fp32Bytes: fp32Bytes.length,
      deviationRows: nDev,
      int8VsFloatMaxAbs: named(int8Dev),
      fp32VsFloatMaxAbs: named(fp32Dev),
      int8OnnxVsTypeScriptInt8MaxAbs: named(tsQuantDev),
      typeScriptFloatVsTfjsMaxAbs: named(tsFloatDev),
    },
    calibration,
    files: ['model.json', 'weights.bin', files.int8, files.fp32, 'training_report.json', 'training_report.html'],
  };
}
