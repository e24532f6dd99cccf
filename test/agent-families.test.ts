/**
 * agent-families: the agent serves every model family of the store, each at its own path with its own
 * store, and refuses a model whose widths are not its family's. The second family is a stub defined
 * here alone (a contract of 3 inputs → 8 → 2 outputs and a trivial serving adapter), with int8 models of
 * seeded random weights published by the real exporter next to the container family's models; every
 * session is a real ONNX Runtime one.
 *
 * The stub: inputs a, b, c in 0..10 (linear), outputs `total` in 0..100 (linear) and `p`, a probability
 * (sigmoid). Item {"x": [a, b, c], "id"?: "…"} → answer {"id"?, "total": <4 decimals>, "p": <4 decimals>}.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { createAgent } from '../resource-agent/app.js';
import type { Agent, AgentDeps } from '../resource-agent/app.js';
import { AGENT_DEFAULTS } from '../resource-agent/options.js';
import type { AgentOptions } from '../resource-agent/options.js';
import { denormalize, layerSizes, normalizeRow } from '../src/core/contract.js';
import type { ModelContract } from '../src/core/contract.js';
import { RequestFieldError } from '../src/core/family.js';
import type { ModelFamily, ServingAdapter } from '../src/core/family.js';
import { containerResources } from '../src/families/container-resources/index.js';
import { buildQuantizedOnnx } from '../src/onnx/build.js';
import { forwardQuantized, quantizeModel } from '../src/core/quantize.js';
import type { QuantizedModel } from '../src/core/quantize.js';
import { exportModel } from '../src/export/publish.js';
import { DEFAULT_FAMILY, family, readManifest, writeManifest } from './helpers/manifest.js';
import { UserError } from '../src/util/errors.js';
import { sha256Hex } from '../src/util/hash.js';
import { FEATURES, makeStore } from './helpers/model-store.js';
import type { TempStore } from './helpers/model-store.js';

const STUB_CONTRACT: ModelContract = {
  family: 'stub-sum',
  version: '1',
  inputs: ['a', 'b', 'c'].map((name) => ({ name, unit: 'count', description: `input ${name}`, normalization: { type: 'linear', min: 0, max: 10 } as const })),
  outputs: [
    { name: 'total', unit: 'count', description: 'a total', normalization: { type: 'linear', min: 0, max: 100 } },
    { name: 'p', unit: 'probability', description: 'a probability', normalization: { type: 'linear', min: 0, max: 1 } },
  ],
  hidden: [8],
  sigmoid: [1],
  descriptor: () => ({ contractVersion: '1', inputs: ['a', 'b', 'c'], outputs: ['total', 'p'] }),
};

const round4 = (v: number) => Math.round(v * 10_000) / 10_000;

/** The stub's serving adapter: checks x (3 numbers in 0..10), echoes id, writes total and p. */
const stubAdapter: ServingAdapter<{ id?: string }> = {
  readItem(v, out, offset) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RequestFieldError('', 'expected an object with "x"');
    const o = v as Record<string, unknown>;
    for (const k in o) if (k !== 'x' && k !== 'id') throw new RequestFieldError(k, 'is not a known field; the fields are x, id');
    const x = o.x;
    if (!Array.isArray(x) || x.length !== 3) throw new RequestFieldError('x', 'give 3 numbers');
    x.forEach((n, i) => {
      if (typeof n !== 'number' || n < 0 || n > 10) throw new RequestFieldError(`x[${i}]`, `is ${String(n)}; give a number in 0..10`);
    });
    normalizeRow(STUB_CONTRACT.inputs, x as number[], out, offset);
    return typeof o.id === 'string' ? { id: o.id } : {};
  },
  writeItem(w, y, offset, meta) {
    if (meta.id !== undefined) {
      w.ascii('"id":');
      w.string(meta.id);
      w.byte(44);
    }
    w.ascii(`"total":${round4(denormalize(STUB_CONTRACT.outputs[0]!.normalization, y[offset]!))},"p":`);
    w.fraction4(Math.round(y[offset + 1]! * 10_000));
  },
};

const notUsed = (): never => {
  throw new Error('not used by the agent');
};

