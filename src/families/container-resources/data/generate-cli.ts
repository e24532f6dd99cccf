/**
 * generate-cli: what `npm run generate` (generate-data.ts) does once its flags are read: cut real windows
 * from traces (generateFromTraces), simulate workloads with an optional calibration and report them
 * against real windows (generateSimulated), or fit that calibration (fitCalibrationCli). Each checks its
 * own flags, writes its files atomically and prints one JSON summary line on stdout.
 */
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { progress, formatDuration } from '../../../util/cli.js';
import { UserError } from '../../../util/errors.js';
import { checkWritable, writeFileAtomic } from '../../../util/fs-atomic.js';
import { sha256Hex } from '../../../util/hash.js';
import { getSource } from '../../../sources/registry.js';
import { parseSelector } from '../../../sources/select.js';
import { generateDataset } from './generate.js';
import { datasetMetadata, datasetToCsv, encodeDataset } from './dataset-io.js';
import { datasetFromTraces } from './from-trace.js';
import { splitSelector } from './fleet-split.js';
import type { Role } from './fleet-split.js';
import { buildCalibration, compareReport, realWindowStats, referenceColumns, reportLines, simulatedStats, validateCalibration } from './calibration.js';
import type { CalibrationFile } from './calibration.js';
import { GENERATOR_VERSION } from './simulate.js';
import type { Dataset } from './simulate.js';
import { toColumns } from './window-stats.js';

/** Format: the data file's format. */
export type Format = 'npz' | 'csv';

/** reportPathFor: data/x.npz → data/x.report.json. */
export function reportPathFor(output: string): string {
  const ext = extname(output);
  return (ext ? output.slice(0, -ext.length) : output) + '.report.json';
}

/** loadCalibration reads and checks a calibration file (errors name --calibration and the file). */
export function loadCalibration(path: string): { cal: CalibrationFile; sha256: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`--calibration ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give a file written by --fit-calibration`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UserError(`--calibration ${path}: is not valid JSON; give a file written by --fit-calibration`);
  }
  return { cal: validateCalibration(json, path), sha256: sha256Hex(text) };
}

/** TraceFlags: generate's flags for --from-trace. */
export interface TraceFlags {
  fromTrace: string;
  input?: string[];
  vms?: string;
  split?: string;
  role?: string[];
  sizeHalf?: string;
  strict: boolean;
  calibration?: string;
  output: string;
}

/** generateFromTraces: --from-trace, real windows (past 7 d → next 3 d, stride 1 d) of the selected traces. */
export function generateFromTraces(argv: TraceFlags, format: Format): void {
  if (argv.calibration !== undefined) throw new UserError('--calibration applies to simulated data; drop it with --from-trace (or add --fit-calibration to fit one)');
  if (!argv.input?.length) throw new UserError('--from-trace needs --input: a folder or files of traces');
  checkWritable(argv.output);
  const t0 = performance.now();
  if ((argv.split === undefined) !== (argv.role === undefined)) throw new UserError('--split and --role go together: e.g. --split data/fleet-split.json --role train');
  if (argv.split !== undefined && argv.vms !== undefined) throw new UserError('give either --vms or --split with --role, not both');
  if (argv.sizeHalf !== undefined && argv.split === undefined) throw new UserError('--size-half needs --split (the split file defines the halves)');
  const select = argv.split ? splitSelector(argv.split, argv.role as Role[], '--split', argv.sizeHalf as 'smaller' | 'larger' | undefined) : argv.vms ? parseSelector(argv.vms) : undefined;
  const r = datasetFromTraces(getSource(argv.fromTrace), argv.input, { strict: argv.strict, select, log: (l) => progress(`generate: ${l}`, true) });
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
}

/** SimulateFlags: generate's flags for simulated data. */
export interface SimulateFlags {
  samples: number;
  seed: number;
  threads?: number;
  calibration?: string;
  report: boolean;
  reportWindows: number;
  output: string;
}

/** LoadedCalibration: a calibration file read and checked, with its SHA-256. */
type LoadedCalibration = ReturnType<typeof loadCalibration>;

/**
 * generateSimulated simulates `samples` windows of seed `seed` (calibrated with --calibration), writes them,
 * then the report comparing the file's first windows with the real ones the calibration (or
 * `defaultCalibration`) was fitted on.
 */
