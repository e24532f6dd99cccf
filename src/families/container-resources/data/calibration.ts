/**
 * calibration: fits the simulator to real windows, and compares simulated and real windows.
 *
 * What is fitted (SimulatorSettings, simulate.ts): the workload-kind mix (8 non-negative weights) and seven
 * kind-independent overlay parameters: the share of workloads with memory spikes and scales on the spikes'
 * rate and size, per-step CPU noise, and per-day memory and CPU levels (σ each, day-to-day persistence φ).
 *
 * Objective: the mean over FITTED_STATS (window-stats.ts) of the two-sample Kolmogorov–Smirnov distance
 * between the simulated windows' statistic and the real windows' one. Deterministic method:
 *   1. Simulate `perKind` base windows of every kind (simulateBase, kind forced; fixed seed FIT_SEED).
 *   2. For given overlay settings, finish every base window (finishWindow, the same code as generation) and
 *      compute its statistics; the mixture's CDF of a statistic is then Σ_k w_k F_k(x), so
 *   3. the kind weights are fitted by coordinate search (each weight ± step, renormalized, accepted when the
 *      objective drops; the step halves when no move helps, from 0.25 to 1/512), starting from 1/8 each,
 *      with every weight ≥ MIN_KIND_WEIGHT (2%) so that no kind disappears from calibrated data;
 *   4. the overlay parameters by coordinate search over a fixed ladder of values each (OVERLAY_LADDERS),
 *      refitting the weights (3) for every candidate, from the uncalibrated values, until a full round
 *      changes nothing (at most MAX_ROUNDS = 5 rounds).
 * Only the real windows given are used: the CLI passes the training split (VMs 1–150) and nothing else.
 */
import { KINDS } from './workloads.js';
import type { Kind } from './workloads.js';
import { DEFAULT_MEMORY_SPIKES, finishWindow, GENERATOR_VERSION, simulateBase, simulateOne } from './simulate.js';
import type { SimBase, SimulatedWindow, SimulatorSettings } from './simulate.js';
import { FITTED_STATS, ksDistance, quantiles, STAT_NAMES, toColumns, windowStats } from './window-stats.js';
import type { StatColumns, StatName, WindowStats } from './window-stats.js';
import { windowsOf } from './windows.js';
import type { UsageTrace } from '../../../sources/types.js';
import { percentileSorted, sortedCopy } from '../../../util/stats.js';
import { InputError } from '../../../util/errors.js';

export const CALIBRATION_SCHEMA = 'simulator-calibration/1';
export const FIT_SEED = 20260917;
/** MAX_ROUNDS: full rounds of the overlay search at most. */
export const MAX_ROUNDS = 5;
/** MIN_KIND_WEIGHT: every kind keeps at least this share of calibrated samples (2%; 8 kinds: 16% in all). */
export const MIN_KIND_WEIGHT = 0.02;

/** The uncalibrated simulator as settings: uniform mix, default spikes, no CPU noise, no per-day memory levels. */
export const UNCALIBRATED: SimulatorSettings = {
  kindWeights: Object.fromEntries(KINDS.map((k) => [k, 1 / KINDS.length])) as Record<Kind, number>,
  memorySpikes: { ...DEFAULT_MEMORY_SPIKES },
  cpuNoise: 0,
  memoryDays: { sigma: 0, phi: 0 },
  cpuDaySigma: 0,
};

/** OVERLAY_LADDERS: the values the overlay search tries for each parameter (the uncalibrated value is in each). */
export const OVERLAY_LADDERS = {
  spikeShare: [0, 0.25, 0.5, 0.75, 1],
  spikeRateScale: [0.25, 0.5, 1, 2, 4, 8],
  spikeSizeScale: [0.5, 1, 2, 4, 8],
  cpuNoise: [0, 0.25, 0.5, 1, 1.5],
  memoryDaySigma: [0, 0.05, 0.1, 0.2, 0.3, 0.5],
  memoryDayPhi: [0, 0.5, 0.8, 0.95],
  cpuDaySigma: [0, 0.1, 0.2, 0.4, 0.7],
} as const;
type OverlayParam = keyof typeof OVERLAY_LADDERS;
type Overlay = Record<OverlayParam, number>;

