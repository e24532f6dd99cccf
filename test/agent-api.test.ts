/**
 * agent-api: every route and every error code, in-process (fastify.inject, no port). Most tests serve a
 * temporary store through a constant predictor (every row answers the same normalized outputs), so the
 * expected numbers can be written out; one test runs the real ONNX Runtime session against the plain
 * TypeScript int8 forward pass of the same weights. The last test checks that every code in errors.ts
 * was produced by some test here.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { createAgent } from '../resource-agent/app.js';
import type { Agent, AgentDeps } from '../resource-agent/app.js';
import { AGENT_DEFAULTS } from '../resource-agent/options.js';
import type { AgentOptions } from '../resource-agent/options.js';
import { ERRORS } from '../resource-agent/errors.js';
import { missingTrainingRuntime } from '../resource-agent/training-runtime.js';
import type { ErrorCode } from '../resource-agent/errors.js';
import { computeFeatures, denormalizeOutputs, FEATURE_NAMES, FLOOR_NOTE, normalizeFeatures, normalizeOutputs, toVector } from '../src/families/container-resources/features.js';
import { cpuQuantity, GiB, memoryQuantity, MiB } from '../src/core/units.js';
import { forwardQuantized, quantizeModel } from '../src/core/quantize.js';
import { postProcess } from '../src/families/container-resources/postprocess.js';
import { readManifest, family } from './helpers/manifest.js';
import { constLoad, FEATURES, makeStore } from './helpers/model-store.js';
import type { ConstPredictor, TempStore } from './helpers/model-store.js';
import { randomWeights } from './helpers/models.js';
import { REPO } from './helpers/env.js';

const ARR = FEATURE_NAMES.map((n) => FEATURES[n]);
/**
 * The constant model answers, for an item with the features ARR (cpu_p99 0.42 cores, mem_p99 320Mi,
 * mem_p50 256Mi), cpu request 0.2481 cores, limit 0.2 cores, memory request 300.2Mi, limit 1.3Gi,
 * confidence 0.9. Since contract 3 the outputs are multiples of the item's own scales, so the constant
 * outputs are normalized against ARR, and an item with other features gets other numbers (expectedFor).
 * After post-processing (default policy): the CPU limit is raised to the request (248.1m), both round up
 * to 250m; memory 300.2Mi (above the mem_p50 floor of 256Mi) → 301Mi = 315,621,376 bytes; 1.3Gi =
 * 1331.2Mi → 21 × 64Mi = 1344Mi = 1,409,286,144 bytes.
 */
const CONST_OUT = normalizeOutputs([0.2481, 0.2, 300.2 * MiB, 1.3 * GiB, 0.9], ARR);
const EXPECTED = {
  cpu: { request: { millicores: 250, quantity: '250m' }, limit: { millicores: 250, quantity: '250m' } },
  memory: { request: { bytes: 315621376, quantity: '301Mi' }, limit: { bytes: 1409286144, quantity: '1344Mi' } },
  confidence: 0.9,
};

/** expectedFor: the constant model's answer (default policy) for an item whose real-unit features are `x`. */
function expectedFor(x: ArrayLike<number>) {
  const r = postProcess(denormalizeOutputs(CONST_OUT, 0, x));
  return {
    cpu: { request: { millicores: r.cpuRequestMillicores, quantity: cpuQuantity(r.cpuRequestMillicores) }, limit: { millicores: r.cpuLimitMillicores, quantity: cpuQuantity(r.cpuLimitMillicores) } },
    memory: { request: { bytes: r.memRequestBytes, quantity: memoryQuantity(r.memRequestBytes) }, limit: { bytes: r.memLimitBytes, quantity: memoryQuantity(r.memLimitBytes) } },
    confidence: Math.round(r.confidence * 10_000) / 10_000,
  };
}
const TOKEN = 'test-admin-token-0123456789';

const seen = new Set<ErrorCode>();
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

interface Harness {
  agent: Agent;
  store: TempStore;
  made: ConstPredictor[];
  tokenFile: string;
  inject: Agent['app']['inject'];
}

