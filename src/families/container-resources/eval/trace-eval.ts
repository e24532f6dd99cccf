/**
 * trace-eval: the real-trace evaluator. Rolling windows over each VM of a Bitbrains-format folder: the
 * past PAST_DAYS (7) → the 12 features through the contract's computeFeatures, and every baseline's
 * input; the next FUTURE_DAYS (3) → the outcome. Windows start every STRIDE_DAYS (1) from the VM's first
 * sample, and only windows whose future fits in the trace are used. These settings were fixed before any
 * result was looked at and are the same for every system.
 *
 * Units: Bitbrains CPU usage [MHz] → cores = MHz / (provisioned MHz / provisioned cores); memory [KB] →
 * bytes = KB × 1024 (src/sources/bitbrains.ts). The VM's provisioned cores and memory are its original
 * request and limit (VPA's proportional limits and the "as-provisioned" system use them).
 */
import { getSource } from '../../../sources/registry.js';
import type { ReadReport } from '../../../sources/types.js';
import { loadOnnx, OnnxModelError } from '../../../onnx/runtime.js';
import { recommendAll, SYSTEMS } from './compare.js';
import { PROTOCOL, windowsOf } from '../data/windows.js';
import type { SystemName } from './compare.js';
import { calibration, holdsMask, resourceMetrics, rocAuc } from './metrics.js';
import type { Calibration } from './metrics.js';
import { factorFor, parseRiskTable } from '../../../core/risk.js';
import { riskCurve, scaleLimits } from './risk-eval.js';
import type { RiskPoint } from './risk-eval.js';
import type { RiskTable } from '../../../core/risk.js';
import { inspectOnnx } from '../../../onnx/inspect.js';
import { bootstrapVersus, sumsOf } from './bootstrap.js';
import type { BootstrapResult, Sums } from './bootstrap.js';
import type { ResourceMetrics, WindowOutcomes } from './metrics.js';
import { UserError } from '../../../util/errors.js';
import { readBytesOrThrow } from '../../../util/read.js';

export { PROTOCOL, windowsOf } from '../data/windows.js';
export type { TraceWindow } from '../data/windows.js';

export interface TraceReport {
  schemaVersion: 1;
  createdAt: string;
  trace: string;
  input: string;
  model: string;
  protocol: typeof PROTOCOL;
  windows: number;
  vms: string[];
  /** what the source skipped, merged and sorted, per input file */
  inputs: ReadReport[];
  overall: Partial<Record<SystemName, ResourceMetrics>>;
  perVm: Record<string, Partial<Record<SystemName, ResourceMetrics>>>;
  /** model − each baseline, with 95% bootstrap intervals over VMs */
  intervals: BootstrapResult | null;
  /** the hold-rate targets applied to the model's limits (--memory-hold, --cpu-hold), or null */
  risk: { memory: { target: number; factor: number } | null; cpu: { target: number; factor: number } | null; calibration: RiskTable['calibration'] } | null;
  /** for every target of the model's risk table: the observed hold rate and what it costs */
  riskCurve: RiskPoint[];
  riskCalibration: RiskTable['calibration'] | null;
  /** the confidence output as a risk signal: ROC AUC for "the recommendation held", and its calibration */
  confidence: { rocAuc: number; calibration: Calibration } | null;
}


export interface TraceEvalOptions {
  /** the usage source ('bitbrains') */
  source: string;
  /** files or folders */
  input: string[];
  model: string;
  strict?: boolean;
  /** hold-rate targets for the model's limits (from the model's conformal table) */
  memoryHold?: number;
  cpuHold?: number;
  /** keep only these traces (by name), e.g. from --vms 201-250 */
  select?: (name: string) => boolean;
  log?: (line: string) => void;
}

