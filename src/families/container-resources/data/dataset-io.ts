/**
 * dataset-io: the training-data file. A Dataset is saved as .npz with these arrays:
 *   X          float32 (N, 12)  normalized features, contract order, in [0, 1]
 *   Y          float32 (N, 5)   normalized labels (cpu_request, cpu_limit, mem_request, mem_limit, confidence)
 *   features_raw float64 (N, 12) the features in real units
 *   <outcome>  float64 (N,)     one array per OUTCOME_NAMES entry (cores, bytes)
 *   kind       unicode (N,)     the workload kind of each sample
 *   metadata   unicode ()       JSON: schemaVersion, feature and output names, normalization, generator
 *                               version, seed, sample counts per kind, label policy
 * and as CSV (one row per sample, real-unit features, labels and outcomes) for people who want to look.
 */
import { contractDescriptor, FEATURE_NAMES, N_FEATURES, N_OUTPUTS, OUTPUT_NAMES } from '../features.js';
import { decodeNpz, encodeNpz, NpzError } from '../../../util/npz.js';
import type { NpyArray } from '../../../util/npz.js';
import { allocateDataset, GENERATOR_VERSION, LABEL_POLICY, OUTCOME_NAMES } from './simulate.js';
import type { Dataset } from './simulate.js';
import { DATA_KINDS, KINDS } from './workloads.js';
import { denormalize, OUTPUTS } from '../features.js';
import { InputError } from '../../../util/errors.js';
import { readBytesOrThrow } from '../../../util/read.js';

export const DATASET_SCHEMA_VERSION = 1;

/** DatasetError: a data file that is missing, corrupt or of another schema. */
export class DatasetError extends InputError {
  constructor(message: string) {
    super(message);
  }
}

export interface DatasetMetadata {
  schemaVersion: number;
  generatorVersion: string;
  seed: number;
  samples: number;
  kinds: string[];
  countsPerKind: Record<string, number>;
  features: string[];
  outputs: string[];
  outcomes: string[];
  contract: ReturnType<typeof contractDescriptor>;
  labelPolicy: typeof LABEL_POLICY;
  /** where the windows come from: 'simulated' (absent in older files) or a trace source such as 'bitbrains' */
  source?: string;
  /** the simulator calibration the samples were generated with (absent: the uncalibrated simulator) */
  calibration?: { file: string; version: string; sha256: string };
}

export function datasetMetadata(ds: Dataset, seed: number, source?: string, calibration?: DatasetMetadata['calibration']): DatasetMetadata {
  const countsPerKind: Record<string, number> = {};
  for (const k of KINDS) countsPerKind[k] = 0;
  for (let i = 0; i < ds.n; i++) countsPerKind[DATA_KINDS[ds.kind[i]!]!] = (countsPerKind[DATA_KINDS[ds.kind[i]!]!] ?? 0) + 1;
  return {
    schemaVersion: DATASET_SCHEMA_VERSION,
    generatorVersion: GENERATOR_VERSION,
    seed,
    samples: ds.n,
    kinds: countsPerKind.real ? [...DATA_KINDS] : [...KINDS],
    countsPerKind,
    features: [...FEATURE_NAMES],
    outputs: [...OUTPUT_NAMES],
    outcomes: [...OUTCOME_NAMES],
    contract: contractDescriptor(),
    labelPolicy: LABEL_POLICY,
    ...(source ? { source } : {}),
    ...(calibration ? { calibration } : {}),
  };
}

/** encodeDataset returns the .npz bytes of a data set (deterministic). */
export function encodeDataset(ds: Dataset, seed: number, source?: string, calibration?: DatasetMetadata['calibration']): Buffer {
  const arrays: [string, NpyArray][] = [
    ['X', { dtype: 'f4', shape: [ds.n, N_FEATURES], data: ds.X }],
    ['Y', { dtype: 'f4', shape: [ds.n, N_OUTPUTS], data: ds.Y }],
    ['features_raw', { dtype: 'f8', shape: [ds.n, N_FEATURES], data: ds.featuresRaw }],
    ...OUTCOME_NAMES.map((k): [string, NpyArray] => [k, { dtype: 'f8', shape: [ds.n], data: ds.outcomes[k] }]),
    ['kind', { dtype: 'U', shape: [ds.n], data: Array.from(ds.kind, (k) => DATA_KINDS[k]!) }],
    ...(ds.group ? [['group', { dtype: 'U', shape: [ds.n], data: ds.group }] as [string, NpyArray]] : []),
    ['metadata', { dtype: 'U', shape: [], data: [JSON.stringify(datasetMetadata(ds, seed, source, calibration))] }],
  ];
  return encodeNpz(arrays);
}

