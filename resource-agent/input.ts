/**
 * input: checks a recommendation request body and writes its normalized features straight into the
 * Float32Array the model reads. Every failure is an AgentError INVALID_FIELD that names the field by its
 * JSON path ("items[3].features.cpu_p95", "window.cpuCores[17]") and says what to do.
 *
 * An item is one of:
 *   { "features": { "cpu_p50": 0.12, …, "workload_age": 340 } }   the 12 features by name, real units
 *   { "features": [0.12, 0.3, …] }                                the 12 features in contract order
 *   { "window": { "timestampsSec": […], "cpuCores": […], "memoryBytes": […],
 *                 "throttledPeriods"?: […], "totalPeriods"?: […], "workloadStartSec"?: n } }
 * plus optional "container", "workload", "namespace" strings, echoed back. Unknown fields are refused.
 *
 * Ranges (real units, see src/contract/features.ts): CPU percentiles 0..64 cores and memory percentiles
 * 0..256 GiB (the model's range: above it the model cannot tell sizes apart), each set non-decreasing
 * (p50 ≤ p95 ≤ p99); cpu_variance ≥ 0; mem_trend any finite number; throttle_ratio 0..1; hour a whole
 * number 0..23; day_of_week a whole number 0..6 (0 = Sunday); workload_age ≥ 0 hours.
 */
import { computeFeatures, CPU_RANGE, FEATURE_NAMES, FeatureError, MEM_RANGE, N_FEATURES, normalizeFeatures } from '../src/families/container-resources/features.js';
import type { UsageWindow } from '../src/families/container-resources/features.js';
import { GiB } from '../src/core/units.js';
import { AgentError, fieldError } from './errors.js';

/** ItemMeta: the names an item may carry, echoed in its answer. */
export interface ItemMeta {
  container?: string;
  workload?: string;
  namespace?: string;
}

/** NO_NAMES: the (shared, frozen) names of an item that gives none. */
const NO_NAMES: ItemMeta = Object.freeze({});
const ITEM_KEYS = new Set(['features', 'window', 'container', 'workload', 'namespace']);
const WINDOW_KEYS = new Set(['timestampsSec', 'cpuCores', 'memoryBytes', 'throttledPeriods', 'totalPeriods', 'workloadStartSec']);
const WINDOW_SERIES = ['timestampsSec', 'cpuCores', 'memoryBytes', 'throttledPeriods', 'totalPeriods'] as const;
const FEATURE_INDEX = new Map<string, number>(FEATURE_NAMES.map((n, i) => [n, i]));
/** MAX_NAME_LENGTH: a Kubernetes object name is at most 253 characters. */
export const MAX_NAME_LENGTH = 253;
/** MAX_WINDOW_SAMPLES: 7 days at 10-second resolution is 60,480 samples. */
export const MAX_WINDOW_SAMPLES = 100_000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown) => (typeof v === 'string' ? `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}` : Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v));

/** checkNumber returns v if it is a finite number, else throws naming the field (built by the caller only on failure). */
function checkNumber(v: unknown, field: string): number {
  if (typeof v !== 'number') throw fieldError(field, `is ${describe(v)}; expected a number`);
  if (!Number.isFinite(v)) throw fieldError(field, `is ${v}; every value must be a finite number`);
  return v;
}

/**
 * checkFeatureValues checks 12 real-unit features against the contract's ranges; `fieldOf(i)` names
 * feature i in errors. Example: cpu_p95 = 0.1 with cpu_p50 = 0.2 → "features.cpu_p95: is 0.1, below
 * cpu_p50 (0.2); percentiles cannot decrease".
 */
export function checkFeatureValues(x: ArrayLike<number>, fieldOf: (i: number) => string): void {
  for (let i = 0; i < 6; i++) {
    const v = x[i]!;
    const cpu = i < 3;
    if (v < 0) throw fieldError(fieldOf(i), `is ${v}; usage cannot be negative`);
    if (v > (cpu ? CPU_RANGE.max : MEM_RANGE.max)) {
      throw fieldError(fieldOf(i), cpu ? `is ${v} cores, above the model's range (${CPU_RANGE.max} cores); it cannot recommend for such a container` : `is ${v} bytes (${(v / GiB).toFixed(1)} GiB), above the model's range (${MEM_RANGE.max / GiB} GiB); it cannot recommend for such a container`);
    }
    if (i !== 0 && i !== 3 && v < x[i - 1]!) throw fieldError(fieldOf(i), `is ${v}, below ${FEATURE_NAMES[i - 1]} (${x[i - 1]}); percentiles cannot decrease`);
  }
  if (x[6]! < 0) throw fieldError(fieldOf(6), `is ${x[6]}; a coefficient of variation (std/mean) cannot be negative`);
  if (x[8]! < 0 || x[8]! > 1) throw fieldError(fieldOf(8), `is ${x[8]}; a throttled fraction of CFS periods is between 0 and 1`);
  if (!Number.isInteger(x[9]) || x[9]! < 0 || x[9]! > 23) throw fieldError(fieldOf(9), `is ${x[9]}; give the UTC hour of the last sample, a whole number 0..23`);
  if (!Number.isInteger(x[10]) || x[10]! < 0 || x[10]! > 6) throw fieldError(fieldOf(10), `is ${x[10]}; give the UTC weekday of the last sample, a whole number 0..6 (0 = Sunday)`);
  if (x[11]! < 0) throw fieldError(fieldOf(11), `is ${x[11]}; a workload's age in hours cannot be negative`);
}

