/**
 * equivariance: contract 3 (src/families/container-resources/features.ts) makes the container model
 * scale-equivariant. The network sees CPU amounts only relative to cpu_p99 and memory amounts only
 * relative to mem_p99, and answers multiples of them; so multiplying a window's memory by k multiplies
 * its memory request and limit by k and leaves the CPU answer alone (and CPU likewise). Checked, with
 * fast-check, at every layer that serves the model:
 *   1. the agent over real HTTP (127.0.0.1), raw 7-day usage windows (5-minute samples, any shape);
 *   2. the agent, the 12 features by name;
 *   3. the ONNX model through ONNX Runtime, before post-processing: k × to float precision (1e-5);
 *   4. the Rust edge module's recommend(), compiled with rustc;
 * for a random-weight model made by test/helpers (contract 3 by construction) and for the repo's active
 * shipped model (skipped with the reason while it is not a contract-3 model; in CI that is a failure).
 * 5. The contract-2 model v1.2.0 (test/fixtures) is not equivariant: a counterexample, why contract 3 exists.
 *
 * Rounding. Post-processing rounds every answer up to a step (postprocess.ts: 5m up to 1000m, 100m above;
 * 1Mi up to 1Gi, 64Mi above). With v the model's value for the base window, base ∈ [v, v + step(base)) and
 * got ∈ [k·v, k·v + step(got)), so −k·step(base) < got − k·base < step(got) (plus float noise, 1e-5 relative).
 * Worked numbers: k = 16, v = 100.01Mi → base 101Mi; k·v = 1600.16Mi → got 1664Mi (26 × 64Mi); k·base =
 * 1616Mi, difference +48Mi < 64Mi. k = 1/16, v = 1600.5Mi → base 1664Mi; got 101Mi; k·base = 104Mi,
 * difference −3Mi > −(1/16) × 64Mi = −4Mi.
 * Minimums. An answer at a documented minimum (10m CPU, 32Mi memory) may be a clamp, which does not scale
 * by design (the minimums test): such cases are discarded (fc.pre), as are scaled inputs outside the
 * agent's bounds (the generators keep both windows inside them).
 * Exactness. Multiplying by a power of two is exact in floating point, so for k = 2^n the unscaled resource
 * and the confidence are bit-identical; for other k they may move by float noise, so by one step at most.
 *
 * Settings: k is a power of two 2^-6 … 2^6 or 2^u with u uniform in [−6, 6] (half each); SEED 20261124;
 * RUNS 40 per property, model and resource through the agent, 60 through ONNX Runtime and the Rust module.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent } from '../resource-agent/server.js';
import type { RunningAgent } from '../resource-agent/server.js';
import { AGENT_DEFAULTS } from '../resource-agent/options.js';
import { computeFeatures, CONTRACT_VERSION, denormalizeOutputs, FEATURE_NAMES, INPUTS, normalizeFeatures, OUTPUTS, toVector } from '../src/families/container-resources/features.js';
import type { FeatureValues } from '../src/families/container-resources/features.js';
import { DEFAULT_POLICY } from '../src/families/container-resources/postprocess.js';
import { CPU_STEP_LARGE, CPU_STEP_SMALL, CPU_STEP_THRESHOLD, MEM_STEP_LARGE, MEM_STEP_SMALL, MEM_STEP_THRESHOLD } from '../src/core/rounding.js';
import { containerResources } from '../src/families/container-resources/index.js';
import { denormalizeRow, normalizeRow } from '../src/core/contract.js';
import type { FieldSpec } from '../src/core/contract.js';
import { GiB, MiB } from '../src/core/units.js';
import { loadOnnx } from '../src/onnx/runtime.js';
import { inspectOnnx } from '../src/onnx/inspect.js';
import { exportModel } from '../src/export/publish.js';
import { family, findVersion, modelPath, readManifest, verifyVersion } from './helpers/manifest.js';
import type { VersionEntry } from './helpers/manifest.js';
import { Rng } from '../src/util/rng.js';
import { makeStore } from './helpers/model-store.js';
import { buildHarness, runHarness, rustcAvailable } from './helpers/rust.js';
import { IN_CI, REPO } from './helpers/env.js';

const SEED = 20261124;
const RUNS = 40;
const BATCH_RUNS = 60;
/** HELPER_SEED: test/helpers' weights of seed 2 answer strictly inside the output range (not at a clamp) for every resource output. */
const HELPER_SEED = 2;
/** NOISE: float noise, relative (float32 network, ratios of products): far below one rounding step. */
const NOISE = 1e-5;
const N = 7 * 288; // 7 days of 5-minute samples
const T0 = 1_700_000_000;

