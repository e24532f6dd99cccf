/**
 * validate: the gate. Runs an ONNX model in ONNX Runtime on held-out data (by default freshly generated
 * with a seed training never used), scores it with the shared metrics overall and per workload kind,
 * checks the gates in validation-gates.json, and writes report.json and report.html.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { N_OUTPUTS, OUTPUT_NAMES } from '../features.js';
import { loadDataset } from '../data/dataset-io.js';
import { generateDataset } from '../data/generate.js';
import type { Dataset } from '../data/simulate.js';
import { DATA_KINDS } from '../data/workloads.js';
import { loadOnnx, OnnxModelError } from '../../../onnx/runtime.js';
import { calibration, holdsMask, meanAbsError, resourceMetrics, rocAuc } from './metrics.js';
import { riskCurve, scaleLimits } from './risk-eval.js';
import { factorFor, parseRiskTable } from '../../../core/risk.js';
import type { RiskTable } from '../../../core/risk.js';
import { inspectOnnx } from '../../../onnx/inspect.js';
import type { Recommendations, WindowOutcomes } from './metrics.js';
import { maxAbsDeviation } from '../../../core/quantize.js';
import { writeFileAtomic } from '../../../util/fs-atomic.js';
import { UserError } from '../../../util/errors.js';
import { validationReportHtml } from './validate-html.js';
import { featureMatrix, recommendBaselines, recommendationsFromOutputs, SYSTEMS } from './compare.js';
import { labelMatrix } from '../training.js';
import { evaluateStress, STRESS_INPUTS } from './stress.js';
import type { StressReport } from './stress.js';
import { stressGate } from './stress-targets.js';
import type { GateFailure } from './stress-targets.js';
import type { StressGateOptions } from '../../../core/family.js';
import type { EvalWindow } from './compare.js';
import type { ValidationReport } from './types.js';
import type { ExportGate } from '../../../core/family.js';
import { GENERATOR_VERSION, simulateOne } from '../data/simulate.js';
import { readBytesOrThrow } from '../../../util/read.js';

/** VALIDATION_SEED: the default held-out seed; training uses 42. */
export const VALIDATION_SEED = 20261123;
export const DEFAULT_GATES_FILE = 'validation-gates.json';

/**
 * Gates: what a model must reach before it ships. Two sets, chosen by the data a model is measured on:
 * - simulated windows (the default: fresh ones from the generator): absolute limits;
 * - real windows (a data file cut from traces with generate --from-trace): limits on under-allocation and
 *   breaches, and the business score relative to the best of two rules computed on the SAME windows from
 *   the outcome arrays: past max × 1.15 (KRR's memory rule) and past max × 1.3. A real fleet's scores depend
 *   on the fleet (its sizes, its volatility), so no absolute business limit can mean the same everywhere.
 */
export interface Gates {
  maxMemUnderAllocationPct: number;
  maxCpuLimitBreachPct: number;
  maxBusinessScore: number;
  maxExpectedCalibrationError: number;
  maxInt8DeviationNormalized: number;
}
export interface RealGates {
  maxMemUnderAllocationPct: number;
  maxCpuLimitBreachPct: number;
  /** model business ⁄ min(business of past max × 1.15, past max × 1.3) */
  maxBusinessRatioToBestRule: number;
  maxInt8DeviationNormalized: number;
}

/** readGates loads and checks the gates file: the simulated gates at the top level, real ones under "real". */
export function readGates(path: string): Gates & { real: RealGates | null } {
  let g: Record<string, unknown>;
  try {
    g = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new UserError(`cannot read gates file ${path}: ${(e as Error).message}`);
  }
  const keys: (keyof Gates)[] = ['maxMemUnderAllocationPct', 'maxCpuLimitBreachPct', 'maxBusinessScore', 'maxExpectedCalibrationError', 'maxInt8DeviationNormalized'];
  for (const k of keys) if (typeof g[k] !== 'number' || !Number.isFinite(g[k])) throw new UserError(`${path}: ${k} must be a number`);
  let real: RealGates | null = null;
  if (g.real !== undefined) {
    const r = g.real as Record<string, unknown>;
    const rk: (keyof RealGates)[] = ['maxMemUnderAllocationPct', 'maxCpuLimitBreachPct', 'maxBusinessRatioToBestRule', 'maxInt8DeviationNormalized'];
    for (const k of rk) if (typeof r?.[k] !== 'number' || !Number.isFinite(r[k])) throw new UserError(`${path}: real.${k} must be a number`);
    real = r as unknown as RealGates;
  }
  return { ...(g as unknown as Gates), real };
}

