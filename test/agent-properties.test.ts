/**
 * agent-properties: property-based tests (fast-check) over every input the agent accepts: bodies of the
 * recommend routes (any JSON, broken JSON, valid items with one field mutated, windows of random series),
 * batch bodies mixing good and bad items, admin calls with any token and version, any URL and method, and
 * the options parser (any flags and variables). The property: a documented status (2xx, or a 4xx with the
 * error body and a code of errors.ts), never a 5xx, a throw, or a hang. Runs are bounded (numRuns, and
 * in-process inject with no port), and seeded, so a failure replays.
 */
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createAgent } from '../resource-agent/app.js';
import type { Agent } from '../resource-agent/app.js';
import { AGENT_DEFAULTS, parseOptions } from '../resource-agent/options.js';
import { ERRORS } from '../resource-agent/errors.js';
import { UserError } from '../src/util/errors.js';
import { FEATURE_NAMES, normalizeOutputs } from '../src/families/container-resources/features.js';
import { GiB, MiB } from '../src/core/units.js';
import { constLoad, FEATURES, makeStore } from './helpers/model-store.js';
import { shippedJobStore } from './helpers/shipped-jobs.js';
import type { JobStore } from './helpers/shipped-jobs.js';

type Json = any;
const TOKEN = 'property-token-1234';
const SEED = 20261123;
const RUNS = 150;
const T0 = 1_700_000_000;

let agent: Agent;
let jobs: { agent: Agent; store: JobStore } | undefined;
const s = makeStore([1, 2]);
afterAll(async () => {
  await agent?.app.close();
  await agent?.stores.close();
  s.cleanup();
  await jobs?.agent.app.close();
  await jobs?.agent.stores.close();
  jobs?.store.cleanup();
});

/** the shipped job-memory/build-jobs model, served with ONNX Runtime, with the limits of theAgent() */
async function jobAgent(): Promise<{ agent: Agent; store: JobStore }> {
  if (jobs) return jobs;
  const store = shippedJobStore(join(import.meta.dirname, '..'));
  const a = await createAgent({ ...AGENT_DEFAULTS, manifest: store.manifestPath, adminTokenFile: null, maxBatchItems: 50, maxBatchSamples: 20_000, bodyLimitBytes: 256 * 1024, batchBodyLimitBytes: 1024 * 1024, maxInflightBodyBytes: 16 * 1024 * 1024 }, { logger: false, defaultMetrics: false });
  await a.stores.start();
  jobs = { agent: a, store };
  return jobs;
}

async function theAgent(): Promise<Agent> {
  if (agent) return agent;
  const tokenFile = join(s.dir, 'token');
  writeFileSync(tokenFile, TOKEN);
  agent = await createAgent({ ...AGENT_DEFAULTS, manifest: s.manifestPath, adminTokenFile: tokenFile, maxBatchItems: 50, maxBatchSamples: 20_000, bodyLimitBytes: 256 * 1024, batchBodyLimitBytes: 1024 * 1024, maxInflightBodyBytes: 16 * 1024 * 1024 }, { logger: false, defaultMetrics: false, load: constLoad(normalizeOutputs([0.25, 0.5, 300 * MiB, GiB, 0.9], FEATURE_NAMES.map((n) => FEATURES[n]))) });
  await agent.stores.start();
  return agent;
}

/** documented: 2xx, or a 4xx whose body is the error body with a known code of that status. */
function expectDocumented(r: { statusCode: number; body: string; headers: Record<string, unknown> }, what: string): void {
  expect(r.statusCode, `${what} → ${r.body.slice(0, 300)}`).toBeLessThan(500);
  if (r.statusCode < 400 || r.body === '') return; // HEAD answers have no body
  const body = JSON.parse(r.body) as Json;
  const code = body?.error?.code as keyof typeof ERRORS;
  expect(ERRORS[code], `${what}: unknown code ${code}`).toBeDefined();
  expect(ERRORS[code].status, what).toBe(r.statusCode);
  expect(body.error.status).toBe(r.statusCode);
  expect(typeof body.error.message).toBe('string');
}

// ---- arbitraries ----------------------------------------------------------------------------------

