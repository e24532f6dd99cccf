/**
 * train-cli: what `npm run train -- --family job-memory[/<data set>] --data FILE` runs (its own flags,
 * shown by --help).
 *
 *   no --strategy   the model is chosen: tree candidates (trees/select.ts DEFAULT_CANDIDATES, or only
 *                   those of --kind) are cross-validated on the training 80% (--folds, forward chaining
 *                   for chronological data) within --budget seconds, with a progress line; the best
 *                   (business score at its best safety factor, under ≤ --max-under first) is refitted
 *                   on the whole training 80% with the same early-stopping rule (trees/folds.ts)
 *   --strategy F    a search's summary (or a strategy file): its kind, settings, task and safety as they
 *                   are; a network strategy trains the network (model/pipeline.ts)
 *   --kind network  the network with the default strategy (training.ts DEFAULT_STRATEGY)
 * Writes to --output (default runs/train/job-memory/<data set>, never the shipped models/): <stem>.onnx (a tree model: an ai.onnx.ml
 * TreeEnsembleRegressor, onnx/trees.ts), holdout.csv and split.json (what validate replays),
 * preprocessing.json, training_report.json (the selection table, sizes, ONNX Runtime vs TypeScript).
 */
import { join } from 'node:path';
import { makeCli, formatDuration, progress, TRAIN_OUTPUT } from '../../util/cli.js';
import { UserError } from '../../util/errors.js';
import { writeFileAtomic } from '../../util/fs-atomic.js';
import { runTraining, TRAIN_DEFAULTS } from '../../model/pipeline.js';
import { buildTreeOnnx, forwardTrees, nodeCount } from '../../onnx/trees.js';
import { loadOnnx } from '../../onnx/runtime.js';
import type { ModelFamily } from '../../core/family.js';
import { rawRow } from './data.js';
import { contractOf } from './spec.js';
import type { JobSpec, Strategy } from './spec.js';
import { DEFAULT_STRATEGY, encodeRows, prepareJobTraining, readStrategy } from './training.js';
import { crossValidate, DEFAULT_CANDIDATES, describe, gather } from './trees/select.js';
import type { Candidate, Selection } from './trees/select.js';
import { EARLY_STOP_SHARE, stoppingRows } from './trees/folds.js';
import { fitJobTrees } from './trees/model.js';

export const TRAIN_BUDGET_SECONDS = 180;

/** trainCli: see the module header. `familyOf` builds the family of a spec (index.ts jobFamily). */
export async function trainCli(argv: string[], familyName: string | null, familyOf: (s: JobSpec, example?: Record<string, unknown>) => ModelFamily): Promise<void> {
  const a = await parseFlags(argv);
  const strategy: Strategy | null = a.strategy ? readStrategy(a.strategy) : a.kind === 'network' ? DEFAULT_STRATEGY : null;
  if (a.strategy && a.kind !== 'auto') throw new UserError('--kind chooses what the selection tries; with --strategy the strategy names the kind: drop one of them');
  const run = prepare(a, familyName, strategy);
  if (strategy && (!strategy.model || strategy.model.kind === 'network')) return trainNetwork(a, strategy, run, familyOf);

  const t0 = performance.now();
  // a tree strategy carries the seed its folds and fits were scored with (search's FOLD_SEED)
  const seed = strategy ? strategy.seed : a.seed;
  const rows = trainingRows(run.prep);
  const { chosen, selection } = strategy ? strategyChoice(a, strategy) : selectChoice(a, rows, seed, t0);
  const built = await fitChosen(run, rows, chosen, seed, familyOf);
  writeTreeModel(a, run, rows, chosen, selection, built, t0);
}

type Flags = Awaited<ReturnType<typeof parseFlags>>;