/** ruleBaselines: past max × 1.15 and × 1.3 as memory limits (requests = limits, CPU as the model's), from outcomes. */
export function ruleBaselines(ds: Dataset, model: Recommendations): Record<string, Recommendations> {
  const peak = ds.outcomes.past_mem_peak;
  const rule = (k: number) => ({ ...model, memRequest: Float64Array.from(peak, (p) => p * k), memLimit: Float64Array.from(peak, (p) => p * k) });
  return { 'max×1.15 (KRR)': rule(1.15), 'max×1.3': rule(1.3) };
}

export function outcomesOf(ds: Dataset): WindowOutcomes {
  return { futureCpuP99: ds.outcomes.future_cpu_p99, futureCpuMean: ds.outcomes.future_cpu_mean, futureMemPeak: ds.outcomes.future_mem_peak, futureMemMean: ds.outcomes.future_mem_mean };
}

export interface ValidateOptions {
  model: string;
  data?: string;
  samples: number;
  seed: number;
  gatesFile: string;
  reportDir?: string;
  /** also score VPA, KRR and the fixed rule on the same windows (needs generated data) */
  compare?: boolean;
  /** hold-rate targets for the model's limits (from its conformal risk table) */
  memoryHold?: number;
  cpuHold?: number;
  log: (line: string) => void;
}


/** runModel runs an ONNX file over a data set. */
export async function runModelFile(path: string, ds: Dataset): Promise<Float32Array> {
  const bytes = readBytesOrThrow(path, { what: 'model', fix: 'train one with npm run train', error: OnnxModelError });
  const p = await loadOnnx(bytes, path);
  try {
    // normalized anew from the real-unit features: a file written under an earlier contract still validates
    return await p.predict(featureMatrix(ds.featuresRaw), ds.n);
  } finally {
    await p.release();
  }
}

/**
 * validateModel measures a model and checks the gates. It does not exit; the caller decides. Steps: the
 * held-out windows, the model's recommendations on them (limits scaled to the hold targets when asked),
 * the scores overall and per kind, the int8-vs-float deviation, the gates, the baselines (--compare),
 * then report.json and report.html.
 */
export async function validateModel(o: ValidateOptions): Promise<ValidationReport> {
  const gates = readGates(o.gatesFile);
  const { ds, source, seed, realData } = await heldOutData(o);
  const out = await runModelFile(o.model, ds);
  const raw = recommendationsFromOutputs(out, ds.featuresRaw, ds.n);
  const outc = outcomesOf(ds);
  const table = parseRiskTable(inspectOnnx(readFileSync(o.model), o.model).metadata.risk_calibration, o.model);
  const { rec, risk } = applyHoldTargets(o, raw, table);
  const scores = scoreRecommendations(ds, rec, outc);
  const int8VsFloat = await int8VsFloatDeviation(o, ds, out);
  const { gateRows, rules } = checkGates(o, gates, realData, ds, rec, outc, scores, int8VsFloat);
  const comparison = o.compare ? await compareBaselines(o, seed, ds, rec, outc) : undefined;
  const { overall, perKind, cal, confidenceAuc } = scores;
  const report: ValidationReport = {
    schemaVersion: 1,
    createdAt: new Date().toISOString(),
    model: o.model,
    data: { source, samples: ds.n, seed },
    overall,
    perKind,
    calibration: cal,
    int8VsFloat,
    gates: gateRows,
    passed: gateRows.every((g) => g.passed),
    comparison,
    rules,
    risk,
    riskCurve: table ? riskCurve(raw, outc, table) : [],
    riskCalibration: table?.calibration ?? null,
    confidenceAuc,
  };
  if (o.reportDir) writeReportFiles(o.reportDir, report, ds, rec, outc);
  return report;
}

/** HeldOut: the windows a model is measured on, where they come from, their generator seed (null when unknown) and whether they are real. */
interface HeldOut {
  ds: Dataset;
  source: string;
  seed: number | null;
  realData: boolean;
}