const STUB: ModelFamily = {
  name: 'stub-sum',
  title: 'a test-only family',
  contract: STUB_CONTRACT,
  fileStem: 'stub-sum',
  training: { load: notUsed, hyperDefaults: {}, hyperHelp: {}, objective: notUsed, describeObjective: () => '' },
  evaluation: { gate: notUsed },
  serving: {
    path: '/v1/stub/recommend',
    summary: 'A total and a probability for three counts',
    defaultBounds: containerResources.serving.defaultBounds,
    adapter: () => stubAdapter,
    schemas: { item: { type: 'object', properties: { x: { type: 'array', items: { type: 'number' } }, id: { type: 'string' } } }, answer: { type: 'object', required: ['total', 'p'], properties: { id: { type: 'string' }, total: { type: 'number' }, p: { type: 'number' } } } },
    example: { x: [1, 2, 3] },
  },
};

/** stubModel: int8 weights-only model of seeded random weights for the stub contract (3 → 8 → 2). */
function stubModel(seed: number): { bytes: Uint8Array; q: QuantizedModel } {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32); // an LCG: enough for weights
  const sizes = layerSizes(STUB_CONTRACT);
  const layers = sizes.slice(1).map((o, l) => {
    const i = sizes[l]!;
    return { inSize: i, outSize: o, W: Float32Array.from({ length: i * o }, () => next() - 0.5), b: Float32Array.from({ length: o }, () => next() * 0.3) };
  });
  const q = quantizeModel({ layers, sigmoid: STUB_CONTRACT.sigmoid }, Float32Array.from({ length: 50 * 3 }, next), 50, 'weights');
  return { bytes: buildQuantizedOnnx(STUB_CONTRACT, q, { contract: JSON.stringify(STUB_CONTRACT.descriptor()) }), q };
}

/** publishStub exports a stub model into a store's manifest (as `npm run export --family stub-sum` would). */
function publishStub(store: TempStore, seed: number): string {
  const input = join(store.dir, `stub-in-${seed}.onnx`);
  writeFileSync(input, stubModel(seed).bytes);
  const r = exportModel({ model: input, outputDir: join(store.dir, 'models'), manifestPath: store.manifestPath, family: STUB, validation: null, rustPath: null });
  rmSync(input);
  return r.version;
}

/** The stub's answer from the TypeScript int8 forward pass of the same weights. */
function expectedStub(seed: number, x: number[]): { total: number; p: number } {
  const y = forwardQuantized(stubModel(seed).q, normalizeRow(STUB_CONTRACT.inputs, x), 1);
  return { total: denormalize(STUB_CONTRACT.outputs[0]!.normalization, y[0]!), p: y[1]! };
}

const TOKEN = 'families-test-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** agentOn serves `store` with real ONNX Runtime sessions and the given registered families. */
async function agentOn(store: TempStore, o: Partial<AgentOptions> = {}, deps: AgentDeps = {}): Promise<Agent & { inject: Agent['app']['inject'] }> {
  const tokenFile = join(store.dir, 'token');
  writeFileSync(tokenFile, TOKEN);
  const agent = await createAgent({ ...AGENT_DEFAULTS, manifest: store.manifestPath, adminTokenFile: tokenFile, ...o }, { logger: false, defaultMetrics: false, ...deps });
  await agent.stores.start();
  cleanups.push(async () => {
    await agent.app.close();
    await agent.stores.close();
  });
  return Object.assign(agent, { inject: agent.app.inject.bind(agent.app) });
}

/** A store with container versions 1.0.0, 1.1.0 (active) and stub versions 1.0.0, 1.1.0 (active). */
function twoFamilyStore(): TempStore {
  const s = makeStore([1, 2]);
  cleanups.push(() => s.cleanup());
  expect([publishStub(s, 1), publishStub(s, 2)]).toEqual(['1.0.0', '1.1.0']);
  return s;
}

function expectError(r: LightMyRequestResponse, status: number, code: string, field?: string): string {
  const e = (r.json() as { error: { code: string; field?: string; message: string } }).error;
  expect([r.statusCode, e.code], r.body).toEqual([status, code]);
  if (field !== undefined) expect(e.field).toBe(field);
  return e.message;
}

