/**
 * agent-input: the request checker on its own: the agent's body and batch checks (resource-agent/input.ts)
 * with the container family's item reader (src/families/container-resources/serving/input.ts). Good
 * bodies become the normalized rows the model reads (the numbers are written out); every bad body is an
 * AgentError whose `field` is the JSON path and whose message says what to do.
 */
import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES, normalizeFeatures } from '../src/families/container-resources/features.js';
import { GiB } from '../src/core/units.js';
import { AgentError } from '../resource-agent/errors.js';
import { parseBatch as parseBatchFor, parseJsonBody, parseSingle as parseSingleFor } from '../resource-agent/input.js';
import { containerServing } from '../src/families/container-resources/serving/index.js';
import type { ItemMeta } from '../src/families/container-resources/serving/input.js';
import { FEATURES } from './helpers/model-store.js';

// The container family's item reader behind the agent's generic body checks (12 inputs per row).
const adapter = containerServing.adapter(containerServing.defaultBounds);
const parseSingle = (body: unknown) => parseSingleFor(adapter, FEATURE_NAMES.length, body);
const parseBatch = (body: unknown, maxItems: number) => parseBatchFor(adapter, FEATURE_NAMES.length, body, maxItems, { maxSamples: 1_000_000 });

const arr = FEATURE_NAMES.map((n) => FEATURES[n]);
const T0 = 1_700_000_000;
const { workload_age: _age, ...withoutAge } = FEATURES;

/** failure returns the AgentError a call throws (or fails the test). */
function failure(fn: () => unknown): AgentError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AgentError) return e;
    throw e;
  }
  throw new Error('expected an AgentError');
}

describe('good bodies', () => {
  it('named features and the same features as an array give the same normalized row', () => {
    const a = parseSingle({ features: FEATURES, container: 'api', workload: 'checkout', namespace: 'shop' });
    const b = parseSingle({ features: arr });
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    // the meta carries the real-unit features: the answer is a multiple of their scales (contract 3)
    expect(a.meta).toEqual({ container: 'api', workload: 'checkout', namespace: 'shop', inputs: Float64Array.from(arr) });
    expect(b.meta).toEqual({ inputs: Float64Array.from(arr) });
    // cpu_p95 = 0.3 cores over cpu_p99 = 0.42 cores → ln(0.7143 / 0.001) / ln(1 / 0.001) = 6.5713 / 6.9078 = 0.95129
    expect(a.x[1]).toBeCloseTo(0.95129, 4);
    // cpu_p99 and mem_p99 are the scales: 1 relative to themselves
    expect([a.x[2], a.x[5]]).toEqual([1, 1]);
    // hour 14 and workload_age 720 h are not seen by the model (contract 3): 0; throttle_ratio 0.02 → 0.02
    expect(a.x[9]).toBe(0);
    expect(a.x[11]).toBe(0);
    expect(a.x[8]).toBeCloseTo(0.02, 6);
  });

  it('a raw usage window is turned into its 12 features', () => {
    // 4 samples 10 minutes apart, CPU 0.1..0.4 cores: cpu_p50 = 0.25 cores over cpu_p99 = 0.397 cores
    // (contract 3: relative to the window's own scale) → ln(0.6297 / 0.001) / ln(1000) = 0.93305.
    const t0 = 1_700_000_000;
    const w = { timestampsSec: [t0, t0 + 600, t0 + 1200, t0 + 1800], cpuCores: [0.1, 0.2, 0.3, 0.4], memoryBytes: [GiB, GiB, GiB, GiB] };
    const { x, meta } = parseSingle({ window: w });
    const inputs = (meta as ItemMeta).inputs;
    expect(x[0]).toBeCloseTo(0.93305, 4);
    expect(inputs[0]).toBeCloseTo(0.25, 12);
    expect(inputs[2]).toBeCloseTo(0.397, 12);
    // every daily peak is 1 GiB: mem_p50 = mem_p99 = 1 GiB, so 1 relative to the memory scale
    expect(Array.from(inputs.subarray(3, 6))).toEqual([GiB, GiB, GiB]);
    expect(x[3]).toBeCloseTo(normalizeFeatures([0, 0, 0, GiB, 0, GiB, 0, 0, 0, 0, 0, 1])[3]!, 6);
    expect(x[3]).toBe(1);
  });

  it('a batch writes each item at its row', async () => {
    const r = await parseBatch({ items: [{ features: arr }, { features: { ...FEATURES, cpu_p99: 0.5 } }] }, 10);
    expect(r.n).toBe(2);
    expect(r.x.length).toBe(24);
    expect(Array.from(r.x.subarray(0, 12))).toEqual(Array.from(parseSingle({ features: arr }).x));
    // the second row's CPU scale is 0.5 cores: its cpu_p50 0.12 is 0.24 of it → ln(240) / ln(1000) = 0.79340
    // (the first row's 0.12 / 0.42 → 0.81864), and its cpu_p99 is 1 relative to itself
    expect(r.x[12 + 0]).toBeCloseTo(Math.log(240) / Math.log(1000), 6);
    expect(r.x[0]).toBeCloseTo(Math.log(0.12 / 0.42 / 0.001) / Math.log(1000), 6);
    expect(r.x[12 + 2]).toBe(1);
  });
});

