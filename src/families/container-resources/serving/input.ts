/**
 * input: checks one container recommendation item and writes its 12 normalized features straight into
 * the Float32Array the model reads. Every failure is a RequestFieldError naming the field by its JSON
 * path inside the item ("features.cpu_p95", "window.cpuCores[17]") and saying what to do; the agent
 * puts the item's place in front ("items[3].features.cpu_p95") and answers 400 INVALID_FIELD.
 *
 * An item is one of:
 *   { "features": { "cpu_p50": 0.12, …, "workload_age": 340 } }   the 12 features by name, real units
 *   { "features": [0.12, 0.3, …] }                                the 12 features in contract order
 *   { "window": { "timestampsSec": […], "cpuCores": […], "memoryBytes": […],
 *                 "throttledPeriods"?: […], "totalPeriods"?: […], "workloadStartSec"?: n } }
 * plus optional "container", "workload", "namespace" strings, echoed back. Unknown fields are refused.
 *
 * Physical bounds (real units, see ../features.ts; README "Limits"), each refusal naming the likely mistake:
 * CPU percentiles 0..64 cores (the model's range; 64 < x ≤ 64,000 "looks like millicores"), memory
 * percentiles 0 or 64 KiB..256 GiB (below 64 KiB "looks like MiB or GiB, not bytes"), each set
 * non-decreasing (p50 ≤ p95 ≤ p99); cpu_variance 0..100 (a coefficient of variation, not a variance);
 * mem_trend −10..10 (a fraction of mean memory per day, not bytes); throttle_ratio 0..1; hour a whole
 * number 0..23; day_of_week a whole number 0..6 (0 = Sunday); workload_age 0..175,200 hours (20 years;
 * above, "looks like seconds or milliseconds"). A window's own checks are in window.ts (timestamps in
 * seconds since the epoch, repeats merged, "sort": true); the features it gives get the range checks.
 */
import { computeFeatures, CPU_RANGE, FEATURE_NAMES, FeatureError, MEM_RANGE, N_FEATURES, normalizeFeatures } from '../features.js';
import type { FeatureName } from '../features.js';
import { coresFromMillicores, GiB, MiB, millicoresFromCores } from '../../../core/units.js';
import { RequestFieldError } from '../../../core/family.js';
import { checkEpochSeconds, prepareWindow } from './window.js';

/** ItemMeta: the names an item may carry, echoed in its answer. */
export interface ItemMeta {
  container?: string;
  workload?: string;
  namespace?: string;
  /** requested hold rates (risk targets) for this item's limits */
  risk?: { memoryHold?: number; cpuHold?: number };
  /** what was done to accept the item (a window's repeats merged, its samples sorted), echoed as "warnings" */
  warnings?: string[];
  /** the item's 12 features in real units: the answer is a multiple of its scales (not echoed) */
  inputs: Float64Array;
}
const ITEM_KEYS = new Set(['features', 'window', 'container', 'workload', 'namespace', 'risk']);
const RISK_KEYS = new Set(['memoryHold', 'cpuHold']);
const WINDOW_KEYS = new Set(['timestampsSec', 'cpuCores', 'memoryBytes', 'throttledPeriods', 'totalPeriods', 'workloadStartSec', 'sort']);
const WINDOW_SERIES = ['timestampsSec', 'cpuCores', 'memoryBytes', 'throttledPeriods', 'totalPeriods'] as const;
const FEATURE_INDEX = new Map<string, number>(FEATURE_NAMES.map((n, i) => [n, i]));
/** MAX_NAME_LENGTH: a Kubernetes object name is at most 253 characters. */
export const MAX_NAME_LENGTH = 253;
/** MAX_WINDOW_SAMPLES: 7 days at 10-second resolution is 60,480 samples. */
export const MAX_WINDOW_SAMPLES = 100_000;
/** BOUNDS: the physical bounds of the given features beyond the model's ranges (see the header). */
export const BOUNDS = { memMinBytes: 64 * 1024, cpuVarianceMax: 100, memTrendAbsMax: 10, workloadAgeMaxHours: 20 * 365 * 24 } as const;

