/**
 * job-memory: the second model family. Checks the pure parts with numbers written out (encoding with
 * the <other> fallback, both decisions, the business score, the search's seeded strategies), then, on
 * the real Galaxy bowtie2 jobs (../shared/data), a short training through the family seam: the hold-out
 * beside the model, the preprocessing embedded in the ONNX and recorded in the manifest, the agent
 * answering raw attributes at /v1/jobs/bowtie2/recommend with the TypeScript decision's bytes, clear
 * 400s, the Rust module agreeing with the agent, and scikit-learn's reference (python3-sklearn).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { need, REPO, SHARED_DATA } from './helpers/env.js';
import { rustcAvailable } from './helpers/rust.js';
import { decide, encodeRaw, contractOf, binEdges, OTHER } from '../src/families/job-memory/spec.js';
import type { JobSpec } from '../src/families/job-memory/spec.js';
import { jobMetrics, bestFactor } from '../src/families/job-memory/metrics.js';
import { strategyOf } from '../src/families/job-memory/search.js';
import { readJobTable, splitJobs, rawRow } from '../src/families/job-memory/data.js';
import { jobFamily, jobMemory } from '../src/families/job-memory/index.js';
import { runJobModel, specOfModel, validateJobModel } from '../src/families/job-memory/eval.js';
import { allocate } from '../src/families/job-memory/serving.js';
import { roundMemoryBytes } from '../src/core/rounding.js';
import { runTraining, TRAIN_DEFAULTS } from '../src/model/pipeline.js';
import { exportModel } from '../src/export/publish.js';
import { readManifest, canonicalJson } from '../src/store/manifest.js';
import { createAgent } from '../resource-agent/app.js';
import { AGENT_DEFAULTS } from '../resource-agent/options.js';

const GiB = 2 ** 30;
const SPEC: JobSpec = {
  schemaVersion: 1, family: 'job-memory/test', format: 'galaxy',
  attributes: [
    { name: 'size', kind: 'number', max: 99, values: [0] },
    { name: 'ext', kind: 'category', vocab: ['fastq', 'fasta'] },
    { name: 'targets', kind: 'list', separator: ',', vocab: ['all'] },
  ],
  memory: { min: 2 ** 20, max: 2 ** 40 },
  task: { type: 'regression', objective: 'quantile', quantile: 0.9, safety: 1.25 },
  hidden: [4],
  training: { rows: 10, maxPeak: 8 * GiB, meanPeak: 2 * GiB, split: 'random', splitSeed: 1 },
};

describe('job-memory: encoding, decisions and scores (pure)', () => {
  it('encodes raw attributes: numbers + 1 with their frequent values, one-hots with <other> last', () => {
    const c = contractOf(SPEC);
    expect(c.inputs.map((f) => f.name)).toEqual(['size', 'size=0', `size=${OTHER}`, 'ext=fastq', 'ext=fasta', `ext=${OTHER}`, 'targets=all', `targets=${OTHER}`]);
    const out = new Float64Array(8);
    expect(encodeRaw(SPEC, { size: 0, ext: 'fasta', targets: ['all'] }, out)).toEqual([]);
    expect(Array.from(out)).toEqual([1, 1, 0, 0, 1, 0, 1, 0]);
    // an unseen extension and an unseen target fall back to <other>, and are named
    expect(encodeRaw(SPEC, { size: 41, ext: 'bam', targets: 'all,dist' }, out)).toEqual(['ext', 'targets']);
    expect(Array.from(out)).toEqual([42, 0, 1, 0, 0, 1, 1, 1]);
  });

  it('refuses a missing attribute, an unknown one and a bad number, naming them', () => {
    const out = new Float64Array(8);
    expect(() => encodeRaw(SPEC, { size: 1, ext: 'fasta' }, out)).toThrow(/^targets: is missing/);
    expect(() => encodeRaw(SPEC, { size: 1, ext: 'fasta', targets: [], colour: 'red' }, out)).toThrow(/^colour: is not an attribute of job-memory\/test/);
    expect(() => encodeRaw(SPEC, { size: -1, ext: 'fasta', targets: [] }, out)).toThrow(/^size: is -1; give a number ≥ 0/);
  });

  it('decides: regression = quantile × safety; classification = lowest bin whose monotone exceedance ≤ threshold', () => {
    // mem_quantile on the log scale 2^20 … 2^40: n = 0.55 → 2^(20 + 0.55 · 20) = 2^31 = 2 GiB; × 1.25 = 2.5 GiB
    const r = decide(SPEC, [0.5, 0.55, 0.9]);
    expect(r.allocationBytes).toBeCloseTo(2.5 * GiB, -3);
    expect(r.pointBytes).toBeCloseTo(2 ** 30, -3);
    expect(r.confidence).toBeCloseTo(0.9);
    const cls: JobSpec = { ...SPEC, task: { type: 'classification', binning: 'quantile', edges: [1 * GiB, 2 * GiB, 4 * GiB, 8 * GiB], threshold: 0.1 } };
    // P(> 1G) 0.6, P(> 2G) 0.05 but P(> 4G) 0.2: made monotone from the top → 0.6, 0.2, 0.2 → none ≤ 0.1 → the top bin
    expect(decide(cls, [0.5, 0.6, 0.05, 0.2])).toMatchObject({ allocationBytes: 8 * GiB, confidence: 1 });
    // P(> 1G) 0.6, P(> 2G) 0.08, P(> 4G) 0.01 → 2 GiB with confidence 0.92
    const d = decide(cls, [0.5, 0.6, 0.08, 0.01]);
    expect(d.allocationBytes).toBe(2 * GiB);
    expect(d.confidence).toBeCloseTo(0.92);
    expect(binEdges([1, 2, 3, 4, 5, 6, 7, 8], 'quantile', 4)).toEqual([2, 4, 6, 8]);
  });

  it('scores: peaks [10, 10], allocations [8, 15] → under 50 %, over 25 %, business 275', () => {
    const m = jobMetrics([10, 10], [8, 15], [10, 12]);
    expect(m).toMatchObject({ underPct: 50, overPct: 25, businessScore: 275, maeBytes: 1 });
    expect(m.r2).toBe(-Infinity); // the peaks do not vary
    // factors 1, 2 on base [8, 8]: ×1 is short twice (500), ×2 wastes 12/20 = 60 %
    expect(bestFactor([10, 10], [8, 8], [1, 2]).factor).toBe(2);
    expect(allocate(2_886_856_704, { minCpuMillicores: 0, minMemoryBytes: 32 * 2 ** 20, maxCpuMillicores: null, maxMemoryBytes: null })).toBe(2_952_790_016);
    expect(roundMemoryBytes(1000)).toBe(2 ** 20);
  });

  it("search strategies depend only on (seed, trial)", () => {
    expect(strategyOf(1, 5)).toEqual(strategyOf(1, 5));
    expect(strategyOf(1, 5)).not.toEqual(strategyOf(2, 5));
  });
});

const skipData = need('shared-data');
const BOWTIE2 = join(SHARED_DATA, 'galaxy/bowtie2.csv');

describe.skipIf(!!skipData)(`job-memory on real jobs${skipData ? ` (skipped: ${skipData})` : ''}`, () => {
  it('splits build jobs chronologically (last 20% held out) and Galaxy jobs by a seeded shuffle', () => {
    const b = readJobTable(join(SHARED_DATA, 'build-jobs/build-jobs.csv'));
    const s = splitJobs(b);
    expect([b.n, s.train.length, s.holdout.length, s.kind]).toEqual([4598, 3678, 920, 'chronological']);
    expect(Math.max(...s.train.map((i) => b.time![i]!))).toBeLessThanOrEqual(Math.min(...s.holdout.map((i) => b.time![i]!)));
    const g = splitJobs(readJobTable(BOWTIE2));
    expect([g.kind, g.train.length, g.holdout.length]).toEqual(['random', 3170, 793]);
    expect(splitJobs(readJobTable(BOWTIE2)).holdout).toEqual(g.holdout);
  });

  const dir = mkdtempSync(join(tmpdir(), 'job-memory-'));
  const out = join(dir, 'model');
  let modelFile = '';
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeAll(async () => {
    // A short training of bowtie2 through the seam, as npm run train -- --family job-memory does.
    const p = jobMemory.prepare!({ data: [{ path: BOWTIE2, weight: 1 }], strategy: null, output: out });
    await runTraining(p.family, { ...TRAIN_DEFAULTS, data: [{ path: BOWTIE2, weight: 1 }], output: out, epochs: 15, patience: 15, batchSize: 128, learningRate: 0.003, seed: 1, hyper: {}, log: () => {} });
    modelFile = join(out, `${p.family.fileStem}.onnx`);
  }, 120_000);

  it('trains: the hold-out is beside the model and the preprocessing is in the ONNX metadata', async () => {
    expect(readFileSync(join(out, 'holdout.csv'), 'utf8').trim().split('\n').length).toBe(794);
    const spec = specOfModel(modelFile);
    expect(spec.family).toBe('job-memory/bowtie2');
    expect(canonicalJson(spec)).toBe(canonicalJson(JSON.parse(readFileSync(join(out, 'preprocessing.json'), 'utf8')).spec));
    const v = await validateJobModel({ model: modelFile });
    expect(v.jobs).toBe(793);
    expect(v.systems.model!.r2).toBeGreaterThan(0.3);
    expect(v.gate.passed).toBe(true); // better than giving every job the training maximum
  }, 60_000);

  it('exports into a store (manifest records the preprocessing), serves raw attributes, refuses bad ones; Rust agrees', async () => {
    const family = jobMemory.ofModel!(modelFile);
    const manifestPath = join(dir, 'store/manifest.json');
    const r = exportModel({ model: modelFile, outputDir: join(dir, 'store/models'), manifestPath, family, validation: null, rustPath: join(dir, 'rust/embedded_model.rs') });
    const entry = readManifest(manifestPath).families['job-memory/bowtie2']!.versions[0]!;
    expect((entry.contract.features as { jobSpec: JobSpec }).jobSpec.attributes.map((a) => a.name)).toContain('dbkey');
    const spec = specOfModel(modelFile);
    const served = jobFamily(spec);
    writeFileSync(join(dir, 'token'), 'job-token');
    const agent = await createAgent({ ...AGENT_DEFAULTS, manifest: manifestPath, adminTokenFile: join(dir, 'token') }, { logger: false, defaultMetrics: false, families: [served] });
    await agent.stores.start();
    try {
      const t = readJobTable(join(out, 'holdout.csv'));
      const expected = await runJobModel(modelFile, spec, t, [0, 1]);
      const res = await agent.app.inject({ method: 'POST', url: '/v1/jobs/bowtie2/recommend', payload: { id: 'job-1', attributes: rawRow(t, 0) } });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      const bytes = allocate(expected.allocation[0]!, served.serving.defaultBounds);
      expect(body).toMatchObject({ modelVersion: r.version, id: 'job-1', memory: { requestBytes: bytes, limitBytes: bytes }, unseen: [] });
      const batch = await agent.app.inject({ method: 'POST', url: '/v1/jobs/bowtie2/recommend/batch', payload: { items: [{ attributes: rawRow(t, 0) }, { attributes: { ...rawRow(t, 1), dbkey: 'never-seen' } }] } });
      expect(batch.json().items[1].unseen).toEqual(['dbkey']);
      const bad = await agent.app.inject({ method: 'POST', url: '/v1/jobs/bowtie2/recommend', payload: { attributes: { ...rawRow(t, 0), colour: 'red' } } });
      expect([bad.statusCode, bad.json().error.field]).toEqual([400, 'attributes.colour']);
      const { own_file: _dropped, ...missing } = rawRow(t, 0);
      const miss = await agent.app.inject({ method: 'POST', url: '/v1/jobs/bowtie2/recommend', payload: { attributes: missing } });
      expect([miss.statusCode, miss.json().error.field]).toEqual([400, 'attributes.own_file']);

      if (rustcAvailable()) {
        // The Rust module's recommend() on the same two jobs gives the agent's bytes.
        const rows = [0, 1].map((i) => rawRow(t, i));
        const lit = (o: Record<string, unknown>) => `&[${Object.entries(o).map(([k, v]) => `(${JSON.stringify(k)}, ${typeof v === 'number' ? `Value::Num(${Number.isInteger(v) ? `${v}.0` : v})` : Array.isArray(v) ? `Value::List(&[${v.map((x) => JSON.stringify(x)).join(', ')}])` : `Value::Str(${JSON.stringify(v)})`})`).join(', ')}]`;
        writeFileSync(join(dir, 'rust/main.rs'), `mod embedded_model;\nuse embedded_model::*;\nfn main() {\n    assert!(verify_model());\n${rows.map((o) => `    println!("{}", recommend(${lit(o)}).unwrap().memory_bytes);`).join('\n')}\n    println!("{}", recommend(&[("own_file", Value::Num(1.0))]).unwrap_err());\n}\n`);
        execFileSync('rustc', ['-O', '--edition', '2021', '-o', join(dir, 'rust/main'), join(dir, 'rust/main.rs')], { cwd: join(dir, 'rust'), stdio: 'pipe' });
        const lines = execFileSync(join(dir, 'rust/main'), { encoding: 'utf8' }).trim().split('\n');
        const agentBytes = [bytes, allocate(expected.allocation[1]!, served.serving.defaultBounds)];
        expect(lines.slice(0, 2).map(Number)).toEqual(agentBytes);
        expect(lines[2]).toMatch(/is missing/);
      }
    } finally {
      await agent.app.close();
      await agent.stores.close();
    }
  }, 120_000);

  const skipSk = need('sklearn');
  it.skipIf(!!skipSk)(`the scikit-learn reference runs on the same split${skipSk ? ` (skipped: ${skipSk})` : ''}`, async () => {
    const ref = join(dir, 'reference.json');
    execFileSync('/usr/bin/python3', [join(REPO, 'bench/job_memory_reference.py'), '--model-dir', out, '--output', ref], { stdio: 'pipe' });
    const v = await validateJobModel({ model: modelFile, reference: ref });
    expect(v.systems['random-forest x 1.3']!.r2).toBeGreaterThan(0.9);
  }, 120_000);
});

describe('job-memory: the shipped models', () => {
  it('each job-memory entry of manifest.json carries its preprocessing in its model file, which the agent serves', () => {
    const m = readManifest(join(REPO, 'manifest.json'));
    const jobs = Object.entries(m.families).filter(([name]) => name.startsWith('job-memory/'));
    expect(jobs.length).toBeGreaterThan(0);
    for (const [name, fam] of jobs) {
      const active = fam.versions.find((v) => v.version === fam.active)!;
      const f = jobMemory.ofModel!(join(REPO, active.file));
      expect(f.name).toBe(name);
      expect(canonicalJson((active.contract.features as { jobSpec: unknown }).jobSpec)).toBe(canonicalJson((f.contract.descriptor() as { jobSpec: unknown }).jobSpec));
      expect(f.contract.checkModel!(readFileSync(join(REPO, active.file)), active.file)).toBeNull();
    }
  });
});