const hasRustc = rustcAvailable();
if (!hasRustc && IN_CI) throw new Error('rustc is required in CI (.ci/run installs it)');
const rustSkip = hasRustc ? '' : 'rustc is not installed (apt-get install rustc)';

// ---- arbitraries -----------------------------------------------------------------------------------

type Resource = 'cpu' | 'memory';
const RESOURCES: readonly Resource[] = ['memory', 'cpu'];

/** kArb: a scale factor in 1/64 … 64, a power of two (exact in floats) or 2^u with u uniform in [−6, 6]. */
const kArb = fc.oneof(fc.integer({ min: -6, max: 6 }).map((e) => 2 ** e), fc.double({ min: -6, max: 6, noNaN: true }).map((u) => 2 ** u));
const isPowerOfTwo = (k: number) => Number.isInteger(Math.log2(k));

/**
 * SCALE: where a window's scale (its largest sample, ≈ p99) is drawn, in cores and bytes: inside the
 * agent's bounds (≤ 64 cores, ≤ 256 GiB) and above the contract's scale floors (1m, 1Mi) even at the
 * smallest sample (2% of the scale), with room for an answer above the minimums (10m, 32Mi).
 */
const SCALE = { cpu: { lo: 0.1, hi: 60 }, memory: { lo: 256 * MiB, hi: 200 * GiB } } as const;
const FLOOR = 0.02;

/** scaleArb: a scale s, log-uniform, such that s and k·s are both inside SCALE[r]. */
const scaleArb = (r: Resource, k: number) => fc.double({ min: Math.log(SCALE[r].lo / Math.min(1, k)), max: Math.log(SCALE[r].hi / Math.max(1, k)), noNaN: true }).map(Math.exp);

/** A series' shape, in (0, 1]: a level through 1..48 knots, a daily cycle, noise, spikes. */
const shapeArb = fc.record({
  knots: fc.array(fc.double({ min: FLOOR, max: 1, noNaN: true }), { minLength: 1, maxLength: 48 }),
  daily: fc.double({ min: 0, max: 0.6, noNaN: true }),
  noise: fc.double({ min: 0, max: 0.5, noNaN: true }),
  spikes: fc.array(fc.tuple(fc.nat(N - 1), fc.double({ min: FLOOR, max: 1, noNaN: true })), { maxLength: 8 }),
  seed: fc.nat(),
});
type Shape = typeof shapeArb extends fc.Arbitrary<infer T> ? T : never;

/** series renders a shape as N positive samples, scale × [FLOOR, 1]. */
function series(s: Shape, scale: number): number[] {
  const rng = new Rng(s.seed);
  const phase = rng.range(0, 2 * Math.PI);
  const last = s.knots.length - 1;
  const out = new Array<number>(N);
  for (let i = 0; i < N; i++) {
    const p = (i / (N - 1)) * last;
    const j = Math.floor(p);
    const level = s.knots[j]! + (s.knots[Math.min(j + 1, last)]! - s.knots[j]!) * (p - j);
    out[i] = level * (1 + s.daily * Math.sin((2 * Math.PI * i) / 288 + phase)) * (1 + s.noise * (2 * rng.next() - 1));
  }
  for (const [i, h] of s.spikes) out[i] = Math.max(out[i]!, h);
  return out.map((v) => scale * Math.min(1, Math.max(FLOOR, v)));
}

interface Window {
  timestampsSec: number[];
  cpuCores: number[];
  memoryBytes: number[];
}
const SERIES = { cpu: 'cpuCores', memory: 'memoryBytes' } as const;

