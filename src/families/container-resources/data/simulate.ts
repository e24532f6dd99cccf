/**
 * simulate: turns workload models into training samples. Each sample is one container simulated over a
 * past window (7 days, whose usage becomes the 12 features through the contract's computeFeatures) and
 * the following window (3 days, what really happened: outcomes and labels).
 *
 * Observation model. Some containers already run under a CPU limit (70%: 1..4× their typical demand). In
 * the past window the observed CPU is min(demand, limit) and the CFS counters count throttled periods;
 * the outcome of the future window is the unthrottled demand, because the recommendation replaces the
 * limit. So `throttle_ratio` is the model's only hint that the observed CPU understates the demand.
 *
 * Label policy (hindsight, in real units, then normalized by the contract):
 *   cpu_request = future CPU p95               (request near the future p95)
 *   cpu_limit   = max(future CPU p99 × 1.10, cpu_request)
 *   mem_request = future memory p95 of samples
 *   mem_limit   = future memory peak × 1.15    (the peak plus a 15% margin, as VPA; chosen on the
 *                 synthetic validation seed 20261123: ×1.05 gave business 80, ×1.15 about 67)
 *   confidence  = envelope label: 1 when the future stayed inside the past envelope (future memory peak
 *                 ≤ 1.05 × past memory peak and future CPU p99 ≤ 1.10 × past CPU p99), else 0. This is the
 *                 hindsight answer to "would a recommendation sized from the past window have held?".
 *                 train.ts trains the confidence head on the same question asked of the network's OWN
 *                 recommendation (from the outcome arrays), which is what validate calibrates.
 * Outcomes kept for evaluating any recommender: future CPU p95/p99/max/mean (cores), future memory
 * peak/p95/mean (bytes), plus the past window's memory and CPU maxima (for fixed-rule baselines).
 */
import { computeFeatures, normalizeFeatures, normalizeOutputs, N_FEATURES, N_OUTPUTS, toVector } from '../features.js';
import type { FeatureValues } from '../features.js';
import { maxOf, mean, percentileSorted, sortedCopy } from '../../../util/stats.js';
import { mix32, Rng } from '../../../util/rng.js';
import { drawParams, FUTURE_STEPS, KINDS, MODELS, PAST_SEC, PAST_STEPS, SIM_STEP_SEC } from './workloads.js';
import type { DataKind, Kind, WorkloadParams } from './workloads.js';
import type { UsageWindow } from '../../../sources/types.js';
import { DATA_KINDS } from './workloads.js';

/** GENERATOR_VERSION changes whenever the same seed would give different data. */
export const GENERATOR_VERSION = '1.4.0';

/** CFS periods in one simulator step (100 ms periods). */
const PERIODS_PER_STEP = SIM_STEP_SEC * 10;

export const OUTCOME_NAMES = [
  'future_cpu_p95', 'future_cpu_p99', 'future_cpu_max', 'future_cpu_mean',
  'future_mem_peak', 'future_mem_p95', 'future_mem_mean',
  'past_cpu_max', 'past_mem_peak',
] as const;
export type OutcomeName = (typeof OUTCOME_NAMES)[number];

export const LABEL_POLICY = {
  cpuLimitMarginOverP99: 1.1,
  memLimitMarginOverPeak: 1.15,
  envelopeMemMargin: 1.05,
  envelopeCpuMargin: 1.1,
} as const;

/** Dataset is the generator's output, in memory. Row i of every array is sample i. */
export interface Dataset {
  n: number;
  /** normalized features, n × 12 */
  X: Float32Array;
  /** normalized labels, n × 5 */
  Y: Float32Array;
  /** features in real units, n × 12 (float64) */
  featuresRaw: Float64Array;
  /** outcome arrays in real units (cores, bytes) */
  outcomes: Record<OutcomeName, Float64Array>;
  /** index into DATA_KINDS per sample */
  kind: Uint8Array;
  /** per-sample group for real windows (the VM or workload a window was cut from); absent for simulated data */
  group?: string[];
}

/** A window to label: its past usage and its future (simulated, or cut from a real trace). */
export interface LabeledWindow {
  kind: DataKind;
  past: UsageWindow;
  /** the future window's CPU demand (cores) and memory (bytes), one value per sample */
  futureDemand: ArrayLike<number>;
  futureMemory: ArrayLike<number>;
}

/** One simulated container: its raw windows, for evaluators that need the series (baselines). */
export interface SimulatedWindow extends LabeledWindow {
  kind: Kind;
  past: { timestampsSec: Float64Array; cpuCores: Float64Array; memoryBytes: Float64Array; throttledPeriods: Float64Array; totalPeriods: Float64Array; workloadStartSec: number };
  /** the existing CPU limit the past ran under (cores), or null */
  cpuLimitCores: number | null;
  futureDemand: Float64Array;
  futureMemory: Float64Array;
}

