/**
 * boost: gradient-boosted trees and the random forest on binned inputs (grow.ts). Pure.
 *
 * Gradient boosting (fitBoost): F₀ = the loss's best constant; each round grows a tree on the gradients
 * of the training rows (a `rowFraction` sample), sets each leaf's value, and adds learningRate × it.
 * Losses (y: the target per row, F: the ensemble's value):
 *   l2          ½(F − y)²; g = F − y, h = 1; leaf −G/(H + λ) (the mean residual)
 *   logistic    y ∈ {0, 1}, F a logit; g = σ(F) − y, h = σ(F)(1 − σ(F)); leaf −G/(H + λ)
 *   quantile    pinball at q; g = 1 − q when F ≥ y else −q, h = 1; leaf: the q-quantile of the leaf's
 *               residuals y − F (LightGBM's renewal: a gradient step alone moves by ±q per round)
 *   cost        y and F on the log-normalized scale (peak p = e^{logMin + L·y}, allocation a likewise):
 *               the business score per job, 5·[a < p] + (a − p)⁺ / meanPeak (its mean × 100 is the
 *               business score); trees follow the gradient of its smooth copy (objective.ts), and each
 *               leaf takes the shift, among 33 quantiles of its residuals, that minimizes the exact score
 * Early stopping: the loss on the `val` rows after each round; the ensemble keeps the best round and stops
 * after `patience` rounds without a better one.
 *
 * Random forest (fitForest): `trees` regression trees, each on a bootstrap sample of the training rows,
 * grown to minLeaf rows with `featureFraction` of the inputs tried per split (scikit-learn's
 * RandomForestRegressor: bootstrap, min_samples_leaf, max_features); the prediction is the mean, written
 * as leaf values / trees so the ONNX ensemble sums them.
 */
import { Rng } from '../../../util/rng.js';
import type { Tree } from '../../../onnx/trees.js';
import { growTree, leafOfCodes, toTree } from './grow.js';
import type { Binned } from './grow.js';

export type Loss =
  | { kind: 'l2' }
  | { kind: 'logistic' }
  | { kind: 'quantile'; q: number }
  | { kind: 'cost'; L: number; logMin: number; meanPeak: number };

export interface BoostOptions {
  trees: number;
  learningRate: number;
  maxLeaves: number;
  maxDepth: number;
  minLeaf: number;
  lambda: number;
  rowFraction: number;
  featureFraction: number;
  patience: number;
  seed: number;
}

export const BOOST_DEFAULTS: BoostOptions = { trees: 300, learningRate: 0.08, maxLeaves: 15, maxDepth: 6, minLeaf: 10, lambda: 1, rowFraction: 0.8, featureFraction: 1, patience: 30, seed: 1 };

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** quantileOf: the q-quantile (lower, of sorted copies) of xs. */
function quantileOf(xs: ArrayLike<number>, q: number): number {
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.floor(q * s.length)))]!;
}

/** rowLoss: one row's loss at value F (for early stopping and the cost renewal). */
export function rowLoss(loss: Loss, F: number, y: number): number {
  switch (loss.kind) {
    case 'l2':
      return 0.5 * (F - y) ** 2;
    case 'logistic':
      return Math.log1p(Math.exp(-Math.abs(F))) + Math.max(F, 0) - y * F;
    case 'quantile':
      return y > F ? loss.q * (y - F) : (1 - loss.q) * (F - y);
    case 'cost': {
      const a = Math.exp(loss.logMin + loss.L * F);
      const p = Math.exp(loss.logMin + loss.L * y);
      return a < p ? 5 : (a - p) / loss.meanPeak;
    }
  }
}

/** gradients writes g and h of the rows in `rows` at values F. */
function gradients(loss: Loss, F: Float64Array, y: ArrayLike<number>, rows: Uint32Array, g: Float64Array, h: Float64Array): void {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const f = F[r]!;
    const t = y[r]!;
    switch (loss.kind) {
      case 'l2':
        g[r] = f - t;
        h[r] = 1;
        break;
      case 'logistic': {
        const p = sigmoid(f);
        g[r] = p - t;
        h[r] = Math.max(p * (1 - p), 1e-6);
        break;
      }
      case 'quantile':
        g[r] = f >= t ? 1 - loss.q : -loss.q;
        h[r] = 1;
        break;
      case 'cost': {
        // the smooth score of objective.ts: 5·σ(−d/0.05) + w·(e^{min(d,3)} − 1)⁺ + 0.1·(−d)⁺, d = L·(F − y)
        const d = loss.L * (f - t);
        const s = sigmoid(-d / 0.05);
        const w = Math.exp(loss.logMin + loss.L * t) / loss.meanPeak;
        g[r] = loss.L * (-100 * s * (1 - s) + (d > 0 && d < 3 ? w * Math.exp(d) : 0) + (d < 0 ? -0.1 : 0));
        h[r] = 1;
        break;
      }
    }
  }
}

/** bestConstant: F₀, the constant that minimizes the loss over `rows`. */
function bestConstant(loss: Loss, y: ArrayLike<number>, rows: Uint32Array): number {
  const ys = Float64Array.from(rows, (r) => y[r]!);
  if (loss.kind === 'l2') return ys.reduce((a, b) => a + b, 0) / ys.length;
  if (loss.kind === 'logistic') {
    const m = Math.min(1 - 1e-3, Math.max(1e-3, ys.reduce((a, b) => a + b, 0) / ys.length));
    return Math.log(m / (1 - m));
  }
  if (loss.kind === 'quantile') return quantileOf(ys, loss.q);
  return renewal(loss, new Float64Array(ys.length), ys);
}