export async function generateSimulated(argv: SimulateFlags, format: Format, defaultCalibration: string): Promise<void> {
  const n = argv.samples;
  checkSimulateFlags(argv);
  const calibration = argv.calibration !== undefined ? loadCalibration(argv.calibration) : undefined;
  if (calibration && calibration.cal.generatorVersion !== GENERATOR_VERSION) progress(`generate: warning: --calibration ${argv.calibration} was fitted on generator ${calibration.cal.generatorVersion}, this is ${GENERATOR_VERSION}; refit it`, true);
  const reference = calibration ?? (argv.report && existsSync(defaultCalibration) ? loadCalibration(defaultCalibration) : undefined);
  const reportPath = reportPathFor(argv.output);
  checkWritable(argv.output); // fail before the long work, not after it
  if (argv.report && reference) checkWritable(reportPath);
  const t0 = performance.now();
  const ds = await simulateWithProgress(argv, calibration, t0);
  const calMeta = calibration ? { file: argv.calibration!, version: calibration.cal.version, sha256: calibration.sha256 } : undefined;
  const bytes = format === 'csv' ? datasetToCsv(ds) : encodeDataset(ds, argv.seed, undefined, calMeta);
  writeFileAtomic(argv.output, bytes);
  const meta = datasetMetadata(ds, argv.seed);
  const secs = (performance.now() - t0) / 1000;
  progress(`generate: wrote ${n} samples to ${argv.output} (${(Buffer.byteLength(bytes) / 1e6).toFixed(1)} MB, ${format}) in ${formatDuration(secs)}`, true);
  let report: string | undefined;
  if (argv.report && !reference) progress(`generate: no report: ${defaultCalibration} is absent and no --calibration was given`, true);
  if (argv.report && reference) report = writeSimulationReport(argv, reference, calibration !== undefined, reportPath, defaultCalibration);
  console.log(JSON.stringify({ output: argv.output, samples: n, seed: argv.seed, format, seconds: +secs.toFixed(2), countsPerKind: meta.countsPerKind, calibration: calMeta ?? null, report: report ?? null }));
}

/** checkSimulateFlags refuses a bad --samples, --seed, --threads or --report-windows, naming the flag. */
function checkSimulateFlags(argv: SimulateFlags): void {
  const n = argv.samples;
  if (!Number.isInteger(n) || n < 1 || n > 5_000_000) throw new UserError(`--samples must be a whole number from 1 to 5000000, got ${argv.samples}`);
  if (!Number.isInteger(argv.seed) || argv.seed < 0 || argv.seed > 0xffffffff) throw new UserError(`--seed must be a whole number from 0 to 4294967295, got ${argv.seed}`);
  if (argv.threads !== undefined && (!Number.isInteger(argv.threads) || argv.threads < 1)) throw new UserError(`--threads must be a whole number ≥ 1, got ${argv.threads}`);
  if (!Number.isInteger(argv.reportWindows) || argv.reportWindows < 10) throw new UserError(`--report-windows must be a whole number ≥ 10, got ${argv.reportWindows}`);
}

/** simulateWithProgress generates the windows, printing progress at most once a second. */
async function simulateWithProgress(argv: SimulateFlags, calibration: LoadedCalibration | undefined, t0: number): Promise<Dataset> {
  const n = argv.samples;
  let last = 0;
  let lastDone = -1;
  const settings = calibration?.cal.settings;
  return generateDataset(n, argv.seed, {
    threads: argv.threads,
    settings,
    onProgress: (done) => {
      const now = performance.now();
      if (done === lastDone || (now - last < 1000 && done < n)) return;
      last = now;
      lastDone = done;
      const el = (now - t0) / 1000;
      progress(`generate: ${done}/${n} samples (${((100 * done) / n).toFixed(0)}%) ${formatDuration(el)} elapsed, ETA ${formatDuration(done ? (el * (n - done)) / done : NaN)}`);
    },
  });
}

/**
 * writeSimulationReport writes OUTPUT.report.json: the file's own first samples (sample i depends only on
 * seed and i), next to the same samples under the other setting and the reference's real windows; prints it.
 */
function writeSimulationReport(argv: SimulateFlags, reference: LoadedCalibration, calibrated: boolean, reportPath: string, defaultCalibration: string): string {
  const n = argv.samples;
  const m = Math.min(n, argv.reportWindows);
  const refFile = argv.calibration ?? defaultCalibration;
  const r = compareReport(referenceColumns(reference.cal.reference), simulatedStats(argv.seed, m), simulatedStats(argv.seed, m, reference.cal.settings), {
    real: { description: `${reference.cal.fittedOn.source} VMs ${reference.cal.fittedOn.vms}, ${reference.cal.fittedOn.windows} windows, as the 101 stored quantiles of ${refFile} (KS ±0.01)`, windows: reference.cal.fittedOn.windows },
    simulated: { seed: argv.seed, windows: m, description: `samples 0..${m - 1} of seed ${argv.seed} uncalibrated and with ${refFile} v${reference.cal.version}` },
    generatedWith: calibrated ? 'calibrated' : 'uncalibrated',
  });
  writeFileAtomic(reportPath, JSON.stringify({ output: argv.output, calibration: { file: refFile, version: reference.cal.version, fittedOn: reference.cal.fittedOn }, ...r }, null, 2) + '\n');
  for (const l of reportLines(r)) progress(`generate: ${l}`, true);
  progress(`generate: report → ${reportPath} (this file is the ${r.generatedWith} column)`, true);
  return reportPath;
}