/** numbers a careless caller sends: ordinary, huge, tiny, negative, fractional, as strings, null, … */
const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: -1000, max: 100_000 }),
  fc.constantFrom(0, -0, 1e308, -1e308, 5e-324, 1e11, 1.7e12, T0, 0.5, 64, 65, 256 * GiB),
  fc.constantFrom<unknown>('1', '', null, true, [], {}, 'NaN'),
);
const featuresObject = fc.record(Object.fromEntries(FEATURE_NAMES.map((n) => [n, fc.oneof({ weight: 4, arbitrary: fc.constant(FEATURES[n]) }, number)])), { requiredKeys: [] });
const featuresArray = fc.array(number, { minLength: 0, maxLength: 14 });
const series = (n: number) => fc.array(number, { minLength: Math.max(0, n - 1), maxLength: n + 1 });
const windowArb = fc.integer({ min: 0, max: 40 }).chain((n) =>
  fc.record(
    {
      timestampsSec: fc.oneof(series(n), fc.array(fc.integer({ min: T0 - 10, max: T0 + 10 * 300 }), { minLength: n, maxLength: n })),
      cpuCores: fc.oneof(series(n), fc.array(fc.double({ min: 0, max: 80, noNaN: true }), { minLength: n, maxLength: n })),
      memoryBytes: fc.oneof(series(n), fc.array(fc.double({ min: 0, max: 300 * GiB, noNaN: true }), { minLength: n, maxLength: n })),
      throttledPeriods: series(n),
      totalPeriods: series(n),
      workloadStartSec: number,
      sort: fc.oneof(fc.boolean(), number),
    },
    { requiredKeys: [] },
  ),
);
/** a valid item with at most one feature replaced by any number: the edge of the valid space */
const nearFeatures = fc.tuple(fc.constantFrom(...FEATURE_NAMES), number, fc.boolean()).map(([k, v, keep]) => ({ features: keep ? FEATURES : { ...FEATURES, [k]: v } }));
/** a plausible window: 5-minute steps with repeats and swaps, sorted on request */
const nearWindow = fc.integer({ min: 2, max: 60 }).chain((n) =>
  fc.record({
    steps: fc.array(fc.constantFrom(300, 300, 300, 0, -300), { minLength: n, maxLength: n }),
    cpu: fc.array(fc.double({ min: 0, max: 4, noNaN: true }), { minLength: n, maxLength: n }),
    mem: fc.array(fc.double({ min: 64 * MiB, max: 8 * GiB, noNaN: true }), { minLength: n, maxLength: n }),
    sort: fc.boolean(),
  }).map(({ steps, cpu, mem, sort }) => {
    let t = T0;
    const timestampsSec = steps.map((d) => (t += d));
    return { window: { timestampsSec, cpuCores: cpu, memoryBytes: mem, ...(sort ? { sort } : {}) } };
  }),
);
const item = fc.oneof(
  nearFeatures,
  nearWindow,
  fc.record({ features: fc.oneof(featuresObject, featuresArray), container: fc.oneof(fc.string(), number), risk: fc.oneof(fc.record({ memoryHold: number, cpuHold: number }, { requiredKeys: [] }), number) }, { requiredKeys: ['features'] }),
  fc.record({ window: windowArb, namespace: fc.string({ maxLength: 300 }) }, { requiredKeys: ['window'] }),
  fc.jsonValue({ maxDepth: 3 }),
);