/**
 * pathOf names a field: pathOf(-1, 'features.hour') === 'features.hour' (a single body),
 * pathOf(3, 'features.hour') === 'items[3].features.hour'. Paths are built only for errors.
 */
export function pathOf(item: number, rest: string): string {
  if (item < 0) return rest || 'body';
  return rest ? `items[${item}].${rest}` : `items[${item}]`;
}

/** readFeatures reads `features` (named object or 12-array) into `row` (real units). */
function readFeatures(v: unknown, item: number, row: Float64Array): void {
  if (Array.isArray(v)) {
    if (v.length !== N_FEATURES) throw fieldError(pathOf(item, 'features'), `has ${v.length} values; give ${N_FEATURES} in this order: ${FEATURE_NAMES.join(', ')}`);
    for (let i = 0; i < N_FEATURES; i++) {
      const x = v[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) checkNumber(x, pathOf(item, `features[${i}]`));
      row[i] = x as number;
    }
    checkFeatureValues(row, (i) => pathOf(item, `features[${i}]`));
    return;
  }
  if (!isObject(v)) throw fieldError(pathOf(item, 'features'), `is ${describe(v)}; give the ${N_FEATURES} features as an object by name or an array in contract order`);
  let n = 0;
  for (const k in v) {
    const i = FEATURE_INDEX.get(k);
    if (i === undefined) throw fieldError(pathOf(item, `features.${k}`), `is not a feature; the features are ${FEATURE_NAMES.join(', ')}`);
    const x = v[k];
    if (typeof x !== 'number' || !Number.isFinite(x)) checkNumber(x, pathOf(item, `features.${k}`));
    row[i] = x as number;
    n++;
  }
  if (n !== N_FEATURES) {
    const missing = FEATURE_NAMES.find((name) => !(name in v))!;
    throw fieldError(pathOf(item, `features.${missing}`), `is required (all ${N_FEATURES} features are)`);
  }
  checkFeatureValues(row, (i) => pathOf(item, `features.${FEATURE_NAMES[i]}`));
}

/** readWindow checks a raw usage window's shape, then computes its 12 features into `row`. */
function readWindow(v: unknown, item: number, row: Float64Array): void {
  const at = (rest: string) => pathOf(item, rest ? `window.${rest}` : 'window');
  if (!isObject(v)) throw fieldError(at(''), `is ${describe(v)}; expected an object with timestampsSec, cpuCores and memoryBytes arrays`);
  for (const k in v) if (!WINDOW_KEYS.has(k)) throw fieldError(at(k), `is not a window field; the fields are ${[...WINDOW_KEYS].join(', ')}`);
  for (const k of WINDOW_SERIES) {
    const s = v[k];
    if (s === undefined) continue;
    if (!Array.isArray(s)) throw fieldError(at(k), `is ${describe(s)}; expected an array of numbers`);
    if (s.length > MAX_WINDOW_SAMPLES) throw fieldError(at(k), `has ${s.length} samples; at most ${MAX_WINDOW_SAMPLES} are accepted (downsample the window)`);
  }
  if (v.workloadStartSec !== undefined) checkNumber(v.workloadStartSec, at('workloadStartSec'));
  let f;
  try {
    f = computeFeatures(v as unknown as UsageWindow);
  } catch (e) {
    if (e instanceof FeatureError) throw fieldError(at(e.field), e.message.slice(e.field.length + 2));
    throw e;
  }
  for (let i = 0; i < N_FEATURES; i++) row[i] = f[FEATURE_NAMES[i]!];
  // A window gives ordered, non-negative percentiles; only the model's upper range can be exceeded.
  checkFeatureValues(row, (i) => (i < 3 ? at('cpuCores') : i < 6 ? at('memoryBytes') : `${at('')} (${FEATURE_NAMES[i]})`));
}

/**
 * readItem checks one item (`item` is its index in a batch, −1 for a single body) and writes its 12
 * normalized features into `out` at `offset`. Returns the names it carries.
 */
