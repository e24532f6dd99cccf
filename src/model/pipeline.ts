/**
 * pipeline: what `train.ts` runs, end to end: load the data file, split it, train the network, quantize
 * it, write the float model (tfjs format), the int8 and fp32 ONNX files and the training reports.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadDataset } from '../data/dataset-io.js';
import type { Dataset } from '../data/simulate.js';
import { contractDescriptor, N_FEATURES, N_OUTPUTS, normalize, OUTPUT_NAMES, OUTPUTS, CONTRACT_VERSION } from '../contract/features.js';
import { initBackend, predictTf, saveTfModel, train } from './tf.js';
import type { TrainData } from './tf.js';
import { ARCHITECTURE, forwardFloat, LAYER_SIZES } from './weights.js';
import { forwardQuantized, maxAbsDeviation, quantizeModel } from './quantize.js';
import type { QuantizedModel } from './quantize.js';
import { buildFloatOnnx, buildQuantizedOnnx, IR_VERSION, OPSET } from '../onnx/build.js';
import { loadOnnx } from '../onnx/runtime.js';
import { Rng } from '../util/rng.js';
import { sha256Hex } from '../util/hash.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { trainingReportHtml } from '../eval/training-html.js';

export interface TrainConfig {
  data: string;
  output: string;
  epochs: number;
  seed: number;
  underPenalty: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  valFraction: number;
  confidenceWeight: number;
  quantization: QuantizedModel['mode'];
  log: (line: string) => void;
}

export const TRAIN_DEFAULTS = {
  epochs: 60,
  seed: 42,
  underPenalty: 5,
  batchSize: 512,
  learningRate: 1e-3,
  patience: 10,
  valFraction: 0.1,
  confidenceWeight: 0.1,
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

/** trainData gathers rows of ds into a TrainData (with the normalized future CPU p99 and memory peak). */
export function trainData(ds: Dataset, rows: Uint32Array): TrainData {
  const n = rows.length;
  const X = new Float32Array(n * N_FEATURES);
  const Y = new Float32Array(n * N_OUTPUTS);
  const need = new Float32Array(n * 2);
  rows.forEach((r, k) => {
    X.set(ds.X.subarray(r * N_FEATURES, (r + 1) * N_FEATURES), k * N_FEATURES);
    Y.set(ds.Y.subarray(r * N_OUTPUTS, (r + 1) * N_OUTPUTS), k * N_OUTPUTS);
    need[2 * k] = normalize(OUTPUTS[1]!.normalization, ds.outcomes.future_cpu_p99[r]!);
    need[2 * k + 1] = normalize(OUTPUTS[3]!.normalization, ds.outcomes.future_mem_peak[r]!);
  });
  return { X, Y, need, n };
}

