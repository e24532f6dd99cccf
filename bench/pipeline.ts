/**
 * bench/pipeline: the core pipeline's speed targets, measured in one run on this machine.
 *   npx tsx bench/pipeline.ts            (npm run bench:pipeline)
 * Targets: 100,000 samples generated in ≤ 30 s; training on them to early stop in ≤ 60 s.
 * Prints each time and its ratio to the target (≤ 1.00 meets it). Not a test: machines are noisy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateDataset } from '../src/families/container-resources/data/generate.js';
import { encodeDataset } from '../src/families/container-resources/data/dataset-io.js';
import { writeFileAtomic } from '../src/util/fs-atomic.js';
import { containerResources } from '../src/families/container-resources/index.js';
import { runTraining, TRAIN_DEFAULTS } from '../src/model/pipeline.js';

const dir = mkdtempSync(join(tmpdir(), 'crp-bench-'));
try {
  const n = 100_000;
  let t = performance.now();
  const ds = await generateDataset(n, 42);
  const data = join(dir, 'training_data.npz');
  writeFileAtomic(data, encodeDataset(ds, 42));
  const genSec = (performance.now() - t) / 1000;
  console.log(`generate: ${n} samples in ${genSec.toFixed(1)} s (target 30 s, ratio ${(genSec / 30).toFixed(2)})`);

  t = performance.now();
  const r = await runTraining(containerResources, { ...TRAIN_DEFAULTS, data: [{ path: data, weight: 1 }], output: join(dir, 'models'), hyper: {}, log: () => {} });
  const trainSec = (performance.now() - t) / 1000;
  console.log(`train:    ${r.data.train} rows, backend ${r.backend}, ${r.epochs.length} epochs (best ${r.bestEpoch}${r.stoppedEarly ? ', early stop' : ''}) in ${trainSec.toFixed(1)} s incl. quantization and export (target 60 s, ratio ${(trainSec / 60).toFixed(2)})`);
  console.log(`onnx:     int8 ${r.onnx.int8Bytes} bytes, max |int8 − float| ${Math.max(...Object.values(r.onnx.int8VsFloatMaxAbs)).toFixed(4)} (normalized)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