/** heldOutData: --data's windows, else `samples` fresh ones generated with `seed`. */
async function heldOutData(o: ValidateOptions): Promise<HeldOut> {
  let ds: Dataset;
  let source: string;
  let seed: number | null = null;
  let realData = false;
  if (o.data) {
    const loaded = loadDataset(o.data);
    ds = loaded.ds;
    source = o.data;
    realData = (loaded.meta.source ?? 'simulated') !== 'simulated';
    // The windows behind a generated file can be replayed from its seed (for --compare).
    if (loaded.meta.generatorVersion === GENERATOR_VERSION) seed = loaded.meta.seed;
  } else {
    o.log(`validate: generating ${o.samples} held-out samples (seed ${o.seed})`);
    ds = await generateDataset(o.samples, o.seed);
    source = `generated (seed ${o.seed})`;
    seed = o.seed;
  }
  return { ds, source, seed, realData };
}

/** ModelRecommendations: the model's recommendations in real units, with its confidence. */
type ModelRecommendations = ReturnType<typeof recommendationsFromOutputs>;

/**
 * applyHoldTargets scales the model's limits to --memory-hold / --cpu-hold with the factors of its risk
 * table (refused when it has none); without targets the recommendations are the model's own.
 */
function applyHoldTargets(o: ValidateOptions, raw: ModelRecommendations, table: RiskTable | null): { rec: ModelRecommendations; risk: ValidationReport['risk'] } {
  let rec = raw;
  let risk: ValidationReport['risk'] = null;
  if (o.memoryHold !== undefined || o.cpuHold !== undefined) {
    if (!table) throw new UserError(`${o.model} has no risk calibration, so --memory-hold/--cpu-hold have no meaning for it; train it with --calibration-data`);
    const mem = o.memoryHold !== undefined ? factorFor(table.factors.mem_limit ?? [], o.memoryHold, '--memory-hold') : null;
    const cpu = o.cpuHold !== undefined ? factorFor(table.factors.cpu_limit ?? [], o.cpuHold, '--cpu-hold') : null;
    rec = { ...scaleLimits(raw, mem?.factor ?? 1, cpu?.factor ?? 1), confidence: raw.confidence };
    risk = { memory: mem, cpu };
  }
  return { rec, risk };
}

/** Scores: the resource metrics (with MAE against the labels) overall and per workload kind, and the confidence's calibration and AUC. */
interface Scores {
  overall: ValidationReport['overall'];
  perKind: ValidationReport['perKind'];
  cal: ValidationReport['calibration'];
  confidenceAuc: ValidationReport['confidenceAuc'];
}

/** scoreRecommendations scores the recommendations against the windows' outcomes and labels. */
function scoreRecommendations(ds: Dataset, rec: ModelRecommendations, outc: WindowOutcomes): Scores {
  const labels = recommendationsFromOutputs(labelMatrix(ds), ds.featuresRaw, ds.n);
  const mae = (rows?: number[]) => ({
    cpu_request_cores: meanAbsError(rec.cpuRequest, labels.cpuRequest, rows),
    cpu_limit_cores: meanAbsError(rec.cpuLimit, labels.cpuLimit, rows),
    mem_request_bytes: meanAbsError(rec.memRequest, labels.memRequest, rows),
    mem_limit_bytes: meanAbsError(rec.memLimit, labels.memLimit, rows),
  });
  const overall = { ...resourceMetrics(rec, outc), mae: mae() };
  const perKind: ValidationReport['perKind'] = {};
  DATA_KINDS.forEach((k, ki) => {
    const rows: number[] = [];
    for (let i = 0; i < ds.n; i++) if (ds.kind[i] === ki) rows.push(i);
    if (rows.length) perKind[k] = { ...resourceMetrics(rec, outc, rows), mae: mae(rows) };
  });
  const held = holdsMask(rec, outc);
  const cal = calibration(rec.confidence, held);
  const confidenceAuc = rocAuc(rec.confidence, held);
  return { overall, perKind, cal, confidenceAuc };
}