/** runTraining trains and writes every artifact; it returns the report object. */
export async function runTraining(cfg: TrainConfig) {
  const t0 = performance.now();
  const { ds, meta, bytes } = loadDataset(cfg.data);
  const dataSha256 = sha256Hex(bytes);
  if (ds.n < 100) throw new Error(`${cfg.data} has ${ds.n} samples; training needs at least 100`);
  const backend = await initBackend();
  cfg.log(`train: backend ${backend.name}${backend.failures.length ? ` (not available: ${backend.failures.join('; ')})` : ''}`);
  cfg.log(`train: ${ds.n} samples from ${cfg.data} (generator ${meta.generatorVersion}, seed ${meta.seed}), sha256 ${dataSha256.slice(0, 12)}…`);
  const split = splitRows(ds.n, cfg.valFraction, cfg.seed);
  const tr = trainData(ds, split.train);
  const va = trainData(ds, split.val);
  const result = await train(tr, va, {
    epochs: cfg.epochs,
    batchSize: Math.min(cfg.batchSize, tr.n),
    learningRate: cfg.learningRate,
    patience: cfg.patience,
    seed: cfg.seed,
    underPenalty: cfg.underPenalty,
    confidenceWeight: cfg.confidenceWeight,
    onEpoch: (e) => {
      const eta = (e.seconds / e.epoch) * (cfg.epochs - e.epoch);
      cfg.log(`train: epoch ${e.epoch}/${cfg.epochs} loss ${e.loss.toFixed(5)} val_loss ${e.valLoss.toFixed(5)} ${e.seconds.toFixed(1)}s ETA ≤ ${eta.toFixed(0)}s`);
    },
  });
  const trainSeconds = (performance.now() - t0) / 1000;
  cfg.log(`train: best epoch ${result.bestEpoch} (val_loss ${result.history[result.bestEpoch - 1]!.valLoss.toFixed(5)})${result.stoppedEarly ? ', stopped early' : ''}`);

  // Quantize: activation scales calibrated on (up to) 10,000 training rows.
  const nCal = Math.min(10000, tr.n);
  const q = quantizeModel(result.weights, tr.X.subarray(0, nCal * N_FEATURES), nCal, cfg.quantization);
  const metadata = {
    contract: JSON.stringify(contractDescriptor()),
    quantization_params: JSON.stringify({
      weights: 'int8 symmetric per output channel',
      weightQmax: q.weightQmax,
      activations: q.mode === 'static' ? 'uint8 per tensor, calibrated' : 'float32',
      activationScales: q.mode === 'static' ? Array.from(q.actScales) : null,
    }),
    contract_version: CONTRACT_VERSION,
    architecture: ARCHITECTURE,
    training_data_sha256: dataSha256,
    training_seed: String(cfg.seed),
  };
  const int8Bytes = buildQuantizedOnnx(q, metadata);
  const fp32Bytes = buildFloatOnnx(result.weights, metadata);

  // Deviation of the ONNX files from the float tfjs model on (up to) 10,000 held-out rows.
  const nDev = Math.min(10000, va.n);
  const xDev = va.X.subarray(0, nDev * N_FEATURES);
  const ref = predictTf(result.model, xDev, nDev);
  const int8Sess = await loadOnnx(int8Bytes, 'predictor.onnx');
  const fp32Sess = await loadOnnx(fp32Bytes, 'predictor_fp32.onnx');
  const int8Dev = maxAbsDeviation(ref, await int8Sess.predict(xDev, nDev));
  const fp32Dev = maxAbsDeviation(ref, await fp32Sess.predict(xDev, nDev));
  const tsQuantDev = maxAbsDeviation(await int8Sess.predict(xDev, nDev), forwardQuantized(q, xDev, nDev));
  const tsFloatDev = maxAbsDeviation(ref, forwardFloat(result.weights, xDev, nDev));
  await int8Sess.release();
  await fp32Sess.release();
  const named = (d: number[]) => Object.fromEntries(OUTPUT_NAMES.map((o, i) => [o, d[i]]));
  cfg.log(`train: int8 ONNX vs float tfjs, max |Δ| per output (normalized): ${int8Dev.map((d) => d.toFixed(4)).join(' ')}`);
  cfg.log(`train: fp32 ONNX vs float tfjs, max |Δ|: ${Math.max(...fp32Dev).toExponential(2)}`);

  mkdirSync(cfg.output, { recursive: true });
  const tfArtifacts = await saveTfModel(result.model, { contract: contractDescriptor(), note: 'output 4 is the confidence logit: apply a sigmoid' });
  writeFileAtomic(join(cfg.output, 'weights.bin'), tfArtifacts.weightsBin);
  writeFileAtomic(join(cfg.output, 'model.json'), tfArtifacts.modelJson);
  writeFileAtomic(join(cfg.output, 'predictor_fp32.onnx'), fp32Bytes);
  writeFileAtomic(join(cfg.output, 'predictor.onnx'), int8Bytes);

  const report = {
    schemaVersion: 1,
    createdAt: new Date().toISOString(),
    backend: backend.name,
    architecture: { name: ARCHITECTURE, layers: [...LAYER_SIZES], activations: ['relu', 'relu', 'linear (4 resource heads) + sigmoid (confidence)'] },
    hyperparameters: {
      epochs: cfg.epochs, seed: cfg.seed, underPenalty: cfg.underPenalty, batchSize: cfg.batchSize, learningRate: cfg.learningRate,
      patience: cfg.patience, valFraction: cfg.valFraction, confidenceWeight: cfg.confidenceWeight, optimizer: 'adam',
      loss: 'pinball (quantile) loss per resource output, under-provisioning × underPenalty; log loss for confidence vs. whether the own recommendation holds',
    },
    data: { path: cfg.data, sha256: dataSha256, samples: ds.n, train: tr.n, validation: va.n, generatorVersion: meta.generatorVersion, generatorSeed: meta.seed },
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
    files: ['model.json', 'weights.bin', 'predictor.onnx', 'predictor_fp32.onnx', 'training_report.json', 'training_report.html'],
  };
  writeFileAtomic(join(cfg.output, 'training_report.json'), JSON.stringify(report, null, 2) + '\n');
  writeFileAtomic(join(cfg.output, 'training_report.html'), trainingReportHtml(report));
  return report;
}
export type TrainingReport = Awaited<ReturnType<typeof runTraining>>;
