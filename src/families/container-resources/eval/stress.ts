/**
 * stress: the model and the baselines under shift, on the VMs of one role of the committed fleet split
 * (data/fleet-split.json, normally 'test'). Every slice runs every system on the same windows:
 *
 *   months     one slice per input folder (a month of the same VMs: vmN is the same workload every
 *              month), and "all months" pooled;
 *   rescaled   the pooled windows with one resource × 0.1 or × 10 in the past, the future, the outcomes
 *              and the original allocation alike (a workload 10× bigger or smaller than any seen);
 *   size       the "smaller half" and "larger half" of the VMs by their median daily memory peak in the
 *              first month the VM appears in, pooled months, with the main model; and, when given
 *              (--slice-model larger-trained=PATH / smaller-trained=PATH), one half scored by a model
 *              trained on the other half only.
 *
 * Per slice: the shared metrics (metrics.ts), bootstrap 95% intervals with near-clone GROUPS as the
 * resampling unit (a VM's windows of every month, and its clones', stay together: groupIndex), and the
 * model's memory risk curve. The gate and the targets are pure functions of the report (stress-targets.ts).
 *
 * Worked example of a rescaling: a past window with memory peaks [1, 2] GiB, a future peak of 3 GiB and
 * 8 GiB provisioned becomes, under "memory × 10", peaks [10, 20] GiB, future peak 30 GiB and 80 GiB
 * provisioned; CPU is untouched. A rule that is scale-equivariant (max × 1.3) scores the same business.
 */
import { basename } from 'node:path';
import { existsSync } from 'node:fs';
import { getSource } from '../../../sources/registry.js';
import type { UsageTrace } from '../../../sources/types.js';
import { loadOnnx, OnnxModelError } from '../../../onnx/runtime.js';
import type { OnnxPredictor } from '../../../onnx/runtime.js';
import { inspectOnnx } from '../../../onnx/inspect.js';
import { parseRiskTable } from '../../../core/risk.js';
import type { RiskTable } from '../../../core/risk.js';
import { UserError } from '../../../util/errors.js';
import { groupIndex, medianDailyPeak, readSplit, vmsOf } from '../data/fleet-split.js';
import type { FleetSplit, Role } from '../data/fleet-split.js';
import { PROTOCOL, windowsOf } from '../data/windows.js';
import type { TraceWindow } from '../data/windows.js';
import { recommendAll, SYSTEMS } from './compare.js';
import type { SystemName } from './compare.js';
import { resourceMetrics } from './metrics.js';
import type { Recommendations, ResourceMetrics, WindowOutcomes } from './metrics.js';
import { bootstrapVersus, sumsOf } from './bootstrap.js';
import type { BootstrapResult, Sums } from './bootstrap.js';
import { riskCurve } from './risk-eval.js';
import type { RiskPoint } from './risk-eval.js';
import { readBytesOrThrow } from '../../../util/read.js';

/** STRESS_INPUTS: the default months, one folder each (July, August, September 2013). */
export const STRESS_INPUTS = ['../shared/data/bitbrains-250', '../shared/data/bitbrains-250-2013-8', '../shared/data/bitbrains-250-2013-9'];

/** RESCALINGS: the rescaled slices, in report order. */
export const RESCALINGS = [
  { name: 'memory × 0.1', resource: 'memory', factor: 0.1 },
  { name: 'memory × 10', resource: 'memory', factor: 10 },
  { name: 'CPU × 0.1', resource: 'cpu', factor: 0.1 },
  { name: 'CPU × 10', resource: 'cpu', factor: 10 },
] as const;

/** SLICE_MODELS: --slice-model NAME → the half it is scored on (the half it was NOT trained on). */
export const SLICE_MODELS = {
  'larger-trained': { half: 'smaller', slice: 'smaller half, model trained on the larger half' },
  'smaller-trained': { half: 'larger', slice: 'larger half, model trained on the smaller half' },
} as const;
export type SliceModelName = keyof typeof SLICE_MODELS;

export type SliceKind = 'month' | 'pooled' | 'rescaled' | 'size' | 'size-model';

/** StressSlice: every system on one set of windows. */
export interface StressSlice {
  name: string;
  kind: SliceKind;
  /** the model file scored as 'model' */
  model: string;
  vms: number;
  /** near-clone groups (the bootstrap's resampling unit) */
  groups: number;
  windows: number;
  systems: Partial<Record<SystemName, ResourceMetrics>>;
  /** model vs each baseline, 95% intervals over groups (null with fewer than 2 groups) */
  intervals: BootstrapResult | null;
  /** every target of the model's risk table on this slice (empty when the model has none) */
  riskCurve: RiskPoint[];
}

