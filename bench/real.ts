/**
 * bench/real: the "learn from real usage" performance targets, measured in one run (npm run bench:real):
 *   1. generate --from-trace over all 250 Bitbrains VMs (read .csv.gz, skip dirt, cut and label windows):
 *      target ≤ 30 s;
 *   2. training on real windows (VMs 1–150) + 100,000 synthetic windows (weight 0.25) to early stop, with
 *      train's defaults (batch 512): target ≤ 90 s. The synthetic file is generated first and not timed.
 * Needs ../shared/data/bitbrains-250. Writes only to a temporary folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bitbrains } from '../src/sources/bitbrains.js';
import { datasetFromTraces } from '../src/families/container-resources/data/from-trace.js';
import { encodeDataset } from '../src/families/container-resources/data/dataset-io.js';
import { generateDataset } from '../src/families/container-resources/data/generate.js';
import { containerResources } from '../src/families/container-resources/index.js';
import { runTraining, TRAIN_DEFAULTS } from '../src/model/pipeline.js';
import { parseSelector } from '../src/sources/select.js';
import { writeFileAtomic } from '../src/util/fs-atomic.js';

const DIR = resolve(import.meta.dirname, '../../shared/data/bitbrains-250');
const tmp = mkdtempSync(join(tmpdir(), 'crp-bench-real-'));
try {
  let t = performance.now();
  const all = datasetFromTraces(bitbrains, [DIR]);
  const genSec = (performance.now() - t) / 1000;
  console.log(`from-trace: ${all.traces} VMs → ${all.ds.n} windows in ${genSec.toFixed(1)} s (target 30 s, ratio ${(genSec / 30).toFixed(2)})`);

  const real = datasetFromTraces(bitbrains, [DIR], { select: parseSelector('1-150') });
  const realPath = join(tmp, 'real.npz');
  writeFileAtomic(realPath, encodeDataset(real.ds, 0, 'bitbrains'));
  const syn = await generateDataset(100_000, 42);
  const synPath = join(tmp, 'syn.npz');
  writeFileAtomic(synPath, encodeDataset(syn, 42));

  t = performance.now();
  const r = await runTraining(containerResources, { ...TRAIN_DEFAULTS, data: [{ path: realPath, weight: 1 }, { path: synPath, weight: 0.25 }], output: join(tmp, 'models'), hyper: {}, log: () => {} });
  const trainSec = (performance.now() - t) / 1000;
  console.log(`train:      ${real.ds.n} real + 100000 synthetic rows, backend ${r.backend}, ${r.epochs.length} epochs (best ${r.bestEpoch}${r.stoppedEarly ? ', early stop' : ''}) in ${trainSec.toFixed(1)} s incl. quantization and export (target 90 s, ratio ${(trainSec / 90).toFixed(2)})`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