/** renewal: the cost loss's best shift v of values F for targets y (candidates: residual quantiles). */
function renewal(loss: Loss, F: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = y.length;
  const res = Float64Array.from({ length: n }, (_, i) => y[i]! - F[i]!).sort();
  let best = 0;
  let bestLoss = Infinity;
  for (let k = 0; k <= 32; k++) {
    const v = res[Math.min(n - 1, Math.floor((k / 32) * (n - 1)))]! + 1e-7;
    let s = 0;
    for (let i = 0; i < n; i++) s += rowLoss(loss, F[i]! + v, y[i]!);
    if (s < bestLoss) {
      bestLoss = s;
      best = v;
    }
  }
  return best;
}

export interface BoostResult {
  trees: Tree[];
  base: number;
  /** rounds kept (the best on the validation rows) and the validation loss there */
  rounds: number;
  valLoss: number;
}

/**
 * fitBoost boosts trees for raw target `target` on `train` rows, early-stopping on `val` rows (none:
 * all rounds). `y` holds a target for every row of `B`.
 */
export function fitBoost(B: Binned, y: ArrayLike<number>, train: Uint32Array, val: Uint32Array, loss: Loss, o: BoostOptions, target: number): BoostResult {
  const rng = new Rng(o.seed * 7919 + 17);
  const n = B.n;
  const F = new Float64Array(n);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const base = bestConstant(loss, y, train);
  F.fill(base);
  const meanLoss = (rows: Uint32Array) => {
    let s = 0;
    for (let i = 0; i < rows.length; i++) s += rowLoss(loss, F[rows[i]!]!, y[rows[i]!]!);
    return s / rows.length;
  };
  const trees: Tree[] = [];
  let best = { rounds: 0, valLoss: val.length ? meanLoss(val) : Infinity };
  const all = new Uint32Array([...train, ...val]);
  const nSample = Math.max(1, Math.round(o.rowFraction * train.length));
  for (let k = 0; k < o.trees; k++) {
    let rows = train;
    if (o.rowFraction < 1) {
      const p = Uint32Array.from(train);
      for (let i = 0; i < nSample; i++) {
        const j = i + rng.int(p.length - i);
        const x = p[i]!;
        p[i] = p[j]!;
        p[j] = x;
      }
      rows = p.subarray(0, nSample);
    }
    gradients(loss, F, y, rows, g, h);
    const t = growTree(B, rows, g, h, { maxLeaves: o.maxLeaves, maxDepth: o.maxDepth, minLeaf: o.minLeaf, lambda: o.lambda, featureFraction: o.featureFraction, rng });
    const values = new Float64Array(t.feature.length);
    for (let i = 0; i < t.feature.length; i++) {
      if (t.feature[i]! >= 0) continue;
      const lr = t.rows[i]!;
      let v: number;
      if (loss.kind === 'quantile') v = quantileOf(Float64Array.from(lr, (r) => y[r]! - F[r]!), loss.q);
      else if (loss.kind === 'cost') v = renewal(loss, Float64Array.from(lr, (r) => F[r]!), Float64Array.from(lr, (r) => y[r]!));
      else {
        let G = 0;
        let H = 0;
        for (let j = 0; j < lr.length; j++) {
          G += g[lr[j]!]!;
          H += h[lr[j]!]!;
        }
        v = -G / (H + o.lambda);
      }
      values[i] = Math.fround(o.learningRate * v);
    }
    for (let i = 0; i < all.length; i++) {
      const r = all[i]!;
      F[r] = F[r]! + values[leafOfCodes(t, B, r)]!;
    }
    trees.push(toTree(t, values, target));
    if (val.length) {
      const vl = meanLoss(val);
      if (vl < best.valLoss - 1e-12) best = { rounds: k + 1, valLoss: vl };
      else if (k + 1 - best.rounds >= o.patience) break;
    } else best = { rounds: k + 1, valLoss: NaN };
  }
  return { trees: trees.slice(0, best.rounds), base, rounds: best.rounds, valLoss: best.valLoss };
}

export interface ForestOptions {
  trees: number;
  minLeaf: number;
  maxDepth: number;
  featureFraction: number;
  seed: number;
}

export const FOREST_DEFAULTS: ForestOptions = { trees: 100, minLeaf: 3, maxDepth: 24, featureFraction: 1, seed: 1 };

/** fitForest: a random forest of raw target `target` (mean of the trees, as leaf values / trees). */
export function fitForest(B: Binned, y: ArrayLike<number>, train: Uint32Array, o: ForestOptions, target: number): Tree[] {
  const rng = new Rng(o.seed * 104729 + 3);
  const g = new Float64Array(B.n);
  const h = new Float64Array(B.n).fill(1);
  for (let i = 0; i < train.length; i++) g[train[i]!] = -y[train[i]!]!;
  const trees: Tree[] = [];
  for (let k = 0; k < o.trees; k++) {
    const rows = Uint32Array.from({ length: train.length }, () => train[rng.int(train.length)]!);
    const t = growTree(B, rows, g, h, { maxLeaves: Infinity, maxDepth: o.maxDepth, minLeaf: o.minLeaf, lambda: 0, featureFraction: o.featureFraction, rng });
    const values = t.feature.map((f, i) => {
      if (f >= 0) return 0;
      const lr = t.rows[i]!;
      let s = 0;
      for (let j = 0; j < lr.length; j++) s += y[lr[j]!]!;
      return Math.fround(s / lr.length / o.trees);
    });
    trees.push(toTree(t, values, target));
  }
  return trees;
}
