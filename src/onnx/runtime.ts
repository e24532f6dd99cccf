/**
 * runtime: the one module that imports onnxruntime-node. Everything else receives an OnnxPredictor, which
 * knows its widths from the graph ([batch, inputs] → [batch, outputs]); callers that serve a family check
 * them against the family's contract.
 */
import * as ort from 'onnxruntime-node';
import { INPUT_NAME, OUTPUT_NAME } from './build.js';
import { InputError } from '../util/errors.js';

/** OnnxModelError: a model file ONNX Runtime cannot load or that breaks the graph contract. */
export class OnnxModelError extends InputError {
  constructor(message: string) {
    super(message);
  }
}

export interface OnnxPredictor {
  /** the graph's input and output widths (12 and 5 for containers) */
  inputWidth: number;
  outputWidth: number;
  /** predict runs n rows of normalized inputs (n × inputWidth) and returns n × outputWidth outputs. */
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
  const width = (meta: readonly ort.InferenceSession.ValueMetadata[], name: string): number => {
    const m = meta.find((v) => v.name === name);
    const shape = m && m.isTensor ? m.shape : [];
    return typeof shape[1] === 'number' ? shape[1] : NaN;
  };
  const inputWidth = width(session.inputMetadata, INPUT_NAME);
  const outputWidth = width(session.outputMetadata, OUTPUT_NAME);
  if (!(inputWidth > 0) || !(outputWidth > 0)) {
    await session.release();
    throw new OnnxModelError(`${label}: '${INPUT_NAME}' and '${OUTPUT_NAME}' must be [batch, width] tensors with a fixed width`);
  }
  return {
    inputWidth,
    outputWidth,
    async predict(x: Float32Array, n: number): Promise<Float32Array> {
      if (x.length !== n * inputWidth) throw new OnnxModelError(`${label}: got ${x.length} values for ${n} rows of ${inputWidth}`);
      const out = await session.run({ [INPUT_NAME]: new ort.Tensor('float32', x, [n, inputWidth]) });
      const t = out[OUTPUT_NAME]!;
      if (t.dims.length !== 2 || t.dims[1] !== outputWidth) throw new OnnxModelError(`${label}: output has shape [${t.dims}], expected [${n}, ${outputWidth}]`);
      return t.data as Float32Array;
    },
    release: () => session.release(),
  };
}