describe('two families in one agent', () => {
  it('serves the stub family at its own path next to the container family, with its own readiness and metrics', async () => {
    const a = await agentOn(twoFamilyStore(), {}, { families: [containerResources, STUB] });
    const fams = (await a.inject({ method: 'GET', url: '/v1/families' })).json();
    expect(fams).toEqual({
      default: 'container-resources',
      families: [
        { name: 'container-resources', title: containerResources.title, recommend: '/v1/recommend', models: '/v1/families/container-resources/models', ready: true, serving: '1.1.0' },
        { name: 'stub-sum', title: 'a test-only family', recommend: '/v1/stub/recommend', models: '/v1/families/stub-sum/models', ready: true, serving: '1.1.0' },
      ],
    });

    const c = await a.inject({ method: 'POST', url: '/v1/recommend', payload: { features: FEATURES } });
    expect([c.statusCode, c.json().modelVersion, typeof c.json().cpu.request.millicores]).toEqual([200, '1.1.0', 'number']);

    // [1, 2, 3] through the seed-2 weights: ONNX Runtime and the TypeScript int8 pass agree
    const want = expectedStub(2, [1, 2, 3]);
    const one = await a.inject({ method: 'POST', url: '/v1/stub/recommend', payload: { x: [1, 2, 3], id: 'job-1' } });
    expect(one.statusCode, one.body).toBe(200);
    const got = one.json();
    expect(Object.keys(got)).toEqual(['modelVersion', 'id', 'total', 'p']);
    expect([got.modelVersion, got.id]).toEqual(['1.1.0', 'job-1']);
    expect(got.total).toBeCloseTo(want.total, 2);
    expect(got.p).toBeCloseTo(want.p, 3);

    const batch = (await a.inject({ method: 'POST', url: '/v1/stub/recommend/batch', payload: { items: [{ x: [1, 2, 3] }, { x: [10, 0, 5], id: 'b' }] } })).json();
    expect([batch.modelVersion, batch.count]).toEqual(['1.1.0', 2]);
    expect(batch.items[0]).toEqual({ total: got.total, p: got.p });
    expect(batch.items[1].id).toBe('b');
    expect(batch.items[1].total).toBeCloseTo(expectedStub(2, [10, 0, 5]).total, 2);

    // errors name the field inside the body, as the container family's do
    expect(expectError(await a.inject({ method: 'POST', url: '/v1/stub/recommend', payload: { x: [1, 2] } }), 400, 'INVALID_FIELD', 'x')).toBe('x: give 3 numbers');
    const mixed = (await a.inject({ method: 'POST', url: '/v1/stub/recommend/batch', payload: { items: [{ x: [1, 2, 3] }, { x: [1, 2, 11] }] } })).json();
    expect([mixed.errors, mixed.items[1].error.field, mixed.items[1].error.message]).toEqual([1, 'items[1].x[2]', 'items[1].x[2]: is 11; give a number in 0..10']);
    // (the batch above ran one row: its good item)
    expectError(await a.inject({ method: 'POST', url: '/v1/stub/recommend', payload: { features: FEATURES } }), 400, 'INVALID_FIELD', 'features');
    expectError(await a.inject({ method: 'POST', url: '/v1/recommend', payload: { x: [1, 2, 3] } }), 400, 'INVALID_FIELD', 'x');

    const ready = await a.inject({ method: 'GET', url: '/readyz' });
    expect([ready.statusCode, ready.json().ready, ready.json().reason, ready.json().family, ready.json().serving]).toEqual([200, true, null, 'container-resources', '1.1.0']);
    expect(Object.keys(ready.json().families)).toEqual(['container-resources', 'stub-sum']);
    expect(ready.json().families['stub-sum']).toMatchObject({ ready: true, family: 'stub-sum', serving: '1.1.0', active: '1.1.0', previousActive: '1.0.0', refused: [] });

    const m = (await a.inject({ method: 'GET', url: '/metrics' })).body;
    for (const line of [
      'resource_agent_model_info{version="1.1.0",family="stub-sum"} 1',
      'resource_agent_model_info{version="1.1.0",family="container-resources"} 1',
      'resource_agent_model_ready{family="stub-sum"} 1',
      'resource_agent_inference_rows_total{endpoint="single",family="stub-sum"} 1',
      'resource_agent_inference_rows_total{endpoint="batch",family="stub-sum"} 3',
      'resource_agent_inference_rows_total{endpoint="single",family="container-resources"} 1',
      'resource_agent_model_versions{status="verified",family="stub-sum"} 2',
      'resource_agent_http_requests_total{method="POST",route="/v1/stub/recommend",status="200"} 1',
    ])
      expect(m).toContain(line);

    const api = (await a.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(api.paths)).toEqual(expect.arrayContaining(['/v1/recommend', '/v1/stub/recommend', '/v1/stub/recommend/batch', '/v1/families', '/v1/families/stub-sum/models', '/v1/families/stub-sum/models/{version}/activate', '/v1/families/stub-sum/rollback', '/v1/models', '/v1/rollback']));
    expect(api.paths['/v1/stub/recommend'].post.requestBody.content['application/json'].example).toEqual({ x: [1, 2, 3] });
  });

  it("rollback and activate of the stub family never touch the container family's active version (and the reverse)", async () => {
    const s = twoFamilyStore();
    const a = await agentOn(s, {}, { families: [containerResources, STUB] });
    const actives = () => {
      const m = readManifest(s.manifestPath);
      return { container: [family(m).active, family(m).previousActive], stub: [family(m, 'stub-sum').active, family(m, 'stub-sum').previousActive] };
    };
    const version = async (url: string, payload: unknown) => (await a.inject({ method: 'POST', url, payload: payload as string })).json().modelVersion;

    const rb = await a.inject({ method: 'POST', url: '/v1/families/stub-sum/rollback', headers: auth });
    expect([rb.statusCode, rb.json()]).toEqual([200, { changed: true, active: '1.0.0', previousActive: '1.1.0', serving: '1.0.0' }]);
    expect(actives()).toEqual({ container: ['1.1.0', '1.0.0'], stub: ['1.0.0', '1.1.0'] });
    expect([await version('/v1/stub/recommend', { x: [1, 2, 3] }), await version('/v1/recommend', { features: FEATURES })]).toEqual(['1.0.0', '1.1.0']);
    // the stub's answer is now the seed-1 model's
    expect((await a.inject({ method: 'POST', url: '/v1/stub/recommend', payload: { x: [1, 2, 3] } })).json().total).toBeCloseTo(expectedStub(1, [1, 2, 3]).total, 2);

    const list = (await a.inject({ method: 'GET', url: '/v1/families/stub-sum/models' })).json();
    expect([list.family, list.active, list.serving]).toEqual(['stub-sum', '1.0.0', '1.0.0']);
    expect(list.versions.map((v: { file: string }) => v.file)).toEqual(['models/stub-sum_v1.0.0.onnx', 'models/stub-sum_v1.1.0.onnx']);
    expect((await a.inject({ method: 'GET', url: '/v1/families/stub-sum/models/1.1.0' })).json()).toMatchObject({ version: '1.1.0', previousActive: true, serving: false });
    // the default family's routes, old and new, still show the container family untouched
    expect((await a.inject({ method: 'GET', url: '/v1/models' })).json()).toMatchObject({ family: 'container-resources', active: '1.1.0', serving: '1.1.0' });
    expect((await a.inject({ method: 'GET', url: '/v1/families/container-resources/models' })).json()).toMatchObject({ family: 'container-resources', active: '1.1.0' });

    const act = await a.inject({ method: 'POST', url: '/v1/families/stub-sum/models/1.1.0/activate', headers: auth });
    expect(act.json()).toEqual({ changed: true, active: '1.1.0', previousActive: '1.0.0', serving: '1.1.0' });
    expect(actives()).toEqual({ container: ['1.1.0', '1.0.0'], stub: ['1.1.0', '1.0.0'] });

    // the reverse: /v1/rollback is the default family's, and leaves the stub alone
    expect((await a.inject({ method: 'POST', url: '/v1/rollback', headers: auth })).json()).toEqual({ changed: true, active: '1.0.0', previousActive: '1.1.0', serving: '1.0.0' });
    expect(actives()).toEqual({ container: ['1.0.0', '1.1.0'], stub: ['1.1.0', '1.0.0'] });
    expect([await version('/v1/stub/recommend', { x: [1, 2, 3] }), await version('/v1/recommend', { features: FEATURES })]).toEqual(['1.1.0', '1.0.0']);

    const m = (await a.inject({ method: 'GET', url: '/metrics' })).body;
    expect(m).toContain('resource_agent_model_switches_total{cause="rollback",family="stub-sum"} 1');
    expect(m).toContain('resource_agent_model_switches_total{cause="activate",family="stub-sum"} 1');
    expect(m).toContain('resource_agent_model_switches_total{cause="rollback",family="container-resources"} 1');

    expectError(await a.inject({ method: 'POST', url: '/v1/families/stub-sum/rollback' }), 401, 'UNAUTHORIZED');
    expectError(await a.inject({ method: 'POST', url: '/v1/families/stub-sum/models/9.9.9/activate', headers: auth }), 404, 'VERSION_NOT_FOUND');
    expect(expectError(await a.inject({ method: 'GET', url: '/v1/families/nope/models' }), 404, 'ROUTE_NOT_FOUND')).toBe("no model family 'nope' is served here (served: container-resources, stub-sum); see GET /v1/families");
    // a wrong route under a served family is a wrong route, not an unknown family (names may hold a '/')
    expect(expectError(await a.inject({ method: 'GET', url: '/v1/families/stub-sum/nope' }), 404, 'ROUTE_NOT_FOUND')).toBe('no route GET /v1/families/stub-sum/nope; see /docs for the API');
  });
});

