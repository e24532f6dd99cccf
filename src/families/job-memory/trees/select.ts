/**
 * select: how `train` picks a tree model without being told, and how `search` scores one: k-fold
 * cross-validation on the training 80% (folds.ts: seeded k-fold, or forward chaining for chronological
 * data), each fold fitted with the final fit's early-stopping rule (folds.ts stoppingRows of the fold's
 * rows), every job of the scored blocks predicted by a model that never saw it (out-of-fold).
 *
 * A candidate is a kind (gbdt, forest), its tree settings and what mem_quantile is (a quantile, the
 * cost-aware allocation, or the point estimate); its safety factor is the one from SAFETY_GRID whose
 * out-of-fold allocations score best (business; under ≤ maxUnder first), and candidates are ranked by
 * that score. The point heads (squared error on bytes, or the forest's mean) are shared by the candidates
 * of the same kind and settings, fitted once per fold. Candidates run in order until the time budget is
 * spent: the first always runs to its end, a later one not finished within the budget is dropped and
 * named (never scored on fewer folds), so the defaults (DEFAULT_CANDIDATES) put the likeliest first.
 */
import { denormalize } from '../../../core/contract.js';
import { forwardTrees } from '../../../onnx/trees.js';
import type { TreeEnsemble } from '../../../onnx/trees.js';
import { memoryNorm, peakNorm } from '../spec.js';
import type { JobSpec, ModelKind, TreeSettings } from '../spec.js';
import { bestFactor, jobMetrics, SAFETY_GRID } from '../metrics.js';
import type { JobMetrics } from '../metrics.js';
import { binFeatures } from './grow.js';
import type { Binned } from './grow.js';
import { BOOST_DEFAULTS, fitBoost, fitForest, FOREST_DEFAULTS } from './boost.js';
import { cvFolds, stoppingRows } from './folds.js';

/** Candidate: what the selection (or a search trial) tries. */
export interface Candidate {
  model: { kind: 'gbdt' | 'forest' } & TreeSettings & { point?: TreeSettings };
  objective: 'quantile' | 'cost' | 'point';
  quantile: number;
}

const GBDT: TreeSettings = { trees: 300, learningRate: 0.08, maxLeaves: 15, minLeaf: 10, featureFraction: 1 };
const FOREST: TreeSettings = { trees: 40, learningRate: 0, maxLeaves: 0, minLeaf: 5, featureFraction: 1 };

/**
 * POINT_CANDIDATES: the boosted point estimates tried first (squared error on bytes); the one with the
 * best out-of-fold R² is every gbdt candidate's point estimate. The second is deeper trees on 30% of the
 * inputs per split, a forest's decorrelation within boosting's size.
 */
export const POINT_CANDIDATES: readonly TreeSettings[] = [
  GBDT,
  { trees: 800, learningRate: 0.05, maxLeaves: 31, minLeaf: 1, featureFraction: 0.3, patience: 60 },
];

/** DEFAULT_CANDIDATES: train's default selection, likeliest first (each ~2–6 s a fold on 3,000 jobs). */
export const DEFAULT_CANDIDATES: readonly Candidate[] = [
  { model: { kind: 'gbdt', ...GBDT }, objective: 'quantile', quantile: 0.9 },
  { model: { kind: 'gbdt', ...GBDT }, objective: 'cost', quantile: 0.5 },
  { model: { kind: 'forest', ...FOREST }, objective: 'point', quantile: 0.5 },
  { model: { kind: 'gbdt', ...GBDT }, objective: 'quantile', quantile: 0.8 },
  { model: { kind: 'gbdt', ...GBDT }, objective: 'quantile', quantile: 0.95 },
  { model: { kind: 'gbdt', ...GBDT }, objective: 'point', quantile: 0.5 },
  { model: { kind: 'gbdt', ...GBDT, maxLeaves: 31, minLeaf: 5 }, objective: 'quantile', quantile: 0.9 },
  { model: { kind: 'gbdt', ...GBDT }, objective: 'quantile', quantile: 0.7 },
];

/** describe: "gbdt 15 leaves q0.9" for logs and tables. */
export function describe(c: Candidate): string {
  const m = c.model;
  const size = m.kind === 'forest' ? `${m.trees} trees, ${m.minLeaf}+ jobs a leaf` : `≤ ${m.trees} trees, ${m.maxLeaves} leaves, lr ${m.learningRate}`;
  return `${m.kind} (${size}) ${c.objective === 'quantile' ? `q${c.quantile}` : c.objective}`;
}

export interface CandidateScore {
  candidate: Candidate;
  safety: number;
  /** out-of-fold scores at that safety; r2 of the point head */
  oof: JobMetrics;
  seconds: number;
}