/** fitCalibrationCli: --fit-calibration, fit the simulator on the real windows of --input/--vms and write the JSON. */
export async function fitCalibrationCli(argv: { fromTrace?: string; input?: string[]; vms?: string; checkVms?: string; output: string; strict: boolean; fitWindows: number; calibration?: string }): Promise<void> {
  if (!argv.fromTrace) throw new UserError('--fit-calibration needs --from-trace SOURCE --input DIR --vms RANGE: the real training windows to fit');
  if (!argv.input?.length) throw new UserError('--fit-calibration needs --input: a folder or files of traces');
  if (!argv.vms) throw new UserError('--fit-calibration needs --vms (the training VMs, e.g. 1-150): never fit on the VMs you select or report on');
  if (argv.calibration !== undefined) throw new UserError('--calibration does not apply with --fit-calibration; --output names the file to write');
  if (extname(argv.output).toLowerCase() !== '.json') throw new UserError(`--output ${argv.output}: --fit-calibration writes JSON; give e.g. --output data/simulator-calibration.json`);
  if (!Number.isInteger(argv.fitWindows) || argv.fitWindows < 20 || argv.fitWindows > 5000) throw new UserError(`--fit-windows must be a whole number from 20 to 5000, got ${argv.fitWindows}`);
  checkWritable(argv.output);
  const reportPath = reportPathFor(argv.output);
  checkWritable(reportPath);
  const source = getSource(argv.fromTrace);
  const log = (l: string) => progress(`generate: ${l}`, true);
  const train = source.read(argv.input, { strict: argv.strict, select: parseSelector(argv.vms), log });
  if (!train.length) throw new UserError(`--input ${argv.input.join(' ')} has no trace files that --vms ${argv.vms} selects`);
  const real = realWindowStats(train);
  if (!real.windows) throw new UserError(`--vms ${argv.vms}: none of the ${train.length} traces has 10 days of samples for one window`);
  let check: { vms: string; traces: number; real: ReturnType<typeof toColumns> } | undefined;
  if (argv.checkVms) {
    const names = new Set(train.map((t) => t.name));
    const ct = source.read(argv.input, { strict: argv.strict, select: parseSelector(argv.checkVms, '--check-vms'), log });
    const both = ct.filter((t) => names.has(t.name)).map((t) => t.name);
    if (both.length) throw new UserError(`--check-vms ${argv.checkVms} selects ${both.slice(0, 3).join(', ')}${both.length > 3 ? ', …' : ''} which --vms also selects; a check must use other VMs`);
    const cr = realWindowStats(ct);
    if (!cr.windows) throw new UserError(`--check-vms ${argv.checkVms}: no trace has a window`);
    check = { vms: argv.checkVms, traces: ct.length, real: toColumns(cr.rows) };
  }
  log(`fitting on ${real.windows} windows of ${train.length} traces (${argv.fitWindows} simulated windows per kind)`);
  const t0 = performance.now();
  const { file, report, fit } = buildCalibration(toColumns(real.rows), {
    source: argv.fromTrace, input: argv.input.join(' '), vms: argv.vms, traces: train.length, check, fit: { perKind: argv.fitWindows, log },
  });
  writeFileAtomic(argv.output, JSON.stringify(file, null, 2) + '\n');
  writeFileAtomic(reportPath, JSON.stringify({ output: argv.output, ...report, check: file.check ?? null }, null, 2) + '\n');
  for (const l of reportLines(report)) log(l);
  if (file.check) log(`check on ${file.check.vms} (${file.check.windows} windows, never fitted): KS ${Object.entries(file.check.uncalibrated).map(([k, v]) => `${k} ${v.toFixed(3)} → ${file.check!.calibrated[k as keyof typeof file.check.calibrated].toFixed(3)}`).join(', ')}`);
  const secs = (performance.now() - t0) / 1000;
  log(`calibration → ${argv.output}, report → ${reportPath}; fit ${fit.seconds.toFixed(1)} s (${fit.candidates} candidates), total ${formatDuration(secs)}`);
  console.log(JSON.stringify({ output: argv.output, report: reportPath, source: argv.fromTrace, vms: argv.vms, windows: real.windows, fitSeconds: +fit.seconds.toFixed(1), settings: file.settings, meanKs: report.meanKsFitted }));
}
