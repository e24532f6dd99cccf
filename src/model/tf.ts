/**
 * tf: the one module that imports TensorFlow.js. It resolves the backend (tfjs-node when it is installed,
 * else tfjs with the wasm backend, else the plain CPU backend), builds a family's dense network (12→32→16→5
 * for containers), trains it on the family's objective, and converts between the tfjs model and plain FloatWeights.
 *
 * Backend resolution tries candidates in priority order, records why each failed, and logs the winner.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { applySigmoid } from '../core/weights.js';
import type { FloatWeights } from '../core/weights.js';
import { Rng } from '../util/rng.js';
import type { Objective, TrainData } from '../core/family.js';

/** Tf, Objective and TrainData are declared with the family interface (core/family.ts), below this module. */
export type { Objective, Tf, TrainData } from '../core/family.js';

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
 * buildModel makes the layers model (ReLU hidden layers, a linear last layer) for `sizes` ([12, 32, 16, 5]
 * for containers) with seeded initial weights. Outputs that the contract passes through a sigmoid are
 * LOGITS here; forwardFloat, predictTf and the ONNX graph apply the sigmoid.
 */
export function buildModel(sizes: readonly number[], seed: number): tf.Sequential {
  const rng = new Rng(seed);
  const model = tf.sequential();
  for (let l = 1; l < sizes.length; l++) {
    model.add(
      tf.layers.dense({
        units: sizes[l]!,
        inputShape: l === 1 ? [sizes[0]!] : undefined,
        activation: l < sizes.length - 1 ? 'relu' : 'linear',
        name: `dense_${l}`,
      }),
    );
  }
  const init: tf.Tensor[] = [];
  for (let l = 1; l < sizes.length; l++) {
    init.push(tf.tensor2d(glorotUniform(rng, sizes[l - 1]!, sizes[l]!), [sizes[l - 1]!, sizes[l]!]));
    init.push(tf.zeros([sizes[l]!]));
  }
  model.setWeights(init);
  tf.dispose(init);
  return model;
}

/** toFloatWeights copies a model's weights into plain arrays; `sigmoid` lists the probability outputs. */
export function toFloatWeights(model: tf.LayersModel, sigmoid: readonly number[]): FloatWeights {
  const ws = model.getWeights();
  const layers = [];
  for (let l = 0; l < ws.length; l += 2) {
    const W = ws[l]!;
    layers.push({ inSize: W.shape[0]!, outSize: W.shape[1]!, W: new Float32Array(W.dataSync()), b: new Float32Array(ws[l + 1]!.dataSync()) });
  }
  return { layers, sigmoid: [...sigmoid] };
}

/** setFloatWeights loads plain weights into a model of the same architecture. */
export function setFloatWeights(model: tf.LayersModel, w: FloatWeights): void {
  const ts = w.layers.flatMap((L) => [tf.tensor2d(L.W, [L.inSize, L.outSize]), tf.tensor1d(L.b)]);
  model.setWeights(ts);
  tf.dispose(ts);
}

export interface TrainOptions {
  /** layer sizes, [inputs, ...hidden, outputs] */
  sizes: readonly number[];
  /** probability outputs (see toFloatWeights) */
  sigmoid: readonly number[];
  objective: Objective;
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
  const { x: wx, y: wy, aux: wa } = trainSet.widths;
  const model = buildModel(opts.sizes, opts.seed);
  const optimizer = tf.train.adam(opts.learningRate);
  const rng = new Rng(opts.seed ^ 0x5eed);
  const order = Uint32Array.from({ length: trainSet.n }, (_, i) => i);
  const bx = new Float32Array(opts.batchSize * wx);
  const by = new Float32Array(opts.batchSize * wy);
  const ba = new Float32Array(opts.batchSize * wa);
  const bw = new Float32Array(opts.batchSize);
  const vx = tf.tensor2d(valSet.X, [valSet.n, wx]);
  const vy = tf.tensor2d(valSet.Y, [valSet.n, wy]);
  const va = tf.tensor2d(valSet.aux, [valSet.n, wa]);
  const vw = tf.tensor2d(valSet.weight, [valSet.n, 1]);
  const history: TrainResult['history'] = [];
  let best = Infinity;
  let bestEpoch = 0;
  let bestWeights = toFloatWeights(model, opts.sigmoid);
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
        bx.set(trainSet.X.subarray(r * wx, r * wx + wx), k * wx);
        by.set(trainSet.Y.subarray(r * wy, r * wy + wy), k * wy);
        ba.set(trainSet.aux.subarray(r * wa, r * wa + wa), k * wa);
        bw[k] = trainSet.weight[r]!;
      }
      const loss = tf.tidy(() => {
        const x = tf.tensor2d(bx, [opts.batchSize, wx]);
        const y = tf.tensor2d(by, [opts.batchSize, wy]);
        const a = tf.tensor2d(ba, [opts.batchSize, wa]);
        const w = tf.tensor2d(bw, [opts.batchSize, 1]);
        return optimizer.minimize(() => opts.objective(tf, model.apply(x) as tf.Tensor2D, y, a, w), true)!;
      });
      sum += (await loss.data())[0]!;
      loss.dispose();
      batches++;
    }
    const valLoss = tf.tidy(() => opts.objective(tf, model.apply(vx) as tf.Tensor2D, vy, va, vw).dataSync()[0]!);
    const rec = { epoch, loss: sum / Math.max(batches, 1), valLoss, seconds: (performance.now() - t0) / 1000 };
    history.push(rec);
    opts.onEpoch?.(rec);
    if (valLoss < best - 1e-6) {
      best = valLoss;
      bestEpoch = epoch;
      bestWeights = toFloatWeights(model, opts.sigmoid);
      stale = 0;
    } else if (++stale >= opts.patience) {
      break;
    }
  }
  tf.dispose([vx, vy, va, vw]);
  optimizer.dispose();
  setFloatWeights(model, bestWeights);
  return { model, weights: bestWeights, history, bestEpoch, stoppedEarly: history.length < opts.epochs };
}

/** predictTf runs the tfjs model on n rows and applies the sigmoid to the `sigmoid` output columns. */
export function predictTf(model: tf.LayersModel, x: Float32Array, n: number, sigmoid: readonly number[]): Float32Array {
  const inputs = (model.inputs[0]!.shape[1] as number) ?? x.length / n;
  const out = tf.tidy(() => new Float32Array((model.predict(tf.tensor2d(x, [n, inputs])) as tf.Tensor2D).dataSync()));
  return applySigmoid(out, n, out.length / n, sigmoid);
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
