/**
 * generate-data: simulate workloads, or cut windows from real traces, and write a training-data file.
 *   npm run generate -- --samples 100000 --output data/training_data.npz --seed 42
 *   npm run generate -- --from-trace bitbrains --input ../shared/data/bitbrains-250 --vms 1-150 --output data/real.npz
 * See src/families/container-resources/data/workloads.ts for the workload kinds and data/simulate.ts for the label policy.
 */
import { extname } from 'node:path';
import { makeCli, progress, runMain, formatDuration } from './src/util/cli.js';
import { UserError } from './src/util/errors.js';
import { generateDataset } from './src/families/container-resources/data/generate.js';
import { datasetMetadata, datasetToCsv, encodeDataset } from './src/families/container-resources/data/dataset-io.js';
import { checkWritable, writeFileAtomic } from './src/util/fs-atomic.js';
import { datasetFromTraces } from './src/families/container-resources/data/from-trace.js';
import { getSource, SOURCES } from './src/sources/registry.js';
import { parseSelector } from './src/sources/select.js';

runMain(async () => {
  const argv = await makeCli('generate-data', 'Simulate container workloads, or cut windows from real traces, and write training data.\n\nUsage: npm run generate -- --samples 100000 --output data/training_data.npz --seed 42\n       npm run generate -- --from-trace bitbrains --input DIR --vms 1-150 --output data/real.npz')
    .option('samples', { alias: 'n', type: 'number', default: 100000, describe: 'number of samples (workload windows)' })
    .option('output', { alias: 'o', type: 'string', default: 'data/training_data.npz', describe: 'output file (.npz, or .csv with --format csv)' })
    .option('seed', { type: 'number', default: 42, describe: 'random seed; the same seed gives a byte-identical file' })
    .option('format', { choices: ['npz', 'csv'] as const, describe: 'file format (default: from the extension, else npz)' })
    .option('threads', { type: 'number', describe: 'worker threads (default: all cores)' })
    .option('from-trace', { choices: SOURCES.map((x) => x.name), describe: 'cut real windows (past 7 d → next 3 d, stride 1 d) from traces of this source instead of simulating' })
    .option('input', { alias: 'i', type: 'string', array: true, describe: 'with --from-trace: trace folder(s) or file(s) (.csv, .csv.gz)' })
    .option('vms', { type: 'string', describe: 'with --from-trace: keep only these traces, e.g. 1-150 (split by VM, never by window)' })
    .option('strict', { type: 'boolean', default: false, describe: 'with --from-trace: refuse the input at the first bad row' })
    .example('npm run generate -- --samples 1000 --output data/sample.csv --format csv', 'a small CSV to look at')
    .example('npm run generate -- --from-trace bitbrains --input ../shared/data/bitbrains-250 --vms 1-150 --output data/real.npz', 'real windows of VMs 1–150')
    .parse();
  const format = argv.format ?? (extname(argv.output).toLowerCase() === '.csv' ? 'csv' : 'npz');
  if (argv.fromTrace) {
    if (!argv.input?.length) throw new UserError('--from-trace needs --input: a folder or files of traces');
    checkWritable(argv.output);
    const t0 = performance.now();
    const r = datasetFromTraces(getSource(argv.fromTrace), argv.input, { strict: argv.strict, select: argv.vms ? parseSelector(argv.vms) : undefined, log: (l) => progress(`generate: ${l}`, true) });
    if (!r.traces) throw new UserError(`--input ${argv.input.join(' ')} has no trace files${argv.vms ? ' that --vms selects' : ''}`);
    if (!r.ds.n) throw new UserError(`none of the ${r.traces} traces has 10 days of samples for one window`);
    const bytes = format === 'csv' ? datasetToCsv(r.ds) : encodeDataset(r.ds, 0, argv.fromTrace);
    writeFileAtomic(argv.output, bytes);
    const skipped: Record<string, number> = {};
    for (const inp of r.inputs) for (const [k, v] of Object.entries(inp.skipped)) skipped[k] = (skipped[k] ?? 0) + v;
    const noWindow = r.inputs.filter((x) => x.windows === 0).map((x) => x.input);
    const secs = (performance.now() - t0) / 1000;
    progress(`generate: ${r.ds.n} windows from ${r.traces - noWindow.length} of ${r.traces} traces (${noWindow.length} too short for a window) → ${argv.output} in ${formatDuration(secs)}`, true);
    console.log(JSON.stringify({ output: argv.output, source: argv.fromTrace, traces: r.traces, tracesWithoutWindow: noWindow.length, windows: r.ds.n, skippedRows: skipped, mergedRows: r.inputs.reduce((a, x) => a + x.merged, 0), format, seconds: +secs.toFixed(2) }));
    return;
  }
  const n = argv.samples;
  if (!Number.isInteger(n) || n < 1 || n > 5_000_000) throw new UserError(`--samples must be a whole number from 1 to 5000000, got ${argv.samples}`);
  if (!Number.isInteger(argv.seed) || argv.seed < 0 || argv.seed > 0xffffffff) throw new UserError(`--seed must be a whole number from 0 to 4294967295, got ${argv.seed}`);
  if (argv.threads !== undefined && (!Number.isInteger(argv.threads) || argv.threads < 1)) throw new UserError(`--threads must be a whole number ≥ 1, got ${argv.threads}`);

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
