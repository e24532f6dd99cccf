/**
 * job-trees: the tree-ensemble model kind of job-memory. First the maths with numbers written out (a
 * split's gain, binning thresholds, the folds), then a tree model of a made-up tool (test/helpers/
 * job-tool.ts) trained by `train`'s own code with a short selection: the ONNX-ML graph passes Debian's
 * onnx checker, ONNX Runtime ↔ TypeScript ↔ Rust give the same outputs, the agent serves it from the
 * manifest alone and the Rust module's recommend() gives the agent's bytes; and the refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { need, REPO } from './helpers/env.js';
import { rustcAvailable } from './helpers/rust.js';
import { toolCsv } from './helpers/job-tool.js';
import { binFeatures, growTree } from '../src/families/job-memory/trees/grow.js';
import { cvFolds, stoppingRows } from '../src/families/job-memory/trees/folds.js';
import { fitBoost } from '../src/families/job-memory/trees/boost.js';
import { buildTreeOnnx, forwardTrees, isTreeOnnx, treesOfOnnx, ML_DOMAIN } from '../src/onnx/trees.js';
import type { TreeEnsemble } from '../src/onnx/trees.js';
import { inspectOnnx } from '../src/onnx/inspect.js';
import { loadOnnx } from '../src/onnx/runtime.js';
import { Rng } from '../src/util/rng.js';
import { getFamily } from '../src/families/registry.js';
import { jobMemory } from '../src/families/job-memory/index.js';
import { runJobModel, specOfModel } from '../src/families/job-memory/eval.js';
import { readJobTable, rawRow } from '../src/families/job-memory/data.js';
import { contractOf } from '../src/families/job-memory/spec.js';
import { encodeRows } from '../src/families/job-memory/training.js';
import { allocate } from '../src/families/job-memory/serving.js';
import { exportModel } from '../src/export/publish.js';
import { createAgent } from '../resource-agent/app.js';
import { AGENT_DEFAULTS } from '../resource-agent/options.js';

describe('trees: the maths (pure)', () => {
  it('a split gains the squared-error reduction: y = [1, 1, 5, 5] splits 2 | 2 with gain 16', () => {
    // one input, values 0.1, 0.2, 0.7, 0.8 → 4 bins, thresholds at the midpoints 0.15, 0.45, 0.75
    const X = Float32Array.from([0.1, 0.2, 0.7, 0.8]);
    const B = binFeatures(X, 4, 1, [0, 1, 2, 3]);
    expect(Array.from(B.upper[0]!)).toEqual([Math.fround(0.15), Math.fround(0.45), Math.fround(0.75)]);
    // g = −y, h = 1, λ = 0: gain = 2²/2 + 10²/2 − 12²/4 = 16
    const t = growTree(B, Uint32Array.from([0, 1, 2, 3]), [-1, -1, -5, -5], [1, 1, 1, 1], { maxLeaves: 2, maxDepth: 8, minLeaf: 1, lambda: 0, featureFraction: 1, rng: new Rng(1) });
    expect([t.feature[0], t.threshold[0]]).toEqual([0, Math.fround(0.45)]);
    expect([Array.from(t.rows[t.left[0]!]!), Array.from(t.rows[t.right[0]!]!)]).toEqual([[0, 1], [2, 3]]);
  });

  it('one-hot inputs are binned to 2 bins and their ones listed per row', () => {
    // rows (one-hot, size): (0, 0), (1, 0.5), (1, 0.25) → the one-hot has 2 bins, rows 1 and 2 have it set
    const B = binFeatures(Float32Array.from([0, 0, 1, 0.5, 1, 0.25]), 3, 2, [0, 1, 2]);
    expect(Array.from(B.bins)).toEqual([2, 3]);
    expect([Array.from(B.rowPtr), Array.from(B.rowOnes)]).toEqual([[0, 0, 1, 2], [0, 0]]);
  });

  it('pinball boosting with quantile renewal reaches the 0.9 quantile of a constant target', () => {
    // 100 rows, y = 0 … 0.99, one useless input: F₀ is the 0.9 quantile (0.90), and trees cannot move it
    const n = 100;
    const B = binFeatures(new Float32Array(n), n, 1, Array.from({ length: n }, (_, i) => i));
    const y = Float64Array.from({ length: n }, (_, i) => i / 100);
    const all = Uint32Array.from({ length: n }, (_, i) => i);
    const r = fitBoost(B, y, all, new Uint32Array(0), { kind: 'quantile', q: 0.9 }, { trees: 5, learningRate: 0.5, maxLeaves: 4, maxDepth: 4, minLeaf: 5, lambda: 1, rowFraction: 1, featureFraction: 1, patience: 5, seed: 1 }, 0);
    expect(r.base).toBeCloseTo(0.9, 10);
  });

  it('folds: forward chaining never scores a job before its training rows; k-fold scores each row once', () => {
    // 12 time-ordered rows, k = 5 → 6 blocks of 2: fold 0 fits 0–1 and scores 2–3, … fold 4 fits 0–9, scores 10–11
    const f = cvFolds(12, 5, true, 1);
    expect(f.map((x) => [Array.from(x.fit).at(-1), Array.from(x.score)])).toEqual([[1, [2, 3]], [3, [4, 5]], [5, [6, 7]], [7, [8, 9]], [9, [10, 11]]]);
    const k = cvFolds(10, 5, false, 1);
    expect(k.flatMap((x) => Array.from(x.score)).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const x of k) expect(Array.from(x.fit).some((r) => Array.from(x.score).includes(r))).toBe(false);
    // the early-stopping rows of chronological data are the latest 10%
    expect(Array.from(stoppingRows(Uint32Array.from({ length: 20 }, (_, i) => i), true, 1).stop)).toEqual([18, 19]);
  });
});

const dir = mkdtempSync(join(tmpdir(), 'job-trees-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const out = join(dir, 'model');
let model = '';
let ensemble: TreeEnsemble;

/** trainTool runs `npm run train -- --family job-memory`'s own code on the made-up tool. */
async function trainTool(args: string[]): Promise<void> {
  await getFamily('job-memory').training.cli!(['--family', 'job-memory', '--data', join(dir, 'toolx.csv'), ...args]);
}