describe('which families are served', () => {
  const GHOST: ModelFamily = { ...STUB, name: 'ghost', fileStem: 'ghost', serving: { ...STUB.serving, path: '/v1/ghost/recommend' } };

  it('by default every registered family the manifest names; a registered family absent from it is not served', async () => {
    const a = await agentOn(twoFamilyStore(), {}, { families: [containerResources, GHOST, STUB] });
    expect((await a.inject({ method: 'GET', url: '/v1/families' })).json().families.map((f: { name: string }) => f.name)).toEqual(['container-resources', 'stub-sum']);
    expectError(await a.inject({ method: 'POST', url: '/v1/ghost/recommend', payload: { x: [1, 2, 3] } }), 404, 'ROUTE_NOT_FOUND');
    expect((await a.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('--family picks them: only the stub family, so no container routes and none of the default family at /v1/models', async () => {
    const a = await agentOn(twoFamilyStore(), { family: ['stub-sum'] }, { families: [containerResources, STUB] });
    expect((await a.inject({ method: 'POST', url: '/v1/stub/recommend', payload: { x: [1, 2, 3] } })).statusCode).toBe(200);
    expectError(await a.inject({ method: 'POST', url: '/v1/recommend', payload: { features: FEATURES } }), 404, 'ROUTE_NOT_FOUND');
    expectError(await a.inject({ method: 'GET', url: '/v1/models' }), 404, 'ROUTE_NOT_FOUND');
    const ready = (await a.inject({ method: 'GET', url: '/readyz' })).json();
    expect([ready.ready, Object.keys(ready.families), ready.serving]).toEqual([true, ['stub-sum'], undefined]);
    expect((await a.inject({ method: 'GET', url: '/v1/families' })).json().default).toBeNull();
  });

  it('a family asked for but absent from the manifest is served not ready, and makes the agent not ready', async () => {
    const s = makeStore([1]);
    cleanups.push(() => s.cleanup());
    const a = await agentOn(s, { family: ['container-resources', 'stub-sum'] }, { families: [containerResources, STUB] });
    const ready = await a.inject({ method: 'GET', url: '/readyz' });
    expect([ready.statusCode, ready.json().serving, ready.json().families['stub-sum'].ready]).toEqual([503, '1.0.0', false]);
    expect(ready.json().reason).toMatch(/^stub-sum: model family 'stub-sum' is not in the manifest/);
    expect((await a.inject({ method: 'POST', url: '/v1/recommend', payload: { features: FEATURES } })).statusCode).toBe(200);
    expect(expectError(await a.inject({ method: 'POST', url: '/v1/stub/recommend', payload: { x: [1, 2, 3] } }), 503, 'NOT_READY')).toMatch(/not in the manifest/);
  });

  it('EXPECTED FAILURE - an unregistered --family, and two families on one path, stop the start', async () => {
    const s = makeStore([1]);
    cleanups.push(() => s.cleanup());
    const o = { ...AGENT_DEFAULTS, manifest: s.manifestPath };
    await expect(createAgent({ ...o, family: ['nope'] }, { logger: false, defaultMetrics: false, families: [containerResources, STUB] })).rejects.toThrow(new UserError("--family: 'nope' is not a registered model family (registered: container-resources, stub-sum)"));
    const clash: ModelFamily = { ...STUB, serving: { ...STUB.serving, path: '/v1/recommend' } };
    await expect(createAgent({ ...o, family: ['container-resources', 'stub-sum'] }, { logger: false, defaultMetrics: false, families: [containerResources, clash] })).rejects.toThrow(/model families container-resources and stub-sum both serve \/v1\/recommend/);
  });
});

describe('EXPECTED FAILURE - a model of other widths than its family contract', () => {
  /** addForeign adds the stub model (3 → 2) as container version `version`, active, with a right checksum. */
  function addForeign(s: TempStore, version: string): void {
    const bytes = stubModel(1).bytes;
    const file = `models/foreign_v${version}.onnx`;
    writeFileSync(join(s.dir, file), bytes);
    const m = readManifest(s.manifestPath);
    const f = family(m);
    const entry = { ...f.versions.at(-1)!, version, file, sha256: sha256Hex(bytes), bytes: bytes.length };
    writeManifest(s.manifestPath, { ...m, families: { ...m.families, [DEFAULT_FAMILY]: { active: version, previousActive: f.active, versions: [...f.versions, entry] } } });
  }

  it('is refused, the previous version keeps serving, and /readyz and /metrics say why', async () => {
    const s = makeStore([1]);
    cleanups.push(() => s.cleanup());
    const a = await agentOn(s); // the registered families (FAMILIES)
    addForeign(s, '1.1.0');
    expect(await a.stores.reload()).toEqual(['applied']);
    const ready = await a.inject({ method: 'GET', url: '/readyz' });
    expect([ready.statusCode, ready.json().serving, ready.json().active]).toEqual([200, '1.0.0', '1.1.0']);
    const why = 'file models/foreign_v1.1.0.onnx takes 3 inputs and gives 2 outputs, but the contract of family container-resources has 12 and 5; is it a model of another family?';
    expect(ready.json().refused).toEqual([{ version: '1.1.0', reason: why }]);
    expect(ready.json().activeError).toBe(`active version 1.1.0 is refused (${why}); still serving 1.0.0`);
    expect((await a.inject({ method: 'GET', url: '/metrics' })).body).toContain('resource_agent_model_load_failures_total{kind="contract",family="container-resources"} 1');
    expect(expectError(await a.inject({ method: 'POST', url: '/v1/models/1.1.0/activate', headers: auth }), 409, 'VERSION_NOT_VERIFIED')).toContain(why);
    expect((await a.inject({ method: 'POST', url: '/v1/recommend', payload: { features: FEATURES } })).json().modelVersion).toBe('1.0.0');
  });

  it('with no other version the agent is not ready, with the reason', async () => {
    const s = makeStore([1]);
    cleanups.push(() => s.cleanup());
    addForeign(s, '1.1.0');
    const m = readManifest(s.manifestPath);
    const f = family(m);
    writeManifest(s.manifestPath, { ...m, families: { [DEFAULT_FAMILY]: { active: '1.1.0', previousActive: null, versions: f.versions.filter((v) => v.version === '1.1.0') } } });
    const a = await agentOn(s);
    const ready = await a.inject({ method: 'GET', url: '/readyz' });
    expect([ready.statusCode, ready.json().ready, ready.json().serving]).toEqual([503, false, null]);
    expect(ready.json().reason).toMatch(/^active version 1.1.0 is refused \(file models\/foreign_v1.1.0.onnx takes 3 inputs and gives 2 outputs.*\); no model to serve$/);
    expectError(await a.inject({ method: 'POST', url: '/v1/recommend', payload: { features: FEATURES } }), 503, 'NOT_READY');
    expect(readFileSync(s.manifestPath, 'utf8')).toContain('foreign_v1.1.0.onnx');
  });
});

describe('the shipped store (containers and job-memory/build-jobs, bowtie2, hisat2)', () => {
  it('a wrong route under a family whose name holds a "/" is a wrong route, not an unknown family', async () => {
    const a = await createAgent({ ...AGENT_DEFAULTS, manifest: join(import.meta.dirname, '..', 'manifest.json'), adminTokenFile: null }, { logger: false, defaultMetrics: false });
    try {
      const r = await a.app.inject({ method: 'GET', url: '/v1/families/job-memory/build-jobs/nope' });
      expect(r.statusCode).toBe(404);
      expect(r.json().error.message).toBe('no route GET /v1/families/job-memory/build-jobs/nope; see /docs for the API');
      const u = await a.app.inject({ method: 'GET', url: '/v1/families/job-memory/nope/models' });
      expect(u.json().error.message).toMatch(/^no model family 'job-memory' is served here \(served: container-resources, job-memory\/build-jobs, job-memory\/bowtie2, job-memory\/hisat2\)/);
    } finally {
      await a.app.close();
      await a.stores.close();
    }
  });
});