export interface Selection {
  /** the gbdt point estimate chosen (best out-of-fold R²) and each tried, with its R² */
  point: { settings: TreeSettings; tried: { settings: TreeSettings; r2: number }[] } | null;
  folds: number;
  foldKind: 'forward-chaining' | 'k-fold';
  scoredJobs: number;
  scores: CandidateScore[];
  best: CandidateScore;
  /** candidates not run for the time budget */
  skipped: Candidate[];
  seconds: number;
}

export interface SelectOptions {
  spec: JobSpec;
  X: Float32Array;
  peaks: ArrayLike<number>;
  chronological: boolean;
  folds: number;
  seed: number;
  maxUnder: number;
  /** seconds; candidates after it is spent are skipped */
  budget: number;
  candidates: readonly Candidate[];
  /** gbdt point estimates to choose from by out-of-fold R² (default POINT_CANDIDATES; a candidate's own `point` wins) */
  points?: readonly TreeSettings[];
  progress?: (done: number, total: number, line: string) => void;
}

const settingsKey = (m: { kind: 'gbdt' | 'forest' } & TreeSettings) => JSON.stringify({ ...m, point: undefined });

/**
 * crossValidate scores candidates (see the module header). Example: bowtie2's 3,170 training jobs, 5
 * folds, the 8 default candidates: ~60 s here.
 */
