/**
 * onnx: the shipped int8 and fp32 ONNX models pass the official ONNX checker, are < 100 KB, use only the
 * allowed standard operators, have a dynamic batch dimension, and run in onnxruntime-node within the
 * stated bounds of the float tfjs model on 10,000 held-out samples (int8 ≤ 2% of each output's
 * normalized range, fp32 ≤ 1e-5).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { REPO, need } from './helpers/env.js';
import { generateDataset } from '../src/families/container-resources/data/generate.js';
import { initBackend, loadTfModel, predictTf, toFloatWeights } from '../src/model/tf.js';
import { forwardQuantized, maxAbsDeviation, quantizeModel } from '../src/core/quantize.js';
import { loadOnnx } from '../src/onnx/runtime.js';
import { inspectOnnx } from '../src/onnx/inspect.js';
import type { Dataset } from '../src/families/container-resources/data/simulate.js';

const MODELS = join(REPO, 'models');
const INT8 = join(MODELS, 'predictor.onnx');
const FP32 = join(MODELS, 'predictor_fp32.onnx');
const onnxMissing = need('onnx');

let ds: Dataset;
let ref: Float32Array;

beforeAll(async () => {
  await initBackend();
  // Held-out: seed 777 was never used for training (training data uses seed 42).
  ds = await generateDataset(10000, 777);
  const m = await loadTfModel(readFileSync(join(MODELS, 'model.json'), 'utf8'), readFileSync(join(MODELS, 'weights.bin')));
  ref = predictTf(m, ds.X, ds.n, [4]);
});

describe('shipped ONNX models', () => {
  it.skipIf(!!onnxMissing)('pass the official ONNX checker (full_check)', () => {
    for (const f of [INT8, FP32]) {
      const out = execFileSync('/usr/bin/python3', ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print("ok")', f]).toString();
      expect(out.trim()).toBe('ok');
    }
  });

  it('are small, opset ≥ 13, IR ≥ 7, standard operators only, with a dynamic batch dimension', () => {
    expect(statSync(INT8).size).toBeLessThan(100_000);
    const allowed = new Set(['QuantizeLinear', 'DequantizeLinear', 'MatMul', 'QLinearMatMul', 'Gemm', 'Add', 'Mul', 'Relu', 'Sigmoid', 'Clip', 'Concat', 'Slice']);
    for (const f of [INT8, FP32]) {
      const info = inspectOnnx(readFileSync(f));
      expect(info.opset).toBeGreaterThanOrEqual(13);
      expect(info.irVersion).toBeGreaterThanOrEqual(7);
      for (const op of info.opTypes) expect(allowed.has(op), `${op} is not an allowed operator`).toBe(true);
      expect(info.inputs).toEqual([{ name: 'features', elemType: 'float32', shape: ['batch', 12] }]);
      expect(info.outputs).toEqual([{ name: 'recommendation', elemType: 'float32', shape: ['batch', 5] }]);
    }
    // int8: the weights really are int8 initializers.
    expect(inspectOnnx(readFileSync(INT8)).opTypes).toContain('DequantizeLinear');
  });

  it('int8 ONNX is within 2% of the float tfjs model per output on 10,000 held-out samples', async () => {
    const p = await loadOnnx(readFileSync(INT8));
    const dev = maxAbsDeviation(ref, await p.predict(ds.X, ds.n), 5);
    for (const d of dev) expect(d).toBeLessThanOrEqual(0.02);
  });

  it("int8 ONNX stays within 0.03 of the float model at ONNX Runtime's default optimization level ('all')", async () => {
    // At 'all' ONNX Runtime fuses DequantizeLinear → MatMul into integer kernels that also quantize the
    // activations, which adds error: the README records 0.020 for the shipped v1.1.0; on this test's held-out
    // rows it was 0.0200 with the old sfc32 generator and is 0.0173 with seedrandom's Tyche-i. The 2% gate
    // above applies at 'basic', the level every loader in this project uses (src/onnx/runtime.ts) and the
    // README tells users to set; this bound (the measured 0.020 + a 0.01 margin) is for a user who keeps the
    // default, and fails if the fused path drifts well past what was measured.
    const s = await ort.InferenceSession.create(readFileSync(INT8));
    const o = (await s.run({ features: new ort.Tensor('float32', ds.X, [ds.n, 12]) })).recommendation!.data as Float32Array;
    maxAbsDeviation(ref, o, 5).forEach((d, j) => expect(d, `output ${j}: max |Δ| ${d.toFixed(4)} at level 'all'`).toBeLessThanOrEqual(0.03));
  });

  it('fp32 ONNX matches the float tfjs model within 1e-5', async () => {
    const p = await loadOnnx(readFileSync(FP32));
    for (const d of maxAbsDeviation(ref, await p.predict(ds.X, ds.n), 5)) expect(d).toBeLessThanOrEqual(1e-5);
  });

  it('the TypeScript int8 forward pass computes what ONNX Runtime computes', async () => {
    const m = await loadTfModel(readFileSync(join(MODELS, 'model.json'), 'utf8'), readFileSync(join(MODELS, 'weights.bin')));
    const q = quantizeModel(toFloatWeights(m, [4]), ds.X.subarray(0, 1000 * 12), 1000, 'weights');
    const p = await loadOnnx(readFileSync(INT8));
    const dev = maxAbsDeviation(forwardQuantized(q, ds.X, ds.n), await p.predict(ds.X, ds.n), 5);
    for (const d of dev) expect(d).toBeLessThanOrEqual(1e-5);
  });

  it('EXPECTED FAILURE - bytes that are not ONNX give OnnxModelError naming the label', async () => {
    await expect(loadOnnx(new Uint8Array([1, 2, 3]), 'junk.onnx')).rejects.toThrow(/junk.onnx: ONNX Runtime cannot load it/);
  });
});
