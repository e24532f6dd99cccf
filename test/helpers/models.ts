/**
 * models: small ONNX models built from seeded random weights, for tests that need a model file but not
 * a trained one (the store, export, the agent).
 */
import { CONTAINER_CONTRACT, contractDescriptor } from '../../src/families/container-resources/features.js';
import { layerSizes } from '../../src/core/contract.js';
import { buildQuantizedOnnx } from '../../src/onnx/build.js';
import { quantizeModel } from '../../src/core/quantize.js';
import type { FloatWeights } from '../../src/core/weights.js';
import { Rng } from '../../src/util/rng.js';

/** randomWeights returns Glorot-uniform weights for the 12→32→16→5 network. */
export function randomWeights(seed: number): FloatWeights {
  const rng = new Rng(seed);
  const layers = [];
  const sizes = layerSizes(CONTAINER_CONTRACT);
  for (let l = 1; l < sizes.length; l++) {
    const i = sizes[l - 1]!;
    const o = sizes[l]!;
    const lim = Math.sqrt(6 / (i + o));
    layers.push({ inSize: i, outSize: o, W: Float32Array.from({ length: i * o }, () => rng.range(-lim, lim)), b: Float32Array.from({ length: o }, () => rng.range(0, 0.5)) });
  }
  return { layers, sigmoid: CONTAINER_CONTRACT.sigmoid };
}

/** modelBytes builds an int8 ONNX with the embedded contract (optionally altered, to force a major). */
export function modelBytes(seed: number, alterContract?: (c: ReturnType<typeof contractDescriptor>) => void, extraMetadata: Record<string, string> = {}): Uint8Array {
  const w = randomWeights(seed);
  const rng = new Rng(seed + 1);
  const calib = Float32Array.from({ length: 200 * 12 }, () => rng.next());
  const contract = contractDescriptor();
  alterContract?.(contract);
  return buildQuantizedOnnx(CONTAINER_CONTRACT, quantizeModel(w, calib, 200, 'weights'), { contract: JSON.stringify(contract), training_data_sha256: 'f'.repeat(64), ...extraMetadata });
}
