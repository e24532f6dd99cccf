/**
 * weights: a dense network's weights as plain arrays, independent of any runtime and of any family. The
 * layer sizes come from the family's contract (core/contract.ts layerSizes: 12 → 32 → 16 → 5 for
 * containers); hidden layers use ReLU, the last layer is linear, and the outputs listed in `sigmoid` go
 * through a sigmoid (probabilities). Weight matrices are stored row-major as [in, out] (the ONNX MatMul
 * layout: y = x · W + b).
 */

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
  /** indices of outputs that pass through a sigmoid */
  sigmoid: readonly number[];
}

/** applySigmoid applies the sigmoid in place to the given columns of an n-row output matrix. */
export function applySigmoid(y: Float32Array, n: number, width: number, cols: readonly number[]): Float32Array {
  for (let r = 0; r < n; r++) for (const c of cols) y[r * width + c] = 1 / (1 + Math.exp(-y[r * width + c]!));
  return y;
}

/**
 * forwardFloat runs the float network on rows of x (n × inputs, normalized) and returns n × outputs,
 * the sigmoid outputs already through the sigmoid. This is the reference the ONNX graphs are checked against.
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
  return applySigmoid(cur, n, w.layers[w.layers.length - 1]!.outSize, w.sigmoid);
}