export interface StressReport {
  schemaVersion: 1;
  kind: 'stress';
  createdAt: string;
  trace: string;
  model: string;
  split: { file: string; role: Role; roleVms: number; evaluatedVms: number };
  protocol: typeof PROTOCOL;
  months: { label: string; input: string; vms: number; windows: number }[];
  /** the size halves: members and the median daily memory peak that separates them */
  sizes: { smaller: string[]; larger: string[]; boundaryBytes: number };
  slices: StressSlice[];
  /** slices left out, and why */
  notes: string[];
}

export interface StressOptions {
  source: string;
  /** one folder (or file) per month */
  inputs: string[];
  model: string;
  splitFile: string;
  role: Role;
  /** --slice-model NAME=PATH, parsed */
  sliceModels?: Partial<Record<SliceModelName, string>>;
  strict?: boolean;
  log?: (line: string) => void;
}

/** readFleetSplit reads and checks a split file (split-fleet.ts writes it). */
export const readFleetSplit = (file: string): FleetSplit => readSplit(file, '--split');

/** parseSliceModels turns ['larger-trained=models/l.onnx'] into { 'larger-trained': 'models/l.onnx' }. */
export function parseSliceModels(args: string[] = []): Partial<Record<SliceModelName, string>> {
  const out: Partial<Record<SliceModelName, string>> = {};
  for (const a of args) {
    const eq = a.indexOf('=');
    const name = a.slice(0, eq);
    if (eq < 1 || eq === a.length - 1 || !(name in SLICE_MODELS)) throw new UserError(`--slice-model ${a}: give NAME=PATH with NAME one of ${Object.keys(SLICE_MODELS).join(', ')}, e.g. --slice-model larger-trained=models/larger.onnx`);
    out[name as SliceModelName] = a.slice(eq + 1);
  }
  return out;
}

export { medianDailyPeak };

/**
 * halvesBySize: VMs sorted by size (ties by name) → the first ⌊n/2⌋ are the smaller half, the rest the
 * larger. Example: {a: 1, b: 3, c: 2} → smaller [a], larger [c, b], boundary 2 (the larger half's least).
 */
export function halvesBySize(sizes: Map<string, number>): StressReport['sizes'] {
  const order = [...sizes].sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0], 'en', { numeric: true }));
  const k = Math.floor(order.length / 2);
  return { smaller: order.slice(0, k).map(([v]) => v), larger: order.slice(k).map(([v]) => v), boundaryBytes: order[k]?.[1] ?? NaN };
}

/** scaleWindow multiplies one resource everywhere it appears in a window (past, future, outcome, original). */
export function scaleWindow(w: TraceWindow, resource: 'memory' | 'cpu', k: number): TraceWindow {
  const mul = (a: ArrayLike<number>) => Float64Array.from(a, (v) => v * k);
  if (resource === 'memory') {
    return {
      ...w,
      past: { ...w.past, memoryBytes: mul(w.past.memoryBytes) },
      future: { ...w.future, memoryBytes: mul(w.future.memoryBytes) },
      original: w.original && { ...w.original, memRequestBytes: w.original.memRequestBytes * k, memLimitBytes: w.original.memLimitBytes * k },
      outcome: { ...w.outcome, memPeak: w.outcome.memPeak * k, memMean: w.outcome.memMean * k },
    };
  }
  return {
    ...w,
    past: { ...w.past, cpuCores: mul(w.past.cpuCores) },
    future: { ...w.future, cpuCores: mul(w.future.cpuCores) },
    original: w.original && { ...w.original, cpuRequestCores: w.original.cpuRequestCores * k, cpuLimitCores: w.original.cpuLimitCores * k },
    outcome: { ...w.outcome, cpuP99: w.outcome.cpuP99 * k, cpuMean: w.outcome.cpuMean * k },
  };
}

/** outcomesOf: the windows' future outcomes as columns. */
export function outcomesOf(windows: TraceWindow[]): WindowOutcomes {
  return {
    futureCpuP99: windows.map((w) => w.outcome.cpuP99),
    futureCpuMean: windows.map((w) => w.outcome.cpuMean),
    futureMemPeak: windows.map((w) => w.outcome.memPeak),
    futureMemMean: windows.map((w) => w.outcome.memMean),
  };
}

const pick = (a: ArrayLike<number>, rows: number[]) => Float64Array.from(rows, (i) => a[i]!);

/** Scored: windows with every system's recommendations, ready to be sliced by rows. */
interface Scored {
  windows: TraceWindow[];
  recs: Partial<Record<SystemName, Recommendations>>;
  model: string;
  table: RiskTable | null;
}