export function readItem(v: unknown, item: number, out: Float32Array, offset: number, row: Float64Array = new Float64Array(N_FEATURES)): ItemMeta {
  if (!isObject(v)) throw fieldError(pathOf(item, ''), `is ${describe(v)}; expected a JSON object with "features" or "window"`);
  for (const k in v) if (!ITEM_KEYS.has(k)) throw fieldError(pathOf(item, k), `is not a known field; the fields are ${[...ITEM_KEYS].join(', ')}`);
  const hasF = v.features !== undefined;
  const hasW = v.window !== undefined;
  if (hasF && hasW) throw fieldError(pathOf(item, 'window'), 'give either "features" or "window", not both');
  if (!hasF && !hasW) throw fieldError(pathOf(item, 'features'), 'is required: give the 12 features, or a raw usage "window" instead');
  if (hasF) readFeatures(v.features, item, row);
  else readWindow(v.window, item, row);
  normalizeFeatures(row, out, offset);
  if (v.container === undefined && v.workload === undefined && v.namespace === undefined) return NO_NAMES;
  const meta: ItemMeta = {};
  if (v.container !== undefined) meta.container = checkName(v.container, item, 'container');
  if (v.workload !== undefined) meta.workload = checkName(v.workload, item, 'workload');
  if (v.namespace !== undefined) meta.namespace = checkName(v.namespace, item, 'namespace');
  return meta;
}

function checkName(s: unknown, item: number, key: string): string {
  if (typeof s !== 'string' || s.length === 0 || s.length > MAX_NAME_LENGTH) throw fieldError(pathOf(item, key), `is ${describe(s)}; expected a name of 1..${MAX_NAME_LENGTH} characters`);
  return s;
}

/** A checked request: n rows of normalized features and each row's names. */
export interface ParsedRows {
  n: number;
  x: Float32Array;
  meta: ItemMeta[];
}

/** parseSingle checks a POST /v1/recommend body. */
export function parseSingle(body: unknown): { x: Float32Array; meta: ItemMeta } {
  const x = new Float32Array(N_FEATURES);
  return { x, meta: readItem(body, -1, x, 0) };
}

/** parseBatch checks a POST /v1/recommend/batch body: { "items": [item, …] } with 1..maxItems items. */
export function parseBatch(body: unknown, maxItems: number): ParsedRows {
  if (!isObject(body)) throw new AgentError('INVALID_FIELD', `body: is ${describe(body)}; expected {"items": [ … ]}`, 'body');
  for (const k in body) if (k !== 'items') throw fieldError(k, 'is not a known field; a batch body has only "items"');
  const items = body.items;
  if (!Array.isArray(items)) throw fieldError('items', `is ${items === undefined ? 'missing' : describe(items)}; expected an array of items`);
  if (items.length === 0) throw fieldError('items', 'is empty; give at least one item');
  if (items.length > maxItems) throw new AgentError('TOO_MANY_ITEMS', `items: has ${items.length} items; at most ${maxItems} per call (split the batch)`, 'items');
  const n = items.length;
  const x = new Float32Array(n * N_FEATURES);
  const meta = new Array<ItemMeta>(n);
  const row = new Float64Array(N_FEATURES);
  for (let i = 0; i < n; i++) meta[i] = readItem(items[i], i, x, i * N_FEATURES, row);
  return { n, x, meta };
}

const NON_FINITE = /"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)/g;
const SENTINEL = '\u0000nonfinite:';

/** findSentinel returns the JSON path of the first string starting with SENTINEL, and its token. */
function findSentinel(v: unknown, at: string): { path: string; token: string } | null {
  if (typeof v === 'string') return v.startsWith(SENTINEL) ? { path: at, token: v.slice(SENTINEL.length) } : null;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = findSentinel(v[i], `${at}[${i}]`);
      if (r) return r;
    }
  } else if (isObject(v)) {
    for (const k in v) {
      const r = findSentinel(v[k], at ? `${at}.${k}` : k);
      if (r) return r;
    }
  }
  return null;
}

/**
 * parseJsonBody parses a request body. JSON has no NaN or Infinity, so `{"features":[NaN, …]}` is not
 * JSON; rather than "Unexpected token N", the error names the field: "features[0]: is NaN; every value
 * must be a finite number". (The bare tokens are swapped for marked strings, the text re-parsed and the
 * marker located; this runs only when parsing has already failed.)
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw new AgentError('BAD_JSON', 'the body is empty; send a JSON object');
  try {
    return JSON.parse(text);
  } catch (e) {
    let found = false;
    const marked = text.replace(NON_FINITE, (m: string, tok?: string) => {
      if (!tok) return m;
      found = true;
      return JSON.stringify(SENTINEL + tok);
    });
    if (found) {
      try {
        const hit = findSentinel(JSON.parse(marked), '');
        if (hit) throw fieldError(hit.path || 'body', `is ${hit.token}; every value must be a finite number (JSON has no NaN or Infinity)`);
      } catch (e2) {
        if (e2 instanceof AgentError) throw e2;
      }
    }
    throw new AgentError('BAD_JSON', `the body is not valid JSON (${(e as Error).message})`);
  }
}