describe('the agent answers any input with a documented status', () => {
  it('POST /v1/recommend: any item, any JSON', async () => {
    const a = await theAgent();
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(item, async (body) => {
        const r = await a.app.inject({ method: 'POST', url: '/v1/recommend', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) ?? '' });
        expectDocumented(r, JSON.stringify(body)?.slice(0, 300) ?? 'undefined');
        statuses.add(r.statusCode);
      }),
      { numRuns: RUNS * 2, seed: SEED },
    );
    // the generators reach both sides: answers and refusals
    expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 400]));
  });

  it('POST /v1/recommend/batch: batches of good and bad items, and bad envelopes', async () => {
    const a = await theAgent();
    const body = fc.oneof({ weight: 4, arbitrary: fc.record({ items: fc.array(item, { minLength: 0, maxLength: 60 }) }) }, fc.jsonValue({ maxDepth: 3 }));
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const r = await a.app.inject({ method: 'POST', url: '/v1/recommend/batch', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(b) ?? '' });
        expectDocumented(r, JSON.stringify(b)?.slice(0, 300) ?? 'undefined');
        if (r.statusCode === 200) {
          const j = r.json();
          expect(j.items.length).toBe((b as { items: unknown[] }).items.length);
          expect(j.errors).toBe(j.items.filter((x: Json) => x.error).length);
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('any text as a body, with any content type', async () => {
    const a = await theAgent();
    const text = fc.oneof(fc.string(), fc.constantFrom('{"features":[NaN]}', '{"items":[{"features":{"cpu_p50":-Infinity}}]}', '{', '[]', 'null', '{"items":', '\u0000'));
    const type = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', '');
    const url = fc.constantFrom('/v1/recommend', '/v1/recommend/batch', '/v1/rollback', '/v1/models/1.0.0/activate');
    await fc.assert(
      fc.asyncProperty(text, type, url, async (t, ct, u) => {
        const r = await a.app.inject({ method: 'POST', url: u, headers: ct ? { 'content-type': ct, authorization: `Bearer ${TOKEN}` } : {}, payload: t });
        expectDocumented(r, `${u} ${ct} ${JSON.stringify(t).slice(0, 200)}`);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it('admin calls: any token, any version; any URL and method', async () => {
    const a = await theAgent();
    const token = fc.oneof(fc.constant(`Bearer ${TOKEN}`), fc.string(), fc.constant('Bearer'), fc.constant(''));
    const version = fc.oneof(fc.constantFrom('1.0.0', '1.1.0', '9.9.9', '1.0', '..', '%2e%2e', '1.0.0%00'), fc.string({ maxLength: 20 }).map(encodeURIComponent));
    const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS');
    const path = fc.oneof(
      version.map((v) => `/v1/models/${v}/activate`),
      version.map((v) => `/v1/families/container-resources/models/${v}`),
      fc.constantFrom('/v1/rollback', '/v1/families/nope/rollback', '/readyz', '/healthz', '/metrics', '/v1/families', '/%', '/v1/models?x=%zz', '//', '/v1/recommend/'),
      fc.webPath().map((w) => (w.startsWith('/') ? w : `/${w}`)), // a request line always has a path
    );
    await fc.assert(
      fc.asyncProperty(method, path, token, async (m, p, t) => {
        const r = await a.app.inject({ method: m as 'GET', url: p, headers: t ? { authorization: t } : {} });
        expectDocumented(r, `${m} ${p}`);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // the store is still consistent and serving after all of that
    expect((await a.app.inject({ url: '/readyz' })).statusCode).toBe(200);
  });
});

/**
 * Hostile shapes (issue 21): bodies up to the route limits whose cost is in their SHAPE (tens of thousands
 * of empty objects, nesting hundreds deep, long or non-Latin-1 strings, huge number literals, NaN tokens,
 * a cut anywhere, gzip and binary bytes), inside a valid envelope or item or alone, sent to every route
 * of the HTTP surface: the recommend routes of both families, the admin routes, the dashboard's and the
 * ops routes. Besides a documented status, every answer leaves the in-flight budget at 0 (a request that
 * was refused, cut or answered gives back everything it held). Memory under these shapes at full
 * concurrency is measured by npm run bench:soak, not here.
 */
const LIMIT = 256 * 1024;
const BATCH_LIMIT = 1024 * 1024;
/** a piece of JSON text whose cost is in its shape */
const hostilePiece = fc.oneof(
  fc.tuple(fc.constantFrom('{}', '[]', '""', '0', 'null', '{"a":{}}', '[[]]', '"\u20ac"', '{"k":0}'), fc.integer({ min: 1, max: 60_000 })).map(([p, n]) => `[${Array(n).fill(p).join(',')}]`),
  fc.integer({ min: 1, max: 400 }).chain((d) => fc.constantFrom('[', '{"x":').map((open) => (open === '[' ? '['.repeat(d) + ']'.repeat(d) : '{"x":'.repeat(d) + '0' + '}'.repeat(d)))),
  fc.integer({ min: 0, max: 200_000 }).chain((n) => fc.constantFrom('a', '\u00e9', '\u20ac', '\\n', '\\u0000').map((c) => `"${c.repeat(n)}"`)),
  fc.integer({ min: 1, max: 5_000 }).map((n) => `[${Array.from({ length: n }, (_, i) => `{"k${i}":${i}}`).join(',')}]`),
  fc.constantFrom('1e999', '-1e999', '1e-400', '-0', '9'.repeat(400), '0.' + '0'.repeat(300) + '1', 'NaN', '-Infinity', '[1,2,Infinity]'),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
);
/** where the piece goes: alone, as a feature, an item, a batch of it, a job attribute, a window series */
const hostileBody = fc.tuple(hostilePiece, fc.constantFrom('alone', 'feature', 'item', 'items', 'attribute', 'series', 'name'), fc.option(fc.nat(), { nil: undefined }), fc.constantFrom('', '\ufeff', '\x1f\x8b\x08\x00')).map(([piece, where, cut, prefix]) => {
  const body =
    where === 'alone' ? piece
    : where === 'feature' ? `{"features":{"cpu_p50":${piece}}}`
    : where === 'item' ? `{"items":[${JSON.stringify({ features: FEATURES })},${piece}]}`
    : where === 'items' ? `{"items":${piece}}`
    : where === 'attribute' ? `{"attributes":{"jobs":${piece}}}`
    : where === 'series' ? `{"window":{"timestampsSec":${piece},"cpuCores":[1],"memoryBytes":[1]}}`
    : `{"features":${JSON.stringify(FEATURES)},"container":${piece}}`;
  const bytes = Buffer.concat([Buffer.from(prefix, 'latin1'), Buffer.from(body, 'utf8')]);
  return cut === undefined ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
});

describe('the whole HTTP surface under hostile shapes (issue 21)', () => {
  it('POST to every route: any body up to the limits gets a documented 2xx/4xx, and the budget is given back', async () => {
    const a = await theAgent();
    const j = (await jobAgent()).agent;
    const route = fc.constantFrom<[string, 'c' | 'j']>(['/v1/recommend', 'c'], ['/v1/recommend/batch', 'c'], ['/v1/models/1.0.0/activate', 'c'], ['/v1/rollback', 'c'], ['/v1/families/container-resources/rollback', 'c'], ['/v1/nope', 'c'], ['/v1/jobs/build-jobs/recommend', 'j'], ['/v1/jobs/build-jobs/recommend/batch', 'j'], ['/v1/families/job-memory/build-jobs/rollback', 'j']);
    const encoding = fc.constantFrom(undefined, undefined, undefined, 'gzip', 'identity', 'br');
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(hostileBody, route, encoding, async (body, [url, which], enc) => {
        const target = which === 'c' ? a : j;
        const limit = url.endsWith('/batch') ? BATCH_LIMIT : LIMIT;
        const payload = body.subarray(0, limit); // up to the limit
        const r = await target.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...(enc ? { 'content-encoding': enc } : {}) }, payload });
        expectDocumented(r, `${url} ${enc ?? ''} ${JSON.stringify(payload.subarray(0, 120).toString('latin1'))}… (${payload.length} bytes)`);
        expect(r.body.length, 'a short answer, never the body echoed').toBeLessThan(Math.max(4096, 300 * 50));
        expect(target.bodies.inFlight, 'the in-flight budget is given back').toBe(0);
        statuses.add(r.statusCode);
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // the shapes reach the refusals of issue 21: too complex, not JSON, nested too deep or not finite, gzip
    expect([...statuses].sort()).toEqual(expect.arrayContaining([400, 413, 415]));
  }, 120_000);

  it('GET any route of the surface with any query: a documented 2xx/4xx', async () => {
    const a = await theAgent();
    const path = fc.constantFrom('/healthz', '/readyz', '/metrics', '/v1/families', '/v1/models', '/v1/models/1.0.0', '/v1/workloads', '/v1/workloads/a/Deployment/b', '/ui', '/ui/api/config', '/ui/api/reports', '/ui/api/replay', '/ui/api/replay/jobs', '/ui/assets/app.js', '/openapi.json');
    const query = fc.oneof(fc.constant(''), fc.webQueryParameters().map((q) => `?${q}`), fc.constantFrom('?family=job-memory/build-jobs', '?samples=2', '?samples=1&samples=0', '?kind=a&kind=b', '?family=%00', '?x=%zz'));
    await fc.assert(
      fc.asyncProperty(path, query, async (p, q) => {
        const r = await a.app.inject({ method: 'GET', url: p + q });
        expectDocumented(r, p + q);
        expect(a.bodies.inFlight).toBe(0);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});

describe('the options parser', () => {
  it('any flags and variables give options or one UserError, never another exception', () => {
    const flags = ['--port', '--host', '--max-batch-items', '--poll-interval-ms', '--body-limit-bytes', '--max-inflight-body-bytes', '--request-timeout-ms', '--headers-timeout-ms', '--shutdown-timeout-ms', '--verify-interval-ms', '--min-cpu-millicores', '--max-memory-bytes', '--log-level', '--family', '--docs', '--no-docs', '--manifest', '--bogus'];
    const value = fc.oneof(fc.string({ maxLength: 12 }), fc.integer().map(String), fc.constantFrom('', 'none', '-1', '1e3', '0', '99999999999', 'debug', 'true'));
    const argv = fc.array(fc.tuple(fc.constantFrom(...flags), value), { maxLength: 6 }).map((xs) => xs.flatMap(([f, v]) => (f === '--docs' || f === '--no-docs' ? [f] : [f, v])));
    const env = fc.dictionary(fc.constantFrom('RESOURCE_AGENT_PORT', 'RESOURCE_AGENT_MAX_BATCH_SAMPLES', 'RESOURCE_AGENT_KEEP_ALIVE_TIMEOUT_MS', 'RESOURCE_AGENT_DOCS', 'RESOURCE_AGENT_FAMILY'), value, { maxKeys: 3 });
    fc.assert(
      fc.property(argv, env, (a, e) => {
        try {
          parseOptions(a, { ...e, RESOURCE_AGENT_MANIFEST: s.manifestPath });
        } catch (err) {
          expect(err, String(err)).toBeInstanceOf(UserError);
          expect((err as Error).message).not.toMatch(/undefined|\[object/);
        }
      }),
      { numRuns: RUNS * 2, seed: SEED },
    );
  });
});