beforeAll(async () => {
  toolCsv(join(dir, 'toolx.csv'), 500, 3);
  await trainTool(['--output', out, '--folds', '3', '--budget', '5', '--kind', 'gbdt']);
  model = join(out, 'job-memory-toolx.onnx');
  ensemble = treesOfOnnx(readFileSync(model));
}, 120_000);

describe('a tree model through ONNX Runtime, TypeScript, Rust and the agent', () => {
  it('train chose by cross-validation and wrote the tree model, its report and the hold-out', () => {
    const r = JSON.parse(readFileSync(join(out, 'training_report.json'), 'utf8'));
    expect(r.kind).toBe('gbdt');
    expect(r.selection.foldKind).toBe('k-fold');
    expect(r.selection.scores.length).toBeGreaterThanOrEqual(1);
    expect(r.onnxVsTypeScriptMaxAbs).toBeLessThan(1e-5);
    const spec = specOfModel(model);
    expect([spec.model?.kind, spec.hidden, spec.task.type]).toEqual(['gbdt', [], 'regression']);
    expect(isTreeOnnx(readFileSync(model))).toBe(true);
    expect(inspectOnnx(readFileSync(model)).opTypes).toContain('TreeEnsembleRegressor');
  });

  const skipOnnx = need('onnx');
  it.skipIf(!!skipOnnx)(`the ONNX-ML graph passes onnx.checker (full check)${skipOnnx ? ` (skipped: ${skipOnnx})` : ''}`, () => {
    const o = execFileSync('/usr/bin/python3', ['-c', `import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); print([(o.domain, o.version) for o in m.opset_import])`, model]).toString().trim();
    expect(o).toBe(`[('', 13), ('${ML_DOMAIN}', 3)]`);
  });

  it('ONNX Runtime = TypeScript on the hold-out (|Δ| ≤ 1e-6), and the file reads back to the same trees', async () => {
    const spec = specOfModel(model);
    const t = readJobTable(join(out, 'holdout.csv'));
    const X = encodeRows(spec, contractOf(spec), t, Array.from({ length: t.n }, (_, i) => i));
    const sess = await loadOnnx(readFileSync(model), 'tree');
    const ort = await sess.predict(X, t.n);
    await sess.release();
    const ts = forwardTrees(ensemble, X, t.n);
    expect(ort.length).toBe(t.n * 3);
    for (let i = 0; i < ts.length; i++) expect(Math.abs(ort[i]! - ts[i]!)).toBeLessThanOrEqual(1e-6);
    // rebuilding from what was read gives the same bytes
    expect(Buffer.from(buildTreeOnnx(contractOf(spec), ensemble, inspectOnnx(readFileSync(model)).metadata)).equals(readFileSync(model))).toBe(true);
  });

  it('exported, served from the manifest alone, and the Rust module (trees as consts) agrees with ONNX Runtime and the agent', async () => {
    const store = join(dir, 'store');
    const manifestPath = join(store, 'manifest.json');
    const rs = join(dir, 'rust/embedded_model.rs');
    mkdirSync(join(dir, 'rust'), { recursive: true });
    const family = jobMemory.ofModel!(model);
    exportModel({ model, outputDir: join(store, 'models'), manifestPath, family, validation: null, rustPath: rs });
    const a = await createAgent({ ...AGENT_DEFAULTS, manifest: manifestPath }, { logger: false, defaultMetrics: false });
    await a.stores.start();
    try {
      expect((await a.app.inject('/readyz')).statusCode).toBe(200);
      const t = readJobTable(join(out, 'holdout.csv'));
      const spec = specOfModel(model);
      const rows = [0, 1, 2, 3, 4];
      const want = await runJobModel(model, spec, t, rows);
      const bounds = family.serving.defaultBounds;
      const res = await a.app.inject({ method: 'POST', url: '/v1/jobs/toolx/recommend/batch', payload: { items: rows.map((i) => ({ attributes: rawRow(t, i) })) } });
      expect(res.statusCode).toBe(200);
      const agentBytes = res.json().items.map((x: { memory: { requestBytes: number } }) => x.memory.requestBytes);
      expect(agentBytes).toEqual(rows.map((_, k) => allocate(want.allocation[k]!, bounds)));
      if (!rustcAvailable()) return;
      const rsText = readFileSync(rs, 'utf8');
      expect(rsText).toMatch(/const NODE_THRESHOLD: \[f32; \d+\]/);
      const X = encodeRows(spec, contractOf(spec), t, t.n > 60 ? Array.from({ length: 60 }, (_, i) => i) : Array.from({ length: t.n }, (_, i) => i));
      const n = X.length / contractOf(spec).inputs.length;
      const lit = (o: Record<string, unknown>) => `&[${Object.entries(o).map(([k, v]) => `(${JSON.stringify(k)}, ${typeof v === 'number' ? `Value::Num(${Number.isInteger(v) ? `${v}.0` : v})` : `Value::Str(${JSON.stringify(v)})`})`).join(', ')}]`;
      writeFileSync(join(dir, 'rust/main.rs'), `mod embedded_model;
use embedded_model::*;
use std::io::Read;
fn main() {
    assert!(verify_model());
${rows.map((i) => `    println!("alloc {}", recommend(${lit(rawRow(t, i))}).unwrap().memory_bytes);`).join('\n')}
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    for line in input.lines().filter(|l| !l.trim().is_empty()) {
        let v: Vec<f32> = line.split_whitespace().map(|s| s.parse().unwrap()).collect();
        let mut x = [0.0_f32; N_INPUTS];
        x.copy_from_slice(&v);
        let y = predict(&x);
        println!("{:e} {:e} {:e}", y[0], y[1], y[2]);
    }
}
`);
      execFileSync('rustc', ['-O', '--edition', '2021', '-o', join(dir, 'rust/main'), join(dir, 'rust/main.rs')], { cwd: join(dir, 'rust'), stdio: 'pipe' });
      const W = contractOf(spec).inputs.length;
      const stdin = Array.from({ length: n }, (_, r) => Array.from(X.subarray(r * W, (r + 1) * W), (v) => v.toPrecision(9)).join(' ')).join('\n');
      const lines = execFileSync(join(dir, 'rust/main'), { input: stdin, encoding: 'utf8' }).trim().split('\n');
      expect(lines.slice(0, rows.length).map((l) => Number(l.split(' ')[1]))).toEqual(agentBytes);
      const rust = lines.slice(rows.length).flatMap((l) => l.split(' ').map(Number));
      const sess = await loadOnnx(readFileSync(model), 'tree');
      const ort = await sess.predict(X, n);
      await sess.release();
      expect(rust.length).toBe(ort.length);
      for (let i = 0; i < ort.length; i++) expect(Math.abs(rust[i]! - ort[i]!)).toBeLessThanOrEqual(1e-5);
    } finally {
      await a.app.close();
      await a.stores.close();
    }
  }, 120_000);
});

