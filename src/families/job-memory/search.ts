/**
 * search: the role Optuna plays in the seeds: a seeded random search over job-memory strategies for one
 * data set, of tree models (--kind trees, the default) or networks (--kind network).
 *
 * Trees: each trial is a kind (gradient boosting or a random forest), its size and learning settings and
 * what mem_quantile is (a quantile, the cost-aware allocation, the point); it is scored exactly as `train`
 * scores its default candidates (trees/select.ts: the same folds of the training 80%, forward chaining for
 * chronological data, the same early-stopping rule, seed 1 as train's --seed), out of fold, at the safety
 * factor that scores best there; so `train --strategy` refits exactly what was scored.
 * Networks: each trial trains with train's pipeline on the training 80% and its early-stopping rows (the
 * share train uses, trees/folds.ts EARLY_STOP_SHARE), then picks the decision on those rows: the safety
 * factor (regression, SAFETY_GRID) or the exceedance threshold (classification, THRESHOLD_GRID).
 * Either way the choice prefers under % ≤ --max-under, and the hold-out 20% is never looked at.
 *
 * Trial i (numbered from 1, in the log, the summary and on stderr alike) depends only on (--seed, i),
 * and every finished trial is one line of the trial log (JSON lines, beside the summary): a rerun with
 * the same flags skips the logged trials and goes on (--trials 40 after --trials 20 runs 20 more). The
 * summary file (best strategy, the best of each task, the top 5) is rewritten after every trial;
 * `npm run train -- --strategy FILE` reads it.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, appendFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { makeCli, formatDuration, progress } from '../../util/cli.js';
import { UserError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/fs-atomic.js';
import { mix32, Rng } from '../../util/rng.js';
import { runTraining, splitRows, TRAIN_DEFAULTS } from '../../model/pipeline.js';
import { loadOnnx } from '../../onnx/runtime.js';
import type { ModelFamily } from '../../core/family.js';
import { encodeRows, prepareJobTraining, trainingSetOf } from './training.js';
import { contractOf } from './spec.js';
import { EARLY_STOP_SHARE } from './trees/folds.js';
import { crossValidate, describe as describeCandidate } from './trees/select.js';
import type { Candidate } from './trees/select.js';

/** CV_FOLDS: the folds of a tree trial: train's --folds default. */
export const CV_FOLDS = 5;
import type { Strategy, JobSpec } from './spec.js';
import { decideAll } from './eval.js';
import { bestFactor, jobMetrics, SAFETY_GRID, THRESHOLD_GRID } from './metrics.js';
import type { JobMetrics } from './metrics.js';

/** The search space. Widths keep the int8 network small (≤ 64 units per layer, ≤ 2 hidden layers). */
export const SPACE = {
  hidden: [[16], [32], [64], [16, 8], [32, 16], [64, 32], [32, 32]] as number[][],
  learningRate: [3e-4, 1e-2] as const,
  batchSize: [64, 128, 256],
  quantile: [0.8, 0.99] as const,
  bins: [8, 12, 16, 24, 32],
};
/** VAL_FRACTION: a network trial's early-stopping share: train's (trees/folds.ts EARLY_STOP_SHARE). */
export const VAL_FRACTION = EARLY_STOP_SHARE;

/** TREE_SPACE: the tree search space. */
export const TREE_SPACE = {
  maxLeaves: [7, 15, 31, 63],
  minLeaf: [3, 5, 10, 20],
  learningRate: [0.03, 0.2] as const,
  featureFraction: [0.5, 0.8, 1],
  forestTrees: [30, 50, 100],
  forestMinLeaf: [2, 3, 5, 10],
  forestFeatures: [0.33, 0.6, 1],
  quantile: [0.7, 0.97] as const,
};

/** FOLD_SEED: the seed of a tree trial's folds and fits: train's --seed default, so train --strategy refits what was scored. */
export const FOLD_SEED = 1;