/**
 * addMemorySpikes overlays rare short memory spikes on half of the workloads, whatever their kind: a
 * report, a cache rebuild, a backup, a burst of large requests. A spiking workload starts one in 0.05%..1%
 * of steps; each adds 10..100% of the current usage for 1..3 steps. Real VM traces (Bitbrains) show such
 * isolated maxima, which is why the memory features are over per-day peaks.
 */
function addMemorySpikes(rng: Rng, memory: Float64Array, s: MemorySpikeSettings = DEFAULT_MEMORY_SPIKES): void {
  if (!rng.chance(s.share)) return;
  const rate = rng.logUniform(0.0005 * s.rateScale, 0.01 * s.rateScale);
  for (let i = 0; i < memory.length; i++) {
    if (!rng.chance(rate)) continue;
    const extra = rng.range(0.1, 1) * s.sizeScale;
    const len = 1 + rng.int(3);
    for (let k = i; k < Math.min(memory.length, i + len); k++) memory[k] = memory[k]! * (1 + extra);
    i += len;
  }
}

/** MemorySpikeSettings: the share of workloads that spike, and scales on the spike rate (0.05%..1% of steps) and size (+10..100%). */
export interface MemorySpikeSettings {
  share: number;
  rateScale: number;
  sizeScale: number;
}
export const DEFAULT_MEMORY_SPIKES: MemorySpikeSettings = { share: 0.5, rateScale: 1, sizeScale: 1 };

/**
 * SimulatorSettings: what a calibration (calibration.ts) may change. Without settings the simulator draws
 * every kind with probability 1/8 and the default spikes, exactly as before calibration existed (same seed,
 * same bytes); with settings it draws kind k with probability kindWeights[k] / Σ weights (one uniform draw,
 * as the default) and overlays spikes with `memorySpikes`.
 */
export interface SimulatorSettings {
  kindWeights: Record<Kind, number>;
  memorySpikes: MemorySpikeSettings;
  /** σ of per-step lognormal CPU noise (0: none) */
  cpuNoise?: number;
  /** per-day memory level: σ of the log factor and its day-to-day persistence φ (σ 0: none) */
  memoryDays?: { sigma: number; phi: number };
  /** per-day CPU level: σ of the log factor (its persistence is memoryDays.phi; 0: none) */
  cpuDaySigma?: number;
}

/** pickKind maps one uniform u in [0, 1) to a kind by cumulative weights. */
function pickKind(u: number, w: Record<Kind, number>): Kind {
  let total = 0;
  for (const k of KINDS) total += Math.max(0, w[k] ?? 0);
  if (!(total > 0)) throw new RangeError('kindWeights: at least one weight must be positive');
  let acc = 0;
  for (const k of KINDS) {
    acc += Math.max(0, w[k] ?? 0) / total;
    if (u < acc) return k;
  }
  return [...KINDS].reverse().find((k) => (w[k] ?? 0) > 0)!;
}

/** A year of end times: windows end between 2026-01-08 and 2027-01-08 UTC, on a step boundary. */
const EPOCH_2026 = Date.UTC(2026, 0, 8) / 1000;

/**
 * SimBase: one simulated container before the calibrated overlays and the observation model: its kind,
 * sizes, times, CPU demand and memory over past + future, and the CPU limit it runs under (or null).
 */
export interface SimBase {
  kind: Kind;
  p: WorkloadParams;
  t0: number;
  tEnd: number;
  demand: Float64Array;
  memory: Float64Array;
  cpuLimit: number | null;
}

/**
 * simulateOne simulates sample `index` of the data set with `seed`: the sample depends only on
 * (seed, index) and the settings, so any subset can be regenerated and the work split across threads.
 *
 * Without settings (the default, unchanged since GENERATOR_VERSION 1.3.0): kind 1/8 each, the kind's
 * model, memory spikes, the CPU limit draw, all from one random stream. With settings (a calibration):
 * the kind by its weight, the model and the CPU limit draw from the sample's stream, then the overlays
 * (applyOverlays) from a second stream of (seed, index), so that calibration can re-use one simulation of
 * the base under many overlay settings (simulateBase + finishWindow give exactly simulateOne's sample).
 */
export function simulateOne(seed: number, index: number, settings?: SimulatorSettings): SimulatedWindow {
  if (settings) return finishWindow(simulateBase(seed, index, settings), seed, index, settings);
  const rng = new Rng(mix32(seed, index));
  const kind = KINDS[rng.int(KINDS.length)]!;
  const { p, t0, tEnd, demand, memory } = runModel(kind, rng);
  addMemorySpikes(rng, memory);
  const cpuLimit = rng.chance(0.7) ? p.cpu * rng.range(1, 4) : null;
  return observe({ kind, p, t0, tEnd, demand, memory, cpuLimit });
}