export function crossValidate(o: SelectOptions): Selection {
  const t0 = performance.now();
  const n = o.peaks.length;
  const F = o.X.length / n;
  const mem = memoryNorm(o.spec);
  if (mem.type !== 'log') throw new Error('job-memory output scale is log');
  const L = Math.log(mem.max / mem.min);
  const mean = o.spec.training.meanPeak;
  const w = Float64Array.from(o.peaks, (p) => p / mean);
  const yq = Float64Array.from(o.peaks, (p) => peakNorm(o.spec, p));
  const folds = cvFolds(n, o.folds, o.chronological, o.seed);
  const scored = Uint32Array.from(folds.flatMap((f) => Array.from(f.score))).sort();
  const binned: (Binned | undefined)[] = [];
  const binnedOf = (k: number) => (binned[k] ??= binFeatures(o.X, n, F, folds[k]!.fit));
  // point predictions in bytes per fold and settings (shared by candidates)
  const points = new Map<string, Float64Array>();
  const pointOf = (m: { kind: 'gbdt' | 'forest' } & TreeSettings, k: number): Float64Array => {
    const key = `${settingsKey(m)}#${k}`;
    const hit = points.get(key);
    if (hit) return hit;
    const fold = folds[k]!;
    const B = binnedOf(k);
    const s = stoppingRows(fold.fit, o.chronological, o.seed);
    const ens: TreeEnsemble = m.kind === 'forest'
      ? { nFeatures: F, base: [0], trees: fitForest(B, w, fold.fit, { ...FOREST_DEFAULTS, trees: m.trees, minLeaf: m.minLeaf, featureFraction: m.featureFraction, seed: o.seed }, 0), outputs: [{ source: 0, transform: { type: 'identity' } }] }
      : (() => {
          const r = fitBoost(B, w, s.fit, s.stop, { kind: 'l2' }, boostOf(m, o.seed), 0);
          return { nFeatures: F, base: [r.base], trees: r.trees, outputs: [{ source: 0, transform: { type: 'identity' as const } }] };
        })();
    const y = forwardTrees(ens, gather(o.X, F, fold.score), fold.score.length);
    const out = Float64Array.from(y, (v) => Math.max(v, mem.min / mean) * mean);
    points.set(key, out);
    return out;
  };
  const scores: CandidateScore[] = [];
  const skipped: Candidate[] = [];
  const pointChoices = o.candidates.some((c) => c.model.kind === 'gbdt' && !c.model.point) ? (o.points ?? POINT_CANDIDATES) : [];
  const total = (o.candidates.length + pointChoices.length) * folds.length;
  let done = 0;
  // the gbdt point estimate: the best out-of-fold R² among pointChoices (squared error on bytes)
  const pk = Float64Array.from(scored, (r) => o.peaks[r]!);
  const oofOf = (m: { kind: 'gbdt' | 'forest' } & TreeSettings, label: string) => {
    const point = new Float64Array(n);
    folds.forEach((fold, k) => {
      const p = pointOf(m, k);
      fold.score.forEach((r, i) => (point[r] = p[i]!));
      if (label) o.progress?.(++done, total, `${label}: fold ${k + 1}/${folds.length}`);
    });
    return point;
  };
  let pointChoice: Selection['point'] = null;
  if (pointChoices.length) {
    const tried = pointChoices.map((st) => {
      const p = oofOf({ kind: 'gbdt', ...st }, `point estimate (${st.maxLeaves} leaves, ${st.minLeaf}+ jobs a leaf, lr ${st.learningRate})`);
      return { settings: st, r2: jobMetrics(pk, pk, Float64Array.from(scored, (r) => p[r]!)).r2! };
    });
    pointChoice = { settings: [...tried].sort((a, b) => b.r2 - a.r2)[0]!.settings, tried };
  }
  const pointModel = (c: Candidate) => (c.model.kind === 'forest' ? c.model : { kind: 'gbdt' as const, ...(c.model.point ?? pointChoice!.settings) });
  const overBudget = () => scores.length > 0 && (performance.now() - t0) / 1000 > o.budget;
  for (const c of o.candidates) {
    if (overBudget()) {
      skipped.push(c);
      done += folds.length;
      continue;
    }
    const c0 = performance.now();
    const base = new Float64Array(n);
    const point = new Float64Array(n);
    let cut = false;
    for (let k = 0; k < folds.length; k++) {
      const fold = folds[k]!;
      // a candidate whose folds would overrun the budget is dropped (and named), not scored on fewer jobs
      if (overBudget()) {
        cut = true;
        done += folds.length - k;
        break;
      }
      const p = pointOf(pointModel(c), k);
      fold.score.forEach((r, i) => (point[r] = p[i]!));
      if (c.objective === 'point' || c.model.kind === 'forest') fold.score.forEach((r, i) => (base[r] = p[i]!));
      else {
        const s = stoppingRows(fold.fit, o.chronological, o.seed);
        const loss = c.objective === 'quantile' ? { kind: 'quantile' as const, q: c.quantile } : { kind: 'cost' as const, L, logMin: Math.log(mem.min), meanPeak: mean };
        const r = fitBoost(binnedOf(k), yq, s.fit, s.stop, loss, boostOf(c.model, o.seed), 1);
        const ens: TreeEnsemble = { nFeatures: F, base: [0, r.base], trees: r.trees, outputs: [{ source: 1, transform: { type: 'identity' } }] };
        const y = forwardTrees(ens, gather(o.X, F, fold.score), fold.score.length);
        fold.score.forEach((row, i) => (base[row] = denormalize(mem, y[i]!)));
      }
      done++;
      o.progress?.(done, total, `${describe(c)}: fold ${k + 1}/${folds.length}`);
    }
    if (cut) {
      skipped.push(c);
      continue;
    }
    const b = bestFactor(pk, Float64Array.from(scored, (r) => base[r]!), SAFETY_GRID, o.maxUnder);
    const oof = jobMetrics(pk, Float64Array.from(scored, (r) => base[r]! * b.factor), Float64Array.from(scored, (r) => point[r]!));
    const candidate: Candidate = c.model.kind === 'gbdt' ? { ...c, model: { ...c.model, point: c.model.point ?? pointChoice!.settings } } : c;
    scores.push({ candidate, safety: b.factor, oof, seconds: +((performance.now() - c0) / 1000).toFixed(1) });
  }
  const ranked = [...scores].sort((a, b) => rank(a, b, o.maxUnder));
  return { point: pointChoice, folds: folds.length, foldKind: o.chronological ? 'forward-chaining' : 'k-fold', scoredJobs: scored.length, scores, best: ranked[0]!, skipped, seconds: +((performance.now() - t0) / 1000).toFixed(1) };
}

/** rank: under ≤ maxUnder first, then the lower business score. */
export function rank(a: CandidateScore, b: CandidateScore, maxUnder: number): number {
  const ao = a.oof.underPct <= maxUnder;
  const bo = b.oof.underPct <= maxUnder;
  if (ao !== bo) return ao ? -1 : 1;
  return a.oof.businessScore - b.oof.businessScore;
}

/** boostOf: boosting options of tree settings. */
export function boostOf(m: TreeSettings, seed: number) {
  return { ...BOOST_DEFAULTS, trees: m.trees, learningRate: m.learningRate, maxLeaves: m.maxLeaves, minLeaf: m.minLeaf, featureFraction: m.featureFraction, patience: m.patience ?? BOOST_DEFAULTS.patience, seed };
}

/** gather: rows of a row-major matrix of width w. */
export function gather(X: Float32Array, w: number, rows: ArrayLike<number>): Float32Array {
  const out = new Float32Array(rows.length * w);
  for (let k = 0; k < rows.length; k++) out.set(X.subarray(rows[k]! * w, (rows[k]! + 1) * w), k * w);
  return out;
}

/** strategyModel: a candidate's model kind for the spec. */
export const modelOf = (c: Candidate): ModelKind => ({ ...c.model });
