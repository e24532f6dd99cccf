/**
 * bench/rust: single-inference time of the Rust edge export's predict() (rustc -O) next to
 * onnxruntime-node's, measured in one run.   npx tsx bench/rust.ts   (npm run bench:rust)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerResources } from '../src/families/container-resources/index.js';
import { exportModel } from '../src/export/publish.js';
import { loadOnnx } from '../src/onnx/runtime.js';
import { buildHarness } from '../test/helpers/rust.js';

const dir = mkdtempSync(join(tmpdir(), 'crp-bench-rust-'));
try {
  exportModel({ model: 'models/predictor.onnx', outputDir: dir, manifestPath: join(dir, 'manifest.json'), family: containerResources, validation: null });
  const bin = buildHarness(dir);
  const n = 2_000_000;
  const rust = execFileSync(bin, ['bench', String(n)]).toString();
  const rustNs = Number(/ns_per_predict=([\d.]+)/.exec(rust)![1]);

  const ort = await loadOnnx(readFileSync(join(dir, 'predictor_v1.0.0.onnx')));
  const x = new Float32Array(12).fill(0.5);
  for (let i = 0; i < 2000; i++) await ort.predict(x, 1); // warm-up
  const iters = 20_000;
  const t = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) {
    x[i % 12] = (i % 100) / 100;
    await ort.predict(x, 1);
  }
  const ortNs = Number(process.hrtime.bigint() - t) / iters;
  console.log(`Rust predict():              ${(rustNs / 1000).toFixed(3)} µs per inference (${n} runs, rustc -O)`);
  console.log(`onnxruntime-node (1 row):    ${(ortNs / 1000).toFixed(3)} µs per inference (${iters} runs, incl. the JS binding)`);
  console.log(`ratio onnxruntime-node / Rust: ${(ortNs / rustNs).toFixed(1)}×`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
