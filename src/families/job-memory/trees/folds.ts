/**
 * folds: the one place that says which training rows fit a model, which stop it early and which score
 * it, so that `train` (its default selection and its final fit) and `search` use the same rows.
 * Rows are positions 0 … n−1 in the training 80%, in its order: time order for chronological data
 * (data.ts sorts build jobs by time), file order otherwise.
 *
 *   stoppingRows   the early-stopping rows of one fit: chronological, the last EARLY_STOP_SHARE of the
 *                  rows (the latest jobs, as the next ones will be); else a seeded EARLY_STOP_SHARE
 *   cvFolds        k folds: random data, a seeded k-fold (every row scored once); chronological data,
 *                  forward chaining: the rows in k + 1 blocks, fold i fits on blocks 0 … i and scores
 *                  block i + 1 (3,678 build jobs, k = 5 → scores the last 3,065, never a job from the past
 *                  of its training rows)
 */
import { splitRows, TRAIN_DEFAULTS } from '../../../model/pipeline.js';
import { Rng } from '../../../util/rng.js';

/** EARLY_STOP_SHARE: the early-stopping share, as train's --val-fraction default (the network's too). */
export const EARLY_STOP_SHARE = TRAIN_DEFAULTS.valFraction;

export interface FitRows {
  fit: Uint32Array;
  stop: Uint32Array;
}

/** stoppingRows splits `rows` (positions, in order) into fitting and early-stopping rows. */
export function stoppingRows(rows: Uint32Array, chronological: boolean, seed: number): FitRows {
  const n = rows.length;
  const ns = Math.max(1, Math.round(n * EARLY_STOP_SHARE));
  if (chronological) return { fit: rows.slice(0, n - ns), stop: rows.slice(n - ns) };
  const s = splitRows(n, EARLY_STOP_SHARE, seed);
  return { fit: Uint32Array.from(s.train, (i) => rows[i]!), stop: Uint32Array.from(s.val, (i) => rows[i]!) };
}

export interface Fold {
  fit: Uint32Array;
  score: Uint32Array;
}

/** cvFolds: the k folds of n rows (see the module header). */
export function cvFolds(n: number, k: number, chronological: boolean, seed: number): Fold[] {
  if (chronological) {
    const edge = (b: number) => Math.round((b * n) / (k + 1));
    return Array.from({ length: k }, (_, i) => ({ fit: Uint32Array.from({ length: edge(i + 1) }, (_, r) => r), score: Uint32Array.from({ length: edge(i + 2) - edge(i + 1) }, (_, r) => edge(i + 1) + r) }));
  }
  const rng = new Rng(seed ^ 0xf01d);
  const perm = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  return Array.from({ length: k }, (_, i) => {
    const lo = Math.round((i * n) / k);
    const hi = Math.round(((i + 1) * n) / k);
    const score = perm.slice(lo, hi).sort();
    const fit = Uint32Array.from([...perm.slice(0, lo), ...perm.slice(hi)]).sort();
    return { fit, score };
  });
}