/** treeStrategyOf: tree trial `i`'s strategy for search seed `seed` (pure). */
export function treeStrategyOf(seed: number, i: number): Strategy {
  const r = new Rng(mix32(seed, i, 0x7ee5));
  const pick = <T>(xs: readonly T[]) => xs[r.int(xs.length)]!;
  const net = { hidden: [], learningRate: 0, batchSize: 0, epochs: 0, patience: 0, seed: FOLD_SEED };
  if (r.next() < 0.3) {
    return { ...net, model: { kind: 'forest', trees: pick(TREE_SPACE.forestTrees), learningRate: 0, maxLeaves: 0, minLeaf: pick(TREE_SPACE.forestMinLeaf), featureFraction: pick(TREE_SPACE.forestFeatures) }, task: { type: 'regression', objective: 'point', quantile: 0.5, safety: 1 } };
  }
  const lr = Math.exp(r.range(Math.log(TREE_SPACE.learningRate[0]), Math.log(TREE_SPACE.learningRate[1])));
  const model = { kind: 'gbdt' as const, trees: 400, learningRate: +lr.toPrecision(3), maxLeaves: pick(TREE_SPACE.maxLeaves), minLeaf: pick(TREE_SPACE.minLeaf), featureFraction: pick(TREE_SPACE.featureFraction) };
  const h = r.next();
  const objective = h < 0.5 ? 'quantile' : h < 0.75 ? 'cost' : 'point';
  return { ...net, model, task: { type: 'regression', objective, quantile: objective === 'quantile' ? +r.range(TREE_SPACE.quantile[0], TREE_SPACE.quantile[1]).toFixed(3) : 0.5, safety: 1 } };
}

/** runTreeTrial scores one tree strategy by train's cross-validation (trees/select.ts). */
export function runTreeTrial(prep: ReturnType<typeof prepareJobTraining>, strategy: Strategy, maxUnder: number): Omit<TrialRecord, 'trial'> {
  const t0 = performance.now();
  const c = contractOf(prep.spec);
  const X = encodeRows(prep.spec, c, prep.table, prep.split.train);
  const peaks = Float64Array.from(prep.split.train, (i) => prep.table.peak[i]!);
  const t = strategy.task as Extract<Strategy['task'], { type: 'regression' }>;
  const cand: Candidate = { model: strategy.model as Candidate['model'], objective: t.objective, quantile: t.quantile };
  const sel = crossValidate({ spec: prep.spec, X, peaks, chronological: prep.split.kind === 'chronological', folds: CV_FOLDS, seed: strategy.seed, maxUnder, budget: Infinity, candidates: [cand] });
  const best = sel.best;
  return { strategy: { ...strategy, task: { ...t, safety: best.safety } }, val: best.oof, bestEpoch: 0, seconds: +((performance.now() - t0) / 1000).toFixed(1) };
}

/** strategyOf: trial `i`'s strategy for search seed `seed` (pure: the same pair gives the same strategy). */
export function strategyOf(seed: number, i: number): Strategy {
  const r = new Rng(mix32(seed, i, 0x5ea4c4));
  const pick = <T>(xs: readonly T[]) => xs[r.int(xs.length)]!;
  const lr = Math.exp(r.range(Math.log(SPACE.learningRate[0]), Math.log(SPACE.learningRate[1])));
  const base = { hidden: pick(SPACE.hidden), learningRate: +lr.toPrecision(3), batchSize: pick(SPACE.batchSize), epochs: 200, patience: 20, seed: mix32(seed, i) % 100000 };
  const kind = r.next();
  if (kind < 0.35) return { ...base, task: { type: 'regression', objective: 'quantile', quantile: +r.range(SPACE.quantile[0], SPACE.quantile[1]).toFixed(3), safety: 1 } };
  if (kind < 0.6) return { ...base, task: { type: 'regression', objective: 'cost', quantile: 0.5, safety: 1 } };
  return { ...base, task: { type: 'classification', binning: r.next() < 0.5 ? 'quantile' : 'geometric', bins: pick(SPACE.bins), threshold: 0.1 } };
}

export interface TrialRecord {
  trial: number;
  strategy: Strategy;
  val: JobMetrics;
  bestEpoch: number;
  seconds: number;
}

/**
 * runTrial trains one strategy and chooses its decision on the validation rows; returns the strategy
 * with that decision filled in and its validation metrics.
 */