function overlayOf(s: SimulatorSettings): Overlay {
  return {
    spikeShare: s.memorySpikes.share,
    spikeRateScale: s.memorySpikes.rateScale,
    spikeSizeScale: s.memorySpikes.sizeScale,
    cpuNoise: s.cpuNoise ?? 0,
    memoryDaySigma: s.memoryDays?.sigma ?? 0,
    memoryDayPhi: s.memoryDays?.phi ?? 0,
    cpuDaySigma: s.cpuDaySigma ?? 0,
  };
}
function settingsOf(o: Overlay, kindWeights: Record<Kind, number>): SimulatorSettings {
  return {
    kindWeights,
    memorySpikes: { share: o.spikeShare, rateScale: o.spikeRateScale, sizeScale: o.spikeSizeScale },
    cpuNoise: o.cpuNoise,
    memoryDays: { sigma: o.memoryDaySigma, phi: o.memoryDayPhi },
    cpuDaySigma: o.cpuDaySigma,
  };
}

/** simStats computes the statistics of a simulated window (past as observed, future demand and memory). */
export function simStats(w: SimulatedWindow): WindowStats {
  return windowStats({ past: w.past, futureCpu: w.futureDemand, futureMemory: w.futureMemory });
}

/** realWindowStats cuts traces into protocol windows and computes each window's statistics. */
export function realWindowStats(traces: UsageTrace[]): { rows: WindowStats[]; traces: number; windows: number } {
  const rows: WindowStats[] = [];
  for (const t of traces) for (const w of windowsOf(t)) rows.push(windowStats({ past: w.past, futureCpu: w.future.cpuCores, futureMemory: w.future.memoryBytes }));
  return { rows, traces: traces.length, windows: rows.length };
}

/** simulatedStats: statistics of samples [0, n) of the data set (seed, settings): exactly the first n rows generate writes. */
export function simulatedStats(seed: number, n: number, settings?: SimulatorSettings): StatColumns {
  return toColumns(Array.from({ length: n }, (_, i) => simStats(simulateOne(seed, i, settings))));
}

/**
 * MixtureObjective: the mean KS distance over FITTED_STATS between a kind mixture and the real windows,
 * from per-kind statistics. Every statistic's ECDFs are tabulated once at every value either side takes,
 * so one evaluation is |grid| × kinds multiply-adds per statistic.
 */
export class MixtureObjective {
  private tables: { F: Float64Array; R: Float64Array; m: number }[] = [];
  evaluations = 0;

  constructor(perKind: StatColumns[], real: StatColumns, readonly stats: readonly StatName[] = FITTED_STATS) {
    const K = perKind.length;
    for (const s of stats) {
      const r = sortedCopy(real[s]);
      const ks = perKind.map((c) => sortedCopy(c[s]));
      const grid = sortedCopy([...r, ...ks.flatMap((x) => Array.from(x))]);
      const uniq: number[] = [];
      for (const x of grid) if (!uniq.length || x !== uniq[uniq.length - 1]) uniq.push(x);
      const m = uniq.length;
      const F = new Float64Array(m * K);
      const R = new Float64Array(m);
      const ecdf = (sorted: Float64Array, out: Float64Array, stride: number, off: number) => {
        let j = 0;
        for (let g = 0; g < m; g++) {
          while (j < sorted.length && sorted[j]! <= uniq[g]!) j++;
          out[g * stride + off] = sorted.length ? j / sorted.length : 0;
        }
      };
      ecdf(r, R, 1, 0);
      ks.forEach((x, k) => ecdf(x, F, K, k));
      this.tables.push({ F, R, m });
    }
  }

  /** perStat returns the KS distance of each statistic for normalized weights w. */
  perStat(w: ArrayLike<number>): number[] {
    this.evaluations++;
    const K = w.length;
    return this.tables.map(({ F, R, m }) => {
      let d = 0;
      for (let g = 0; g < m; g++) {
        let f = 0;
        for (let k = 0; k < K; k++) f += w[k]! * F[g * K + k]!;
        const e = Math.abs(f - R[g]!);
        if (e > d) d = e;
      }
      return d;
    });
  }

  value(w: ArrayLike<number>): number {
    const d = this.perStat(w);
    return d.reduce((a, b) => a + b, 0) / d.length;
  }
}

/**
 * fitWeights: the coordinate search of step 3 above. Returns normalized weights and the objective. Every
 * weight is at least `floor` (w = floor + (1 − K·floor)·v, the search runs on v), so that no kind vanishes
 * from calibrated data: synthetic data keeps covering what the real fleet lacks.
 */