/** parseFlags reads and checks train's job-memory flags (--data, --folds, --budget, --seed, ...). */
async function parseFlags(argv: string[]) {
  const a = await makeCli('train', `Train a job-memory model on a job CSV (build-jobs or Galaxy format). Without --strategy the kind, size and safety factor are chosen by cross-validation on the training 80%.\n\nUsage: npm run train -- --family job-memory --data ../shared/data/galaxy/bowtie2.csv\n       npm run train -- --family job-memory --data FILE --strategy strategies/bowtie2.json`)
    .option('family', { type: 'string', describe: 'job-memory (the data set names the family: job-memory/<file stem>), or job-memory/<name>' })
    .option('data', { alias: 'd', type: 'string', array: true, demandOption: true, describe: 'the job CSV (one file)' })
    .option('output', { alias: 'o', type: 'string', describe: `output folder (default ${TRAIN_OUTPUT}job-memory/<data set>; npm run export publishes a model)` })
    .option('strategy', { type: 'string', describe: "a search summary (npm run search) or strategy file: its kind, settings, task and safety factor, no selection" })
    .option('kind', { choices: ['auto', 'gbdt', 'forest', 'network'] as const, default: 'auto' as const, describe: 'without --strategy: which tree kinds the selection tries (auto: both), or the network with the default strategy' })
    .option('folds', { type: 'number', default: 5, describe: 'cross-validation folds of the selection (forward chaining for chronological data)' })
    .option('budget', { type: 'number', default: TRAIN_BUDGET_SECONDS, describe: 'seconds for the selection: a candidate not done within it is skipped and named (the first always runs)' })
    .option('max-under', { type: 'number', default: 3, describe: 'prefer safety factors and candidates with at most this under-allocation % (out of fold)' })
    .option('seed', { type: 'number', default: 1, describe: "seed of the folds, early-stopping rows, row samples and bootstraps (a tree --strategy brings its own)" })
    .strict()
    .parse(argv);
  if (a.data.length !== 1) throw new UserError(`--data: a job-memory family trains on exactly one job CSV, got ${a.data.length}`);
  if (!Number.isInteger(a.folds) || a.folds < 2 || a.folds > 20) throw new UserError(`--folds must be a whole number in 2..20, got ${a.folds}`);
  if (!(a.budget > 0)) throw new UserError(`--budget must be a positive number of seconds, got ${a.budget}`);
  if (!Number.isInteger(a.seed) || a.seed < 0) throw new UserError(`--seed must be a whole number ≥ 0, got ${a.seed}`);
  return a;
}

/** Prepared: the data source, the prepared training (spec, table, split), the output folder and an example row. */
interface Prepared {
  data: { path: string; weight: number }[];
  prep: ReturnType<typeof prepareJobTraining>;
  output: string;
  example: { attributes: Record<string, unknown> };
}

/**
 * prepare reads the job CSV, splits it 80/20 and fits the preprocessing (written with holdout.csv and
 * split.json to the output folder); says what it did.
 */
function prepare(a: Flags, familyName: string | null, strategy: Strategy | null): Prepared {
  const data = [{ path: a.data[0]!, weight: 1 }];
  // the preprocessing does not depend on the task: a provisional strategy fixes the spec's other parts
  const provisional: Strategy = strategy ?? { ...DEFAULT_STRATEGY, hidden: [], model: DEFAULT_CANDIDATES[0]!.model, task: { type: 'regression', objective: 'point', quantile: 0.5, safety: 1 } };
  const probe = prepareJobTraining(familyName, data, provisional, null);
  const output = a.output ?? join(TRAIN_OUTPUT, 'job-memory', probe.table.dataset);
  const prep = prepareJobTraining(familyName, data, provisional, output);
  const example = { attributes: rawRow(prep.table, prep.split.train[0]!) };
  progress(`train: ${prep.spec.family}: ${prep.split.kind} 80/20 split of ${prep.table.n} jobs: ${prep.split.train.length} train, ${prep.split.holdout.length} held out (${join(output, 'holdout.csv')}); ${contractOf(prep.spec).inputs.length} inputs from ${prep.spec.attributes.length} attributes`, true);
  return { data, prep, output, example };
}

/** trainNetwork: the network, as before tree kinds (model/pipeline.ts), with the selection's early-stopping share. */
async function trainNetwork(a: Flags, strategy: Strategy, run: Prepared, familyOf: (s: JobSpec, example?: Record<string, unknown>) => ModelFamily): Promise<void> {
  const { prep, data, output, example } = run;
  const family = familyOf(prep.spec, example);
  writeFileAtomic(join(output, 'preprocessing.json'), JSON.stringify({ spec: prep.spec, example }, null, 2) + '\n');
  progress(`train: network strategy ${a.strategy ?? '(default)'}: hidden [${strategy.hidden.join(', ')}], learning rate ${strategy.learningRate}, task ${JSON.stringify(strategy.task)}`, true);
  const report = await runTraining(family, { ...TRAIN_DEFAULTS, data, output, epochs: strategy.epochs, seed: strategy.seed, batchSize: strategy.batchSize, learningRate: strategy.learningRate, patience: strategy.patience, valFraction: EARLY_STOP_SHARE, hyper: {}, log: (l) => progress(l, true) });
  console.log(JSON.stringify({ family: report.family, kind: 'network', output, bestEpoch: report.bestEpoch, seconds: report.trainSeconds, bytes: report.onnx.int8Bytes }));
}