/** windowCase: a 7-day window and the same window with resource r × k. */
const windowCase = (r: Resource) =>
  kArb.chain((k) =>
    fc
      .record({ start: fc.nat(2 * 288), cpu: shapeArb, mem: shapeArb, cpuScale: scaleArb('cpu', r === 'cpu' ? k : 1), memScale: scaleArb('memory', r === 'memory' ? k : 1) })
      .map(({ start, cpu, mem, cpuScale, memScale }) => {
        const base: Window = { timestampsSec: Array.from({ length: N }, (_, i) => T0 + (start + i) * 300), cpuCores: series(cpu, cpuScale), memoryBytes: series(mem, memScale) };
        return { k, base, scaled: { ...base, [SERIES[r]]: base[SERIES[r]].map((x) => x * k) } };
      }),
  );

/** featuresCase: 12 features in real units (p99 = the scale, p95 and p50 fractions below it) and the same with r's percentiles × k. */
const featuresCase = (r: Resource) =>
  kArb.chain((k) =>
    fc
      .record({
        cpu: fc.tuple(scaleArb('cpu', r === 'cpu' ? k : 1), fc.double({ min: 0.05, max: 1, noNaN: true }), fc.double({ min: 0.05, max: 1, noNaN: true })),
        mem: fc.tuple(scaleArb('memory', r === 'memory' ? k : 1), fc.double({ min: 0.1, max: 1, noNaN: true }), fc.double({ min: 0.1, max: 1, noNaN: true })),
        cpu_variance: fc.double({ min: 0, max: 5, noNaN: true }),
        mem_trend: fc.double({ min: -2, max: 2, noNaN: true }),
        throttle_ratio: fc.double({ min: 0, max: 1, noNaN: true }),
        hour: fc.integer({ min: 0, max: 23 }),
        day_of_week: fc.integer({ min: 0, max: 6 }),
        workload_age: fc.double({ min: 0, max: 175_200, noNaN: true }),
      })
      .map(({ cpu: [c99, c95f, c50f], mem: [m99, m95f, m50f], ...rest }) => {
        const base: FeatureValues = { cpu_p50: c99 * c95f * c50f, cpu_p95: c99 * c95f, cpu_p99: c99, mem_p50: m99 * m95f * m50f, mem_p95: m99 * m95f, mem_p99: m99, ...rest };
        const scaled = { ...base };
        for (const n of r === 'cpu' ? (['cpu_p50', 'cpu_p95', 'cpu_p99'] as const) : (['mem_p50', 'mem_p95', 'mem_p99'] as const)) scaled[n] = base[n] * k;
        return { k, base, scaled };
      }),
  );

// ---- the property, on post-processed answers ---------------------------------------------------------

/** Answer: a post-processed recommendation, millicores and bytes. */
interface Answer {
  cpuRequest: number;
  cpuLimit: number;
  memRequest: number;
  memLimit: number;
  confidence: number;
}
const KEYS = { cpu: ['cpuRequest', 'cpuLimit'], memory: ['memRequest', 'memLimit'] } as const;
/** STEP: the rounding step at a post-processed value (the value is on the side of its threshold its step was chosen on). */
const STEP = {
  cpu: (m: number) => (m <= CPU_STEP_THRESHOLD ? CPU_STEP_SMALL : CPU_STEP_LARGE),
  memory: (b: number) => (b <= MEM_STEP_THRESHOLD ? MEM_STEP_SMALL : MEM_STEP_LARGE),
};
const MINIMUM = { cpu: DEFAULT_POLICY.minCpuMillicores, memory: DEFAULT_POLICY.minMemoryBytes };

/** atMinimum: some value of resource r sits at its documented minimum, so it may be a clamp. */
const atMinimum = (a: Answer, r: Resource) => KEYS[r].some((key) => a[key] <= MINIMUM[r]);

/**
 * expectEquivariant: `got` (resource r × k) is k × `base` within one rounding step of each; the other
 * resource and the confidence are unchanged: bit-identical for a power of two, else within one step
 * (and `confTol` for the confidence).
 */