export function fitWeights(obj: MixtureObjective, K: number, floor = MIN_KIND_WEIGHT): { w: number[]; value: number } {
  const toW = (v: number[]) => v.map((x) => floor + (1 - K * floor) * x);
  let v = new Array<number>(K).fill(1 / K);
  let best = obj.value(toW(v));
  let step = 0.25;
  while (step >= 1 / 512) {
    let moved = false;
    for (let k = 0; k < K; k++) {
      for (const dir of [1, -1]) {
        const c = v.slice();
        c[k] = Math.max(0, c[k]! + dir * step);
        const tot = c.reduce((a, b) => a + b, 0);
        if (!(tot > 0)) continue;
        for (let j = 0; j < K; j++) c[j] = c[j]! / tot;
        const val = obj.value(toW(c));
        if (val < best - 1e-12) {
          v = c;
          best = val;
          moved = true;
          break;
        }
      }
    }
    if (!moved) step /= 2;
  }
  return { w: toW(v), value: best };
}

export interface FitOptions {
  /** base windows simulated per kind (default 200) */
  perKind?: number;
  seed?: number;
  /** fit the kind weights only, keeping the uncalibrated overlays */
  weightsOnly?: boolean;
  /** the least weight of every kind (default MIN_KIND_WEIGHT) */
  minWeight?: number;
  log?: (line: string) => void;
}

export interface FitResult {
  settings: SimulatorSettings;
  /** mean KS over FITTED_STATS on the fit's own simulated windows */
  objective: number;
  candidates: number;
  seconds: number;
  perKind: number;
  seed: number;
}

