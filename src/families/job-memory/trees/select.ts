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
import type { Normalization } from '../../../core/contract.js';
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

type TreeModel = { kind: 'gbdt' | 'forest' } & TreeSettings;
const settingsKey = (m: TreeModel) => JSON.stringify({ ...m, point: undefined });

/**
 * crossValidate scores candidates (see the module header): first the gbdt point estimate (choosePoint),
 * then each candidate in order (scoreCandidate) until the budget is spent. Example: bowtie2's 3,170
 * training jobs, 5 folds, the 8 default candidates: ~60 s here.
 */
export function crossValidate(o: SelectOptions): Selection {
  const t0 = performance.now();
  const cv = new FoldRuns(o);
  const pointChoices = o.candidates.some((c) => c.model.kind === 'gbdt' && !c.model.point) ? (o.points ?? POINT_CANDIDATES) : [];
  cv.total = (o.candidates.length + pointChoices.length) * cv.folds.length;
  const pointChoice = choosePoint(cv, pointChoices);
  const scores: CandidateScore[] = [];
  const skipped: Candidate[] = [];
  const overBudget = () => scores.length > 0 && (performance.now() - t0) / 1000 > o.budget;
  for (const c of o.candidates) {
    if (overBudget()) {
      skipped.push(c);
      cv.done += cv.folds.length;
      continue;
    }
    const score = scoreCandidate(cv, c, pointChoice, overBudget);
    if (score) scores.push(score);
    else skipped.push(c);
  }
  const ranked = [...scores].sort((a, b) => rank(a, b, o.maxUnder));
  return { point: pointChoice, folds: cv.folds.length, foldKind: o.chronological ? 'forward-chaining' : 'k-fold', scoredJobs: cv.scored.length, scores, best: ranked[0]!, skipped, seconds: +((performance.now() - t0) / 1000).toFixed(1) };
}

/** choosePoint: the gbdt point estimate, the best out-of-fold R² among `choices` (squared error on bytes); null when none is needed. */
function choosePoint(cv: FoldRuns, choices: readonly TreeSettings[]): Selection['point'] {
  if (!choices.length) return null;
  const tried = choices.map((st) => {
    const p = cv.outOfFold({ kind: 'gbdt', ...st }, `point estimate (${st.maxLeaves} leaves, ${st.minLeaf}+ jobs a leaf, lr ${st.learningRate})`);
    return { settings: st, r2: jobMetrics(cv.pk, cv.pk, Float64Array.from(cv.scored, (r) => p[r]!)).r2! };
  });
  return { settings: [...tried].sort((a, b) => b.r2 - a.r2)[0]!.settings, tried };
}

/**
 * scoreCandidate fits the candidate on every fold and scores its out-of-fold allocations at its best
 * safety factor. A candidate whose folds would overrun the budget is dropped (null), not scored on fewer jobs.
 */
function scoreCandidate(cv: FoldRuns, c: Candidate, pointChoice: Selection['point'], overBudget: () => boolean): CandidateScore | null {
  const { o, folds, scored, pk } = cv;
  const c0 = performance.now();
  const base = new Float64Array(cv.n);
  const point = new Float64Array(cv.n);
  const pointModel: TreeModel = c.model.kind === 'forest' ? c.model : { kind: 'gbdt' as const, ...(c.model.point ?? pointChoice!.settings) };
  for (let k = 0; k < folds.length; k++) {
    const fold = folds[k]!;
    if (overBudget()) {
      cv.done += folds.length - k;
      return null;
    }
    const p = cv.pointOf(pointModel, k);
    fold.score.forEach((r, i) => (point[r] = p[i]!));
    if (c.objective === 'point' || c.model.kind === 'forest') fold.score.forEach((r, i) => (base[r] = p[i]!));
    else {
      const y = cv.allocationOf(c, k);
      fold.score.forEach((row, i) => (base[row] = y[i]!));
    }
    cv.done++;
    o.progress?.(cv.done, cv.total, `${describe(c)}: fold ${k + 1}/${folds.length}`);
  }
  const b = bestFactor(pk, Float64Array.from(scored, (r) => base[r]!), SAFETY_GRID, o.maxUnder);
  const oof = jobMetrics(pk, Float64Array.from(scored, (r) => base[r]! * b.factor), Float64Array.from(scored, (r) => point[r]!));
  const candidate: Candidate = c.model.kind === 'gbdt' ? { ...c, model: { ...c.model, point: c.model.point ?? pointChoice!.settings } } : c;
  return { candidate, safety: b.factor, oof, seconds: +((performance.now() - c0) / 1000).toFixed(1) };
}

/**
 * FoldRuns: the folds of one selection and what its candidates share: each fold's binned inputs, the
 * point predictions (bytes) per fold and settings, the targets, and the progress count.
 */