/**
 * simulateBase draws the calibrated path's base of sample `index`: the kind from settings' weights (or
 * `forceKind`, which replaces the drawn one after the draw so the rest of the stream keeps its layout).
 */
export function simulateBase(seed: number, index: number, settings: Pick<SimulatorSettings, 'kindWeights'> | undefined, forceKind?: Kind): SimBase {
  const rng = new Rng(mix32(seed, index));
  const u = rng.next();
  const kind = forceKind ?? pickKind(u, settings!.kindWeights);
  const { p, t0, tEnd, demand, memory } = runModel(kind, rng);
  const cpuLimit = rng.chance(0.7) ? p.cpu * rng.range(1, 4) : null;
  return { kind, p, t0, tEnd, demand, memory, cpuLimit };
}

/** finishWindow applies the settings' overlays to a copy of base's series and observes the result. */
export function finishWindow(base: SimBase, seed: number, index: number, settings: SimulatorSettings): SimulatedWindow {
  const demand = Float64Array.from(base.demand);
  const memory = Float64Array.from(base.memory);
  applyOverlays(new Rng(mix32(seed, index, OVERLAY_STREAM)), base.t0, demand, memory, settings);
  return observe({ ...base, demand, memory });
}

const OVERLAY_STREAM = 0x6f766c79;
const DAY_SEC = 86400;

/**
 * applyOverlays: the calibrated simulator's kind-independent overlays, in this order:
 *   CPU noise    demand × exp(σ·N(0,1) − σ²/2) per step (σ = cpuNoise; mean-preserving), burstier CPU;
 *   memory days  memory × exp(x_d) per UTC day d, x an AR(1) over days (x_d = φ·x_{d−1} + √(1−φ²)·σ·N),
 *                σ = memoryDays.sigma, φ = memoryDays.phi: day-to-day level changes and trends;
 *   CPU days     the same for CPU demand with σ = cpuDaySigma (and the same φ);
 *   spikes       addMemorySpikes with memorySpikes.
 * Each is skipped when its σ is 0 (no draws).
 */
function applyOverlays(rng: Rng, t0: number, demand: Float64Array, memory: Float64Array, s: SimulatorSettings): void {
  const cn = s.cpuNoise ?? 0;
  if (cn > 0) for (let i = 0; i < demand.length; i++) demand[i] = demand[i]! * Math.exp(cn * rng.normal() - (cn * cn) / 2);
  const md = s.memoryDays ?? { sigma: 0, phi: 0 };
  if (md.sigma > 0) dayLevels(rng, t0, memory, md.sigma, md.phi);
  if ((s.cpuDaySigma ?? 0) > 0) dayLevels(rng, t0, demand, s.cpuDaySigma!, md.phi);
  addMemorySpikes(rng, memory, s.memorySpikes);
}

/** dayLevels multiplies series by exp(x_d) per UTC day d, x an AR(1) over days with stationary std sigma and persistence phi. */
function dayLevels(rng: Rng, t0: number, series: Float64Array, sigma: number, phi: number): void {
  let day = Math.floor(t0 / DAY_SEC);
  let x = sigma * rng.normal();
  let f = Math.exp(x);
  for (let i = 0; i < series.length; i++) {
    const d = Math.floor((t0 + i * SIM_STEP_SEC) / DAY_SEC);
    if (d !== day) {
      day = d;
      x = phi * x + Math.sqrt(1 - phi * phi) * sigma * rng.normal();
      f = Math.exp(x);
    }
    series[i] = series[i]! * f;
  }
}

/** runModel draws a workload's sizes and end time and runs its kind's model over past + future. */
function runModel(kind: Kind, rng: Rng) {
  const p = drawParams(kind, rng);
  const steps = PAST_STEPS + FUTURE_STEPS;
  const tEnd = EPOCH_2026 + rng.int((365 * 86400) / SIM_STEP_SEC) * SIM_STEP_SEC;
  const t0 = tEnd - PAST_SEC + SIM_STEP_SEC;
  const demand = new Float64Array(steps);
  const memory = new Float64Array(steps);
  MODELS[kind](p, rng, t0, steps, demand, memory);
  return { p, t0, tEnd, demand, memory };
}