/** int8VsFloatDeviation: the model against the fp32 ONNX written beside it by train.ts (null, with a log line, when there is none). */
async function int8VsFloatDeviation(o: ValidateOptions, ds: Dataset, out: Float32Array): Promise<ValidationReport['int8VsFloat']> {
  const floatPath = join(dirname(o.model), 'predictor_fp32.onnx');
  let int8VsFloat: ValidationReport['int8VsFloat'] = null;
  if (existsSync(floatPath) && basename(o.model) !== 'predictor_fp32.onnx') {
    const fo = await runModelFile(floatPath, ds);
    const dev = maxAbsDeviation(out, fo, N_OUTPUTS);
    int8VsFloat = { floatModel: floatPath, maxAbsNormalized: Object.fromEntries(OUTPUT_NAMES.map((n, i) => [n, dev[i]!])) };
  } else {
    o.log(`validate: no ${floatPath} beside the model: int8-vs-float deviation not measured`);
  }
  return int8VsFloat;
}

/**
 * checkGates: the simulated gates, or on real windows the real ones (business relative to the best of the
 * past-max rules, which are scored too); each passes when its value is unknown or within its limit.
 */
function checkGates(o: ValidateOptions, gates: ReturnType<typeof readGates>, realData: boolean, ds: Dataset, rec: Recommendations, outc: WindowOutcomes, scores: Scores, int8VsFloat: ValidationReport['int8VsFloat']): { gateRows: ValidationReport['gates']; rules: ValidationReport['rules'] } {
  const { overall, cal } = scores;
  const maxDev = int8VsFloat ? Math.max(...Object.values(int8VsFloat.maxAbsNormalized)) : null;
  let rules: ValidationReport['rules'] = null;
  let gateList: Omit<ValidationReport['gates'][number], 'passed'>[];
  if (realData) {
    if (!gates.real) throw new UserError(`${o.data} holds real windows but ${o.gatesFile} has no "real" gates; add them (see validation-gates.json)`);
    rules = Object.fromEntries(Object.entries(ruleBaselines(ds, rec)).map(([k, r]) => [k, resourceMetrics(r, outc)]));
    const best = Math.min(...Object.values(rules).map((m) => m.businessScore));
    const g = gates.real;
    gateList = [
      { name: 'real.maxMemUnderAllocationPct', limit: g.maxMemUnderAllocationPct, value: overall.memUnderAllocationPct },
      { name: 'real.maxCpuLimitBreachPct', limit: g.maxCpuLimitBreachPct, value: overall.cpuLimitBreachPct },
      { name: 'real.maxBusinessRatioToBestRule', limit: g.maxBusinessRatioToBestRule, value: overall.businessScore / best },
      { name: 'real.maxInt8DeviationNormalized', limit: g.maxInt8DeviationNormalized, value: maxDev },
    ];
  } else {
    gateList = [
      { name: 'maxMemUnderAllocationPct', limit: gates.maxMemUnderAllocationPct, value: overall.memUnderAllocationPct },
      { name: 'maxCpuLimitBreachPct', limit: gates.maxCpuLimitBreachPct, value: overall.cpuLimitBreachPct },
      { name: 'maxBusinessScore', limit: gates.maxBusinessScore, value: overall.businessScore },
      { name: 'maxExpectedCalibrationError', limit: gates.maxExpectedCalibrationError, value: cal.ece },
      { name: 'maxInt8DeviationNormalized', limit: gates.maxInt8DeviationNormalized, value: maxDev },
    ];
  }
  const gateRows: ValidationReport['gates'] = gateList.map((g) => ({ ...g, passed: g.value === null || g.value <= g.limit }));
  return { gateRows, rules };
}

/** compareBaselines replays the generated windows (by seed) and scores VPA, KRR and the fixed rule beside the model. */
async function compareBaselines(o: ValidateOptions, seed: number | null, ds: Dataset, rec: Recommendations, outc: WindowOutcomes): Promise<NonNullable<ValidationReport['comparison']>> {
  if (seed === null) throw new UserError(`--compare needs the raw windows: use generated held-out data (omit --data) or a file from this generator version (${GENERATOR_VERSION})`);
  o.log(`validate: replaying ${ds.n} windows for the baselines (VPA, KRR, fixed rule)`);
  const windows: EvalWindow[] = [];
  for (let i = 0; i < ds.n; i++) {
    const w = simulateOne(seed, i);
    const lim = w.cpuLimitCores ?? undefined;
    windows.push({ past: w.past, original: { cpuRequestCores: lim, cpuLimitCores: lim } });
  }
  // The model's row is the run above (same windows: ds.X was computed from these pasts by the generator).
  const recs = { model: rec, ...recommendBaselines(windows, (sys) => o.log(`validate: ${sys}`)) };
  const comparison: NonNullable<ValidationReport['comparison']> = {};
  for (const s of SYSTEMS) if (recs[s]) comparison[s] = resourceMetrics(recs[s]!, outc);
  return comparison;
}

