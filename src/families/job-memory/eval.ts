/**
 * eval: how a job-memory model is judged: the model's allocations on held-out jobs (the 20% hold-out
 * that train saved beside it, holdout.csv, unless --data) side by side with
 *   as requested       the job's own request (build jobs' memreq)
 *   fixed (train max)  every job gets the training split's largest peak
 *   reference models   from bench/job_memory_reference.py (scikit-learn, --reference FILE; never a
 *                      dependency of the product): RandomForest (Galaxy's seed) and a gradient-boosting
 *                      0.9 quantile (SAP's), each with its safety factor
 * The gate (export): the model's business score must be below the fixed allocation's.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeCli } from '../../util/cli.js';
import { GateError, UserError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/fs-atomic.js';
import { inspectOnnx } from '../../onnx/inspect.js';
import { loadOnnx } from '../../onnx/runtime.js';
import type { ExportGate } from '../../core/family.js';
import { readJobTable } from './data.js';
import type { JobTable } from './data.js';
import { contractOf, decide, specFromDescriptor } from './spec.js';
import type { JobSpec } from './spec.js';
import { encodeRows } from './training.js';
import { jobMetrics } from './metrics.js';
import type { JobMetrics } from './metrics.js';
import { readBytesOrThrow } from '../../util/read.js';

/** specOfModel reads the JobSpec embedded in a model file. */
export function specOfModel(path: string): JobSpec {
  return specOfBytes(readBytesOrThrow(path, { what: 'model', fix: 'train one with npm run train -- --family job-memory …' }), path);
}

/** specOfBytes reads the JobSpec embedded in a model's bytes (`path` names it in errors). */
export function specOfBytes(bytes: Uint8Array, path: string): JobSpec {
  const meta = inspectOnnx(bytes, path).metadata;
  let d: unknown = null;
  try {
    d = JSON.parse(meta.contract ?? 'null');
  } catch {
    // reported below
  }
  return specFromDescriptor(d, path);
}

/** ModelRun: a model's decisions on a table's rows. */
export interface ModelRun {
  allocation: Float64Array;
  point: Float64Array;
  confidence: Float64Array;
}

/** runJobModel predicts every row of `t` with the int8 model at `path` and decides each allocation. */
export async function runJobModel(path: string, spec: JobSpec, t: JobTable, rows: readonly number[] = Array.from({ length: t.n }, (_, i) => i)): Promise<ModelRun> {
  const c = contractOf(spec);
  const X = encodeRows(spec, c, t, rows);
  const sess = await loadOnnx(readFileSync(path), path);
  const y = await sess.predict(X, rows.length);
  await sess.release();
  return decideAll(spec, y, rows.length);
}

/** decideAll applies decide() to n output rows. */
export function decideAll(spec: JobSpec, y: Float32Array, n: number): ModelRun {
  const w = y.length / n;
  const r: ModelRun = { allocation: new Float64Array(n), point: new Float64Array(n), confidence: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const d = decide(spec, y, i * w);
    r.allocation[i] = d.allocationBytes;
    r.point[i] = d.pointBytes;
    r.confidence[i] = d.confidence;
  }
  return r;
}

/** Reference: bench/job_memory_reference.py's output. */
interface ReferenceFile {
  data: { sha256: string; holdoutRows: number };
  models: { name: string; allocation: number[]; point: number[] | null; note: string }[];
}

export interface JobValidation {
  family: string;
  model: string;
  data: string;
  split: string;
  jobs: number;
  task: string;
  systems: Record<string, JobMetrics & { note: string }>;
  gate: { name: string; value: number; limit: number; passed: boolean };
}

/** validateJobModel scores a model and the baselines on the same held-out jobs. */
export async function validateJobModel(o: { model: string; data?: string; reference?: string }): Promise<JobValidation> {
  const spec = specOfModel(o.model);
  const data = o.data ?? join(dirname(o.model), 'holdout.csv');
  if (!existsSync(data)) throw new UserError(`--data: ${data} does not exist; give the held-out jobs (train writes holdout.csv beside the model)`);
  const t = readJobTable(data);
  const run = await runJobModel(o.model, spec, t);
  const systems: JobValidation['systems'] = {};
  systems.model = { ...jobMetrics(t.peak, run.allocation, run.point, run.confidence), note: spec.task.type === 'regression' ? `regression (${spec.task.objective}${spec.task.objective === 'quantile' ? ` ${spec.task.quantile}` : ''}) × ${spec.task.safety}` : `classification, ${spec.task.edges.length} ${spec.task.binning} bins, threshold ${spec.task.threshold}` };
  if (t.requested) systems['as requested'] = { ...jobMetrics(t.peak, t.requested), note: 'memreq' };
  systems['fixed (train max)'] = { ...jobMetrics(t.peak, new Float64Array(t.n).fill(spec.training.maxPeak)), note: `${(spec.training.maxPeak / 2 ** 30).toFixed(2)} GiB for every job` };
  if (o.reference) {
    let ref: ReferenceFile;
    try {
      ref = JSON.parse(readFileSync(o.reference, 'utf8'));
    } catch (e) {
      throw new UserError(`--reference ${o.reference}: cannot read it (${(e as Error).message}); write it with npm run bench:job-reference`);
    }
    if (ref.data.holdoutRows !== t.n) throw new UserError(`--reference ${o.reference}: has ${ref.data.holdoutRows} held-out jobs, ${data} has ${t.n}; make it from the same model folder`);
    for (const m of ref.models) systems[m.name] = { ...jobMetrics(t.peak, m.allocation, m.point), note: m.note };
  }
  const fixed = systems['fixed (train max)']!.businessScore;
  const value = systems.model.businessScore;
  return {
    family: spec.family, model: o.model, data, split: `${spec.training.split} 80/20${spec.training.splitSeed !== null ? ` (seed ${spec.training.splitSeed})` : ''}`, jobs: t.n,
    task: systems.model.note, systems,
    gate: { name: 'businessScore < fixed (train max)', value, limit: fixed, passed: value < fixed },
  };
}

