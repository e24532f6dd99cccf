/**
 * tf: the one module that imports TensorFlow.js. It resolves the backend (tfjs-node when it is installed,
 * else tfjs with the wasm backend, else the plain CPU backend), builds the 12→32→16→5 network, trains it
 * on the cost-aware objective, and converts between the tfjs model and plain FloatWeights.
 *
 * Backend resolution tries candidates in priority order, records why each failed, and logs the winner.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { LAYER_SIZES } from './weights.js';
import type { FloatWeights } from './weights.js';
import { Rng } from '../util/rng.js';

export type Tf = typeof tf;

let resolved: { name: string; failures: string[] } | null = null;

/** initBackend picks the fastest available backend once and returns its name and the failures before it. */
export async function initBackend(prefer?: string): Promise<{ name: string; failures: string[] }> {
  if (resolved) return resolved;
  const failures: string[] = [];
  const candidates = prefer ? [prefer] : ['tensorflow', 'wasm', 'cpu'];
  for (const name of candidates) {
    try {
      if (name === 'tensorflow') {
        // Optional dependency: its native binding is absent where libtensorflow could not be downloaded.
        createRequire(import.meta.url)('@tensorflow/tfjs-node');
      }
      if (!(await tf.setBackend(name))) throw new Error('setBackend returned false');
      await tf.ready();
      resolved = { name, failures };
      return resolved;
    } catch (e) {
      failures.push(`${name}: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could start: ${failures.join('; ')}`);
}

/** glorotUniform fills an [fanIn × fanOut] matrix from the seeded rng (limit √(6 / (fanIn + fanOut))). */
function glorotUniform(rng: Rng, fanIn: number, fanOut: number): Float32Array {
  const lim = Math.sqrt(6 / (fanIn + fanOut));
  const w = new Float32Array(fanIn * fanOut);
  for (let i = 0; i < w.length; i++) w[i] = rng.range(-lim, lim);
  return w;
}

/**
 * buildModel makes the layers model (ReLU, ReLU, linear 5) with seeded initial weights. The model's
 * 5th output is the confidence LOGIT; apply a sigmoid to read it (forwardFloat and the ONNX graph do).
 */
export function buildModel(seed: number): tf.Sequential {
  const rng = new Rng(seed);
  const model = tf.sequential();
  for (let l = 1; l < LAYER_SIZES.length; l++) {
    model.add(
      tf.layers.dense({
        units: LAYER_SIZES[l]!,
        inputShape: l === 1 ? [LAYER_SIZES[0]] : undefined,
        activation: l < LAYER_SIZES.length - 1 ? 'relu' : 'linear',
        name: `dense_${l}`,
      }),
    );
  }
  const init: tf.Tensor[] = [];
  for (let l = 1; l < LAYER_SIZES.length; l++) {
    init.push(tf.tensor2d(glorotUniform(rng, LAYER_SIZES[l - 1]!, LAYER_SIZES[l]!), [LAYER_SIZES[l - 1]!, LAYER_SIZES[l]!]));
    init.push(tf.zeros([LAYER_SIZES[l]!]));
  }
  model.setWeights(init);
  tf.dispose(init);
  return model;
}

/** toFloatWeights copies a model's weights into plain arrays. */
export function toFloatWeights(model: tf.LayersModel): FloatWeights {
  const ws = model.getWeights();
  const layers = [];
  for (let l = 0; l < ws.length; l += 2) {
    const W = ws[l]!;
    layers.push({ inSize: W.shape[0]!, outSize: W.shape[1]!, W: new Float32Array(W.dataSync()), b: new Float32Array(ws[l + 1]!.dataSync()) });
  }
  return { layers };
}

/** setFloatWeights loads plain weights into a model of the same architecture. */
export function setFloatWeights(model: tf.LayersModel, w: FloatWeights): void {
  const ts = w.layers.flatMap((L) => [tf.tensor2d(L.W, [L.inSize, L.outSize]), tf.tensor1d(L.b)]);
  model.setWeights(ts);
  tf.dispose(ts);
}

export interface LossOptions {
  /** how many times an under-provisioned unit costs more than an over-provisioned one */
  underPenalty: number;
  /** weight of the confidence head's log loss in the total */
  confidenceWeight: number;
}

/**
 * costAwareLoss is the training objective, returned as a scalar tensor.
 *
 * Resource heads (outputs 0..3): a pinball (quantile) loss in normalized units. With e = label − pred,
 * a unit of under-provisioning (e > 0) costs `underPenalty`, a unit of over-provisioning costs 1:
 *   ℓ(e) = underPenalty · e   if e > 0,   −e   otherwise.
 * Its minimizer is the underPenalty/(underPenalty + 1) quantile of the label given the features
 * (5 → the 83rd percentile). Example: label 0.5, pred 0.4 → 5 × 0.1 = 0.5; pred 0.6 → 0.1.
 *
 * Confidence head (output 4): binary log loss (a proper scoring rule) of the logit against whether THIS
 * prediction holds: its CPU limit ≥ the future CPU p99 and its memory limit ≥ the future memory peak,
 * both normalized (`need` columns 0 and 1). The target is recomputed from the current predictions and
 * carries no gradient, so the head learns P(recommendation holds | features).
 */
export function costAwareLoss(pred: tf.Tensor2D, label: tf.Tensor2D, need: tf.Tensor2D, opts: LossOptions): tf.Scalar {
  return tf.tidy(() => {
    const res = pred.slice([0, 0], [-1, 4]);
    const e = label.slice([0, 0], [-1, 4]).sub(res);
    const pinball = tf.maximum(e.mul(opts.underPenalty), e.neg()).mean();
    const logit = pred.slice([0, 4], [-1, 1]);
    // tf.step has a zero gradient, so the target is a constant for the optimizer (as it must be).
    const holds = tf
      .step(res.slice([0, 1], [-1, 1]).sub(need.slice([0, 0], [-1, 1])))
      .mul(tf.step(res.slice([0, 3], [-1, 1]).sub(need.slice([0, 1], [-1, 1]))));
    // log loss with logits, numerically stable: softplus(z) − y·z
    const bce = tf.softplus(logit).sub(holds.mul(logit)).mean();
    return pinball.add(bce.mul(opts.confidenceWeight)) as tf.Scalar;
  });
}

export interface TrainData {
  X: Float32Array; // n × 12
  Y: Float32Array; // n × 5
  need: Float32Array; // n × 2: normalized future CPU p99, future memory peak
  n: number;
}

export interface TrainOptions extends LossOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  patience: number;
  seed: number;
  onEpoch?: (e: { epoch: number; loss: number; valLoss: number; seconds: number }) => void;
}

export interface TrainResult {
  weights: FloatWeights;
  history: { epoch: number; loss: number; valLoss: number; seconds: number }[];
  bestEpoch: number;
  stoppedEarly: boolean;
}

/**
 * train runs mini-batch Adam with seeded shuffling and early stopping on validation loss, restoring the
 * best epoch's weights. The same seed, data and backend give the same weights.
 */
export async function train(trainSet: TrainData, valSet: TrainData, opts: TrainOptions): Promise<{ model: tf.Sequential } & TrainResult> {
  const model = buildModel(opts.seed);
  const optimizer = tf.train.adam(opts.learningRate);
  const rng = new Rng(opts.seed ^ 0x5eed);
  const order = Uint32Array.from({ length: trainSet.n }, (_, i) => i);
  const bx = new Float32Array(opts.batchSize * 12);
  const by = new Float32Array(opts.batchSize * 5);
  const bn = new Float32Array(opts.batchSize * 2);
  const vx = tf.tensor2d(valSet.X, [valSet.n, 12]);
  const vy = tf.tensor2d(valSet.Y, [valSet.n, 5]);
  const vn = tf.tensor2d(valSet.need, [valSet.n, 2]);
  const history: TrainResult['history'] = [];
  let best = Infinity;
  let bestEpoch = 0;
  let bestWeights = toFloatWeights(model);
  let stale = 0;
  const t0 = performance.now();
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    for (let i = trainSet.n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    let sum = 0;
    let batches = 0;
    for (let s = 0; s + opts.batchSize <= trainSet.n; s += opts.batchSize) {
      for (let k = 0; k < opts.batchSize; k++) {
        const r = order[s + k]!;
        bx.set(trainSet.X.subarray(r * 12, r * 12 + 12), k * 12);
        by.set(trainSet.Y.subarray(r * 5, r * 5 + 5), k * 5);
        bn.set(trainSet.need.subarray(r * 2, r * 2 + 2), k * 2);
      }
      const loss = tf.tidy(() => {
        const x = tf.tensor2d(bx, [opts.batchSize, 12]);
        const y = tf.tensor2d(by, [opts.batchSize, 5]);
        const nd = tf.tensor2d(bn, [opts.batchSize, 2]);
        return optimizer.minimize(() => costAwareLoss(model.apply(x) as tf.Tensor2D, y, nd, opts), true)!;
      });
      sum += (await loss.data())[0]!;
      loss.dispose();
      batches++;
    }
    const valLoss = tf.tidy(() => costAwareLoss(model.apply(vx) as tf.Tensor2D, vy, vn, opts).dataSync()[0]!);
    const rec = { epoch, loss: sum / Math.max(batches, 1), valLoss, seconds: (performance.now() - t0) / 1000 };
    history.push(rec);
    opts.onEpoch?.(rec);
    if (valLoss < best - 1e-6) {
      best = valLoss;
      bestEpoch = epoch;
      bestWeights = toFloatWeights(model);
      stale = 0;
    } else if (++stale >= opts.patience) {
      break;
    }
  }
  tf.dispose([vx, vy, vn]);
  optimizer.dispose();
  setFloatWeights(model, bestWeights);
  return { model, weights: bestWeights, history, bestEpoch, stoppedEarly: history.length < opts.epochs };
}

/** predictTf runs the tfjs model and applies the sigmoid to the confidence logit (n × 5 out). */
export function predictTf(model: tf.LayersModel, x: Float32Array, n: number): Float32Array {
  return tf.tidy(() => {
    const out = model.predict(tf.tensor2d(x, [n, 12])) as tf.Tensor2D;
    const res = out.slice([0, 0], [-1, 4]);
    const conf = tf.sigmoid(out.slice([0, 4], [-1, 1]));
    return new Float32Array(tf.concat([res, conf], 1).dataSync());
  });
}

/** saveTfModel returns the tfjs layers-format artifacts: model.json text and weights.bin bytes. */
export async function saveTfModel(model: tf.LayersModel, meta: Record<string, unknown>): Promise<{ modelJson: string; weightsBin: Uint8Array }> {
  let out: { modelJson: string; weightsBin: Uint8Array } | null = null;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const modelJson = {
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
        convertedBy: null,
        modelTopology: a.modelTopology,
        weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
        userDefinedMetadata: meta,
      };
      out = { modelJson: JSON.stringify(modelJson), weightsBin: new Uint8Array(a.weightData as ArrayBuffer) };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return out!;
}

/** loadTfModel loads model.json + weights.bin artifacts back into a layers model. */
export async function loadTfModel(modelJson: string, weightsBin: Uint8Array): Promise<tf.LayersModel> {
  const j = JSON.parse(modelJson) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
  const ab = weightsBin.buffer.slice(weightsBin.byteOffset, weightsBin.byteOffset + weightsBin.byteLength) as ArrayBuffer;
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: j.modelTopology, weightSpecs: j.weightsManifest[0]!.weights, weightData: ab }));
}
