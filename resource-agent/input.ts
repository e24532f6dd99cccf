/**
 * input: the generic part of reading a recommendation request, for any family. The body's JSON text is
 * parsed (NaN and Infinity, which are not JSON, are named by their path), then a single body is one item
 * and a batch body is {"items": [item, …]} with 1..--max-batch-items items, whose items are checked one by
 * one (a bad item is an error for that item only) within a budget of samples, yielding to the event loop. Each item goes to its
 * family's `readItem` (src/families/<name>/serving/), which writes the normalized inputs straight into the
 * Float32Array the model reads and throws a RequestFieldError naming the field inside the item; here
 * that becomes an AgentError INVALID_FIELD whose field is the JSON path in the body
 * ("items[3].features.cpu_p95", "window.cpuCores[17]").
 */
import { RequestFieldError } from '../src/families/types.js';
import type { ServingAdapter } from '../src/families/types.js';
import { AgentError, fieldError } from './errors.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const describe = (v: unknown) => (typeof v === 'string' ? `the string ${JSON.stringify(v.length > 20 ? v.slice(0, 20) + '…' : v)}` : Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v === 'object' ? 'an object' : String(v));

/**
 * pathOf names a field: pathOf(-1, 'features.hour') === 'features.hour' (a single body),
 * pathOf(3, 'features.hour') === 'items[3].features.hour', pathOf(3, '') === 'items[3]'.
 */
export function pathOf(item: number, rest: string): string {
  if (item < 0) return rest || 'body';
  return rest ? `items[${item}].${rest}` : `items[${item}]`;
}

/** asAgentError turns a family's RequestFieldError for item `item` (−1: a single body) into INVALID_FIELD. */
export function asAgentError(e: unknown, item: number): unknown {
  return e instanceof RequestFieldError ? fieldError(pathOf(item, e.field), e.problem) : e;
}

/** Parsed: n rows of normalized inputs (n × the family's input width) and each item's echo. */
export interface ParsedRows<M = unknown> {
  n: number;
  x: Float32Array;
  meta: M[];
}

/** ParsedBatch: a batch's good items as compact rows, and each refused item's error. */
export interface ParsedBatch<M = unknown> extends ParsedRows<M> {
  /** the number of items in the body (n is the number of good rows) */
  items: number;
  /** rowOf[i]: item i's row in x, or −1 when it was refused */
  rowOf: Int32Array;
  /** errors[i]: why item i was refused (INVALID_FIELD naming items[i].…), or undefined */
  errors: (AgentError | undefined)[];
  failed: number;
}

/** BatchLimits: the work one batch may ask for. */
export interface BatchLimits {
  /** the most samples (array elements inside the items, e.g. a window's series) in one batch */
  maxSamples: number;
  /** yield to the event loop after this much reading, so probes are answered during a heavy batch (default 8 ms) */
  sliceMs?: number;
}

/** parseSingle checks a single-item body (POST <path>) for a family whose model reads `width` inputs. */
export function parseSingle<M>(adapter: ServingAdapter<M>, width: number, body: unknown): { x: Float32Array; meta: M } {
  const x = new Float32Array(width);
  try {
    return { x, meta: adapter.readItem(body, x, 0) };
  } catch (e) {
    throw asAgentError(e, -1);
  }
}

/**
 * samplesOf counts the samples an item carries: the length of its longest array, one level down (a
 * window's series): {"window": {"timestampsSec": [3 values], "cpuCores": [3], "memoryBytes": [3]}} → 3.
 * It is what reading the item costs, known before reading it.
 */
export function samplesOf(item: unknown): { count: number; key: string } {
  let count = 0;
  let key = '';
  if (!isObject(item)) return { count: Array.isArray(item) ? item.length : 0, key };
  for (const k in item) {
    const v = item[k];
    let c = 0;
    if (Array.isArray(v)) c = v.length;
    else if (isObject(v)) for (const j in v) if (Array.isArray(v[j])) c = Math.max(c, (v[j] as unknown[]).length);
    if (c > 0 && !key) key = k;
    count += c;
  }
  return { count, key };
}

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/**
 * parseBatch checks a batch body (POST <path>/batch): { "items": [item, …] } with 1..maxItems items.
 * A bad envelope is an error for the whole call; a bad item is an error for that item only (the others
 * are answered). More samples than `limits.maxSamples` is 413 TOO_MANY_SAMPLES naming the first item over
 * the budget. Reading yields to the event loop every `sliceMs`.
 */
export async function parseBatch<M>(adapter: ServingAdapter<M>, width: number, body: unknown, maxItems: number, limits: BatchLimits): Promise<ParsedBatch<M>> {
  if (!isObject(body)) throw new AgentError('INVALID_FIELD', `body: is ${describe(body)}; expected {"items": [ … ]}`, 'body');
  for (const k in body) if (k !== 'items') throw fieldError(k, 'is not a known field; a batch body has only "items"');
  const items = body.items;
  if (!Array.isArray(items)) throw fieldError('items', `is ${items === undefined ? 'missing' : describe(items)}; expected an array of items`);
  if (items.length === 0) throw fieldError('items', 'is empty; give at least one item');
  if (items.length > maxItems) throw new AgentError('TOO_MANY_ITEMS', `items: has ${items.length} items; at most ${maxItems} per call (split the batch)`, 'items');
  const total = items.length;
  let samples = 0;
  for (let i = 0; i < total; i++) {
    const s = samplesOf(items[i]);
    samples += s.count;
    if (samples > limits.maxSamples) {
      const field = pathOf(i, s.key);
      throw new AgentError('TOO_MANY_SAMPLES', `${field}: brings the batch to ${samples} samples; at most ${limits.maxSamples} per call (--max-batch-samples): send fewer windows per call, or downsample them`, field);
    }
  }
  const x = new Float32Array(total * width);
  const meta = new Array<M>(total);
  const rowOf = new Int32Array(total).fill(-1);
  const errors = new Array<AgentError | undefined>(total);
  const sliceMs = limits.sliceMs ?? 8;
  let n = 0;
  let failed = 0;
  let slice = performance.now();
  for (let i = 0; i < total; i++) {
    try {
      meta[i] = adapter.readItem(items[i], x, n * width);
      rowOf[i] = n++;
    } catch (e) {
      const a = asAgentError(e, i);
      if (!(a instanceof AgentError)) throw a;
      errors[i] = a;
      failed++;
    }
    if (performance.now() - slice > sliceMs) {
      await nextTurn();
      slice = performance.now();
    }
  }
  return { n, x: n === total ? x : x.slice(0, n * width), meta, items: total, rowOf, errors, failed };
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