/** scoreSlice: metrics, group-bootstrap intervals and the risk curve of the systems on `rows`. */
export function scoreSlice(name: string, kind: SliceKind, s: Scored, rows: number[], groupOf: (vm: string) => string): StressSlice {
  const all = outcomesOf(s.windows);
  const o: WindowOutcomes = { futureCpuP99: pick(all.futureCpuP99, rows), futureCpuMean: pick(all.futureCpuMean, rows), futureMemPeak: pick(all.futureMemPeak, rows), futureMemMean: pick(all.futureMemMean, rows) };
  const recs: Partial<Record<SystemName, Recommendations>> = {};
  for (const sys of SYSTEMS) {
    const r = s.recs[sys];
    if (r) recs[sys] = { cpuRequest: pick(r.cpuRequest, rows), cpuLimit: pick(r.cpuLimit, rows), memRequest: pick(r.memRequest, rows), memLimit: pick(r.memLimit, rows) };
  }
  const systems: StressSlice['systems'] = {};
  for (const sys of SYSTEMS) if (recs[sys]) systems[sys] = resourceMetrics(recs[sys]!, o);
  const byGroup = new Map<string, number[]>();
  const vms = new Set<string>();
  rows.forEach((i, k) => {
    const vm = s.windows[i]!.vm;
    vms.add(vm);
    const g = groupOf(vm);
    if (!byGroup.has(g)) byGroup.set(g, []);
    byGroup.get(g)!.push(k);
  });
  const sums: Record<string, Sums[]> = {};
  for (const sys of SYSTEMS) if (recs[sys] && sys !== 'as-provisioned') sums[sys] = [...byGroup.values()].map((g) => sumsOf(recs[sys]!, o, g));
  return {
    name,
    kind,
    model: s.model,
    vms: vms.size,
    groups: byGroup.size,
    windows: rows.length,
    systems,
    intervals: byGroup.size >= 2 && sums.model ? bootstrapVersus(sums) : null,
    riskCurve: s.table && recs.model ? riskCurve(recs.model, o, s.table) : [],
  };
}

/** monthLabel: the UTC month in the middle of the traces' time span ("2013-07"), else the folder's name. */
function monthLabel(traces: UsageTrace[], input: string): string {
  let lo = Infinity;
  let hi = -Infinity;
  for (const t of traces) if (t.timestampsSec.length) {
    lo = Math.min(lo, t.timestampsSec[0]!);
    hi = Math.max(hi, t.timestampsSec[t.timestampsSec.length - 1]!);
  }
  return Number.isFinite(lo) ? new Date(((lo + hi) / 2) * 1000).toISOString().slice(0, 7) : basename(input);
}

/** loadModel reads a model file, its session and its risk table. */
async function loadModel(path: string): Promise<{ session: OnnxPredictor; table: RiskTable | null }> {
  const bytes = readBytesOrThrow(path, { what: 'model', error: OnnxModelError });
  return { session: await loadOnnx(bytes, path), table: parseRiskTable(inspectOnnx(bytes, path).metadata.risk_calibration, path) };
}

/** readMonths reads the role's VMs from every input folder and cuts them into protocol windows. */
function readMonths(o: StressOptions, roleVms: Set<string>, log: (l: string) => void): { label: string; input: string; traces: UsageTrace[]; windows: TraceWindow[] }[] {
  const source = getSource(o.source);
  const months = o.inputs.map((input) => {
    const traces = source.read([input], { strict: o.strict, log, select: (n) => roleVms.has(n) });
    if (!traces.length) throw new UserError(`--input ${input}: none of the ${roleVms.size} ${o.role} VMs of --split ${o.splitFile} is in it; give folders of the fleet the split was made on (one per month)`);
    const windows = traces.flatMap((t) => windowsOf(t));
    log(`stress: ${input}: ${traces.length} ${o.role} VMs, ${windows.length} windows`);
    return { label: monthLabel(traces, input), input, traces, windows };
  });
  for (const m of months) if (months.filter((x) => x.label === m.label).length > 1) m.label = `${m.label} (${basename(m.input)})`;
  if (!months.some((m) => m.windows.length)) throw new UserError(`--input ${o.inputs.join(', ')}: no ${o.role} VM has ${PROTOCOL.pastDays + PROTOCOL.futureDays} days of samples for one window`);
  return months;
}

/**
 * sizeHalves: the split's own size halves (split.size, the fleet-wide median of median daily peaks in the
 * reference month: the same halves the half-trained models were trained on), for the VMs with windows;
 * a split without them: the VMs ranked by their median daily memory peak in the first month they appear in.
 */