/** observe applies the observation model (CPU limit, CFS counters) and splits past and future. */
function observe(b: SimBase): SimulatedWindow {
  const { kind, p, t0, tEnd, demand, memory, cpuLimit } = b;
  const ts = new Float64Array(PAST_STEPS);
  const cpu = new Float64Array(PAST_STEPS);
  const thr = new Float64Array(PAST_STEPS);
  const tot = new Float64Array(PAST_STEPS);
  let cumThr = 0;
  let cumTot = 0;
  for (let i = 0; i < PAST_STEPS; i++) {
    ts[i] = t0 + i * SIM_STEP_SEC;
    const d = demand[i]!;
    cpu[i] = cpuLimit === null ? d : Math.min(d, cpuLimit);
    // Throttling starts before the mean reaches the quota (bursts within the step): from 80% of the limit.
    const frac = cpuLimit === null ? 0 : Math.min(1, Math.max(0, (d / cpuLimit - 0.8) * 0.5));
    cumTot += PERIODS_PER_STEP;
    cumThr += Math.round(frac * PERIODS_PER_STEP);
    thr[i] = cumThr;
    tot[i] = cumTot;
  }
  return {
    kind,
    past: { timestampsSec: ts, cpuCores: cpu, memoryBytes: memory.subarray(0, PAST_STEPS), throttledPeriods: thr, totalPeriods: tot, workloadStartSec: tEnd - p.ageEndSec },
    cpuLimitCores: cpuLimit,
    futureDemand: demand.subarray(PAST_STEPS),
    futureMemory: memory.subarray(PAST_STEPS),
  };
}

/** Sample is one row of the data set in real units. */
export interface Sample {
  kind: DataKind;
  features: FeatureValues;
  labels: [number, number, number, number, number];
  outcomes: Record<OutcomeName, number>;
}

/** labelSample computes the features, outcomes and labels of one window (simulated or real). */
export function labelSample(w: LabeledWindow): Sample {
  const features = computeFeatures(w.past);
  const fc = sortedCopy(w.futureDemand);
  const fm = sortedCopy(w.futureMemory);
  const o: Record<OutcomeName, number> = {
    future_cpu_p95: percentileSorted(fc, 95),
    future_cpu_p99: percentileSorted(fc, 99),
    future_cpu_max: fc[fc.length - 1]!,
    future_cpu_mean: mean(w.futureDemand),
    future_mem_peak: fm[fm.length - 1]!,
    future_mem_p95: percentileSorted(fm, 95),
    future_mem_mean: mean(w.futureMemory),
    past_cpu_max: maxOf(w.past.cpuCores),
    past_mem_peak: maxOf(w.past.memoryBytes),
  };
  return { kind: w.kind, features, labels: labelsOf(o, features.cpu_p99), outcomes: o };
}

/**
 * labelsOf: the hindsight labels of one window from its outcomes (LABEL_POLICY): CPU request = future p95,
 * CPU limit = max(future p99 × 1.1, request), memory request = future p95, memory limit = future peak ×
 * 1.15, and whether the past envelope held (the confidence label). Real units.
 */
export function labelsOf(o: Record<OutcomeName, number>, pastCpuP99: number): Sample['labels'] {
  const L = LABEL_POLICY;
  const holds = o.future_mem_peak <= L.envelopeMemMargin * o.past_mem_peak && o.future_cpu_p99 <= L.envelopeCpuMargin * pastCpuP99;
  const cpuReq = o.future_cpu_p95;
  return [cpuReq, Math.max(o.future_cpu_p99 * L.cpuLimitMarginOverP99, cpuReq), o.future_mem_p95, o.future_mem_peak * L.memLimitMarginOverPeak, holds ? 1 : 0];
}

/** allocate returns an empty data set of n rows. */
export function allocateDataset(n: number): Dataset {
  const outcomes = {} as Record<OutcomeName, Float64Array>;
  for (const k of OUTCOME_NAMES) outcomes[k] = new Float64Array(n);
  return { n, X: new Float32Array(n * N_FEATURES), Y: new Float32Array(n * N_OUTPUTS), featuresRaw: new Float64Array(n * N_FEATURES), outcomes, kind: new Uint8Array(n) };
}

/** writeRow stores sample s as row i of ds. */
export function writeRow(ds: Dataset, i: number, s: Sample): void {
  const raw = toVector(s.features);
  ds.featuresRaw.set(raw, i * N_FEATURES);
  normalizeFeatures(raw, ds.X, i * N_FEATURES);
  normalizeOutputs(s.labels, raw, ds.Y, i * N_OUTPUTS);
  for (const k of OUTCOME_NAMES) ds.outcomes[k][i] = s.outcomes[k];
  ds.kind[i] = DATA_KINDS.indexOf(s.kind);
}

/**
 * simulateRange simulates samples [from, to) of the data set for seed into ds, sample i at row
 * i − rowOffset (rowOffset = from fills a data set that holds just this range).
 */
export function simulateRange(ds: Dataset, seed: number, from: number, to: number, onProgress?: (done: number) => void, rowOffset = 0, settings?: SimulatorSettings): void {
  for (let i = from; i < to; i++) {
    writeRow(ds, i - rowOffset, labelSample(simulateOne(seed, i, settings)));
    if (onProgress && (i - from) % 2000 === 1999) onProgress(i - from + 1);
  }
}
