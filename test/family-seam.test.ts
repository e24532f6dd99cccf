/**
 * family-seam: a stub family defined here, in the test alone, goes through the whole pipeline that the
 * container family uses (train → int8 + fp32 ONNX → publish into a store → ONNX Runtime → Rust module),
 * which shows that those layers take a family's contract as a parameter and hard-code none of its widths
 * or names. The stub: 3 inputs → 8 → 2 outputs, output 0 linear (y = mean of the inputs), output 1 a
 * probability (whether input 0 > 0.5).
 */
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelContract } from '../src/core/contract.js';
import type { ModelFamily, TrainingSet } from '../src/core/family.js';
import { runTraining, TRAIN_DEFAULTS } from '../src/model/pipeline.js';
import { exportModel } from '../src/export/publish.js';
import { loadOnnx } from '../src/onnx/runtime.js';
import { inspectOnnx, readQuantizedModel } from '../src/onnx/inspect.js';
import { readManifest } from '../src/store/manifest.js';
import { Rng } from '../src/util/rng.js';

const STUB_CONTRACT: ModelContract = {
  family: 'stub-mean',
  version: '1',
  inputs: ['a', 'b', 'c'].map((name) => ({ name, unit: 'ratio', description: `input ${name}`, normalization: { type: 'linear', min: 0, max: 1 } as const })),
  outputs: [
    { name: 'mean', unit: 'ratio', description: 'mean of the inputs', normalization: { type: 'linear', min: 0, max: 1 } },
    { name: 'a_high', unit: 'probability', description: 'P(a > 0.5)', normalization: { type: 'linear', min: 0, max: 1 } },
  ],
  hidden: [8],
  sigmoid: [1],
  descriptor: () => ({ contractVersion: '1', inputs: ['a', 'b', 'c'], outputs: ['mean', 'a_high'] }),
};

/** stubData: n rows of uniform inputs with their exact labels. */
function stubData(n: number, seed: number): TrainingSet {
  const rng = new Rng(seed);
  const X = Float32Array.from({ length: n * 3 }, () => rng.next());
  const Y = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    Y[2 * i] = (X[3 * i]! + X[3 * i + 1]! + X[3 * i + 2]!) / 3;
    Y[2 * i + 1] = X[3 * i]! > 0.5 ? 1 : 0;
  }
  return { X, Y, aux: new Float32Array(0), weight: new Float32Array(n).fill(1), n, widths: { x: 3, y: 2, aux: 0 }, groups: null, sources: [{ path: 'memory', sha256: '0'.repeat(64), rows: n, weight: 1, info: {} }] };
}

const STUB: ModelFamily = {
  name: 'stub-mean',
  title: 'a test-only family',
  contract: STUB_CONTRACT,
  fileStem: 'stub-mean',
  training: {
    load: () => stubData(2000, 1),
    hyperDefaults: {},
    hyperHelp: {},
    // squared error on the mean, log loss on the probability (its logit)
    objective: () => (tf, pred, label) => tf.tidy(() => {
      const se = pred.slice([0, 0], [-1, 1]).sub(label.slice([0, 0], [-1, 1])).square().mean();
      const z = pred.slice([0, 1], [-1, 1]);
      const bce = tf.softplus(z).sub(label.slice([0, 1], [-1, 1]).mul(z)).mean();
      return se.add(bce) as ReturnType<typeof se.mean>;
    }) as never,
    describeObjective: () => 'squared error + log loss',
  },
  evaluation: { gate: async () => ({ failed: [], validation: {} }) },
  serving: undefined as never,
};

describe('a second family through the generic pipeline', () => {
  it('trains, quantizes, publishes and runs with its own widths (3 → 8 → 2), next to nothing of the container family', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crp-stub-'));
    const report = await runTraining(STUB, { ...TRAIN_DEFAULTS, data: [{ path: 'memory', weight: 1 }], output: join(dir, 'out'), epochs: 30, learningRate: 0.01, batchSize: 64, hyper: {}, log: () => {} });
    expect(report.family).toBe('stub-mean');
    expect(report.architecture.layers).toEqual([3, 8, 2]);
    expect(report.files).toContain('stub-mean.onnx');

    const bytes = readFileSync(join(dir, 'out', 'stub-mean.onnx'));
    const info = inspectOnnx(bytes);
    expect(info.inputs).toEqual([{ name: 'features', elemType: 'float32', shape: ['batch', 3] }]);
    expect(info.outputs).toEqual([{ name: 'recommendation', elemType: 'float32', shape: ['batch', 2] }]);
    expect(readQuantizedModel(bytes).sigmoid).toEqual([1]); // read back from the graph's Slice → Sigmoid

    // It learned the task: mean within 0.05, and the probability on the right side of 0.5.
    const p = await loadOnnx(bytes, 'stub');
    expect([p.inputWidth, p.outputWidth]).toEqual([3, 2]);
    const y = await p.predict(Float32Array.from([0.9, 0.3, 0.3, 0.1, 0.2, 0.9]), 2);
    expect(y[0]).toBeCloseTo(0.5, 1);
    expect(y[2]).toBeCloseTo(0.4, 1);
    expect(y[1]).toBeGreaterThan(0.5);
    expect(y[3]).toBeLessThan(0.5);
    await p.release();

    // Published under its own name and file stem, with a Rust module of its widths.
    const r = exportModel({ model: join(dir, 'out', 'stub-mean.onnx'), outputDir: join(dir, 'store'), manifestPath: join(dir, 'store', 'manifest.json'), family: STUB, validation: null });
    expect(r.file).toBe('stub-mean_v1.0.0.onnx');
    expect(Object.keys(readManifest(join(dir, 'store', 'manifest.json')).families)).toEqual(['stub-mean']);
    const rs = readFileSync(r.rustPath!, 'utf8');
    expect(rs).toContain('pub const N_INPUTS: usize = 3;');
    expect(rs).toContain('pub const N_OUTPUTS: usize = 2;');
    expect(rs).toContain('out[1] = 1.0 / (1.0 + (-out[1]).exp());');
    expect(rs).not.toContain('recommend(');
  });

  it('EXPECTED FAILURE - publishing a model under a family of other widths is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crp-stub-'));
    const model = join(import.meta.dirname, '..', 'models', 'predictor.onnx'); // a container model: 12 → 5
    expect(() => exportModel({ model, outputDir: dir, manifestPath: join(dir, 'manifest.json'), family: STUB, validation: null })).toThrow(/takes 12 inputs and gives 5 outputs, but family stub-mean has 3 and 2/);
  });
});