/** writeReportFiles writes report.json and report.html (with a sample of up to 2,000 windows for the scatter plot). */
function writeReportFiles(dir: string, report: ValidationReport, ds: Dataset, rec: Recommendations, outc: WindowOutcomes): void {
  writeFileAtomic(join(dir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  const sample = Math.min(ds.n, 2000);
  const scatter = Array.from({ length: sample }, (_, i) => [outc.futureMemPeak[i]!, rec.memLimit[i]!] as [number, number]);
  const kindsOfSample = Array.from({ length: sample }, (_, i) => DATA_KINDS[ds.kind[i]!]!);
  writeFileAtomic(join(dir, 'report.html'), validationReportHtml(report, scatter, kindsOfSample));
}

/**
 * gateForExport validates a model on held-out windows (`data`, else fresh ones of seed VALIDATION_SEED)
 * and, with `stress`, on every slice of the shift-stress evaluation (stress.ts: months, rescaled × 0.1 /
 * × 10, size halves), where it must not be worse than past max × 1.3 (business) or VPA (memory under %);
 * it summarizes what the manifest records. The caller (export) refuses a model with failed gates unless forced.
 */
export async function gateForExport(o: { model: string; samples: number; gatesFile: string; data?: string; stress?: StressGateOptions; log: (line: string) => void }): Promise<ExportGate> {
  const v = await validateModel({ model: o.model, data: o.data, samples: o.samples, seed: VALIDATION_SEED, gatesFile: o.gatesFile, log: o.log });
  const failed = v.gates.filter((g) => !g.passed).map((g) => ({ name: g.name, value: g.value, limit: g.limit }));
  let stress: Record<string, unknown> | undefined;
  if (o.stress) {
    const r = await evaluateStress({ source: 'bitbrains', inputs: o.stress.inputs ?? STRESS_INPUTS, model: o.model, splitFile: o.stress.split, role: o.stress.role, log: o.log });
    const g = stressGate(r);
    for (const f of g) failed.push({ name: `stress[${f.slice}]: ${f.name}`, value: f.value, limit: f.limit });
    stress = stressSummary(r, g, o.stress);
  }
  return {
    failed,
    validation: {
      data: v.data.source, windows: v.overall.windows,
      memUnderAllocationPct: v.overall.memUnderAllocationPct, cpuLimitBreachPct: v.overall.cpuLimitBreachPct,
      memOverAllocationPct: v.overall.memOverAllocationPct, businessScore: v.overall.businessScore,
      expectedCalibrationError: v.calibration.ece,
      int8VsFloatMaxAbs: v.int8VsFloat ? Math.max(...Object.values(v.int8VsFloat.maxAbsNormalized)) : null,
      ...(stress ? { stress } : {}),
      gatesPassed: failed.length === 0, forced: failed.length > 0,
    },
  };
}

/** stressSummary: the stress gate's figures for the manifest entry, one row per slice. */
export function stressSummary(r: StressReport, failures: GateFailure[], o: StressGateOptions): Record<string, unknown> {
  const f2 = (x: number | undefined) => (x === undefined ? null : Math.round(x * 100) / 100);
  return {
    split: o.split,
    role: o.role,
    passed: failures.length === 0,
    slices: r.slices.map((s) => ({
      name: s.name, windows: s.windows, groups: s.groups,
      business: f2(s.systems.model?.businessScore), businessMaxX13: f2(s.systems['fixed-max-x1.3']?.businessScore),
      memUnderPct: f2(s.systems.model?.memUnderAllocationPct), memUnderPctVpa: f2(s.systems.vpa?.memUnderAllocationPct),
    })),
    failures,
  };
}