/** TrainingRows: the training 80% encoded (row-major X of W inputs) with its peaks. */
interface TrainingRows {
  spec0: JobSpec;
  W: number;
  X: Float32Array;
  peaks: Float64Array;
  chronological: boolean;
}

/** trainingRows encodes the training 80% with the prepared spec. */
function trainingRows(prep: Prepared['prep']): TrainingRows {
  const spec0 = prep.spec;
  const c0 = contractOf(spec0);
  const W = c0.inputs.length;
  const X = encodeRows(spec0, c0, prep.table, prep.split.train);
  const peaks = Float64Array.from(prep.split.train, (i) => prep.table.peak[i]!);
  return { spec0, W, X, peaks, chronological: prep.split.kind === 'chronological' };
}

/** Choice: the candidate and safety factor to fit, and the selection that chose them (null with --strategy). */
interface Choice {
  chosen: { candidate: Candidate; safety: number };
  selection: Selection | null;
}

/** strategyChoice: a tree --strategy's kind, settings, task and safety, as they are. */
function strategyChoice(a: Flags, strategy: Strategy): Choice {
  const t = strategy.task;
  if (t.type !== 'regression') throw new UserError(`--strategy ${a.strategy}: a tree model does regression only (task ${t.type})`);
  const chosen = { candidate: { model: strategy.model as Candidate['model'], objective: t.objective, quantile: t.quantile }, safety: t.safety };
  progress(`train: strategy ${a.strategy}: ${describe(chosen.candidate)} × ${chosen.safety}`, true);
  return { chosen, selection: null };
}

/** selectChoice cross-validates the candidates of --kind within --budget, with a progress bar, and prints the table. */
function selectChoice(a: Flags, rows: TrainingRows, seed: number, t0: number): Choice {
  const { spec0, X, peaks, chronological } = rows;
  const candidates = DEFAULT_CANDIDATES.filter((c) => a.kind === 'auto' || c.model.kind === a.kind);
  progress(`train: choosing among ${candidates.length} candidates by ${a.folds}-fold ${chronological ? 'forward-chaining ' : ''}cross-validation on the ${peaks.length} training jobs (budget ${formatDuration(a.budget)})`, true);
  const selection = crossValidate({
    spec: spec0, X, peaks, chronological, folds: a.folds, seed: seed, maxUnder: a.maxUnder, budget: a.budget, candidates,
    progress: (done, total, line) => {
      const el = (performance.now() - t0) / 1000;
      const bar = '#'.repeat(Math.round((20 * done) / total)).padEnd(20, '.');
      progress(`train: [${bar}] ${done}/${total} ${line} · ${formatDuration(el)}, ETA ≤ ${formatDuration(Math.min(a.budget, (el / done) * total) - el)}`);
    },
  });
  progress('', false);
  for (const p of selection.point?.tried ?? []) progress(`train:   point estimate (${p.settings.maxLeaves} leaves, ${p.settings.minLeaf}+ jobs a leaf, lr ${p.settings.learningRate}, ${p.settings.featureFraction} of the inputs a split): out-of-fold R² ${p.r2.toFixed(3)}${p.settings === selection.point!.settings ? ' (chosen)' : ''}`, true);
  for (const s of selection.scores) progress(`train:   ${describe(s.candidate)} × ${s.safety}: out-of-fold business ${s.oof.businessScore.toFixed(2)} (under ${s.oof.underPct.toFixed(2)}%), R² ${s.oof.r2!.toFixed(3)}, ${s.seconds}s`, true);
  if (selection.skipped.length) progress(`train: skipped for the budget: ${selection.skipped.map(describe).join('; ')}`, true);
  const chosen = { candidate: selection.best.candidate, safety: selection.best.safety };
  progress(`train: chosen ${describe(chosen.candidate)} × ${chosen.safety} (${selection.scoredJobs} jobs scored out of fold, ${selection.seconds}s)`, true);
  return { chosen, selection };
}

/** Built: the fitted tree model, its ONNX bytes and how far ONNX Runtime is from the TypeScript ensemble. */
interface Built {
  spec: JobSpec;
  family: ModelFamily;
  rows: ReturnType<typeof stoppingRows>;
  fit: ReturnType<typeof fitJobTrees>;
  bytes: Uint8Array;
  dev: number;
}

/**
 * fitChosen refits the chosen candidate on the whole training 80% (same early-stopping rule), builds its
 * ONNX and compares ONNX Runtime with the TypeScript ensemble on the early-stopping rows (max |Δ|).
 */