const fieldError = (field: string, problem: string) => new RequestFieldError(field, problem);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** describe names a JSON value in an error: describe('14') === 'the string "14"', describe([]) === 'an array'. */
export const describe = (v: unknown) => (typeof v === 'string' ? `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}` : Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v));

/** checkNumber returns v if it is a finite number, else throws naming the field (built by the caller only on failure). */
function checkNumber(v: unknown, field: string): number {
  if (typeof v !== 'number') throw fieldError(field, `is ${describe(v)}; expected a number`);
  if (!Number.isFinite(v)) throw fieldError(field, `is ${v}; every value must be a finite number`);
  return v;
}

/** FEATURE: each feature's index in contract order, by name (FEATURE.cpu_variance === 6). */
const FEATURE = Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, i])) as Record<FeatureName, number>;
/** the two percentile sets, each p50 ≤ p95 ≤ p99 */
const PERCENTILES = [
  { cpu: true, indices: [FEATURE.cpu_p50, FEATURE.cpu_p95, FEATURE.cpu_p99] },
  { cpu: false, indices: [FEATURE.mem_p50, FEATURE.mem_p95, FEATURE.mem_p99] },
] as const;

/** checkPercentile checks one CPU (cores) or memory (bytes) percentile, and that it is not below the one before. */
function checkPercentile(x: ArrayLike<number>, i: number, before: number | null, cpu: boolean, fieldOf: (i: number) => string): void {
  const v = x[i]!;
  if (v < 0) throw fieldError(fieldOf(i), `is ${v}; usage cannot be negative`);
  if (cpu && v > CPU_RANGE.max) {
    throw fieldError(fieldOf(i), `is ${v} cores, above the model's range (${CPU_RANGE.max} cores)${v <= millicoresFromCores(CPU_RANGE.max) ? `; it looks like millicores: give cores (${v}m = ${coresFromMillicores(v)})` : '; it cannot recommend for such a container'}`);
  }
  if (!cpu && v > MEM_RANGE.max) throw fieldError(fieldOf(i), `is ${v} bytes (${(v / GiB).toFixed(1)} GiB), above the model's range (${MEM_RANGE.max / GiB} GiB); it cannot recommend for such a container`);
  if (!cpu && v > 0 && v < BOUNDS.memMinBytes) throw fieldError(fieldOf(i), `is ${v} bytes; no container runs in less than 64 KiB: it looks like MiB or GiB, not bytes (give ${v} MiB as ${v * MiB})`);
  if (before !== null && v < x[before]!) throw fieldError(fieldOf(i), `is ${v}, below ${FEATURE_NAMES[before]} (${x[before]}); percentiles cannot decrease`);
}

/**
 * checkFeatureValues checks 12 real-unit features against the contract's ranges; `fieldOf(i)` names
 * feature i in errors. Features are read by name (FEATURE), never by a bare index. `given`: the client gave
 * the features (a window determines cpu_variance, mem_trend and workload_age, so their bounds are not checked).
 * Example: cpu_p95 = 0.1 with cpu_p50 = 0.2 → "features.cpu_p95: is 0.1, below cpu_p50 (0.2); percentiles
 * cannot decrease".
 */