class FoldRuns {
  readonly n: number;
  readonly F: number;
  /** the memory output's log scale */
  readonly mem: Extract<Normalization, { type: 'log' }>;
  /** ln(max/min) of the memory output's log scale */
  readonly L: number;
  readonly mean: number;
  /** point-head weights (peak / mean peak) and quantile/cost-head targets (normalized peaks) */
  readonly w: Float64Array;
  readonly yq: Float64Array;
  readonly folds: ReturnType<typeof cvFolds>;
  /** every scored row, ascending, and their peaks */
  readonly scored: Uint32Array;
  readonly pk: Float64Array;
  done = 0;
  total = 0;
  private readonly binned: (Binned | undefined)[] = [];
  private readonly points = new Map<string, Float64Array>();

  constructor(readonly o: SelectOptions) {
    this.n = o.peaks.length;
    this.F = o.X.length / this.n;
    const mem = memoryNorm(o.spec);
    if (mem.type !== 'log') throw new Error('job-memory output scale is log');
    this.mem = mem;
    this.L = Math.log(this.mem.max / this.mem.min);
    this.mean = o.spec.training.meanPeak;
    this.w = Float64Array.from(o.peaks, (p) => p / this.mean);
    this.yq = Float64Array.from(o.peaks, (p) => peakNorm(o.spec, p));
    this.folds = cvFolds(this.n, o.folds, o.chronological, o.seed);
    this.scored = Uint32Array.from(this.folds.flatMap((f) => Array.from(f.score))).sort();
    this.pk = Float64Array.from(this.scored, (r) => o.peaks[r]!);
  }

  /** binnedOf: fold k's inputs binned on its fitting rows (once). */
  binnedOf(k: number): Binned {
    return (this.binned[k] ??= binFeatures(this.o.X, this.n, this.F, this.folds[k]!.fit));
  }

  /** pointOf: the point head of settings m fitted on fold k, its predictions (bytes) on the fold's scored rows (once). */
  pointOf(m: TreeModel, k: number): Float64Array {
    const key = `${settingsKey(m)}#${k}`;
    const hit = this.points.get(key);
    if (hit) return hit;
    const fold = this.folds[k]!;
    const y = forwardTrees(this.fitPoint(m, k), gather(this.o.X, this.F, fold.score), fold.score.length);
    const out = Float64Array.from(y, (v) => Math.max(v, this.mem.min / this.mean) * this.mean);
    this.points.set(key, out);
    return out;
  }

  /** outOfFold: the point head's out-of-fold predictions on every scored row; a label reports progress per fold. */
  outOfFold(m: TreeModel, label: string): Float64Array {
    const point = new Float64Array(this.n);
    this.folds.forEach((fold, k) => {
      const p = this.pointOf(m, k);
      fold.score.forEach((r, i) => (point[r] = p[i]!));
      if (label) this.o.progress?.(++this.done, this.total, `${label}: fold ${k + 1}/${this.folds.length}`);
    });
    return point;
  }

  /** allocationOf: a quantile or cost candidate's own head fitted on fold k, its allocations (bytes) on the fold's scored rows. */
  allocationOf(c: Candidate, k: number): Float64Array {
    const { o, mem, folds } = this;
    const fold = folds[k]!;
    const s = stoppingRows(fold.fit, o.chronological, o.seed);
    const loss = c.objective === 'quantile' ? { kind: 'quantile' as const, q: c.quantile } : { kind: 'cost' as const, L: this.L, logMin: Math.log(mem.min), meanPeak: this.mean };
    const r = fitBoost(this.binnedOf(k), this.yq, s.fit, s.stop, loss, boostOf(c.model, o.seed), 1);
    const ens: TreeEnsemble = { nFeatures: this.F, base: [0, r.base], trees: r.trees, outputs: [{ source: 1, transform: { type: 'identity' } }] };
    const y = forwardTrees(ens, gather(o.X, this.F, fold.score), fold.score.length);
    return Float64Array.from(y, (v) => denormalize(mem, v));
  }

  /** fitPoint fits the point head on fold k: the forest's mean, or boosting on squared error with early stopping. */
  private fitPoint(m: TreeModel, k: number): TreeEnsemble {
    const { o, F } = this;
    const fold = this.folds[k]!;
    const B = this.binnedOf(k);
    if (m.kind === 'forest') return { nFeatures: F, base: [0], trees: fitForest(B, this.w, fold.fit, { ...FOREST_DEFAULTS, trees: m.trees, minLeaf: m.minLeaf, featureFraction: m.featureFraction, seed: o.seed }, 0), outputs: [{ source: 0, transform: { type: 'identity' } }] };
    const s = stoppingRows(fold.fit, o.chronological, o.seed);
    const r = fitBoost(B, this.w, s.fit, s.stop, { kind: 'l2' }, boostOf(m, o.seed), 0);
    return { nFeatures: F, base: [r.base], trees: r.trees, outputs: [{ source: 0, transform: { type: 'identity' } }] };
  }
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
