/**
 * job_trees: size and latency of the shipped job-memory models (npm run bench:job-trees), tree ensembles
 * and the network alike, on their own hold-outs:
 *   bytes and nodes of the ONNX file; ONNX Runtime (basic optimization, 1 thread) one job per call (p50,
 *   p99 over 2,000 calls) and 1,000 jobs per call (per job); the TypeScript reference (forwardTrees) per
 *   job; the Rust module's predict() per job (plain rustc -O, 200,000 calls), when rustc is here.
 * Bounded: 2,000 single calls and 20 batch calls per model. Prints one markdown table.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { readManifest } from '../src/store/manifest.js';
import { loadOnnx } from '../src/onnx/runtime.js';
import { forwardTrees, isTreeOnnx, nodeCount, treesOfOnnx } from '../src/onnx/trees.js';
import { specOfModel } from '../src/families/job-memory/eval.js';
import { contractOf } from '../src/families/job-memory/spec.js';
import { encodeRows } from '../src/families/job-memory/training.js';
import { readJobTable } from '../src/families/job-memory/data.js';

const REPO = resolve(import.meta.dirname, '..');
const m = readManifest(join(REPO, 'manifest.json'));
const rows: string[] = ['| model | kind | ONNX bytes | trees / nodes | ORT 1 job p50 / p99 (µs) | ORT per job in 1,000 (µs) | TypeScript per job (µs) | Rust predict per job (µs) |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;
for (const [name, fam] of Object.entries(m.families).filter(([n]) => n.startsWith('job-memory/'))) {
  const entry = fam.versions.find((v) => v.version === fam.active)!;
  const file = join(REPO, entry.file);
  const bytes = readFileSync(file);
  const spec = specOfModel(file);
  const c = contractOf(spec);
  const W = c.inputs.length;
  const hold = readJobTable(join(REPO, String((entry.validation as { data?: string } | null)?.data ?? `models/job-memory/${name.slice(11)}/holdout.csv`)));
  const X = encodeRows(spec, c, hold, Array.from({ length: hold.n }, (_, i) => i));
  const sess = await loadOnnx(bytes, name);
  const single: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const r = i % hold.n;
    const t0 = performance.now();
    await sess.predict(X.subarray(r * W, (r + 1) * W), 1);
    single.push((performance.now() - t0) * 1000);
  }
  const n = Math.min(1000, hold.n);
  const xb = X.subarray(0, n * W);
  const t1 = performance.now();
  for (let k = 0; k < 20; k++) await sess.predict(xb, n);
  const batch = ((performance.now() - t1) * 1000) / (20 * n);
  await sess.release();
  const tree = isTreeOnnx(bytes);
  let ts = NaN;
  let rust = NaN;
  let size = '—';
  if (tree) {
    const e = treesOfOnnx(bytes, name);
    size = `${e.trees.length} / ${nodeCount(e)}`;
    const t2 = performance.now();
    for (let k = 0; k < 5; k++) forwardTrees(e, xb, n);
    ts = ((performance.now() - t2) * 1000) / (5 * n);
  }
  const rs = join(REPO, 'models', `${basename(entry.file).replace(/_v[\d.]+\.onnx$/, '')}.rs`);
  try {
    const dir = mkdtempSync(join(tmpdir(), 'bench-job-'));
    try {
      writeFileSync(join(dir, 'embedded_model.rs'), readFileSync(rs, 'utf8').replace(/include_bytes!\("[^"]*"\)/, `include_bytes!(${JSON.stringify(file)})`));
      writeFileSync(join(dir, 'main.rs'), `mod embedded_model;\nfn main() {\n    let rows: Vec<[f32; embedded_model::N_INPUTS]> = vec![${Array.from({ length: 50 }, (_, r) => `[${Array.from(X.subarray(r * W, (r + 1) * W), (v) => `${v}_f32`).join(', ')}]`).join(', ')}];\n    let mut acc = 0.0_f32;\n    let t = std::time::Instant::now();\n    for i in 0..200000 { acc += std::hint::black_box(embedded_model::predict(std::hint::black_box(&rows[i % rows.len()])))[1]; }\n    println!("{} {}", t.elapsed().as_nanos() as f64 / 200000.0, acc);\n}\n`);
      execFileSync('rustc', ['-O', '--edition', '2021', '-o', join(dir, 'main'), join(dir, 'main.rs')], { cwd: dir, stdio: 'pipe' });
      rust = Number(execFileSync(join(dir, 'main'), { encoding: 'utf8' }).split(' ')[0]) / 1000;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } catch (e) {
    process.stderr.write(`${name}: no Rust timing (${(e as Error).message.split('\n')[0]})\n`);
  }
  const kind = spec.model?.kind ?? 'network';
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(v < 10 ? 2 : 1) : '—');
  rows.push(`| ${name} ${fam.active} | ${kind} | ${bytes.length.toLocaleString('en-US')} | ${size} | ${f(pct(single, 0.5))} / ${f(pct(single, 0.99))} | ${f(batch)} | ${f(ts)} | ${f(rust)} |`);
}
console.log(rows.join('\n'));