export async function runTrial(data: string, strategy: Strategy, maxUnder: number, familyOf: (s: JobSpec) => ModelFamily, familyName: string | null): Promise<Omit<TrialRecord, 'trial'>> {
  const t0 = performance.now();
  const prep = prepareJobTraining(familyName, [{ path: data, weight: 1 }], strategy, null);
  const dir = mkdtempSync(join(tmpdir(), 'job-search-'));
  try {
    const family = familyOf(prep.spec);
    const report = await runTraining(family, {
      ...TRAIN_DEFAULTS, data: [{ path: data, weight: 1 }], output: dir, epochs: strategy.epochs, seed: strategy.seed, batchSize: strategy.batchSize,
      learningRate: strategy.learningRate, patience: strategy.patience, valFraction: VAL_FRACTION, hyper: {}, log: () => {},
    });
    const set = trainingSetOf(prep.spec, prep.table, prep.split.train);
    const val = splitRows(set.n, VAL_FRACTION, strategy.seed).val;
    const w = set.widths.x;
    const X = new Float32Array(val.length * w);
    const peaks = new Float64Array(val.length);
    val.forEach((r, k) => {
      X.set(set.X.subarray(r * w, (r + 1) * w), k * w);
      peaks[k] = prep.table.peak[prep.split.train[r]!]!;
    });
    const sess = await loadOnnx(readFileSync(join(dir, `${family.fileStem}.onnx`)), 'trial');
    const y = await sess.predict(X, val.length);
    await sess.release();
    const spec = prep.spec;
    let chosen: Strategy['task'];
    let metrics: JobMetrics;
    if (spec.task.type === 'regression') {
      const base = decideAll({ ...spec, task: { ...spec.task, safety: 1 } }, y, val.length).allocation;
      const b = bestFactor(peaks, base, SAFETY_GRID, maxUnder);
      chosen = { ...(strategy.task as Extract<Strategy['task'], { type: 'regression' }>), safety: b.factor };
      metrics = b.metrics;
    } else {
      let best: { th: number; m: JobMetrics; ok: boolean } | null = null;
      for (const th of THRESHOLD_GRID) {
        const m = jobMetrics(peaks, decideAll({ ...spec, task: { ...spec.task, threshold: th } }, y, val.length).allocation);
        const ok = m.underPct <= maxUnder;
        if (!best || (ok && !best.ok) || (ok === best.ok && m.businessScore < best.m.businessScore)) best = { th, m, ok };
      }
      chosen = { ...(strategy.task as Extract<Strategy['task'], { type: 'classification' }>), threshold: best!.th };
      metrics = best!.m;
    }
    return { strategy: { ...strategy, task: chosen }, val: metrics, bestEpoch: report.bestEpoch, seconds: +((performance.now() - t0) / 1000).toFixed(1) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const better = (a: TrialRecord, b: TrialRecord, maxUnder: number) => {
  const ao = a.val.underPct <= maxUnder;
  const bo = b.val.underPct <= maxUnder;
  return ao !== bo ? ao : a.val.businessScore < b.val.businessScore;
};

/** summaryOf: the best trial, the best of each task type, the top 5. */
export function summaryOf(trials: TrialRecord[], header: Record<string, unknown>, maxUnder: number) {
  const ranked = [...trials].sort((a, b) => (better(a, b, maxUnder) ? -1 : better(b, a, maxUnder) ? 1 : a.trial - b.trial));
  const bestOf = (type: string) => ranked.find((t) => t.strategy.task.type === type) ?? null;
  const on = header.kind === 'network' ? `the ${VAL_FRACTION * 100}% early-stopping rows of the training 80%` : `out-of-fold predictions of train's ${CV_FOLDS}-fold cross-validation of the training 80%`;
  return { schemaVersion: 1, ...header, trials: trials.length, ranking: `business score on ${on}${Number.isFinite(maxUnder) ? `, trials with under ≤ ${maxUnder}% first` : ''}`, best: ranked[0] ?? null, bestRegression: bestOf('regression'), bestClassification: bestOf('classification'), top: ranked.slice(0, 5) };
}

/** searchCli: `npm run search -- --family job-memory --data FILE --trials N [--seed S] [--output FILE]`. */
export async function searchCli(argv: string[], familyName: string | null, familyOf: (s: JobSpec) => ModelFamily): Promise<void> {
  const a = await makeCli('search', 'Search job-memory strategies (seeded, resumable); writes a summary that npm run train -- --strategy FILE reads.\n\nUsage: npm run search -- --family job-memory --data ../shared/data/galaxy/bowtie2.csv --trials 20')
    .option('family', { type: 'string', describe: 'model family (job-memory, or a registered job-memory/<data set>)' })
    .option('data', { alias: 'd', type: 'string', demandOption: true, describe: 'the job CSV (build-jobs or Galaxy format)' })
    .option('trials', { type: 'number', default: 20, describe: 'trials in all (a rerun continues the log up to this many)' })
    .option('seed', { type: 'number', default: 1, describe: "the search's seed (trial i's strategy depends on it and i only)" })
    .option('max-under', { type: 'number', default: Infinity, describe: 'prefer decisions and trials with at most this under-allocation % on validation' })
    .option('output', { alias: 'o', type: 'string', describe: 'summary file (default strategies/<data set>.json); the trial log is <output>.trials.jsonl' })
    .option('kind', { choices: ['trees', 'network'] as const, default: 'trees' as const, describe: "what is searched: tree models (scored by train's cross-validation) or networks" })
    .strict()
    .parse(argv);
  if (!Number.isInteger(a.trials) || a.trials < 1) throw new UserError(`--trials must be a whole number ≥ 1, got ${a.trials}`);
  const prep = prepareJobTraining(familyName, [{ path: a.data, weight: 1 }], strategyOf(a.seed, 0), null);
  const out = a.output ?? join('strategies', `${prep.table.dataset}.json`);
  const logPath = `${out}.trials.jsonl`;
  const header = { family: prep.spec.family, data: a.data, sha256: prep.table.sha256, seed: a.seed, maxUnderPct: Number.isFinite(a.maxUnder) ? a.maxUnder : null, split: `${prep.split.kind} 80/20`, kind: a.kind, trialsFrom: 1 };
  mkdirSync(dirname(out) || '.', { recursive: true });
  const trials: TrialRecord[] = [];
  if (existsSync(logPath)) {
    const lines = readFileSync(logPath, 'utf8').split('\n').filter((l) => l.trim());
    const h = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    if (h.sha256 !== header.sha256 || h.seed !== header.seed || h.maxUnderPct !== header.maxUnderPct || (h.kind ?? 'network') !== header.kind) throw new UserError(`${logPath} is the log of another search (data, --seed, --max-under or --kind differ); give another --output or delete it`);
    // logs written before trials were numbered from 1 (no trialsFrom) numbered them from 0
    const shift = h.trialsFrom === 1 ? 0 : 1;
    // A trial is appended as one line; a kill during the append can leave the last line cut short: that
    // trial is run again (and the log rewritten without it). Any other bad line is an error naming it.
    let cut = false;
    lines.slice(1).forEach((l, k) => {
      try {
        const rec = JSON.parse(l) as TrialRecord;
        trials.push({ ...rec, trial: rec.trial + shift });
      } catch {
        if (k === lines.length - 2) cut = true;
        else throw new UserError(`${logPath}:${k + 2}: not a trial record (not JSON); delete that line or the log`);
      }
    });
    if (cut) {
      progress(`search: the last line of ${logPath} was cut short (an interrupted run): that trial runs again`, true);
      writeFileAtomic(logPath, [JSON.stringify({ ...h, trialsFrom: 1 }), ...trials.map((t) => JSON.stringify(t))].join('\n') + '\n');
    } else if (shift) {
      writeFileAtomic(logPath, [JSON.stringify({ ...h, kind: h.kind ?? 'network', trialsFrom: 1 }), ...trials.map((t) => JSON.stringify(t))].join('\n') + '\n');
    }
    progress(`search: resuming ${logPath}: ${trials.length} trials done`, true);
  } else {
    writeFileAtomic(logPath, JSON.stringify(header) + '\n');
  }
  const done = new Set(trials.map((t) => t.trial));
  const t0 = performance.now();
  let ran = 0;
  const todo = Array.from({ length: a.trials }, (_, i) => i + 1).filter((i) => !done.has(i));
  for (const i of todo) {
    const rec: TrialRecord = { trial: i, ...(a.kind === 'trees' ? runTreeTrial(prep, treeStrategyOf(a.seed, i - 1), a.maxUnder) : await runTrial(a.data, strategyOf(a.seed, i - 1), a.maxUnder, familyOf, familyName)) };
    appendFileSync(logPath, JSON.stringify(rec) + '\n');
    trials.push(rec);
    ran++;
    const s = summaryOf(trials, header, a.maxUnder);
    writeFileAtomic(out, JSON.stringify(s, null, 2) + '\n');
    const el = (performance.now() - t0) / 1000;
    const tk = rec.strategy.task;
    const what = rec.strategy.model && rec.strategy.model.kind !== 'network' && tk.type === 'regression'
      ? `${describeCandidate({ model: rec.strategy.model, objective: tk.objective, quantile: tk.quantile })} ×${tk.safety}`
      : `${tk.type === 'regression' ? `regression ${tk.objective}${tk.objective === 'quantile' ? ` q${tk.quantile}` : ''} ×${tk.safety}` : `classification ${tk.bins} ${tk.binning} bins p≤${tk.threshold}`} [${rec.strategy.hidden.join('-')}] lr ${rec.strategy.learningRate}`;
    progress(`search: trial ${i}/${a.trials} ${what}: ${a.kind === 'trees' ? 'out-of-fold' : 'val'} business ${rec.val.businessScore.toFixed(2)} (under ${rec.val.underPct.toFixed(2)}%) · best ${s.best!.val.businessScore.toFixed(2)} (trial ${s.best!.trial}) · ${formatDuration(el)}, ETA ${formatDuration((el / ran) * (todo.length - ran))}`, true);
  }
  const s = summaryOf(trials, header, a.maxUnder);
  writeFileAtomic(out, JSON.stringify(s, null, 2) + '\n');
  console.log(JSON.stringify({ summary: out, log: logPath, trials: s.trials, best: s.best && { trial: s.best.trial, strategy: s.best.strategy, valBusinessScore: s.best.val.businessScore, valUnderPct: s.best.val.underPct } }));
}