/** fitCalibration fits SimulatorSettings to the real windows' statistics (see the file comment). */
export function fitCalibration(real: StatColumns, opts: FitOptions = {}): FitResult {
  const t0 = performance.now();
  const perKind = opts.perKind ?? 200;
  const seed = opts.seed ?? FIT_SEED;
  if (!(real[FITTED_STATS[0]!].length > 0)) throw new InputError('calibration needs at least one real window');
  const bases: SimBase[][] = KINDS.map((k, ki) => Array.from({ length: perKind }, (_, i) => simulateBase(seed, ki * perKind + i, undefined, k)));
  const cache = new Map<string, { w: number[]; value: number }>();
  const evaluate = (o: Overlay) => {
    const key = JSON.stringify(o);
    let r = cache.get(key);
    if (!r) {
      const s = settingsOf(o, UNCALIBRATED.kindWeights);
      const perKindStats = bases.map((bs, ki) => toColumns(bs.map((b, i) => simStats(finishWindow(b, seed, ki * perKind + i, s)))));
      r = fitWeights(new MixtureObjective(perKindStats, real), KINDS.length, opts.minWeight ?? MIN_KIND_WEIGHT);
      cache.set(key, r);
    }
    return r;
  };
  let o = overlayOf(UNCALIBRATED);
  let best = evaluate(o);
  opts.log?.(`uncalibrated overlays, fitted mix: mean KS ${best.value.toFixed(4)}`);
  if (!opts.weightsOnly) {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      let changed = false;
      for (const param of Object.keys(OVERLAY_LADDERS) as OverlayParam[]) {
        for (const v of OVERLAY_LADDERS[param]) {
          if (v === o[param]) continue;
          const c = { ...o, [param]: v };
          const r = evaluate(c);
          if (r.value < best.value - 1e-9) {
            o = c;
            best = r;
            changed = true;
          }
        }
      }
      opts.log?.(`round ${round + 1}: mean KS ${best.value.toFixed(4)} with ${JSON.stringify(o)} (${cache.size} candidates, ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      if (!changed) break;
    }
  }
  const kindWeights = Object.fromEntries(KINDS.map((k, i) => [k, +best.w[i]!.toFixed(4)])) as Record<Kind, number>;
  return { settings: settingsOf(o, kindWeights), objective: best.value, candidates: cache.size, seconds: (performance.now() - t0) / 1000, perKind, seed };
}

/** REFERENCE_QUANTILES: the real distribution stored in a calibration file, p0..p100 in steps of 1. */
const REFERENCE_STEPS = 100;

/** referenceOf summarizes real statistics as 101 quantiles each (4 significant digits). */
export function referenceOf(real: StatColumns): Record<StatName, number[]> {
  const out = {} as Record<StatName, number[]>;
  for (const s of STAT_NAMES) {
    const v = sortedCopy(real[s]);
    out[s] = Array.from({ length: REFERENCE_STEPS + 1 }, (_, q) => +percentileSorted(v, q).toPrecision(4));
  }
  return out;
}

/** CalibrationFile: data/simulator-calibration.json. */
export interface CalibrationFile {
  schema: typeof CALIBRATION_SCHEMA;
  /** this calibration's own version; bump on every refit */
  version: string;
  /** the generator version the settings were fitted against */
  generatorVersion: string;
  fittedOn: { source: string; input: string; vms: string; traces: number; windows: number; date: string };
  method: string;
  fit: { seed: number; windowsPerKind: number; candidates: number; seconds: number; objective: number };
  settings: SimulatorSettings;
  /** the fitted-on windows' statistics as quantiles p0..p100, the reference generate's report compares with */
  reference: Record<StatName, number[]>;
  /** KS distances to the fitted-on windows of fresh simulated windows (seed checkSeed): uncalibrated vs calibrated */
  ks: { windows: number; seed: number; uncalibrated: Record<StatName, number>; calibrated: Record<StatName, number> };
  /** the same distances on other VMs, a check only (never fitted on) */
  check?: { vms: string; traces: number; windows: number; uncalibrated: Record<StatName, number>; calibrated: Record<StatName, number> };
}

const round4 = (x: number) => +x.toFixed(4);

/** ksTable returns the KS distance of every statistic between a and b. */
export function ksTable(a: StatColumns, b: StatColumns): Record<StatName, number> {
  return Object.fromEntries(STAT_NAMES.map((s) => [s, round4(ksDistance(a[s], b[s]))])) as Record<StatName, number>;
}

/** meanFittedKs is the fit objective's mean over FITTED_STATS of a KS table. */
export function meanFittedKs(t: Record<StatName, number>): number {
  return round4(FITTED_STATS.reduce((a, s) => a + t[s], 0) / FITTED_STATS.length);
}

/** referenceColumns turns a stored reference back into columns (the 101 quantiles as a sample, KS exact to ±0.01). */
export function referenceColumns(ref: Record<StatName, number[]>): StatColumns {
  return Object.fromEntries(STAT_NAMES.map((s) => [s, Float64Array.from(ref[s])])) as StatColumns;
}

/** validateCalibration checks a parsed calibration file; throws InputError naming `file` and the field. */
export function validateCalibration(x: unknown, file: string): CalibrationFile {
  const bad = (what: string) => new InputError(`--calibration ${file}: ${what}; refit it with npm run generate -- --fit-calibration ...`);
  if (!x || typeof x !== 'object') throw bad('is not a JSON object');
  const c = x as Partial<CalibrationFile>;
  if (c.schema !== CALIBRATION_SCHEMA) throw bad(`schema is ${JSON.stringify(c.schema)}, expected "${CALIBRATION_SCHEMA}"`);
  const s = c.settings;
  if (!s || typeof s !== 'object') throw bad('has no settings');
  for (const k of KINDS) if (!(typeof s.kindWeights?.[k] === 'number' && s.kindWeights[k] >= 0)) throw bad(`settings.kindWeights.${k} must be a number ≥ 0`);
  if (!KINDS.some((k) => s.kindWeights[k] > 0)) throw bad('settings.kindWeights are all 0');
  const ms = s.memorySpikes;
  if (!ms || !(ms.share >= 0 && ms.share <= 1) || !(ms.rateScale > 0) || !(ms.sizeScale > 0)) throw bad('settings.memorySpikes needs share in [0, 1], rateScale > 0, sizeScale > 0');
  if (s.cpuNoise !== undefined && !(s.cpuNoise >= 0)) throw bad('settings.cpuNoise must be ≥ 0');
  if (s.cpuDaySigma !== undefined && !(s.cpuDaySigma >= 0)) throw bad('settings.cpuDaySigma must be ≥ 0');
  if (s.memoryDays !== undefined && !(s.memoryDays.sigma >= 0 && s.memoryDays.phi >= 0 && s.memoryDays.phi < 1)) throw bad('settings.memoryDays needs sigma ≥ 0 and phi in [0, 1)');
  if (!c.reference || !STAT_NAMES.every((n) => Array.isArray(c.reference![n]) && c.reference![n].length === REFERENCE_STEPS + 1)) throw bad(`reference must hold ${REFERENCE_STEPS + 1} quantiles of each of ${STAT_NAMES.join(', ')}`);
  return c as CalibrationFile;
}

/** StatReport: one statistic, real vs simulated before and after calibration. */
export interface StatReportRow {
  stat: StatName;
  fitted: boolean;
  real: Record<string, number>;
  uncalibrated: Record<string, number>;
  calibrated: Record<string, number>;
  ksUncalibrated: number;
  ksCalibrated: number;
}
export interface ComparisonReport {
  real: { description: string; windows: number };
  simulated: { seed: number; windows: number; description: string };
  /** which of the two the data file holds */
  generatedWith: 'uncalibrated' | 'calibrated';
  stats: StatReportRow[];
  meanKsFitted: { uncalibrated: number; calibrated: number };
}

/** compareReport builds the side-by-side table: per statistic p10/p50/p90/p99 of real, uncalibrated and calibrated windows, and both KS distances. */
export function compareReport(real: StatColumns, before: StatColumns, after: StatColumns, meta: Omit<ComparisonReport, 'stats' | 'meanKsFitted'>): ComparisonReport {
  const kb = ksTable(real, before);
  const ka = ksTable(real, after);
  return {
    ...meta,
    stats: STAT_NAMES.map((s) => ({ stat: s, fitted: FITTED_STATS.includes(s), real: quantiles(real[s]), uncalibrated: quantiles(before[s]), calibrated: quantiles(after[s]), ksUncalibrated: kb[s], ksCalibrated: ka[s] })),
    meanKsFitted: { uncalibrated: meanFittedKs(kb), calibrated: meanFittedKs(ka) },
  };
}

/** reportLines renders a report as one stderr line per statistic. */
export function reportLines(r: ComparisonReport): string[] {
  const q = (x: Record<string, number>) => `${fmt(x.p10!)}/${fmt(x.p50!)}/${fmt(x.p90!)}/${fmt(x.p99!)}`;
  return [
    `simulated vs real (${r.real.description}; p10/p50/p90/p99, KS uncalibrated → calibrated):`,
    ...r.stats.map((s) => `  ${s.stat.padEnd(17)} real ${q(s.real)}  uncal ${q(s.uncalibrated)}  cal ${q(s.calibrated)}  KS ${s.ksUncalibrated.toFixed(3)} → ${s.ksCalibrated.toFixed(3)}${s.fitted ? '' : ' (not fitted)'}`),
    `  mean KS over the fitted statistics: ${r.meanKsFitted.uncalibrated.toFixed(3)} → ${r.meanKsFitted.calibrated.toFixed(3)}`,
  ];
}

function fmt(x: number): string {
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return x.toExponential(2);
  return String(+x.toPrecision(3));
}



/** CHECK_SEED, CHECK_WINDOWS: the fresh simulated windows (generate's own path) a fit is scored on. */
export const CHECK_SEED = 1;
export const CHECK_WINDOWS = 4000;

export interface BuildOptions {
  source: string;
  input: string;
  vms: string;
  traces: number;
  version?: string;
  fit: FitOptions;
  check?: { vms: string; traces: number; real: StatColumns };
}

/**
 * buildCalibration fits the settings to `real`, then scores them on CHECK_WINDOWS fresh windows generated
 * with and without them (seed CHECK_SEED): KS to the fitted-on windows and, if given, to check windows.
 * Returns the calibration file and the side-by-side report on the fitted-on windows.
 */
export function buildCalibration(real: StatColumns, o: BuildOptions): { file: CalibrationFile; report: ComparisonReport; fit: FitResult } {
  const fit = fitCalibration(real, o.fit);
  const before = simulatedStats(CHECK_SEED, CHECK_WINDOWS);
  const after = simulatedStats(CHECK_SEED, CHECK_WINDOWS, fit.settings);
  const windows = real[STAT_NAMES[0]!].length;
  const file: CalibrationFile = {
    schema: CALIBRATION_SCHEMA,
    version: o.version ?? '1.0.0',
    generatorVersion: GENERATOR_VERSION,
    fittedOn: { source: o.source, input: o.input, vms: o.vms, traces: o.traces, windows, date: new Date().toISOString().slice(0, 10) },
    method:
      'mean over ' + FITTED_STATS.join(', ') + ' of the KS distance to the real windows; kind weights by coordinate search (step 0.25 halving to 1/512, each ≥ ' + MIN_KIND_WEIGHT + ') for every candidate of a coordinate search over the overlay ladders (calibration.ts)',
    fit: { seed: fit.seed, windowsPerKind: fit.perKind, candidates: fit.candidates, seconds: +fit.seconds.toFixed(1), objective: round4(fit.objective) },
    settings: fit.settings,
    reference: referenceOf(real),
    ks: { windows: CHECK_WINDOWS, seed: CHECK_SEED, uncalibrated: ksTable(real, before), calibrated: ksTable(real, after) },
    ...(o.check ? { check: { vms: o.check.vms, traces: o.check.traces, windows: o.check.real[STAT_NAMES[0]!].length, uncalibrated: ksTable(o.check.real, before), calibrated: ksTable(o.check.real, after) } } : {}),
  };
  const report = compareReport(real, before, after, {
    real: { description: `${o.source} ${o.vms}: ${windows} windows of ${o.traces} traces`, windows },
    simulated: { seed: CHECK_SEED, windows: CHECK_WINDOWS, description: 'samples 0..' + (CHECK_WINDOWS - 1) + ' of seed ' + CHECK_SEED + ', without and with the fitted settings' },
    generatedWith: 'calibrated',
  });
  return { file, report, fit };
}
