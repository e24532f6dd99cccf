/**
 * runtime: the one module that imports onnxruntime-node. Everything else receives an OnnxPredictor.
 */
import * as ort from 'onnxruntime-node';
import { INPUT_NAME, OUTPUT_NAME } from './build.js';
import { N_FEATURES, N_OUTPUTS } from '../contract/features.js';

/** OnnxModelError: a model file ONNX Runtime cannot load or that breaks the graph contract. */
export class OnnxModelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxModelError';
  }
}

export interface OnnxPredictor {
  /** predict runs n rows of normalized features (n × 12) and returns n × 5 outputs. */
  predict(x: Float32Array, n: number): Promise<Float32Array>;
  release(): Promise<void>;
}

/** loadOnnx creates an ONNX Runtime session from model bytes and checks its inputs and outputs. */
export async function loadOnnx(bytes: Uint8Array, label = 'model'): Promise<OnnxPredictor> {
  let session: ort.InferenceSession;
  try {
    // 'basic' keeps DequantizeLinear → float MatMul as written, so ONNX Runtime computes exactly what
    // forwardQuantized (and the Rust edge export) computes. At 'extended'/'all' it fuses the int8 MatMuls
    // into integer kernels whose rounding differs (by up to ~1% of the normalized range here).
    session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'basic' });
  } catch (e) {
    throw new OnnxModelError(`${label}: ONNX Runtime cannot load it (${(e instanceof Error ? e.message : String(e)).split('\n')[0]})`);
  }
  if (!session.inputNames.includes(INPUT_NAME) || !session.outputNames.includes(OUTPUT_NAME)) {
    await session.release();
    throw new OnnxModelError(`${label}: expected input '${INPUT_NAME}' and output '${OUTPUT_NAME}', found inputs [${session.inputNames}] and outputs [${session.outputNames}]`);
  }
  return {
    async predict(x: Float32Array, n: number): Promise<Float32Array> {
      if (x.length !== n * N_FEATURES) throw new OnnxModelError(`${label}: got ${x.length} values for ${n} rows of ${N_FEATURES}`);
      const out = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', x, [n, N_FEATURES]) });
      const t = out[OUTPUT_NAME]!;
      if (t.dims.length !== 2 || t.dims[1] !== N_OUTPUTS) throw new OnnxModelError(`${label}: output has shape [${t.dims}], expected [${n}, ${N_OUTPUTS}]`);
      return t.data as Float32Array;
    },
    release: () => session.release(),
  };
}