export function checkFeatureValues(x: ArrayLike<number>, fieldOf: (i: number) => string, given = true): void {
  for (const { cpu, indices } of PERCENTILES) indices.forEach((i, k) => checkPercentile(x, i, k > 0 ? indices[k - 1]! : null, cpu, fieldOf));
  const bad = (name: FeatureName, problem: string) => fieldError(fieldOf(FEATURE[name]), `is ${x[FEATURE[name]]}${problem}`);
  const cv = x[FEATURE.cpu_variance]!;
  if (cv < 0) throw bad('cpu_variance', '; a coefficient of variation (std/mean) cannot be negative');
  if (given && cv > BOUNDS.cpuVarianceMax) throw bad('cpu_variance', `; a coefficient of variation (std/mean) is at most ${BOUNDS.cpuVarianceMax} here; it looks like a variance (cores²) or a percentage`);
  if (given && !(Math.abs(x[FEATURE.mem_trend]!) <= BOUNDS.memTrendAbsMax)) throw bad('mem_trend', `; give the slope as a fraction of mean memory per day, between -${BOUNDS.memTrendAbsMax} and ${BOUNDS.memTrendAbsMax} (0.01 = 1% a day), not bytes per day or per second`);
  const throttle = x[FEATURE.throttle_ratio]!;
  if (throttle < 0 || throttle > 1) throw bad('throttle_ratio', '; a throttled fraction of CFS periods is between 0 and 1');
  const hour = x[FEATURE.hour]!;
  if (!Number.isInteger(hour) || hour < 0 || hour > 23) throw bad('hour', '; give the UTC hour of the last sample, a whole number 0..23');
  const day = x[FEATURE.day_of_week]!;
  if (!Number.isInteger(day) || day < 0 || day > 6) throw bad('day_of_week', '; give the UTC weekday of the last sample, a whole number 0..6 (0 = Sunday)');
  const age = x[FEATURE.workload_age]!;
  if (age < 0) throw bad('workload_age', "; a workload's age in hours cannot be negative");
  if (given && age > BOUNDS.workloadAgeMaxHours) throw bad('workload_age', ` hours (over ${BOUNDS.workloadAgeMaxHours / 8760} years); it looks like seconds or milliseconds, not hours`);
}

/** readFeatures reads `features` (named object or 12-array) into `row` (real units). */
function readFeatures(v: unknown, row: Float64Array): void {
  if (Array.isArray(v)) {
    if (v.length !== N_FEATURES) throw fieldError('features', `has ${v.length} values; give ${N_FEATURES} in this order: ${FEATURE_NAMES.join(', ')}`);
    for (let i = 0; i < N_FEATURES; i++) {
      const x = v[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) checkNumber(x, `features[${i}]`);
      row[i] = x as number;
    }
    checkFeatureValues(row, (i) => `features[${i}]`);
    return;
  }
  if (!isObject(v)) throw fieldError('features', `is ${describe(v)}; give the ${N_FEATURES} features as an object by name or an array in contract order`);
  let n = 0;
  for (const k in v) {
    const i = FEATURE_INDEX.get(k);
    if (i === undefined) throw fieldError(`features.${k}`, `is not a feature; the features are ${FEATURE_NAMES.join(', ')}`);
    const x = v[k];
    if (typeof x !== 'number' || !Number.isFinite(x)) checkNumber(x, `features.${k}`);
    row[i] = x as number;
    n++;
  }
  if (n !== N_FEATURES) {
    const missing = FEATURE_NAMES.find((name) => !(name in v))!;
    throw fieldError(`features.${missing}`, `is required (all ${N_FEATURES} features are)`);
  }
  checkFeatureValues(row, (i) => `features.${FEATURE_NAMES[i]}`);
}

/** readWindow checks a raw usage window (window.ts: merges repeats, sorts if told), then computes its 12 features into `row`; returns its warnings. */
function readWindow(v: unknown, row: Float64Array): string[] {
  const at = (rest: string) => (rest ? `window.${rest}` : 'window');
  if (!isObject(v)) throw fieldError(at(''), `is ${describe(v)}; expected an object with timestampsSec, cpuCores and memoryBytes arrays`);
  for (const k in v) if (!WINDOW_KEYS.has(k)) throw fieldError(at(k), `is not a window field; the fields are ${[...WINDOW_KEYS].join(', ')}`);
  for (const k of WINDOW_SERIES) {
    const s = v[k];
    if (s === undefined) continue;
    if (!Array.isArray(s)) throw fieldError(at(k), `is ${describe(s)}; expected an array of numbers`);
    if (s.length > MAX_WINDOW_SAMPLES) throw fieldError(at(k), `has ${s.length} samples; at most ${MAX_WINDOW_SAMPLES} are accepted (downsample the window)`);
  }
  if (v.sort !== undefined && typeof v.sort !== 'boolean') throw fieldError(at('sort'), `is ${describe(v.sort)}; expected true (sort the samples by time) or false`);
  if (v.workloadStartSec !== undefined) checkEpochSeconds(v.workloadStartSec, at('workloadStartSec'));
  const { window, warnings } = prepareWindow(v, v.sort === true, at);
  let f;
  try {
    f = computeFeatures(window);
  } catch (e) {
    if (e instanceof FeatureError) throw fieldError(at(e.field), e.message.slice(e.field.length + 2));
    throw e;
  }
  for (let i = 0; i < N_FEATURES; i++) row[i] = f[FEATURE_NAMES[i]!];
  // A window gives ordered, non-negative percentiles; the model's ranges and the units can still be wrong.
  const seriesOf = (i: number) => PERCENTILES.find((p) => (p.indices as readonly number[]).includes(i));
  checkFeatureValues(row, (i) => {
    const p = seriesOf(i);
    return p ? at(p.cpu ? 'cpuCores' : 'memoryBytes') : `${at('')} (${FEATURE_NAMES[i]})`;
  }, false);
  return warnings;
}