function sizeHalves(months: { traces: UsageTrace[] }[], withWindows: Set<string>, split: FleetSplit): StressReport['sizes'] {
  if (split.size) {
    const vms = [...withWindows].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    return { smaller: vms.filter((v) => split.size.half[v] === 'smaller'), larger: vms.filter((v) => split.size.half[v] === 'larger'), boundaryBytes: split.size.thresholdBytes };
  }
  const sizes = new Map<string, number>();
  for (const m of months) for (const t of m.traces) if (withWindows.has(t.name) && !sizes.has(t.name)) sizes.set(t.name, medianDailyPeak(t));
  return halvesBySize(sizes);
}

/** evaluateStress: every slice of the module header, on the split's `role` VMs. */
export async function evaluateStress(o: StressOptions): Promise<StressReport> {
  const log = o.log ?? (() => {});
  const split = readFleetSplit(o.splitFile);
  for (const [name, path] of Object.entries(o.sliceModels ?? {})) {
    if (!existsSync(path)) throw new UserError(`--slice-model ${name}=${path}: no such file; give the ONNX model trained on the other half`);
  }
  const roleVms = new Set(vmsOf(split, o.role));
  if (!roleVms.size) throw new UserError(`--role ${o.role}: --split ${o.splitFile} gives no VM that role; choose another --role or another --split`);
  const months = readMonths(o, roleVms, log);
  const pooled = months.flatMap((m) => m.windows);
  const groups = groupIndex(split);
  const groupOf = (vm: string) => groups.get(vm) ?? vm;
  const rowsWhere = (f: (w: TraceWindow, i: number) => boolean) => pooled.flatMap((w, i) => (f(w, i) ? [i] : []));
  const sizes = sizeHalves(months, new Set(pooled.map((w) => w.vm)), split);
  const main = await loadModel(o.model);
  const slices: StressSlice[] = [];
  const notes: string[] = [];
  try {
    log(`stress: all months, ${pooled.length} windows`);
    const base: Scored = { windows: pooled, recs: await recommendAll(pooled, main.session, (s) => log(`stress: all months: ${s}`)), model: o.model, table: main.table };
    let start = 0;
    for (const m of months) {
      const rows = Array.from({ length: m.windows.length }, (_, k) => start + k);
      start += m.windows.length;
      if (rows.length) slices.push(scoreSlice(m.label, 'month', base, rows, groupOf));
      else notes.push(`month ${m.label} (${m.input}) omitted: no window`);
    }
    slices.push(scoreSlice('all months', 'pooled', base, rowsWhere(() => true), groupOf));
    for (const r of RESCALINGS) {
      log(`stress: ${r.name}`);
      const scaled = pooled.map((w) => scaleWindow(w, r.resource, r.factor));
      const s: Scored = { windows: scaled, recs: await recommendAll(scaled, main.session, (x) => log(`stress: ${r.name}: ${x}`)), model: o.model, table: main.table };
      slices.push(scoreSlice(r.name, 'rescaled', s, rowsWhere(() => true), groupOf));
    }
    const half = { smaller: new Set(sizes.smaller), larger: new Set(sizes.larger) };
    for (const h of ['smaller', 'larger'] as const) slices.push(scoreSlice(`${h} half`, 'size', base, rowsWhere((w) => half[h].has(w.vm)), groupOf));
    for (const [name, spec] of Object.entries(SLICE_MODELS) as [SliceModelName, (typeof SLICE_MODELS)[SliceModelName]][]) {
      const path = o.sliceModels?.[name];
      if (!path) {
        notes.push(`slice "${spec.slice}" omitted: no --slice-model ${name}=PATH`);
        continue;
      }
      const windows = pooled.filter((w) => half[spec.half].has(w.vm));
      const m = await loadModel(path);
      try {
        log(`stress: ${spec.slice} (${path})`);
        const s: Scored = { windows, recs: await recommendAll(windows, m.session, (x) => log(`stress: ${spec.slice}: ${x}`)), model: path, table: m.table };
        slices.push(scoreSlice(spec.slice, 'size-model', s, windows.map((_, i) => i), groupOf));
      } finally {
        await m.session.release();
      }
    }
  } finally {
    await main.session.release();
  }
  if (!main.table) notes.push(`${o.model} has no risk table (trained without --calibration-data): no risk curve, hold targets not measured`);
  return {
    schemaVersion: 1,
    kind: 'stress',
    createdAt: new Date().toISOString(),
    trace: o.source,
    model: o.model,
    split: { file: o.splitFile, role: o.role, roleVms: roleVms.size, evaluatedVms: new Set(pooled.map((w) => w.vm)).size },
    protocol: PROTOCOL,
    months: months.map((m) => ({ label: m.label, input: m.input, vms: m.traces.length, windows: m.windows.length })),
    sizes,
    slices,
    notes,
  };
}