/** loadDataset reads and checks a data file written by encodeDataset (or by numpy with the same arrays). */
export function loadDataset(path: string): { ds: Dataset; meta: DatasetMetadata; bytes: Buffer } {
  const bytes = readBytesOrThrow(path, { what: 'data file', fix: 'create it with npm run generate', error: DatasetError });
  let arrays: Map<string, NpyArray>;
  try {
    arrays = decodeNpz(bytes);
  } catch (e) {
    throw new DatasetError(`${path} is not a readable .npz data file (${e instanceof NpzError ? e.message : String(e)}); regenerate it with npm run generate`);
  }
  const get = <D extends NpyArray['dtype']>(name: string, dtype: D): Extract<NpyArray, { dtype: D }> => {
    const a = arrays.get(name);
    if (!a) throw new DatasetError(`${path}: array '${name}' is missing; regenerate the file with npm run generate`);
    if (a.dtype !== dtype) throw new DatasetError(`${path}: array '${name}' has dtype ${a.dtype}, expected ${dtype}`);
    return a as Extract<NpyArray, { dtype: D }>;
  };
  const metaText = get('metadata', 'U').data[0] ?? '';
  let meta: DatasetMetadata;
  try {
    meta = JSON.parse(metaText) as DatasetMetadata;
  } catch {
    throw new DatasetError(`${path}: metadata is not JSON`);
  }
  if (meta.schemaVersion !== DATASET_SCHEMA_VERSION) throw new DatasetError(`${path}: data schema ${meta.schemaVersion} is not supported (expected ${DATASET_SCHEMA_VERSION}); regenerate it`);
  if (JSON.stringify(meta.features) !== JSON.stringify(FEATURE_NAMES)) throw new DatasetError(`${path}: its features ${JSON.stringify(meta.features)} differ from this contract's; regenerate it`);
  const X = get('X', 'f4');
  const n = X.shape[0] ?? 0;
  if (X.shape[1] !== N_FEATURES) throw new DatasetError(`${path}: X has shape (${X.shape}), expected (N, ${N_FEATURES})`);
  const Y = get('Y', 'f4');
  if (Y.shape[0] !== n || Y.shape[1] !== N_OUTPUTS) throw new DatasetError(`${path}: Y has shape (${Y.shape}), expected (${n}, ${N_OUTPUTS})`);
  const ds = allocateDataset(n);
  ds.X.set(X.data);
  ds.Y.set(Y.data);
  ds.featuresRaw.set(get('features_raw', 'f8').data);
  for (const k of OUTCOME_NAMES) {
    const a = get(k, 'f8');
    if (a.data.length !== n) throw new DatasetError(`${path}: ${k} has ${a.data.length} rows, expected ${n}`);
    ds.outcomes[k].set(a.data);
  }
  const kinds = get('kind', 'U').data;
  for (let i = 0; i < n; i++) {
    const k = DATA_KINDS.indexOf(kinds[i] as (typeof DATA_KINDS)[number]);
    if (k < 0) throw new DatasetError(`${path}: kind[${i}] = '${kinds[i]}' is not a known workload kind (${DATA_KINDS.join(', ')})`);
    ds.kind[i] = k;
  }
  const group = arrays.get('group');
  if (group) {
    if (group.dtype !== 'U' || group.data.length !== n) throw new DatasetError(`${path}: array 'group' must be unicode with ${n} rows`);
    ds.group = group.data as string[];
  }
  for (let i = 0; i < ds.X.length; i++) {
    const v = ds.X[i]!;
    if (!(v >= 0 && v <= 1)) throw new DatasetError(`${path}: X[${Math.floor(i / N_FEATURES)}, ${i % N_FEATURES}] = ${v} is outside [0, 1]`);
  }
  return { ds, meta, bytes };
}

/** datasetToCsv renders real-unit features, labels and outcomes as CSV with a header row. */
export function datasetToCsv(ds: Dataset): string {
  const header = ['kind', ...FEATURE_NAMES, ...OUTPUT_NAMES.map((o) => `label_${o}`), ...OUTCOME_NAMES];
  const lines = [header.join(',')];
  for (let i = 0; i < ds.n; i++) {
    const row: (string | number)[] = [DATA_KINDS[ds.kind[i]!]!];
    for (let j = 0; j < N_FEATURES; j++) row.push(+ds.featuresRaw[i * N_FEATURES + j]!.toPrecision(7));
    const raw = ds.featuresRaw.subarray(i * N_FEATURES, (i + 1) * N_FEATURES);
    for (let j = 0; j < N_OUTPUTS; j++) row.push(+denormalize(OUTPUTS[j]!.normalization, ds.Y[i * N_OUTPUTS + j]!, raw).toPrecision(7));
    for (const k of OUTCOME_NAMES) row.push(+ds.outcomes[k][i]!.toPrecision(7));
    lines.push(row.join(','));
  }
  return lines.join('\n') + '\n';
}