describe('EXPECTED FAILURE - bad bodies name the field', () => {
  const cases: [string, unknown, string, RegExp][] = [
    ['not an object', [1, 2], 'body', /expected a JSON object/],
    ['neither features nor window', { container: 'a' }, 'features', /is required/],
    ['both features and window', { features: arr, window: {} }, 'window', /either "features" or "window"/],
    ['unknown top-level field', { features: arr, pod: 'x' }, 'pod', /not a known field/],
    ['11 features', { features: arr.slice(0, 11) }, 'features', /has 11 values; give 12 in this order: cpu_p50/],
    ['13 features', { features: [...arr, 1] }, 'features', /has 13 values/],
    ['a string feature', { features: { ...FEATURES, hour: '14' } }, 'features.hour', /the string "14"; expected a number/],
    ['null feature in an array', { features: [null, ...arr.slice(1)] }, 'features[0]', /is null; expected a number/],
    ['Infinity (1e999 parses to it)', { features: { ...FEATURES, mem_trend: Infinity } }, 'features.mem_trend', /finite number/],
    ['unknown feature', { features: { ...FEATURES, cpu_p90: 1 } }, 'features.cpu_p90', /not a feature/],
    ['missing feature', { features: withoutAge }, 'features.workload_age', /is required/],
    ['negative usage', { features: { ...FEATURES, cpu_p50: -0.1 } }, 'features.cpu_p50', /cannot be negative/],
    ['CPU above the model range', { features: { ...FEATURES, cpu_p99: 100 } }, 'features.cpu_p99', /above the model's range \(64 cores\)/],
    ['memory above the model range', { features: { ...FEATURES, mem_p99: 300 * GiB } }, 'features.mem_p99', /256 GiB/],
    ['decreasing percentiles', { features: { ...FEATURES, cpu_p95: 0.1 } }, 'features.cpu_p95', /below cpu_p50 \(0.12\); percentiles cannot decrease/],
    ['throttle ratio above 1', { features: { ...FEATURES, throttle_ratio: 1.5 } }, 'features.throttle_ratio', /between 0 and 1/],
    ['hour 24', { features: { ...FEATURES, hour: 24 } }, 'features.hour', /whole number 0..23/],
    ['fractional hour', { features: { ...FEATURES, hour: 3.5 } }, 'features.hour', /whole number 0..23/],
    ['day 7', { features: { ...FEATURES, day_of_week: 7 } }, 'features.day_of_week', /0..6/],
    ['negative age', { features: { ...FEATURES, workload_age: -1 } }, 'features.workload_age', /cannot be negative/],
    ['negative variance (array form)', { features: arr.map((v, i) => (i === 6 ? -1 : v)) }, 'features[6]', /cannot be negative/],
    ['empty container name', { features: arr, container: '' }, 'container', /1..253 characters/],
    ['window not an object', { window: [1] }, 'window', /expected an object/],
    ['unknown window field', { window: { timestampsSec: [T0, T0 + 1], cpuCores: [0, 0], memoryBytes: [0, 0], cpu: [] } }, 'window.cpu', /not a window field/],
    ['window series not an array', { window: { timestampsSec: [T0, T0 + 1], cpuCores: '0,0', memoryBytes: [0, 0] } }, 'window.cpuCores', /expected an array/],
    ['window with one sample', { window: { timestampsSec: [T0], cpuCores: [0], memoryBytes: [0] } }, 'window.timestampsSec', /at least 2/],
    ['window negative memory', { window: { timestampsSec: [T0, T0 + 1], cpuCores: [0, 0], memoryBytes: [5, -5] } }, 'window.memoryBytes[1]', /cannot be negative/],
    ['window unordered time', { window: { timestampsSec: [T0 + 1, T0], cpuCores: [0, 0], memoryBytes: [0, 0] } }, 'window.timestampsSec[1]', /before the previous sample .*send "sort": true/],
    ['window length mismatch', { window: { timestampsSec: [T0, T0 + 1, T0 + 2], cpuCores: [0, 0], memoryBytes: [0, 0, 0] } }, 'window.cpuCores', /has 2 values but timestampsSec has 3/],
    ['window CPU above the model range', { window: { timestampsSec: [T0, T0 + 1], cpuCores: [100000, 100000], memoryBytes: [GiB, GiB] } }, 'window.cpuCores', /above the model's range/],
  ];
  for (const [name, body, field, message] of cases) {
    it(`${name} → 400 INVALID_FIELD at ${field}`, () => {
      const e = failure(() => parseSingle(body));
      expect([e.code, e.status, e.field]).toEqual(['INVALID_FIELD', 400, field]);
      expect(e.message).toMatch(message);
      expect(e.message.startsWith(`${field}: `)).toBe(true);
    });
  }

  it('batch: a bad item is an error of that item only; empty, unknown keys and too many items fail the call', async () => {
    const one = await parseBatch({ items: [{ features: arr }, { features: arr.slice(1) }] }, 10);
    expect([one.n, one.items, one.failed, Array.from(one.rowOf)]).toEqual([1, 2, 1, [0, -1]]);
    expect(one.errors[1]!.field).toBe('items[1].features');
    const rejects = async (body: unknown, max = 10) => {
      try {
        await parseBatch(body, max);
      } catch (e) {
        return e as AgentError;
      }
      throw new Error('expected an AgentError');
    };
    expect((await rejects({ items: [] })).message).toMatch(/items: is empty/);
    expect((await rejects({ items: 'x' })).field).toBe('items');
    expect((await rejects({ items: [], extra: 1 })).field).toBe('extra');
    const big = await rejects({ items: Array.from({ length: 11 }, () => ({ features: arr })) });
    expect([big.code, big.status, big.message]).toEqual(['TOO_MANY_ITEMS', 400, 'items: has 11 items; at most 10 per call (split the batch)']);
  });
});

describe('JSON text', () => {
  it('parses valid JSON', () => {
    expect(parseJsonBody('{"a":[1,2]}')).toEqual({ a: [1, 2] });
  });

  it('EXPECTED FAILURE - NaN, Infinity and -Infinity are named by their path, even inside a batch', () => {
    const e1 = failure(() => parseJsonBody('{"features":[0.1, NaN, 3]}'));
    expect([e1.code, e1.field, e1.message]).toEqual(['INVALID_FIELD', 'features[1]', 'features[1]: is NaN; every value must be a finite number (JSON has no NaN or Infinity)']);
    expect(failure(() => parseJsonBody('{"items":[{"features":{"cpu_p50":1}},{"features":{"mem_trend":-Infinity}}]}')).field).toBe('items[1].features.mem_trend');
    // A string that merely contains "NaN" is not a number token.
    expect(failure(() => parseJsonBody('{"container":"NaN-app", "x": Infinity}')).field).toBe('x');
  });

  it('EXPECTED FAILURE - other bad JSON and an empty body are 400 BAD_JSON', () => {
    const e = failure(() => parseJsonBody('{"features": [1, 2'));
    expect([e.code, e.status]).toEqual(['BAD_JSON', 400]);
    // named by where it stops being JSON, never by echoing the text
    expect(e.message).toBe('the body is not valid JSON: it ends inside an array (in features[1]) (after 18 bytes); send the whole JSON value');
    expect(failure(() => parseJsonBody('')).code).toBe('BAD_JSON');
  });
});