describe('search: the same folds as train, trials numbered from 1', () => {
  it('two tree trials: log, summary and stderr say trial 1 and 2; train --strategy refits the searched strategy', async () => {
    const summary = join(dir, 'search/toolx.json');
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => (lines.push(String(chunk)), true)) as typeof process.stderr.write;
    try {
      await getFamily('job-memory').training.search!(['--family', 'job-memory', '--data', join(dir, 'toolx.csv'), '--trials', '2', '--output', summary, '--max-under', '3']);
    } finally {
      process.stderr.write = write;
    }
    const log = readFileSync(`${summary}.trials.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log[0]).toMatchObject({ kind: 'trees', trialsFrom: 1 });
    expect(log.slice(1).map((t) => t.trial)).toEqual([1, 2]);
    expect(lines.filter((l) => l.startsWith('search: trial ')).map((l) => /^search: trial (\d+)\/2 /.exec(l)?.[1])).toEqual(['1', '2']);
    const s = JSON.parse(readFileSync(summary, 'utf8'));
    expect([1, 2]).toContain(s.best.trial);
    expect(s.ranking).toMatch(/^business score on out-of-fold predictions of train's 5-fold cross-validation/);
    // train --strategy: the searched kind, settings and safety, fitted with the seed it was scored with
    await trainTool(['--output', join(dir, 'from-search'), '--strategy', summary]);
    const spec = specOfModel(join(dir, 'from-search/job-memory-toolx.onnx'));
    expect(spec.model).toEqual(s.best.strategy.model);
    expect(spec.task).toEqual(s.best.strategy.task);
  }, 120_000);
});

describe('the time budget', () => {
  it('a budget spent after the first candidate: it alone is scored, the other 7 are named as skipped', async () => {
    await trainTool(['--output', join(dir, 'budget'), '--folds', '2', '--budget', '0.001']);
    const r = JSON.parse(readFileSync(join(dir, 'budget/training_report.json'), 'utf8'));
    expect(r.selection.scores.map((x: { model: string }) => x.model)).toEqual(['gbdt (≤ 300 trees, 15 leaves, lr 0.08) q0.9']);
    expect(r.selection.skipped).toHaveLength(7);
    expect(r.model).toBe('gbdt (≤ 300 trees, 15 leaves, lr 0.08) q0.9');
  }, 60_000);
});

describe('the CLI papercuts of issue 20', () => {
  it('validate --family job-memory/<a tool no code names> validates its model and refuses another\'s', async () => {
    const log = console.log;
    console.log = () => {};
    try {
      await getFamily('job-memory/toolx').evaluation.validate!(['--family', 'job-memory/toolx', '--model', model, '--report', join(dir, 'report')]);
      expect(JSON.parse(readFileSync(join(dir, 'report/report.json'), 'utf8'))).toMatchObject({ family: 'job-memory/toolx', gate: { passed: true } });
      await expect(getFamily('job-memory/tooly').evaluation.validate!(['--family', 'job-memory/tooly', '--model', model, '--report', join(dir, 'report')])).rejects.toThrow(/is a model of job-memory\/toolx, not of --family job-memory\/tooly/);
    } finally {
      console.log = log;
    }
  }, 60_000);

  it('train --family job-memory --help shows job-memory\'s own flags, not the container network\'s', () => {
    const help = execFileSync(process.execPath, ['--import', 'tsx', join(REPO, 'train.ts'), '--family', 'job-memory', '--help'], { cwd: REPO, encoding: 'utf8' });
    expect(help).toMatch(/--kind/);
    expect(help).toMatch(/--budget/);
    expect(help).not.toMatch(/--calibration-data|--quantization/);
  }, 60_000);
});

describe('refusals', () => {
  it('BAD CALL - train refuses --kind with --strategy, a bad --folds, and a tree strategy of the classification task', async () => {
    writeFileSync(join(dir, 'cls.json'), JSON.stringify({ hidden: [], learningRate: 0.1, batchSize: 1, epochs: 1, patience: 1, seed: 1, model: { kind: 'gbdt', trees: 5, learningRate: 0.1, maxLeaves: 4, minLeaf: 5, featureFraction: 1 }, task: { type: 'classification', binning: 'quantile', bins: 8, threshold: 0.1 } }));
    await expect(trainTool(['--output', join(dir, 'x'), '--strategy', join(dir, 'cls.json'), '--kind', 'gbdt'])).rejects.toThrow(/--kind chooses what the selection tries; with --strategy the strategy names the kind/);
    await expect(trainTool(['--output', join(dir, 'x'), '--folds', '1'])).rejects.toThrow(/^--folds must be a whole number in 2\.\.20, got 1$/);
    await expect(trainTool(['--output', join(dir, 'x'), '--strategy', join(dir, 'cls.json')])).rejects.toThrow(/a tree model does regression only \(task classification\)/);
  });
});