async function fitChosen(run: Prepared, t: TrainingRows, chosen: Choice['chosen'], seed: number, familyOf: (s: JobSpec, example?: Record<string, unknown>) => ModelFamily): Promise<Built> {
  const { prep, example } = run;
  const { X, W, peaks, chronological } = t;
  const cand = chosen.candidate;
  const spec: JobSpec = { ...t.spec0, task: { type: 'regression', objective: cand.objective, quantile: cand.quantile, safety: chosen.safety }, hidden: [], model: { ...cand.model } };
  const c = contractOf(spec);
  const all = Uint32Array.from({ length: peaks.length }, (_, i) => i);
  const rows = stoppingRows(all, chronological, seed);
  const fit = fitJobTrees({ spec, X, peaks, fit: rows.fit, stop: rows.stop, seed: seed, confidence: true });
  const family = familyOf(spec, example);
  const metadata: Record<string, string> = {
    contract: JSON.stringify(c.descriptor()),
    contract_version: c.version,
    architecture: `tree-ensemble-${cand.model.kind}-${fit.ensemble.trees.length}-trees-${nodeCount(fit.ensemble)}-nodes`,
    training_data_sha256: prep.table.sha256,
    training_seed: String(seed),
    family: spec.family,
  };
  const bytes = buildTreeOnnx(c, fit.ensemble, metadata);
  // ONNX Runtime against the TypeScript ensemble on the early-stopping rows
  const xs = gather(X, W, rows.stop);
  const sess = await loadOnnx(bytes, 'tree model');
  const ort = await sess.predict(xs, rows.stop.length);
  await sess.release();
  const ts = forwardTrees(fit.ensemble, xs, rows.stop.length);
  let dev = 0;
  for (let i = 0; i < ts.length; i++) dev = Math.max(dev, Math.abs(ort[i]! - ts[i]!));
  return { spec, family, rows, fit, bytes, dev };
}

/** writeTreeModel writes <stem>.onnx, preprocessing.json and training_report.json, and prints the summary. */
function writeTreeModel(a: Flags, run: Prepared, t: TrainingRows, chosen: Choice['chosen'], selection: Selection | null, built: Built, t0: number): void {
  const { prep, output, example } = run;
  const { peaks } = t;
  const { spec, family, rows, fit, bytes, dev } = built;
  const cand = chosen.candidate;
  const file = `${family.fileStem}.onnx`;
  writeFileAtomic(join(output, file), bytes);
  writeFileAtomic(join(output, 'preprocessing.json'), JSON.stringify({ spec, example }, null, 2) + '\n');
  const seconds = +((performance.now() - t0) / 1000).toFixed(1);
  const report = {
    schemaVersion: 1, createdAt: new Date().toISOString(), family: spec.family, kind: cand.model.kind, model: describe(cand), safety: chosen.safety,
    data: { path: prep.table.path, sha256: prep.table.sha256, split: prep.split.kind, train: peaks.length, fit: rows.fit.length, earlyStopping: rows.stop.length, holdout: prep.split.holdout.length },
    trees: fit.ensemble.trees.length, nodes: nodeCount(fit.ensemble), rounds: fit.rounds, bytes: bytes.length, seconds,
    onnxVsTypeScriptMaxAbs: dev,
    selection: selection && { point: selection.point, folds: selection.folds, foldKind: selection.foldKind, scoredJobs: selection.scoredJobs, seconds: selection.seconds, budget: a.budget, maxUnderPct: a.maxUnder, scores: selection.scores.map((s) => ({ model: describe(s.candidate), candidate: s.candidate, safety: s.safety, businessScore: s.oof.businessScore, underPct: s.oof.underPct, overPct: s.oof.overPct, r2: s.oof.r2, seconds: s.seconds })), skipped: selection.skipped.map(describe) },
    files: [file, 'preprocessing.json', 'holdout.csv', 'split.json', 'training_report.json'],
  };
  writeFileAtomic(join(output, 'training_report.json'), JSON.stringify(report, null, 2) + '\n');
  progress(`train: ${describe(cand)} × ${chosen.safety}: ${fit.ensemble.trees.length} trees, ${nodeCount(fit.ensemble)} nodes, ${(bytes.length / 1024).toFixed(1)} KiB; ONNX Runtime vs TypeScript max |Δ| ${dev.toExponential(2)}; ${formatDuration(seconds)}`, true);
  console.log(JSON.stringify({ family: spec.family, kind: cand.model.kind, output, model: join(output, file), safety: chosen.safety, trees: report.trees, nodes: report.nodes, bytes: bytes.length, seconds, onnxVsTypeScriptMaxAbs: dev }));
}
