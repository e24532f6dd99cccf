/**
 * quantize: int8 weights and the exact arithmetic of the quantized ONNX graph, in plain TypeScript.
 *
 * Scheme (static QDQ, the ONNX Runtime "QDQ" format):
 * - Weights: int8, symmetric (zero point 0), one scale per OUTPUT channel (column of W):
 *   scale_j = max_i |W[i, j]| / 127, q = round(W / scale_j) in [−127, 127]. Worked example: a column
 *   [0.5, −1.27, 0.01] has scale 0.01 and codes [50, −127, 1].
 * - Activations: uint8, zero point 0 (they are ReLU outputs or features in [0, 1], never negative), one
 *   scale per tensor calibrated on training data: scale = max observed value / 255. The network input
 *   (normalized features, in [0, 1]) gets scale 1/255.
 * - Biases stay float32 and are added after the float MatMul of dequantized values.
 * Rounding is ONNX QuantizeLinear's: round half to even, then saturate to [0, 255].
 *
 * `forwardQuantized` computes exactly what the QDQ graph computes, so it is the lower bound the agent's
 * benchmark compares against and the reference the Rust edge export reproduces.
 */
import type { FloatWeights } from './weights.js';
import { applySigmoid } from './weights.js';

/**
 * QuantRanges: the integer code range of each layer's input activation (uint8 codes 0..act[l]) and
 * weights (int8 codes −weight[l]..weight[l]). ONNX Runtime's x86 int8 kernels multiply uint8 by int8 in
 * pairs summed into int16 (VPMADDUBSW), which saturates when 2 · act · weight > 32767: full-range 255 × 127
 * codes give wrong answers (the "MatMulInteger quirk"). So every layer keeps 2 · act · weight ≤ 32767:
 * the first layer keeps the input's full 255 steps (features carry most of the precision) with 7-bit
 * weights (±63), the hidden layers use 7-bit activations (0..127) with full int8 weights (±127).
 */
export interface QuantRanges {
  act: number[];
  weight: number[];
}
export const DEFAULT_RANGES: QuantRanges = { act: [255, 127, 127], weight: [63, 127, 127] };

/** rangesFor gives DEFAULT_RANGES' rule for a network of any depth: [255, 127, …] and [63, 127, …]. */
export function rangesFor(layers: number): QuantRanges {
  return { act: Array.from({ length: layers }, (_, l) => (l === 0 ? 255 : 127)), weight: Array.from({ length: layers }, (_, l) => (l === 0 ? 63 : 127)) };
}

export interface QuantizedLayer {
  inSize: number;
  outSize: number;
  /** int8 codes, [inSize × outSize] row-major */
  Wq: Int8Array;
  /** per-output-channel scales [outSize] */
  wScale: Float32Array;
  b: Float32Array;
}

export interface QuantizedModel {
  /** indices of outputs that pass through a sigmoid (as FloatWeights.sigmoid) */
  sigmoid: readonly number[];
  /** 'static': activations quantized too (QDQ); 'weights': weight-only int8, float activations */
  mode: 'static' | 'weights';
  layers: QuantizedLayer[];
  /** uint8 scale of each quantized activation: [input, after layer 1 ReLU, after layer 2 ReLU] */
  actScales: Float32Array;
  /** the largest code of each activation (values are clipped to actQmax · scale before quantizing) */
  actQmax: number[];
  /** the largest |code| of each layer's weights */
  weightQmax: number[];
}

/** roundHalfEven rounds like ONNX QuantizeLinear: 2.5 → 2, 3.5 → 4, −2.5 → −2. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** quantizeWeights makes per-channel symmetric int8 codes for one [in × out] matrix. */
export function quantizeWeights(W: Float32Array, inSize: number, outSize: number, qmax = 127): { Wq: Int8Array; wScale: Float32Array } {
  const wScale = new Float32Array(outSize);
  const Wq = new Int8Array(W.length);
  for (let j = 0; j < outSize; j++) {
    let m = 0;
    for (let i = 0; i < inSize; i++) m = Math.max(m, Math.abs(W[i * outSize + j]!));
    const s = Math.fround(m > 0 ? m / qmax : 1);
    wScale[j] = s;
    for (let i = 0; i < inSize; i++) Wq[i * outSize + j] = Math.max(-qmax, Math.min(qmax, roundHalfEven(W[i * outSize + j]! / s)));
  }
  return { Wq, wScale };
}

