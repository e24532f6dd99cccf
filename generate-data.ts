/**
 * generate-data: simulate workloads and write a training-data file.
 *   npm run generate -- --samples 100000 --output data/training_data.npz --seed 42
 * See src/families/container-resources/data/workloads.ts for the workload kinds and data/simulate.ts for the label policy.
 */
import { extname } from 'node:path';
import { makeCli, progress, runMain, formatDuration } from './src/util/cli.js';
import { UserError } from './src/util/errors.js';
import { generateDataset } from './src/families/container-resources/data/generate.js';
import { datasetMetadata, datasetToCsv, encodeDataset } from './src/families/container-resources/data/dataset-io.js';
import { checkWritable, writeFileAtomic } from './src/util/fs-atomic.js';

runMain(async () => {
  const argv = await makeCli('generate-data', 'Simulate container workloads and write training data.\n\nUsage: npm run generate -- --samples 100000 --output data/training_data.npz --seed 42')
    .option('samples', { alias: 'n', type: 'number', default: 100000, describe: 'number of samples (workload windows)' })
    .option('output', { alias: 'o', type: 'string', default: 'data/training_data.npz', describe: 'output file (.npz, or .csv with --format csv)' })
    .option('seed', { type: 'number', default: 42, describe: 'random seed; the same seed gives a byte-identical file' })
    .option('format', { choices: ['npz', 'csv'] as const, describe: 'file format (default: from the extension, else npz)' })
    .option('threads', { type: 'number', describe: 'worker threads (default: all cores)' })
    .example('npm run generate -- --samples 1000 --output data/sample.csv --format csv', 'a small CSV to look at')
    .parse();
  const n = argv.samples;
  if (!Number.isInteger(n) || n < 1 || n > 5_000_000) throw new UserError(`--samples must be a whole number from 1 to 5000000, got ${argv.samples}`);
  if (!Number.isInteger(argv.seed) || argv.seed < 0 || argv.seed > 0xffffffff) throw new UserError(`--seed must be a whole number from 0 to 4294967295, got ${argv.seed}`);
  if (argv.threads !== undefined && (!Number.isInteger(argv.threads) || argv.threads < 1)) throw new UserError(`--threads must be a whole number ≥ 1, got ${argv.threads}`);
  const format = argv.format ?? (extname(argv.output).toLowerCase() === '.csv' ? 'csv' : 'npz');

  checkWritable(argv.output); // fail before the long work, not after it
  const t0 = performance.now();
  let last = 0;
  let lastDone = -1;
  const ds = await generateDataset(n, argv.seed, {
    threads: argv.threads,
    onProgress: (done) => {
      const now = performance.now();
      if (done === lastDone || (now - last < 1000 && done < n)) return;
      last = now;
      lastDone = done;
      const el = (now - t0) / 1000;
      progress(`generate: ${done}/${n} samples (${((100 * done) / n).toFixed(0)}%) ${formatDuration(el)} elapsed, ETA ${formatDuration(done ? (el * (n - done)) / done : NaN)}`);
    },
  });
  const bytes = format === 'csv' ? datasetToCsv(ds) : encodeDataset(ds, argv.seed);
  writeFileAtomic(argv.output, bytes);
  const meta = datasetMetadata(ds, argv.seed);
  const secs = (performance.now() - t0) / 1000;
  progress(`generate: wrote ${n} samples to ${argv.output} (${(Buffer.byteLength(bytes) / 1e6).toFixed(1)} MB, ${format}) in ${formatDuration(secs)}`, true);
  console.log(JSON.stringify({ output: argv.output, samples: n, seed: argv.seed, format, seconds: +secs.toFixed(2), countsPerKind: meta.countsPerKind }));
});