const f2 = (v: number | null | undefined) => (v === null || v === undefined ? '—' : v.toFixed(2));

/** formatJobTable: the side-by-side table (markdown, as in the README). */
export function formatJobTable(v: JobValidation): string {
  const rows = [
    '| system | business | under % | over % | R² | MAE (GiB) | mean confidence / observed hold % / ECE |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const [name, m] of Object.entries(v.systems)) {
    const cal = m.calibration ? `${m.calibration.meanConfidence.toFixed(3)} / ${m.calibration.observedHoldPct.toFixed(1)} / ${m.calibration.ece.toFixed(3)}` : '—';
    rows.push(`| ${name === 'model' ? `**model** (${m.note})` : `${name} (${m.note})`} | ${f2(m.businessScore)} | ${f2(m.underPct)} | ${f2(m.overPct)} | ${m.r2 === null ? '—' : m.r2.toFixed(3)} | ${m.maeBytes === null ? '—' : (m.maeBytes / 2 ** 30).toFixed(2)} | ${cal} |`);
  }
  return rows.join('\n');
}

/** validateCli: `npm run validate -- --family job-memory/<data set> --model FILE [--data CSV] [--reference FILE]`. */
export async function validateCli(argv: string[], familyName: string): Promise<void> {
  const a = await makeCli('validate', `Score a job-memory model on held-out jobs, side by side with the as-requested allocation, a fixed one and (--reference) scikit-learn's models.\n\nUsage: npm run validate -- --family ${familyName} --model models/job-memory/build-jobs/job-memory-build-jobs.onnx`)
    .option('family', { type: 'string', describe: 'model family' })
    .option('model', { alias: 'm', type: 'string', demandOption: true, describe: 'int8 ONNX model of a job-memory family' })
    .option('data', { alias: 'd', type: 'string', describe: 'held-out jobs (CSV, every row is scored); default: holdout.csv beside the model' })
    .option('reference', { type: 'string', describe: 'reference models on the same hold-out (npm run bench:job-reference writes it)' })
    .option('report', { alias: 'r', type: 'string', describe: 'folder for report.json (default reports/validate/<data set>)' })
    .parse(argv);
  const v = await validateJobModel({ model: a.model, data: a.data, reference: a.reference });
  if (familyName !== 'job-memory' && v.family !== familyName) throw new UserError(`--model ${a.model} is a model of ${v.family}, not of --family ${familyName}`);
  const dir = a.report ?? join('reports/validate', v.family.replace(/^job-memory\//, ''));
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, 'report.json'), JSON.stringify(v, null, 2) + '\n');
  console.log(`${v.family}: ${v.jobs} held-out jobs (${v.split}), ${v.data}`);
  console.log(formatJobTable(v));
  console.log(`report: ${join(dir, 'report.json')}`);
  if (!v.gate.passed) throw new GateError(`gate failed: ${v.gate.name} (${v.gate.value.toFixed(2)} ≥ ${v.gate.limit.toFixed(2)})`, [v.gate.name]);
}

/** gateJobModel: export's gate (on --gate-data, else the hold-out beside the model). */
export async function gateJobModel(o: { model: string; data?: string; log: (line: string) => void }): Promise<ExportGate> {
  const v = await validateJobModel({ model: o.model, data: o.data });
  const m = v.systems.model;
  o.log(`gate: ${v.jobs} held-out jobs: business ${m.businessScore.toFixed(2)} (under ${m.underPct.toFixed(2)}%, over ${m.overPct.toFixed(2)}%), fixed allocation ${v.gate.limit.toFixed(2)}`);
  return {
    failed: v.gate.passed ? [] : [{ name: v.gate.name, value: v.gate.value, limit: v.gate.limit }],
    validation: { data: v.data, split: v.split, jobs: v.jobs, businessScore: m.businessScore, underPct: m.underPct, overPct: m.overPct, r2: m.r2, maeBytes: m.maeBytes, fixedBusinessScore: v.gate.limit },
  };
}