/**
 * readRisk checks "risk": {"memoryHold": 0.99, "cpuHold": 0.95}: target hold rates, each > 0 and < 1 (the
 * share of future windows whose peak stays under the limit). Whether the serving version was calibrated
 * for them is checked when the answer is written (render.ts), against that version's risk table.
 */
function readRisk(r: unknown): { memoryHold?: number; cpuHold?: number } {
  if (!isObject(r)) throw fieldError('risk', `is ${describe(r)}; expected {"memoryHold": 0.99, "cpuHold": 0.95} (either or both)`);
  const out: { memoryHold?: number; cpuHold?: number } = {};
  for (const k in r) {
    if (!RISK_KEYS.has(k)) throw fieldError(`risk.${k}`, `is not a known field; the fields are memoryHold, cpuHold`);
    const h = r[k];
    if (typeof h !== 'number' || !(h > 0 && h < 1)) throw fieldError(`risk.${k}`, `is ${describe(h)}; expected a hold rate between 0 and 1, e.g. 0.99 for at most 1% of windows over the limit`);
    out[k as 'memoryHold' | 'cpuHold'] = h;
  }
  return out;
}

function checkName(s: unknown, key: string): string {
  if (typeof s !== 'string' || s.length === 0 || s.length > MAX_NAME_LENGTH) throw fieldError(key, `is ${describe(s)}; expected a name of 1..${MAX_NAME_LENGTH} characters`);
  return s;
}

/**
 * readContainerItem checks one item and writes its 12 normalized features into `out` at `offset`;
 * `row` is scratch space for the real-unit values. Returns the names it carries.
 */
export function readContainerItem(v: unknown, out: Float32Array, offset: number, row: Float64Array = new Float64Array(N_FEATURES)): ItemMeta {
  if (!isObject(v)) throw fieldError('', `is ${describe(v)}; expected a JSON object with "features" or "window"`);
  for (const k in v) if (!ITEM_KEYS.has(k)) throw fieldError(k, `is not a known field; the fields are ${[...ITEM_KEYS].join(', ')}`);
  const hasF = v.features !== undefined;
  const hasW = v.window !== undefined;
  if (hasF && hasW) throw fieldError('window', 'give either "features" or "window", not both');
  if (!hasF && !hasW) throw fieldError('features', 'is required: give the 12 features, or a raw usage "window" instead');
  let warnings: string[] = [];
  if (hasF) readFeatures(v.features, row);
  else warnings = readWindow(v.window, row);
  normalizeFeatures(row, out, offset);
  const meta: ItemMeta = { inputs: Float64Array.from(row) };
  if (warnings.length > 0) meta.warnings = warnings;
  if (v.risk !== undefined) meta.risk = readRisk(v.risk);
  if (v.container !== undefined) meta.container = checkName(v.container, 'container');
  if (v.workload !== undefined) meta.workload = checkName(v.workload, 'workload');
  if (v.namespace !== undefined) meta.namespace = checkName(v.namespace, 'namespace');
  return meta;
}
