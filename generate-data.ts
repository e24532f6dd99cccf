/**
 * generate-data: simulate workloads, or cut windows from real traces, and write a training-data file.
 *   npm run generate -- --samples 100000 --output data/training_data.npz --seed 42
 *   npm run generate -- --from-trace bitbrains --input ../shared/data/bitbrains-250 --vms 1-150 --output data/real.npz
 *   npm run generate -- --samples 100000 --calibration data/simulator-calibration.json --output data/calibrated.npz
 *   npm run generate -- --fit-calibration --from-trace bitbrains --input ../shared/data/bitbrains-250 --vms 1-150 --output data/simulator-calibration.json
 * Simulated output gets a report beside it (OUTPUT.report.json): window statistics of the file's first
 * samples next to the real windows a calibration was fitted on (data/calibration.ts).
 * See src/families/container-resources/data/workloads.ts for the workload kinds and data/simulate.ts for the label policy.
 * This script reads the flags; what each mode does is in src/families/container-resources/data/generate-cli.ts.
 */
import { extname, resolve } from 'node:path';
import { makeCli, runMain } from './src/util/cli.js';
import { UserError } from './src/util/errors.js';
import { SOURCES } from './src/sources/registry.js';
import { fitCalibrationCli, generateFromTraces, generateSimulated } from './src/families/container-resources/data/generate-cli.js';

/** The committed calibration, the report's default reference (generation stays uncalibrated without --calibration). */
const DEFAULT_CALIBRATION = resolve(import.meta.dirname, 'data/simulator-calibration.json');

runMain(async () => {
  const argv = await makeCli('generate-data', 'Simulate container workloads, or cut windows from real traces, and write training data.\n\nUsage: npm run generate -- --samples 100000 --output data/training_data.npz --seed 42\n       npm run generate -- --from-trace bitbrains --input DIR --vms 1-150 --output data/real.npz\n       npm run generate -- --calibration data/simulator-calibration.json --output data/calibrated.npz\n       npm run generate -- --fit-calibration --from-trace bitbrains --input DIR --vms 1-150 --output data/simulator-calibration.json')
    .option('samples', { alias: 'n', type: 'number', default: 100000, describe: 'number of samples (workload windows)' })
    .option('output', { alias: 'o', type: 'string', default: 'data/training_data.npz', describe: 'output file (.npz, or .csv with --format csv)' })
    .option('seed', { type: 'number', default: 42, describe: 'random seed; the same seed gives a byte-identical file' })
    .option('format', { choices: ['npz', 'csv'] as const, describe: 'file format (default: from the extension, else npz)' })
    .option('threads', { type: 'number', describe: 'worker threads (default: all cores)' })
    .option('from-trace', { choices: SOURCES.map((x) => x.name), describe: 'cut real windows (past 7 d → next 3 d, stride 1 d) from traces of this source instead of simulating' })
    .option('input', { alias: 'i', type: 'string', array: true, describe: 'with --from-trace: trace folder(s) or file(s) (.csv, .csv.gz)' })
    .option('vms', { type: 'string', describe: 'with --from-trace: keep only these traces, e.g. 1-150 (split by VM, never by window)' })
    .option('split', { type: 'string', describe: 'with --from-trace: a fleet split (npm run split-fleet); keep the VMs of --role' })
    .option('role', { type: 'string', array: true, choices: ['train', 'select', 'test'], describe: 'with --split: the role(s) whose VMs to keep, e.g. --role train' })
    .option('size-half', { choices: ['smaller', 'larger'], describe: "with --split: keep only that half of the VMs by median daily memory peak (the split's size halves)" })
    .option('strict', { type: 'boolean', default: false, describe: 'with --from-trace: refuse the input at the first bad row' })
    .option('calibration', { type: 'string', describe: 'simulate with this calibration (data/simulator-calibration.json); default: the uncalibrated simulator, so old seeds reproduce' })
    .option('report', { type: 'boolean', default: true, describe: 'write OUTPUT.report.json (simulated vs real window statistics, reference: --calibration or data/simulator-calibration.json) and print it; --no-report skips it' })
    .option('report-windows', { type: 'number', default: 2000, describe: 'samples the report reads (the first ones of the file)' })
    .option('fit-calibration', { type: 'boolean', default: false, describe: 'fit the simulator to real windows (--from-trace, --input, --vms: the TRAINING VMs only) and write the calibration JSON to --output' })
    .option('check-vms', { type: 'string', describe: 'with --fit-calibration: also report KS distances on these VMs, as a check only (never fitted on), e.g. 151-200' })
    .option('fit-windows', { type: 'number', default: 150, describe: 'with --fit-calibration: simulated windows per workload kind' })
    .example('npm run generate -- --samples 1000 --output data/sample.csv --format csv', 'a small CSV to look at')
    .example('npm run generate -- --from-trace bitbrains --input ../shared/data/bitbrains-250 --vms 1-150 --output data/real.npz', 'real windows of VMs 1–150')
    .example('npm run generate -- --calibration data/simulator-calibration.json --output data/calibrated.npz', 'simulate with the fitted kind mix and overlays')
    .example('npm run generate -- --fit-calibration --from-trace bitbrains --input ../shared/data/bitbrains-250 --vms 1-150 --check-vms 151-200 --output data/simulator-calibration.json', '(re)fit the calibration on VMs 1–150')
    .parse();
  if (argv.fitCalibration) return fitCalibrationCli(argv);
  if (argv.checkVms !== undefined) throw new UserError('--check-vms only applies with --fit-calibration');
  const format = argv.format ?? (extname(argv.output).toLowerCase() === '.csv' ? 'csv' : 'npz');
  if (argv.fromTrace) return generateFromTraces({ ...argv, fromTrace: argv.fromTrace }, format);
  return generateSimulated(argv, format, DEFAULT_CALIBRATION);
});