/** evaluateTraces runs every system on every window of every selected trace of the input. */
export async function evaluateTraces(o: TraceEvalOptions): Promise<TraceReport> {
  const log = o.log ?? (() => {});
  const dir = o.input.join(', ');
  const modelPath = o.model;
  const source = getSource(o.source);
  const vms = source.read(o.input, { strict: o.strict, log, select: o.select });
  if (!vms.length) throw new UserError(`--input ${dir} has no .csv or .csv.gz files${o.select ? ' that --vms selects' : ''}; give a folder of trace files`);
  const windows = vms.flatMap((vm) => windowsOf(vm));
  if (!windows.length) throw new UserError(`${dir}: no VM has ${PROTOCOL.pastDays + PROTOCOL.futureDays} days of samples for one window`);
  log(`evaluate: ${vms.length} VMs, ${windows.length} windows (past ${PROTOCOL.pastDays} d → next ${PROTOCOL.futureDays} d, stride ${PROTOCOL.strideDays} d)`);
  const bytes = readBytesOrThrow(modelPath, { what: 'model', error: OnnxModelError });
  const model = await loadOnnx(bytes, modelPath);
  const recs = await recommendAll(windows, model, (s) => log(`evaluate: ${s}`));
  await model.release();
  const table = parseRiskTable(inspectOnnx(bytes, modelPath).metadata.risk_calibration, modelPath);
  let risk: TraceReport['risk'] = null;
  const raw = recs.model!;
  if (o.memoryHold !== undefined || o.cpuHold !== undefined) {
    if (!table) throw new UserError(`${modelPath} has no risk calibration, so --memory-hold/--cpu-hold have no meaning for it; train it with --calibration-data`);
    const mem = o.memoryHold !== undefined ? factorFor(table.factors.mem_limit ?? [], o.memoryHold, '--memory-hold') : null;
    const cpu = o.cpuHold !== undefined ? factorFor(table.factors.cpu_limit ?? [], o.cpuHold, '--cpu-hold') : null;
    recs.model = { ...scaleLimits(raw, mem?.factor ?? 1, cpu?.factor ?? 1), confidence: raw.confidence };
    risk = { memory: mem, cpu, calibration: table.calibration };
    log(`evaluate: model limits × ${mem?.factor ?? 1} (memory hold ${mem?.target ?? '-'}) and × ${cpu?.factor ?? 1} (CPU hold ${cpu?.target ?? '-'}), calibrated on ${table.calibration.windows} windows of ${table.calibration.source}`);
  }
  const outcomes: WindowOutcomes = {
    futureCpuP99: windows.map((w) => w.outcome.cpuP99),
    futureCpuMean: windows.map((w) => w.outcome.cpuMean),
    futureMemPeak: windows.map((w) => w.outcome.memPeak),
    futureMemMean: windows.map((w) => w.outcome.memMean),
  };
  const score = (rows?: number[]) => {
    const r: Partial<Record<SystemName, ResourceMetrics>> = {};
    for (const s of SYSTEMS) if (recs[s]) r[s] = resourceMetrics(recs[s]!, outcomes, rows);
    return r;
  };
  const perVm: TraceReport['perVm'] = {};
  const sums: Record<string, Sums[]> = {};
  for (const vm of vms) {
    const rows = windows.flatMap((w, i) => (w.vm === vm.name ? [i] : []));
    if (!rows.length) continue;
    perVm[vm.name] = score(rows);
    for (const s of SYSTEMS) if (recs[s] && s !== 'as-provisioned') (sums[s] ??= []).push(sumsOf(recs[s]!, outcomes, rows));
  }
  const intervals = Object.keys(perVm).length >= 2 ? bootstrapVersus(sums) : null;
  const curve = table ? riskCurve(raw, outcomes, table) : [];
  let confidence: TraceReport['confidence'] = null;
  if (recs.model!.confidence) {
    const held = holdsMask(recs.model!, outcomes);
    confidence = { rocAuc: rocAuc(recs.model!.confidence, held), calibration: calibration(recs.model!.confidence, held) };
  }
  return { schemaVersion: 1, createdAt: new Date().toISOString(), trace: o.source, input: dir, model: modelPath, protocol: PROTOCOL, windows: windows.length, vms: vms.map((v) => v.name), inputs: vms.map((v) => v.report), overall: score(), perVm, intervals, risk, riskCurve: curve, riskCalibration: table?.calibration ?? null, confidence };
}

/** formatTable renders systems × metrics as fixed-width text. */
export function formatTable(rows: Partial<Record<SystemName, ResourceMetrics>>): string {
  const head = ['system', 'mem under %', 'CPU breach %', 'mem over %', 'CPU req slack %', 'mem req slack %', 'mem req<mean %', 'business'];
  const lines = [head.map((h, i) => (i ? h.padStart(16) : h.padEnd(16))).join('')];
  for (const [s, m] of Object.entries(rows)) {
    const v = [m.memUnderAllocationPct, m.cpuLimitBreachPct, m.memOverAllocationPct, m.cpuRequestSlackPct, m.memRequestSlackPct, m.memRequestBelowMeanPct, m.businessScore];
    lines.push(s.padEnd(16) + v.map((x) => (x === undefined ? '-' : x.toFixed(2)).padStart(16)).join(''));
  }
  return lines.join('\n');
}
