/**
 * model: a job-memory tree model (spec.model.kind 'gbdt' or 'forest') from encoded rows, as one
 * TreeEnsemble whose outputs are the regression task's [mem_point, mem_quantile, confidence] on the
 * contract's scales (so the agent, validate and Rust treat it as they treat a network):
 *
 *   raw 0  the peak / mean training peak, in bytes' proportion: gradient-boosted squared error, or the
 *          forest's mean (scikit-learn's RandomForestRegressor fits bytes too); mem_point is its log on the
 *          contract's scale, n = ln(max(raw, min/mean)) / L + ln(mean / min) / L with L = ln(max / min)
 *   raw 1  (gbdt, objective quantile or cost) mem_quantile on the contract's log scale, boosted with the
 *          pinball or the business-score loss; for 'point' (and the forest) mem_quantile = mem_point
 *   last   the confidence's logit: a small logistic boosting of whether the allocation (× safety) held,
 *          fitted on the early-stopping rows (jobs the other trees did not fit); sigmoid in the graph
 */
import { denormalize } from '../../../core/contract.js';
import { forwardTrees } from '../../../onnx/trees.js';
import type { OutputTransform, Tree, TreeEnsemble } from '../../../onnx/trees.js';
import { memoryNorm, peakNorm } from '../spec.js';
import type { JobSpec, TreeSettings } from '../spec.js';
import { binFeatures } from './grow.js';
import { BOOST_DEFAULTS, fitBoost, fitForest, FOREST_DEFAULTS } from './boost.js';
import { boostOf } from './select.js';
import type { Loss } from './boost.js';

export interface TreeFitInput {
  spec: JobSpec;
  /** normalized inputs, row-major, one row per job in `peaks` */
  X: Float32Array;
  peaks: ArrayLike<number>;
  fit: Uint32Array;
  stop: Uint32Array;
  seed: number;
  /** fit the confidence head (false: a constant 0.5, for cross-validation) */
  confidence: boolean;
}

export interface TreeFit {
  ensemble: TreeEnsemble;
  /** boosting rounds kept by early stopping (null for the forest's point and a missing head) */
  rounds: { point: number | null; quantile: number | null };
}

/** settingsOf: a spec's tree settings (throws for a network spec). */
export function settingsOf(spec: JobSpec): { kind: 'gbdt' | 'forest' } & TreeSettings & { point?: TreeSettings } {
  const m = spec.model;
  if (!m || m.kind === 'network') throw new Error(`${spec.family}: not a tree model`);
  return m;
}

/** fitJobTrees fits the ensemble of a tree spec (see the module header). */
export function fitJobTrees(o: TreeFitInput): TreeFit {
  const { spec, X, peaks } = o;
  const st = settingsOf(spec);
  const t = spec.task;
  if (t.type !== 'regression') throw new Error(`${spec.family}: tree models do regression only (task ${t.type})`);
  const n = peaks.length;
  const F = X.length / n;
  const B = binFeatures(X, n, F, o.fit);
  const mean = spec.training.meanPeak;
  const w = Float64Array.from(peaks, (p) => p / mean);
  const boost = boostOf(st, o.seed);
  const trees: Tree[] = [];
  const base: number[] = [];
  const rounds: TreeFit['rounds'] = { point: null, quantile: null };
  if (st.kind === 'forest') {
    trees.push(...fitForest(B, w, o.fit, { ...FOREST_DEFAULTS, trees: st.trees, minLeaf: st.minLeaf, featureFraction: st.featureFraction, seed: o.seed }, 0));
    base.push(0);
  } else {
    const r = fitBoost(B, w, o.fit, o.stop, { kind: 'l2' }, boostOf(st.point ?? st, o.seed), 0);
    trees.push(...r.trees);
    base.push(r.base);
    rounds.point = r.rounds;
  }
  const mem = memoryNorm(spec);
  if (mem.type !== 'log') throw new Error('job-memory output scale is log');
  const L = Math.log(mem.max / mem.min);
  const logOut: OutputTransform = { type: 'log', floor: mem.min / mean, scale: 1 / L, offset: Math.log(mean / mem.min) / L };
  const quantileHead = st.kind === 'gbdt' && t.objective !== 'point';
  if (quantileHead) {
    const yq = Float64Array.from(peaks, (p) => peakNorm(spec, p));
    const loss: Loss = t.objective === 'quantile' ? { kind: 'quantile', q: t.quantile } : { kind: 'cost', L, logMin: Math.log(mem.min), meanPeak: mean };
    const r = fitBoost(B, yq, o.fit, o.stop, loss, boost, 1);
    trees.push(...r.trees);
    base.push(r.base);
    rounds.quantile = r.rounds;
  }
  const conf = base.length;
  base.push(0);
  const ensemble: TreeEnsemble = {
    nFeatures: F, base, trees,
    outputs: [{ source: 0, transform: logOut }, quantileHead ? { source: 1, transform: { type: 'identity' } } : { source: 0, transform: logOut }, { source: conf, transform: { type: 'sigmoid' } }],
  };
  if (o.confidence && o.stop.length) {
    // whether the allocation held on the early-stopping rows, as the served model decides it
    const xs = new Float32Array(o.stop.length * F);
    o.stop.forEach((r, k) => xs.set(X.subarray(r * F, (r + 1) * F), k * F));
    const y = forwardTrees(ensemble, xs, o.stop.length);
    const held = new Float64Array(n);
    o.stop.forEach((r, k) => (held[r] = denormalize(mem, y[k * 3 + 1]!) * t.safety >= peaks[r]! ? 1 : 0));
    const c = fitBoost(B, held, o.stop, new Uint32Array(0), { kind: 'logistic' }, { ...BOOST_DEFAULTS, trees: 40, learningRate: 0.1, maxLeaves: 4, minLeaf: Math.max(5, Math.round(o.stop.length / 20)), rowFraction: 1, seed: o.seed }, conf);
    ensemble.trees.push(...c.trees);
    ensemble.base[conf] = c.base;
  }
  return { ensemble, rounds };
}
