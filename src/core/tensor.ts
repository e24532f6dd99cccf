/**
 * tensor: how a model file's graph input or output is described, by the ONNX reader (onnx/inspect.ts)
 * and in the store's manifest (store/manifest.ts, a version's contract.inputs and contract.outputs).
 */

/** TensorSpec: one graph tensor, e.g. { name: 'features', elemType: 'float32', shape: ['N', 12] }. */
export interface TensorSpec {
  name: string;
  elemType: 'float32';
  /** a named dimension ('N', the batch) or a fixed width */
  shape: (string | number)[];
}