/** calibrateActivations returns the uint8 scales: input 1/255, hidden = max ReLU output over x / 255. */
export function calibrateActivations(w: FloatWeights, x: Float32Array, n: number, actQmax: number[] = DEFAULT_RANGES.act): Float32Array {
  const scales = new Float32Array(w.layers.length);
  scales[0] = Math.fround(1 / actQmax[0]!);
  let cur = x;
  for (let l = 0; l < w.layers.length - 1; l++) {
    const { inSize, outSize, W, b } = w.layers[l]!;
    const next = new Float32Array(n * outSize);
    let m = 0;
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < outSize; j++) {
        let s = b[j]!;
        for (let i = 0; i < inSize; i++) s += cur[r * inSize + i]! * W[i * outSize + j]!;
        const v = s > 0 ? s : 0;
        next[r * outSize + j] = v;
        if (v > m) m = v;
      }
    }
    scales[l + 1] = Math.fround(m > 0 ? m / actQmax[l + 1]! : 1);
    cur = next;
  }
  return scales;
}

/** quantizeModel quantizes float weights; `calib` (n rows of normalized inputs) sets activation scales. */
export function quantizeModel(w: FloatWeights, calib: Float32Array, n: number, mode: QuantizedModel['mode'], ranges: QuantRanges = rangesFor(w.layers.length)): QuantizedModel {
  const weightQmax = mode === 'static' ? ranges.weight : ranges.weight.map(() => 127);
  return {
    sigmoid: [...w.sigmoid],
    mode,
    layers: w.layers.map((L, l) => ({ inSize: L.inSize, outSize: L.outSize, ...quantizeWeights(L.W, L.inSize, L.outSize, weightQmax[l]), b: L.b })),
    actScales: calibrateActivations(w, calib, n, ranges.act),
    actQmax: [...ranges.act],
    weightQmax: [...weightQmax],
  };
}

/**
 * fakeQuant is Clip(0, qmax·scale) → QuantizeLinear → DequantizeLinear for uint8 with zero point 0.
 */
export function fakeQuant(v: number, scale: number, qmax: number): number {
  const c = Math.min(Math.max(v, 0), Math.fround(qmax * scale));
  const q = Math.max(0, Math.min(255, roundHalfEven(Math.fround(c / scale))));
  return Math.fround(q * scale);
}

/** dequantizedWeights returns W' = Wq · scale as float32 (what DequantizeLinear feeds MatMul). */
export function dequantizedWeights(L: QuantizedLayer): Float32Array {
  const out = new Float32Array(L.Wq.length);
  for (let i = 0; i < L.inSize; i++) for (let j = 0; j < L.outSize; j++) out[i * L.outSize + j] = Math.fround(L.Wq[i * L.outSize + j]! * L.wScale[j]!);
  return out;
}

/**
 * forwardQuantized runs the quantized network as the ONNX graph does: (fake-quantize the activation in
 * static mode) → MatMul with dequantized weights → + bias → ReLU, and a sigmoid on the probability outputs.
 */
export function forwardQuantized(q: QuantizedModel, x: Float32Array, n: number): Float32Array {
  let cur: Float32Array = x;
  for (let l = 0; l < q.layers.length; l++) {
    const L = q.layers[l]!;
    if (q.mode === 'static') {
      const s = q.actScales[l]!;
      const t = new Float32Array(cur.length);
      for (let i = 0; i < cur.length; i++) t[i] = fakeQuant(cur[i]!, s, q.actQmax[l]!);
      cur = t;
    }
    const Wd = dequantizedWeights(L);
    const next = new Float32Array(n * L.outSize);
    const relu = l < q.layers.length - 1;
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < L.outSize; j++) {
        let s = 0;
        for (let i = 0; i < L.inSize; i++) s += cur[r * L.inSize + i]! * Wd[i * L.outSize + j]!;
        s = Math.fround(s) + L.b[j]!;
        next[r * L.outSize + j] = relu && s < 0 ? 0 : s;
      }
    }
    cur = next;
  }
  return applySigmoid(cur, n, q.layers[q.layers.length - 1]!.outSize, q.sigmoid);
}

/** maxAbsDeviation per output column between two n × width output arrays. */
export function maxAbsDeviation(a: Float32Array, b: Float32Array, width: number): number[] {
  const out = new Array<number>(width).fill(0);
  for (let i = 0; i < a.length; i++) out[i % width] = Math.max(out[i % width]!, Math.abs(a[i]! - b[i]!));
  return out;
}