function expectEquivariant(base: Answer, got: Answer, k: number, r: Resource, what: string, confTol: number): void {
  for (const key of KEYS[r]) {
    const d = got[key] - k * base[key];
    const noise = NOISE * Math.max(got[key], k * base[key]);
    const msg = `${what}: ${key} ${got[key]} vs k × ${base[key]} = ${k * base[key]} (k = ${k})`;
    expect(d, msg).toBeGreaterThanOrEqual(-k * STEP[r](base[key]) - noise);
    expect(d, msg).toBeLessThanOrEqual(STEP[r](got[key]) + noise);
  }
  const other: Resource = r === 'cpu' ? 'memory' : 'cpu';
  if (isPowerOfTwo(k)) {
    expect([...KEYS[other].map((key) => got[key]), got.confidence], `${what}: ${other} and confidence unchanged (k = ${k})`).toEqual([...KEYS[other].map((key) => base[key]), base.confidence]);
    return;
  }
  for (const key of KEYS[other]) expect(Math.abs(got[key] - base[key]), `${what}: ${other} ${key} unchanged (k = ${k})`).toBeLessThanOrEqual(STEP[other](base[key]));
  expect(Math.abs(got.confidence - base.confidence), `${what}: confidence unchanged (k = ${k})`).toBeLessThanOrEqual(confTol);
}

// ---- the models --------------------------------------------------------------------------------------

/** Subject: a contract-3 model in a temporary store: its manifest, bytes, and the folder of its Rust module. */
interface Subject {
  version: string;
  bytes: Uint8Array;
  manifestPath: string;
  rustDir: string;
  cleanup(): void;
}

function helperSubject(): Subject {
  const s = makeStore([HELPER_SEED]);
  const entry = s.entry(s.versions[0]!);
  return { version: entry.version, bytes: readFileSync(modelPath(s.manifestPath, entry)), manifestPath: s.manifestPath, rustDir: join(s.dir, 'models'), cleanup: s.cleanup };
}

/** shippedModel: the repo manifest's active container model, verified, or why it cannot be tested here. */
function shippedModel(): { entry: VersionEntry; bytes: Buffer; reason: '' } | { reason: string } {
  const manifestPath = join(REPO, 'manifest.json');
  if (!existsSync(manifestPath)) return { reason: `${manifestPath} is absent (the shipped store is made by npm run export)` };
  try {
    const f = family(readManifest(manifestPath));
    const entry = findVersion(f, f.active)!;
    const v = verifyVersion(manifestPath, entry);
    if (!v.ok) return { reason: `the active container-resources model ${entry.version} is refused: ${v.reason}` };
    const embedded = (JSON.parse(inspectOnnx(v.bytes, entry.file).metadata.contract ?? 'null') as { contractVersion?: string } | null)?.contractVersion;
    if (embedded !== CONTRACT_VERSION) return { reason: `the active container-resources model ${entry.version} (${entry.file}) is of contract ${String(embedded)}, not ${CONTRACT_VERSION}: ship a contract-${CONTRACT_VERSION} model (npm run train, npm run export)` };
    return { entry, bytes: v.bytes, reason: '' };
  } catch (e) {
    return { reason: `manifest.json cannot be read: ${(e as Error).message}` };
  }
}

