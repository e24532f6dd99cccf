/**
 * risk: user-chosen hold rates with a measured guarantee (split conformal prediction), for any family
 * whose outputs are limits. Factors are keyed by the limit output's name in the family's contract.
 *
 * A user asks for a target hold rate h for a limit, e.g. memory ("at most 1% OOM-killed windows": h =
 * 0.99) and the CPU limit. On a CALIBRATION set of real windows from workloads the model was not trained
 * on, each window i gives the ratio r_i = what happened / what the model recommended: for containers
 * future memory peak / mem_limit, future CPU p99 / cpu_limit. The factor for h is the ⌈(n + 1)·h⌉-th smallest r_i; multiplying
 * the model's limit by it makes a new window from the same population hold with probability ≥ h when the
 * windows are exchangeable (Vovk et al.; Angelopoulos & Bates, "A Gentle Introduction to Conformal
 * Prediction", 2021, §1). Windows of one VM are not independent, so the guarantee is on average over
 * windows, and evaluate/validate MEASURE the observed hold rate on other VMs rather than assume it.
 *
 * Worked example: ratios [0.5, 0.8, 0.9, 1.0, 1.2] (n = 5), h = 0.8 → ⌈6 × 0.8⌉ = 5th smallest = 1.2: the
 * limit × 1.2 holds in 5 of 5 calibration windows; h = 0.5 → ⌈3⌉ = 3rd = 0.9 (limits may shrink too).
 * When ⌈(n + 1)·h⌉ > n the target cannot be certified with n windows: the table leaves it out.
 *
 * The table is computed once per model version (train --calibration-data), embedded in the ONNX file's
 * metadata and so recorded with that version in the manifest and in the Rust export: each version answers
 * only for the targets it was calibrated on.
 */
import { InputError } from '../util/errors.js';

/** RISK_TARGETS: the hold rates every calibration certifies (when the calibration set is large enough). */
export const RISK_TARGETS = [0.5, 0.8, 0.85, 0.9, 0.925, 0.95, 0.975, 0.98, 0.99, 0.995] as const;

export interface RiskTable {
  /** schema of this record */
  schemaVersion: 1;
  method: 'split-conformal';
  /** what the calibration windows were: file, groups (VMs) and windows */
  calibration: { source: string; groups: number; windows: number };
  /** per limit output (by its contract name): [target hold rate, factor on the model's limit], ascending */
  factors: Record<string, [number, number][]>;
  /** per limit output: the model's own hold rate on the calibration windows, without a factor */
  baseHold: Record<string, number>;
}

/** conformalFactor returns the ⌈(n+1)h⌉-th smallest ratio, or null when n is too small for h. */
export function conformalFactor(sortedRatios: ArrayLike<number>, h: number): number | null {
  const n = sortedRatios.length;
  const k = Math.ceil((n + 1) * h);
  if (k < 1 || k > n) return null;
  return sortedRatios[k - 1]!;
}

/**
 * calibrateRisk builds the table from per-window ratios (outcome / recommended limit), one array per limit
 * output: calibrateRisk({ mem_limit: […], cpu_limit: […] }, …).
 */
export function calibrateRisk(ratios: Record<string, ArrayLike<number>>, calibration: RiskTable['calibration']): RiskTable {
  const factors: RiskTable['factors'] = {};
  const baseHold: RiskTable['baseHold'] = {};
  for (const [name, r] of Object.entries(ratios)) {
    const s = Float64Array.from(r).filter((x) => Number.isFinite(x)).sort();
    // rounded UP in the 6th digit, so a stored factor is never below the certified ratio
    factors[name] = RISK_TARGETS.flatMap((h): [number, number][] => {
      const f = conformalFactor(s, h);
      return f === null ? [] : [[h, roundUp6(f)]];
    });
    baseHold[name] = s.length ? s.filter((x) => x <= 1).length / s.length : NaN;
  }
  return { schemaVersion: 1, method: 'split-conformal', calibration, factors, baseHold };
}

/** roundUp6 rounds up to 6 significant digits: 1.4371612 → 1.43717. */
function roundUp6(x: number): number {
  if (!(x > 0)) return x;
  const e = Math.floor(Math.log10(x)) - 5;
  const step = 10 ** e;
  const r = +(Math.ceil(x / step - 1e-6) * step).toPrecision(6);
  return r >= x ? r : +(r + step).toPrecision(6);
}

/**
 * factorFor picks the factor for a requested hold rate: the smallest calibrated target ≥ the request
 * (never a weaker one). A request above every calibrated target is refused naming the ones there are.
 * Example: table [[0.9, 1.1], [0.95, 1.3]], request 0.92 → 1.3 (the 0.95 row).
 */
export function factorFor(rows: readonly [number, number][], hold: number, field: string): { target: number; factor: number } {
  if (!(hold > 0 && hold < 1)) throw new InputError(`${field}: ${hold} must be a hold rate between 0 and 1, e.g. 0.99 for at most 1% of windows over the limit`);
  const row = rows.find(([t]) => t >= hold - 1e-12);
  if (!row) throw new InputError(`${field}: ${hold} is above what this model version was calibrated for (${rows.map(([t]) => t).join(', ') || 'no targets'}); choose one of those or recalibrate`);
  return { target: row[0], factor: row[1] };
}

/** parseRiskTable checks a table read from model metadata (null when absent). */
export function parseRiskTable(json: string | undefined, label: string): RiskTable | null {
  if (!json) return null;
  let t: RiskTable;
  try {
    t = JSON.parse(json) as RiskTable;
  } catch {
    throw new InputError(`${label}: its risk_calibration metadata is not JSON; recalibrate it with npm run train -- --calibration-data`);
  }
  if (t.schemaVersion !== 1) throw new InputError(`${label}: risk_calibration has schema ${String(t.schemaVersion)}, expected 1; recalibrate it (npm run train -- --calibration-data)`);
  if (typeof t.factors !== 'object' || t.factors === null) throw new InputError(`${label}: risk_calibration has no 'factors' table; it was written by an older development build, recalibrate it (npm run train -- --calibration-data)`);
  return t;
}
