/**
 * weights: the network's architecture and its weights as plain arrays, independent of any runtime.
 * 12 → 32 (ReLU) → 16 (ReLU) → 5, where outputs 0..3 are the resource heads (linear, in normalized
 * units) and output 4 is the confidence head (sigmoid of its logit). Weight matrices are stored row-major
 * as [in, out] (the ONNX MatMul layout: y = x · W + b).
 */
import { N_FEATURES, N_OUTPUTS } from '../contract/features.js';

export const LAYER_SIZES = [N_FEATURES, 32, 16, N_OUTPUTS] as const;
export const ARCHITECTURE = 'dense-12-32-16-5-relu-relu';

export interface DenseLayer {
  inSize: number;
  outSize: number;
  /** [inSize × outSize], row-major */
  W: Float32Array;
  /** [outSize] */
  b: Float32Array;
}

export interface FloatWeights {
  layers: DenseLayer[];
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/**
 * forwardFloat runs the float network on rows of x (n × 12, normalized) and returns n × 5 outputs,
 * the confidence already through the sigmoid. This is the reference the ONNX graphs are checked against.
 */
export function forwardFloat(w: FloatWeights, x: Float32Array, n: number): Float32Array {
  let cur = x;
  for (let l = 0; l < w.layers.length; l++) {
    const { inSize, outSize, W, b } = w.layers[l]!;
    const next = new Float32Array(n * outSize);
    const relu = l < w.layers.length - 1;
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < outSize; j++) {
        let s = b[j]!;
        for (let i = 0; i < inSize; i++) s += cur[r * inSize + i]! * W[i * outSize + j]!;
        next[r * outSize + j] = relu && s < 0 ? 0 : s;
      }
    }
    cur = next;
  }
  for (let r = 0; r < n; r++) cur[r * N_OUTPUTS + 4] = sigmoid(cur[r * N_OUTPUTS + 4]!);
  return cur;
}
