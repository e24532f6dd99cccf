/**
 * input: the generic part of reading a recommendation request, for any family. The body has been read
 * and parsed by body.ts (NaN and Infinity, which are not JSON, named by their path), then a single body is one item
 * and a batch body is {"items": [item, …]} with 1..--max-batch-items items, whose items are checked one by
 * one (a bad item is an error for that item only) within a budget of samples, yielding to the event loop. Each item goes to its
 * family's `readItem` (src/families/<name>/serving/), which writes the normalized inputs straight into the
 * Float32Array the model reads and throws a RequestFieldError naming the field inside the item; here
 * that becomes an AgentError INVALID_FIELD whose field is the JSON path in the body
 * ("items[3].features.cpu_p95", "window.cpuCores[17]").
 */
import { RequestFieldError } from '../src/core/family.js';
import type { ServingAdapter } from '../src/core/family.js';
import { AgentError, fieldError } from './errors.js';
import { JsonScanner, ScanError } from './json-scan.js';

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

/**
 * FailedItem: an item the body reader refused before parsing it (nested too deep, body.ts); parseBatch
 * gives it its error and answers the other items.
 */
export class FailedItem {
  constructor(readonly error: AgentError) {}
}

/** BatchLimits: the work one batch may ask for. */
export interface BatchLimits {
  /** the most samples (array elements inside the items, e.g. a window's series) in one batch */
  maxSamples: number;
  /** yield to the event loop after this much reading, so probes are answered during a heavy batch (default 8 ms) */
  sliceMs?: number;
  /**
   * run the reading on the agent's shared slicer (body.ts Slicer.run), a few ms per job, so that many
   * batches read at once still leave the event loop every `sliceMs` between them; unset, each batch
   * yields on its own every `sliceMs`
   */
  slice?: <T>(fn: () => T) => Promise<T>;
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
  for (const k in body) if (k !== 'items') throw fieldError(k.length > 64 ? `${k.slice(0, 64)}…` : k, 'is not a known field; a batch body has only "items"');
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
  let i = 0;
  /** reads items from i on until `ms` have passed or all are read */
  const read = (ms: number) => {
    const t0 = performance.now();
    for (; i < total; ) {
      const it = items[i];
      if (it instanceof FailedItem) {
        errors[i] = it.error;
        failed++;
      } else {
        try {
          meta[i] = adapter.readItem(it, x, n * width);
          rowOf[i] = n++;
        } catch (e) {
          const a = asAgentError(e, i);
          if (!(a instanceof AgentError)) throw a;
          errors[i] = a;
          failed++;
        }
      }
      i++;
      if (performance.now() - t0 > ms) return;
    }
  };
  if (limits.slice) {
    const slice = limits.slice;
    while (i < total) await slice(() => read(Math.min(2, sliceMs)));
  } else {
    while (i < total) {
      read(sliceMs);
      if (i < total) await nextTurn();
    }
  }
  return { n, x: n === total ? x : x.slice(0, n * width), meta, items: total, rowOf, errors, failed };
}

/**
 * parseJsonBody parses a whole request body given as text, as the agent's body reader does (body.ts,
 * json-scan.ts): JSON has no NaN or Infinity, so `{"features":[NaN, …]}` is refused naming the field
 * ("features[0]: is NaN; every value must be a finite number"), and text that is not JSON is BAD_JSON
 * naming the byte and the path, never echoing the text.
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) throw new AgentError('BAD_JSON', 'the body is empty; send a JSON object');
  const s = new JsonScanner();
  try {
    s.feed(Buffer.from(text, 'utf8'));
    s.end();
  } catch (e) {
    if (!(e instanceof ScanError)) throw e;
    if (e.kind === 'syntax' || e.kind === 'gzip') throw new AgentError('BAD_JSON', e.message);
    throw new AgentError('INVALID_FIELD', e.message, e.field);
  }
  return JSON.parse(text);
}