/** shippedSubject copies the shipped model, same version and bytes, into a temporary store (so the repo store is only read). */
function shippedSubject(s: ReturnType<typeof shippedModel>): Subject {
  if (!('entry' in s)) throw new Error(`${s.reason}; CI must test the shipped model`);
  const embedded = JSON.parse(inspectOnnx(s.bytes).metadata.contract!) as { inputs: FieldSpec[]; outputs: FieldSpec[] };
  // Contract 3 must mean the numbers this code means: the same names and normalizations.
  const specs = (fs: readonly FieldSpec[]) => fs.map((f) => [f.name, f.normalization]);
  expect([specs(embedded.inputs), specs(embedded.outputs)]).toEqual([specs(INPUTS), specs(OUTPUTS)]);
  const dir = mkdtempSync(join(tmpdir(), 'crp-equivariance-'));
  const input = join(dir, 'shipped.onnx');
  writeFileSync(input, s.bytes);
  const manifestPath = join(dir, 'manifest.json');
  exportModel({ model: input, outputDir: join(dir, 'models'), manifestPath, family: containerResources, validation: s.entry.validation, version: s.entry.version });
  return { version: s.entry.version, bytes: s.bytes, manifestPath, rustDir: join(dir, 'models'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

// ---- the suite, for one model ------------------------------------------------------------------------

type Json = any;
const fromAgent = (b: Json): Answer => ({ cpuRequest: b.cpu.request.millicores, cpuLimit: b.cpu.limit.millicores, memRequest: b.memory.request.bytes, memLimit: b.memory.limit.bytes, confidence: b.confidence });
const fromRust = (out: Float32Array, row: number): Answer => {
  const [cpuRequest, cpuLimit, memRequest, memLimit, confidence] = out.subarray(row * 5, row * 5 + 5);
  return { cpuRequest: cpuRequest!, cpuLimit: cpuLimit!, memRequest: memRequest!, memLimit: memLimit!, confidence: confidence! };
};

/**
 * equivarianceSuite registers properties 1–4 for the model `open` returns; it gives the running agent.
 * `everyOutputInside`: each of the 4 resource outputs must be inside (0, 1) for some row (else the property
 * could hold only because an output sits at the end of its range); for a trained model, some output must.
 */
function equivarianceSuite(open: () => Subject, everyOutputInside: boolean): () => { agent: RunningAgent; subject: Subject } {
  let subject: Subject | undefined;
  let agent: RunningAgent | undefined;
  beforeAll(async () => {
    subject = open();
    agent = await startAgent({ ...AGENT_DEFAULTS, manifest: subject.manifestPath, family: ['container-resources'], port: 0 }, { logger: false, defaultMetrics: false });
  });
  afterAll(async () => {
    await agent?.close();
    subject?.cleanup();
  });

  const recommend = async (body: unknown): Promise<Answer> => {
    const r = await fetch(agent!.url + '/v1/recommend', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const b = (await r.json()) as Json;
    expect(r.status, JSON.stringify(b).slice(0, 300)).toBe(200);
    expect(b.modelVersion).toBe(subject!.version);
    return fromAgent(b);
  };

  for (const r of RESOURCES) {
    it(`agent over HTTP, raw 7-day windows: ${r} × k scales the ${r} answer by k within one rounding step, the rest unchanged`, async () => {
      await fc.assert(
        fc.asyncProperty(windowCase(r), async ({ k, base, scaled }) => {
          const [a, b] = [await recommend({ window: base }), await recommend({ window: scaled })];
          fc.pre(!atMinimum(a, r) && !atMinimum(b, r));
          expectEquivariant(a, b, k, r, 'window', 1e-4); // the agent writes the confidence to 4 decimals
        }),
        { numRuns: RUNS, seed: SEED },
      );
    });
  }

  it('agent over HTTP: the answer does not depend on workloadStartSec (absent, or any start up to a year before), nor on hour', async () => {
    // issue 19: callers rarely know a workload's start; contract 3 does not see workload_age or hour
    await fc.assert(
      fc.asyncProperty(windowCase('memory'), fc.integer({ min: 0, max: 365 * 86400 }), fc.integer({ min: 1, max: 23 }), async ({ base }, before, hours) => {
        const plain = await recommend({ window: base });
        expect(await recommend({ window: { ...base, workloadStartSec: base.timestampsSec[0]! - before } })).toEqual(plain);
        const f = computeFeatures(base);
        expect(await recommend({ features: { ...f, workload_age: f.workload_age + before / 3600, hour: (f.hour + hours) % 24 } })).toEqual(await recommend({ features: f }));
      }),
      { numRuns: 15, seed: SEED },
    );
  });

  for (const r of RESOURCES) {
    it(`agent over HTTP, the 12 features by name: ${r} percentiles × k scale the ${r} answer by k within one rounding step`, async () => {
      await fc.assert(
        fc.asyncProperty(featuresCase(r), async ({ k, base, scaled }) => {
          const [a, b] = [await recommend({ features: base }), await recommend({ features: scaled })];
          fc.pre(!atMinimum(a, r) && !atMinimum(b, r));
          expectEquivariant(a, b, k, r, 'features', 1e-4);
        }),
        { numRuns: RUNS, seed: SEED },
      );
    });
  }

  it('ONNX Runtime, before post-processing: each resource × k scales its outputs by k to 1e-5, the rest unchanged', async () => {
    const ort = await loadOnnx(subject!.bytes, subject!.version);
    const names = ['cpuRequestCores', 'cpuLimitCores', 'memRequestBytes', 'memLimitBytes'] as const;
    // the network's answers are inside its output range (then it is not equivariant only by a clamp)
    const inside = new Array<number>(4).fill(0);
    try {
      for (const r of RESOURCES) {
        await fc.assert(
          fc.asyncProperty(featuresCase(r), async ({ k, base, scaled }) => {
            const raw = [toVector(base), toVector(scaled)];
            const x = new Float32Array(24);
            raw.forEach((row, i) => normalizeFeatures(row, x, i * 12));
            const y = await ort.predict(x, 2);
            for (let j = 0; j < 4; j++) if (y[j]! > 0 && y[j]! < 1) inside[j]!++;
            const [a, b] = [denormalizeOutputs(y, 0, raw[0]!), denormalizeOutputs(y, 5, raw[1]!)];
            for (const n of names) {
              const f = n.startsWith(r === 'cpu' ? 'cpu' : 'mem') ? k : 1;
              expect(Math.abs(b[n] - f * a[n]), `${n}: ${b[n]} vs ${f} × ${a[n]}`).toBeLessThanOrEqual(NOISE * f * a[n]);
            }
            expect(Math.abs(b.confidence - a.confidence)).toBeLessThanOrEqual(NOISE);
          }),
          { numRuns: BATCH_RUNS, seed: SEED },
        );
      }
    } finally {
      await ort.release();
    }
    if (everyOutputInside) for (let j = 0; j < 4; j++) expect(inside[j], `output ${j} is inside (0, 1) for some rows`).toBeGreaterThan(0);
    else expect(Math.max(...inside), 'some output is inside (0, 1)').toBeGreaterThan(0);
  });

  it.skipIf(!!rustSkip)(`Rust recommend() (rustc): each resource × k scales its answer by k within one rounding step${rustSkip ? ` (skipped: ${rustSkip})` : ''}`, () => {
    const bin = buildHarness(subject!.rustDir);
    for (const r of RESOURCES) {
      const cases = fc.sample(featuresCase(r), { numRuns: BATCH_RUNS, seed: SEED });
      const raw = new Float32Array(cases.length * 24);
      cases.forEach((c, i) => {
        raw.set(toVector(c.base), i * 24);
        raw.set(toVector(c.scaled), i * 24 + 12);
      });
      const { out, verified } = runHarness(bin, raw, cases.length * 2, 'recommend');
      expect(verified).toBe(true);
      let checked = 0;
      cases.forEach((c, i) => {
        const [a, b] = [fromRust(out, 2 * i), fromRust(out, 2 * i + 1)];
        if (atMinimum(a, r) || atMinimum(b, r)) return;
        checked++;
        expectEquivariant(a, b, c.k, r, `rust row ${i}`, NOISE);
      });
      expect(checked, `${r}: rows above the minimums`).toBeGreaterThanOrEqual(cases.length / 2);
    }
  });

  return () => ({ agent: agent!, subject: subject! });
}

// ---- the tests ---------------------------------------------------------------------------------------

describe(`a random-weight contract-${CONTRACT_VERSION} model (test/helpers, seed ${HELPER_SEED})`, () => {
  const served = equivarianceSuite(helperSubject, true);

  it('the documented minimums: a tiny window is answered 10m and 32Mi, and the window / 8 is not answered less', async () => {
    // ~2m CPU and ~2Mi memory: these weights answer well below 10m and 32Mi for it, so the window and the
    // window / 8 both get exactly 10m and 32Mi, not 1/8 of them (1.25m, 4Mi).
    const rng = new Rng(11);
    const timestampsSec = Array.from({ length: N }, (_, i) => T0 + i * 300);
    const base = { timestampsSec, cpuCores: timestampsSec.map(() => 0.002 * rng.range(0.5, 1)), memoryBytes: timestampsSec.map(() => 2 * MiB * rng.range(0.8, 1)) };
    const small = { timestampsSec, cpuCores: base.cpuCores.map((c) => c / 8), memoryBytes: base.memoryBytes.map((m) => m / 8) };
    for (const window of [base, small]) {
      const r = await fetch(served().agent.url + '/v1/recommend', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ window }) });
      expect(r.status).toBe(200);
      expect(fromAgent(await r.json())).toMatchObject({ cpuRequest: 10, cpuLimit: 10, memRequest: 32 * MiB, memLimit: 32 * MiB });
    }
  });
});

const shipped = shippedModel();
const skipShipped = shipped.reason && !IN_CI ? shipped.reason : '';
describe.skipIf(!!skipShipped)(`the shipped active model${skipShipped ? ` (skipped: ${skipShipped})` : ''}`, () => {
  equivarianceSuite(() => shippedSubject(shipped), false);
});

describe('the contract-2 model v1.2.0 (test/fixtures) is not scale-equivariant: why contract 3 exists', () => {
  it('memory × 1/16 on a typical 7-day window does not give its memory limit × 1/16 within 10%, and moves its CPU answer', async () => {
    const bytes = readFileSync(join(REPO, 'test/fixtures/predictor_v1.2.0-contract2.onnx'));
    const c = JSON.parse(inspectOnnx(bytes).metadata.contract!) as { contractVersion: string; inputs: FieldSpec[]; outputs: FieldSpec[] };
    // Contract 2 normalizes absolute amounts on log scales: bytes 32Mi … 256Gi.
    expect(c.contractVersion).toBe('2');
    expect(c.inputs.map((f) => f.name)).toEqual([...FEATURE_NAMES]);
    expect(c.inputs[5]!.normalization).toEqual({ type: 'log', min: 32 * MiB, max: 256 * GiB });
    // ~0.3 cores with a daily cycle; memory ~6Gi with daily peaks near 8Gi; and the same with memory / 16.
    const rng = new Rng(7);
    const timestampsSec = Array.from({ length: N }, (_, i) => T0 + i * 300);
    const day = (i: number) => Math.sin((2 * Math.PI * i) / 288);
    const window = { timestampsSec, cpuCores: timestampsSec.map((_, i) => 0.3 + 0.15 * day(i) + 0.05 * rng.next()), memoryBytes: timestampsSec.map((_, i) => 6 * GiB + 1.8 * GiB * day(i) + 0.2 * GiB * rng.next()) };
    const rows = [window, { ...window, memoryBytes: window.memoryBytes.map((m) => m / 16) }].map((w) => toVector(computeFeatures(w)));
    // Both windows are inside the old contract's memory range: the difference is the model's, not a clamp.
    for (const row of rows) for (const i of [3, 4, 5]) expect(row[i]).toBeGreaterThan(32 * MiB);
    const ort = await loadOnnx(bytes, 'v1.2.0');
    const x = new Float32Array(24);
    rows.forEach((row, i) => normalizeRow(c.inputs, row, x, i * 12));
    const y = await ort.predict(x, 2);
    await ort.release();
    const [a, b] = [denormalizeRow(c.outputs, y, 0), denormalizeRow(c.outputs, y, 5)];
    // mem_limit (output 3) should become a/16; the old model answers far from it (measured: 13.0Gi → 1.11Gi,
    // where 1/16 is 0.81Gi: +37%; and CPU request 556m → 735m for the same CPU usage).
    expect(Math.abs(b[3]! / (a[3]! / 16) - 1), `limit ${(a[3]! / MiB).toFixed(0)}Mi → ${(b[3]! / MiB).toFixed(0)}Mi`).toBeGreaterThan(0.1);
    // and its CPU request moved by more than 10% though the CPU usage is the same
    expect(Math.abs(b[0]! / a[0]! - 1)).toBeGreaterThan(0.1);
  });
});