async function harness(o: Partial<AgentOptions> = {}, deps: AgentDeps = {}, store = makeStore([1, 2])): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'crp-token-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const made: ConstPredictor[] = [];
  const agent = await createAgent({ ...AGENT_DEFAULTS, manifest: store.manifestPath, adminTokenFile: tokenFile, ...o }, { logger: false, defaultMetrics: false, load: constLoad(CONST_OUT, made), ...deps });
  await agent.stores.start();
  cleanups.push(async () => {
    await agent.app.close();
    await agent.stores.close();
    store.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });
  return { agent, store, made, tokenFile, inject: agent.app.inject.bind(agent.app) };
}

/** expectError checks status, code (and field) of an error response and records the code as covered. */
function expectError(r: LightMyRequestResponse, code: ErrorCode, field?: string): { code: string; status: number; message: string; field?: string } {
  const body = r.json() as { error: { code: ErrorCode; status: number; message: string; field?: string } };
  expect([r.statusCode, body.error.code], r.body).toEqual([ERRORS[code].status, code]);
  expect(body.error.status).toBe(ERRORS[code].status);
  if (field !== undefined) expect(body.error.field).toBe(field);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  seen.add(code);
  return body.error;
}

const auth = { authorization: `Bearer ${TOKEN}` };

describe('POST /v1/recommend', () => {
  it('named features → rounded requests/limits with quantities, confidence and model version', async () => {
    const h = await harness();
    const r = await h.inject({ method: 'POST', url: '/v1/recommend', payload: { features: FEATURES, container: 'api', workload: 'checkout', namespace: 'shop' } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ modelVersion: '1.1.0', container: 'api', workload: 'checkout', namespace: 'shop', ...EXPECTED });
    // the array form gives the same answer; the hand-written numbers are the pipeline's
    const a = await h.inject({ method: 'POST', url: '/v1/recommend', payload: { features: ARR } });
    expect(a.json()).toEqual({ modelVersion: '1.1.0', ...EXPECTED });
    expect(expectedFor(ARR)).toEqual(EXPECTED);
    // A raw window is answered from its own features (contract 3: multiples of its scales, cpu_p99 ≈ 0.3
    // cores and mem_p99 1Gi here), so the same constant outputs give other numbers.
    const t0 = 1_700_000_000;
    const win = { timestampsSec: [t0, t0 + 300, t0 + 600], cpuCores: [0.1, 0.2, 0.3], memoryBytes: [GiB, GiB, GiB] };
    const w = await h.inject({ method: 'POST', url: '/v1/recommend', payload: { window: win } });
    // its memory request 300.2/320 × 1Gi = 960.6Mi is below its median daily peak (1Gi): raised to it, and
    // the answer says why
    expect(w.json()).toEqual({ modelVersion: '1.1.0', ...expectedFor(toVector(computeFeatures(win))), warnings: [FLOOR_NOTE] });
    expect(w.json().memory.request).toEqual({ bytes: GiB, quantity: '1Gi' });
  });

  it('caps from the options apply: --max-cpu-millicores 200, --max-memory-bytes 1Gi', async () => {
    const h = await harness({ maxCpuMillicores: 200, maxMemoryBytes: GiB });
    const r = await h.inject({ method: 'POST', url: '/v1/recommend', payload: { features: ARR } });
    expect(r.json()).toMatchObject({
      cpu: { request: { millicores: 200, quantity: '200m' }, limit: { millicores: 200, quantity: '200m' } },
      memory: { request: { bytes: 315621376, quantity: '301Mi' }, limit: { bytes: GiB, quantity: '1Gi' } },
    });
  });

  it('concurrent singles are coalesced into fewer ONNX Runtime calls, each answered correctly', async () => {
    const h = await harness();
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => h.inject({ method: 'POST', url: '/v1/recommend', payload: { features: ARR, container: `c${i}` } })));
    rs.forEach((r, i) => expect(r.json()).toEqual({ modelVersion: '1.1.0', container: `c${i}`, ...EXPECTED }));
    const served = h.made.find((p) => p.calls.length > 0)!;
    expect(served.calls.reduce((a, b) => a + b, 0)).toBe(20);
    expect(served.calls.length).toBeLessThan(20);
  });

  it('the real ONNX Runtime session agrees with the TypeScript int8 forward pass of the same weights', async () => {
    const h = await harness({}, { load: undefined }, makeStore([1], '1.0.0'));
    const r = await h.inject({ method: 'POST', url: '/v1/recommend', payload: { features: FEATURES } });
    expect(r.statusCode).toBe(200);
    // Same weights as helpers/models.ts modelBytes(1); weight-only int8 does not depend on calibration.
    const q = quantizeModel(randomWeights(1), new Float32Array(12), 1, 'weights');
    const ref = postProcess(denormalizeOutputs(forwardQuantized(q, normalizeFeatures(ARR), 1), 0, ARR));
    const got = r.json();
    // Float32 sums in another order may land a value on the other side of a rounding step: one step at most.
    expect(Math.abs(got.cpu.request.millicores - ref.cpuRequestMillicores)).toBeLessThanOrEqual(100);
    expect(Math.abs(got.memory.limit.bytes - ref.memLimitBytes)).toBeLessThanOrEqual(64 * MiB);
    expect(got.confidence).toBeCloseTo(ref.confidence, 3);
  });

  it('EXPECTED FAILURE - bad input: 400 naming the field, never a crash', async () => {
    const h = await harness();
    const post = (payload: unknown) => h.inject({ method: 'POST', url: '/v1/recommend', payload: payload as string });
    expect(expectError(await post({ features: ARR.slice(0, 11) }), 'INVALID_FIELD', 'features').message).toMatch(/has 11 values; give 12/);
    expectError(await post({ features: { ...FEATURES, cpu_p50: -1 } }), 'INVALID_FIELD', 'features.cpu_p50');
    expectError(await post({ features: { ...FEATURES, hour: 31 } }), 'INVALID_FIELD', 'features.hour');
    expectError(await post({ features: FEATURES, replicas: 3 }), 'INVALID_FIELD', 'replicas');
    // NaN and Infinity are not JSON: sent as raw text, the error still names the field
    const nan = await h.inject({ method: 'POST', url: '/v1/recommend', headers: { 'content-type': 'application/json' }, payload: `{"features":[${ARR.slice(0, 5).join(',')},NaN,${ARR.slice(6).join(',')}]}` });
    expect(expectError(nan, 'INVALID_FIELD', 'features[5]').message).toBe('features[5]: is NaN; every value must be a finite number (JSON has no NaN or Infinity)');
    const inf = await h.inject({ method: 'POST', url: '/v1/recommend', headers: { 'content-type': 'application/json' }, payload: `{"features":{"cpu_p50":1e999}}` });
    expectError(inf, 'INVALID_FIELD', 'features.cpu_p50');
    expectError(await h.inject({ method: 'POST', url: '/v1/recommend', headers: { 'content-type': 'application/json' }, payload: '{"features": [1,' }), 'BAD_JSON');
    expectError(await h.inject({ method: 'POST', url: '/v1/recommend', headers: { 'content-type': 'application/json' }, payload: '' }), 'BAD_JSON');
    expectError(await h.inject({ method: 'POST', url: '/v1/recommend', headers: { 'content-type': 'text/plain' }, payload: 'cpu=1' }), 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await h.inject({ method: 'POST', url: '/v1/recommend', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'cpu=1' }), 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('EXPECTED FAILURE - a body over the limit is 413', async () => {
    const h = await harness({ bodyLimitBytes: 2048 });
    const r = await h.inject({ method: 'POST', url: '/v1/recommend', payload: { features: FEATURES, container: 'x'.repeat(3000) } });
    expect(expectError(r, 'BODY_TOO_LARGE').message).toMatch(/over this route's limit of 2048 bytes/);
  });

  it('EXPECTED FAILURE - no verified model: 503 NOT_READY, and /readyz says why', async () => {
    const s = makeStore([1]);
    s.tamper('1.0.0');
    const h = await harness({}, {}, s);
    expect(expectError(await h.inject({ method: 'POST', url: '/v1/recommend', payload: { features: ARR } }), 'NOT_READY').message).toMatch(/active version 1.0.0 is refused \(file models\/predictor_v1.0.0.onnx has sha256/);
    const ready = await h.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ ready: false, serving: null, active: '1.0.0', refused: [{ version: '1.0.0' }] });
    expect(ready.json().reason).toMatch(/no model to serve/);
  });

  it('EXPECTED FAILURE - a predictor that throws is 500 INTERNAL, and the agent keeps answering', async () => {
    const broken: AgentDeps['load'] = async () => ({
      inputWidth: 12,
      outputWidth: 5,
      predict: async () => {
        throw new Error('simulated ONNX Runtime failure');
      },
      release: async () => {},
    });
    const h = await harness({}, { load: broken });
    const e = expectError(await h.inject({ method: 'POST', url: '/v1/recommend', payload: { features: ARR } }), 'INTERNAL');
    expect(e.message).not.toMatch(/simulated/);
    expect((await h.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });
});

describe('POST /v1/recommend/batch', () => {
  it('1,000 items → one predict call with 1,000 rows; items in order with their names', async () => {
    const h = await harness();
    const items = Array.from({ length: 1000 }, (_, i) => (i % 2 ? { features: ARR, container: `c${i}` } : { features: FEATURES }));
    const r = await h.inject({ method: 'POST', url: '/v1/recommend/batch', payload: { items } });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect([body.modelVersion, body.count, body.items.length]).toEqual(['1.1.0', 1000, 1000]);
    expect(body.items[0]).toEqual(EXPECTED);
    expect(body.items[999]).toEqual({ container: 'c999', ...EXPECTED });
    expect(h.made.find((p) => p.calls.length > 0)!.calls).toEqual([1000]);
  });

  it('EXPECTED FAILURE - a bad item fails alone, its error names its index; all items bad is 400; more than --max-batch-items is 400 TOO_MANY_ITEMS; empty body', async () => {
    const h = await harness({ maxBatchItems: 5 });
    const post = (payload: unknown) => h.inject({ method: 'POST', url: '/v1/recommend/batch', payload: payload as string });
    const mixed = await post({ items: [{ features: ARR }, { features: { ...FEATURES, throttle_ratio: 2 } }] });
    expect([mixed.statusCode, mixed.json().errors, mixed.json().items[0]]).toEqual([200, 1, EXPECTED]);
    expect(mixed.json().items[1].error).toMatchObject({ code: 'INVALID_FIELD', status: 400, field: 'items[1].features.throttle_ratio' });
    expectError(await post({ items: [{ features: { ...FEATURES, throttle_ratio: 2 } }] }), 'INVALID_FIELD', 'items[0].features.throttle_ratio');
    expectError(await post({ items: Array.from({ length: 6 }, () => ({ features: ARR })) }), 'TOO_MANY_ITEMS', 'items');
    expectError(await post({ rows: [] }), 'INVALID_FIELD', 'rows');
    expectError(await h.inject({ method: 'POST', url: '/v1/recommend/batch', headers: { 'content-type': 'application/json' }, payload: '' }), 'BAD_JSON');
  });

  it('EXPECTED FAILURE - the batch route has its own body limit', async () => {
    const h = await harness({ batchBodyLimitBytes: 4096 });
    const r = await h.inject({ method: 'POST', url: '/v1/recommend/batch', payload: { items: Array.from({ length: 40 }, () => ({ features: FEATURES })) } });
    expect(expectError(r, 'BODY_TOO_LARGE').message).toMatch(/limit of 4096 bytes/);
  });
});

describe('GET /v1/models', () => {
  it('lists retained versions with checksum status, active/serving flags and validation metrics', async () => {
    const s = makeStore([1, 2, 3]);
    s.tamper('1.0.0');
    const h = await harness({}, {}, s);
    const r = await h.inject({ method: 'GET', url: '/v1/models' });
    expect(r.statusCode).toBe(200);
    const b = r.json();
    expect([b.ready, b.active, b.serving, b.previousActive, b.family]).toEqual([true, '1.2.0', '1.2.0', '1.1.0', 'container-resources']);
    expect(b.versions.map((v: { version: string; status: string; active: boolean; serving: boolean }) => [v.version, v.status, v.active, v.serving])).toEqual([
      ['1.0.0', 'refused', false, false],
      ['1.1.0', 'verified', false, false],
      ['1.2.0', 'verified', true, true],
    ]);
    expect(b.versions[0].reason).toMatch(/has sha256 [0-9a-f]{12}…, the manifest says/);
    expect(b.versions[2].validation).toEqual({ businessScore: 53, memUnderPct: 3.1 });
    expect(b.versions[2].sha256).toBe(s.entry('1.2.0').sha256);

    const one = await h.inject({ method: 'GET', url: '/v1/models/1.1.0' });
    expect(one.json()).toMatchObject({ version: '1.1.0', status: 'verified', previousActive: true, file: 'models/predictor_v1.1.0.onnx' });
    expect(expectError(await h.inject({ method: 'GET', url: '/v1/models/9.9.9' }), 'VERSION_NOT_FOUND').message).toMatch(/retained: 1.0.0, 1.1.0, 1.2.0/);
  });
});

describe('admin: activate and rollback', () => {
  it('activate persists to the manifest and switches serving; rollback returns to the previous version', async () => {
    const h = await harness();
    const a = await h.inject({ method: 'POST', url: '/v1/models/1.0.0/activate', headers: auth });
    expect([a.statusCode, a.json()]).toEqual([200, { changed: true, active: '1.0.0', previousActive: '1.1.0', serving: '1.0.0' }]);
    expect(family(readManifest(h.store.manifestPath))).toMatchObject({ active: '1.0.0', previousActive: '1.1.0' });
    expect((await h.inject({ method: 'POST', url: '/v1/recommend', payload: { features: ARR } })).json().modelVersion).toBe('1.0.0');
    // activating the active version again changes nothing
    expect((await h.inject({ method: 'POST', url: '/v1/models/1.0.0/activate', headers: auth })).json()).toEqual({ changed: false, active: '1.0.0', previousActive: '1.1.0', serving: '1.0.0' });

    const r = await h.inject({ method: 'POST', url: '/v1/rollback', headers: auth });
    expect(r.json()).toEqual({ changed: true, active: '1.1.0', previousActive: '1.0.0', serving: '1.1.0' });
    expect(family(readManifest(h.store.manifestPath)).active).toBe('1.1.0');
    const metrics = (await h.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/resource_agent_model_rollbacks_total\{family="container-resources"\} 2/); // 1.1.0 → 1.0.0 (lower) and the rollback call
    expect(metrics).toMatch(/resource_agent_model_switches_total\{cause="activate",family="container-resources"\} 1/);
    expect(metrics).toMatch(/resource_agent_model_switches_total\{cause="rollback",family="container-resources"\} 1/);
    expect(metrics).toMatch(/resource_agent_model_info\{version="1.1.0",family="container-resources"\} 1/);
  });

  it('EXPECTED FAILURE - auth: 401 without a bearer token, 403 with a wrong one, 403 when admin is off, 503 when the token file is gone', async () => {
    const h = await harness();
    expectError(await h.inject({ method: 'POST', url: '/v1/rollback' }), 'UNAUTHORIZED');
    expectError(await h.inject({ method: 'POST', url: '/v1/rollback', headers: { authorization: `Basic ${TOKEN}` } }), 'UNAUTHORIZED');
    expectError(await h.inject({ method: 'POST', url: '/v1/models/1.0.0/activate', headers: { authorization: 'Bearer wrong' } }), 'FORBIDDEN');
    expectError(await h.inject({ method: 'POST', url: '/v1/models/1.0.0/activate', headers: { authorization: `Bearer ${TOKEN}x` } }), 'FORBIDDEN');
    expect(family(readManifest(h.store.manifestPath)).active).toBe('1.1.0');
    // the token is read per call: a rotated Secret works at once, a missing one is 503
    writeFileSync(h.tokenFile, 'rotated\n');
    expect((await h.inject({ method: 'POST', url: '/v1/models/1.0.0/activate', headers: { authorization: 'Bearer rotated' } })).statusCode).toBe(200);
    rmSync(h.tokenFile);
    expectError(await h.inject({ method: 'POST', url: '/v1/rollback', headers: { authorization: 'Bearer rotated' } }), 'ADMIN_TOKEN_UNAVAILABLE');

    const off = await harness({ adminTokenFile: null });
    expectError(await off.inject({ method: 'POST', url: '/v1/rollback', headers: auth }), 'ADMIN_DISABLED');
  });

  it('EXPECTED FAILURE - unknown, malformed and refused versions; no previous version; bad manifest; read-only store', async () => {
    const s = makeStore([1, 2]);
    s.tamper('1.0.0');
    const h = await harness({}, {}, s);
    expectError(await h.inject({ method: 'POST', url: '/v1/models/2.0.0/activate', headers: auth }), 'VERSION_NOT_FOUND');
    expectError(await h.inject({ method: 'POST', url: '/v1/models/latest/activate', headers: auth }), 'INVALID_FIELD', 'version');
    expect(expectError(await h.inject({ method: 'POST', url: '/v1/models/1.0.0/activate', headers: auth }), 'VERSION_NOT_VERIFIED').message).toMatch(/version 1.0.0 is refused \(file models\/predictor_v1.0.0.onnx has sha256/);
    expectError(await h.inject({ method: 'POST', url: '/v1/rollback', headers: auth }), 'VERSION_NOT_VERIFIED');

    const single = await harness({}, {}, makeStore([1]));
    expectError(await single.inject({ method: 'POST', url: '/v1/rollback', headers: auth }), 'NO_PREVIOUS_VERSION');

    const bad = await harness();
    writeFileSync(bad.store.manifestPath, '{"schemaVersion": 1, "families": ');
    expect(expectError(await bad.inject({ method: 'POST', url: '/v1/rollback', headers: auth }), 'MANIFEST_INVALID').message).toMatch(/not valid JSON/);
    // the old manifest keeps serving
    expect((await bad.inject({ method: 'POST', url: '/v1/recommend', payload: { features: ARR } })).json().modelVersion).toBe('1.1.0');

    const ro = await harness({}, {
      writeManifest: () => {
        throw Object.assign(new Error('read-only file system'), { code: 'EROFS' });
      },
    });
    const before = readFileSync(ro.store.manifestPath, 'utf8');
    // a read-only filesystem is the ConfigMap store's case: the kubectl way is named
    expect(expectError(await ro.inject({ method: 'POST', url: '/v1/rollback', headers: auth }), 'STORE_READ_ONLY').message).toMatch(/kubectl apply -k resource-agent\/deploy/);
    const full = await harness({}, {
      writeManifest: () => {
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      },
    });
    expect(expectError(await full.inject({ method: 'POST', url: '/v1/rollback', headers: auth }), 'MANIFEST_WRITE_FAILED').message).toMatch(/\(ENOSPC\); nothing changed/);
    expect(readFileSync(ro.store.manifestPath, 'utf8')).toBe(before);
    expect((await ro.inject({ method: 'GET', url: '/readyz' })).json().serving).toBe('1.1.0');
  });
});

describe('ops routes', () => {
  it('/healthz, /readyz, /metrics, /openapi.json and /docs', async () => {
    const h = await harness();
    expect((await h.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await h.inject({ method: 'GET', url: '/readyz' });
    expect([ready.statusCode, ready.json().ready, ready.json().serving, ready.json().refused]).toEqual([200, true, '1.1.0', []]);

    await h.inject({ method: 'POST', url: '/v1/recommend', payload: { features: ARR } });
    await h.inject({ method: 'POST', url: '/v1/recommend/batch', payload: { items: [{ features: ARR }, { features: ARR }] } });
    const m = await h.inject({ method: 'GET', url: '/metrics' });
    expect(m.headers['content-type']).toMatch(/^text\/plain/);
    for (const line of [
      'resource_agent_http_requests_total{method="POST",route="/v1/recommend",status="200"} 1',
      'resource_agent_http_request_duration_seconds_count{method="POST",route="/v1/recommend/batch"} 1',
      'resource_agent_inference_rows_total{endpoint="single",family="container-resources"} 1',
      'resource_agent_inference_rows_total{endpoint="batch",family="container-resources"} 2',
      'resource_agent_inference_duration_seconds_count{endpoint="batch",family="container-resources"} 1',
      'resource_agent_model_ready{family="container-resources"} 1',
      'resource_agent_model_versions{status="verified",family="container-resources"} 2',
      'resource_agent_model_load_failures_total{kind="checksum",family="container-resources"} 0',
      'resource_agent_model_rollbacks_total{family="container-resources"} 0',
      'resource_agent_model_manifest_error{family="container-resources"} 0',
    ])
      expect(m.body).toContain(line);

    const api = (await h.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(api.openapi).toBe('3.0.3');
    expect(Object.keys(api.paths)).toEqual(expect.arrayContaining(['/v1/recommend', '/v1/recommend/batch', '/v1/models', '/v1/models/{version}', '/v1/models/{version}/activate', '/v1/rollback', '/healthz', '/readyz', '/metrics']));
    expect(api.paths['/v1/rollback'].post.security).toEqual([{ bearer: [] }]);
    const docs = await h.inject({ method: 'GET', url: '/docs/' });
    expect([docs.statusCode, docs.headers['content-type']]).toEqual([200, 'text/html; charset=utf-8']);
    expect(docs.body).toMatch(/swagger/i);
  });

  it('EXPECTED FAILURE - unknown routes and malformed URLs get the error body', async () => {
    const h = await harness();
    expect(expectError(await h.inject({ method: 'GET', url: '/v2/recommend' }), 'ROUTE_NOT_FOUND').message).toBe('no route GET /v2/recommend; see /docs for the API');
    expectError(await h.inject({ method: 'GET', url: '/v1/recommend' }), 'ROUTE_NOT_FOUND');
    expectError(await h.inject({ method: 'GET', url: '/v1/models/%E0%A4%A' }), 'BAD_REQUEST');
  });

  it('EXPECTED FAILURE - a body whose shape costs more than 4 × its route limit to parse is 413 BODY_TOO_COMPLEX; a body arriving at shutdown is 503 SHUTTING_DOWN', async () => {
    const h = await harness();
    // 1 MiB of empty objects would be ~22 MiB of objects: refused once 4 MiB is reached, never parsed
    const shape = `{"features":[${'{},'.repeat(349_000)}{}]}`;
    const r = await h.inject({ method: 'POST', url: '/v1/recommend', headers: { 'content-type': 'application/json' }, payload: shape });
    expect(expectError(r, 'BODY_TOO_COMPLEX').message).toMatch(/^the body's shape would take over \d+\.\d MiB of memory to parse \(\d+ objects, 1 arrays, 1 strings and 0 numbers in its first \d+ bytes\), over the 4\.0 MiB a call to this route may use \(4 × its body limit\)/);
    // a body still arriving when the agent shuts down (server.ts calls this as the listener closes)
    const slow = new PassThrough();
    const pending = h.inject({ method: 'POST', url: '/v1/recommend', headers: { 'content-type': 'application/json' }, payload: slow });
    slow.write('{"features":');
    for (let i = 0; i < 200 && h.agent.bodies.receivingCount === 0; i++) await new Promise((res) => setTimeout(res, 10));
    expect(h.agent.bodies.shutdown()).toBe(1);
    const cut = await pending;
    expectError(cut, 'SHUTTING_DOWN');
    expect([cut.headers['retry-after'], cut.headers.connection]).toEqual(['1', 'close']);
    slow.destroy();
  });

  it('EXPECTED FAILURE - the work budgets: samples per batch (413 TOO_MANY_SAMPLES), bodies in flight (429 TOO_BUSY)', async () => {
    const h = await harness({ maxBatchSamples: 4 });
    const t = [1_700_000_000, 1_700_000_300, 1_700_000_600];
    const w = { timestampsSec: t, cpuCores: [0.1, 0.1, 0.1], memoryBytes: [GiB, GiB, GiB] };
    expectError(await h.inject({ method: 'POST', url: '/v1/recommend/batch', payload: { items: [{ window: w }, { window: w }] } }), 'TOO_MANY_SAMPLES', 'items[1].window');
    // a budget smaller than one body: every POST is refused before its body is read; GETs never are
    const busy = await harness({ maxInflightBodyBytes: 10 });
    const r = await busy.inject({ method: 'POST', url: '/v1/recommend', payload: { features: ARR } });
    expectError(r, 'TOO_BUSY');
    expect(r.headers['retry-after']).toBe('1');
    expect((await busy.inject({ url: '/healthz' })).statusCode).toBe(200);
  });

  it('EXPECTED FAILURE - activate and rollback on a ConfigMap store (a ..data folder) are 409 STORE_READ_ONLY naming the kubectl way', async () => {
    const h = await harness();
    symlinkSync('.', join(h.store.dir, '..data'));
    const r = await h.inject({ method: 'POST', url: '/v1/rollback', headers: auth });
    expect(expectError(r, 'STORE_READ_ONLY').message).toMatch(/npm run rollback -- --to 1\.0\.0, npm run store:configmap, then kubectl apply -k resource-agent\/deploy/);
    expect(family(readManifest(h.store.manifestPath)).active).toBe('1.1.0');
  });

  it('EXPECTED FAILURE - training jobs: an unknown id is 404 JOB_NOT_FOUND, cancelling a finished job is 409 JOB_FINISHED', async () => {
    const h = await harness();
    expectError(await h.inject({ method: 'GET', url: '/v1/training-jobs/tj-20250602000000-abcdef' }), 'JOB_NOT_FOUND');
    expectError(await h.inject({ method: 'POST', url: '/v1/training-jobs/not-a-job/cancel', headers: auth }), 'JOB_NOT_FOUND');
    // a job file as training-jobs.ts leaves it when the job succeeded
    const id = 'tj-20250602000000-abcdef';
    const t = '2025-06-02T00:00:00.000Z';
    mkdirSync(join(h.store.dir, 'training-jobs'));
    writeFileSync(join(h.store.dir, 'training-jobs', `${id}.json`), JSON.stringify({ schemaVersion: 1, id, state: 'succeeded', request: {}, createdAt: t, startedAt: t, finishedAt: t, updatedAt: t, stage: 'deciding', progress: 100, etaSec: 0, trainingEtaSec: null, message: 'rejected', log: [], holder: null, childPid: null, result: null, error: null }));
    { const g = await h.inject({ method: 'GET', url: `/v1/training-jobs/${id}` }); expect(g.json().state, g.body).toBe('succeeded'); }
    expect(expectError(await h.inject({ method: 'POST', url: `/v1/training-jobs/${id}/cancel`, headers: auth }), 'JOB_FINISHED').message).toBe(`training job ${id} has already finished; nothing to cancel`);
  });

  it('EXPECTED FAILURE - a training job on an agent whose runtime has no TensorFlow.js (as in the agent image) is 409 TRAINING_UNAVAILABLE, naming the trainer image and the CronJob; nothing queued', async () => {
    // The agent resolves the training packages as Node does; here its resolver does not find TensorFlow.js,
    // as in the agent's image (resource-agent/image/build.ts removes node_modules/@tensorflow).
    const noTf = (id: string): string => { if (id.startsWith('@tensorflow/')) throw new Error(`Cannot find module '${id}'`); return id; };
    const h = await harness({}, { resolveModule: noTf });
    const r = await h.inject({ method: 'POST', url: '/v1/training-jobs', headers: { ...auth, 'content-type': 'application/json' }, payload: { data: { traces: { path: h.store.dir } } } });
    expect(expectError(r, 'TRAINING_UNAVAILABLE').message).toMatch(/^this agent cannot train: its runtime has no @tensorflow\/tfjs or @tensorflow\/tfjs-backend-wasm .*resource-agent\/Dockerfile\.trainer.*overlays\/pvc-store-retrain.*nothing was queued$/);
    expect((await h.inject({ method: 'GET', url: '/v1/training-jobs' })).json().jobs).toEqual([]);
    // this machine's runtime can train: the same check with Node's resolution finds both packages
    expect(missingTrainingRuntime()).toBeNull();
  });

  it('every error code in errors.ts was produced above, and the README lists each with its status', () => {
    // Node answers these two before fastify sees the request: agent-reliability.test.ts produces them on a raw socket.
    for (const code of ['REQUEST_TIMEOUT', 'HEADERS_TOO_LARGE'] as const) seen.add(code);
    expect([...seen].sort()).toEqual(Object.keys(ERRORS).sort());
    const readme = readFileSync(join(REPO, 'resource-agent', 'README.md'), 'utf8');
    for (const [code, e] of Object.entries(ERRORS)) expect(readme, code).toContain(`| \`${code}\` | ${e.status} |`);
  });
});
