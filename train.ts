/**
 * train: train a family's network (containers: 12→32→16→5) on one or more data files and write the float
 * model, int8 and fp32 ONNX files and the training reports.
 *   npm run train -- --data data/training_data.npz              → runs/train/ (never the shipped models/)
 *   npm run train -- --data data/real.npz:2 --data data/synthetic.npz:1 --output runs/mix/
 * Publish a trained model into the store npm start serves with npm run export.
 */
import { familyArg, familyOption, makeCli, progress, runMain } from './src/util/cli.js';
import { UserError } from './src/util/errors.js';
import { runTraining, TRAIN_DEFAULTS } from './src/model/pipeline.js';
import { DEFAULT_FAMILY_NAME, FAMILIES, getFamily } from './src/families/registry.js';
import type { DataSource } from './src/core/family.js';
import { TRAIN_OUTPUT } from './src/util/cli.js';

/** parseDataArg: "file.npz" → weight 1; "file.npz:2.5" → weight 2.5 (the last ':' followed by a number). */
export function parseDataArg(arg: string): DataSource {
  const m = /^(.*):([0-9]*\.?[0-9]+(?:e[+-]?\d+)?)$/i.exec(arg);
  if (!m) return { path: arg, weight: 1 };
  const weight = Number(m[2]);
  if (!(weight > 0)) throw new UserError(`--data ${arg}: the weight after ':' must be a positive number`);
  return { path: m[1]!, weight };
}

runMain(async () => {
  const d = TRAIN_DEFAULTS;
  const family = getFamily(familyArg(DEFAULT_FAMILY_NAME));
  // A family with its own trainer (job-memory: tree selection or its network) parses its own flags.
  if (family.training.cli) return family.training.cli(process.argv.slice(2));
  const hyperFlags = Object.entries(family.training.hyperDefaults).map(([k, v]) => ({ key: k, flag: k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), v }));
  const choices = (family.training.hyperChoices ?? {}) as Record<string, readonly string[] | undefined>;
  let cli = makeCli('train', `Train a model family's network.\n\nUsage: npm run train -- --data data/training_data.npz [--output ${TRAIN_OUTPUT}]\n       npm run train -- --data real.npz:2 --data synthetic.npz:1   (files with weights in the mix)`)
    .option('family', familyOption(FAMILIES.map((f) => f.name), DEFAULT_FAMILY_NAME))
    .option('data', { alias: 'd', type: 'string', array: true, default: ['data/training_data.npz'], describe: 'training data file(s), each optionally FILE:WEIGHT; a file\'s weight is its share of the total, whatever its row count' })
    .option('output', { alias: 'o', type: 'string', default: TRAIN_OUTPUT, describe: 'output folder (not models/: the shipped model lives there; npm run export publishes a trained one)' })
    .option('epochs', { type: 'number', default: d.epochs, describe: 'maximum epochs (early stopping may end sooner)' })
    .option('seed', { type: 'number', default: d.seed, describe: 'seed for initialization, split and shuffling' })
    .option('batch-size', { type: 'number', default: d.batchSize })
    .option('learning-rate', { type: 'number', default: d.learningRate })
    .option('patience', { type: 'number', default: d.patience, describe: 'epochs without validation improvement before stopping' })
    .option('val-fraction', { type: 'number', default: d.valFraction, describe: 'share held out for early stopping (whole VMs when the data has them)' })
    .option('calibration-data', { type: 'string', array: true, describe: 'real windows of workloads NOT in --data (e.g. generate --from-trace --vms 151-200): the conformal risk table for --memory-hold / risk targets is computed on them and embedded in the model' })
    .option('quantization', { choices: ['static', 'weights'] as const, default: d.quantization, describe: 'int8 form: static QDQ (weights and activations) or weight-only' })
    .option('strategy', { type: 'string', describe: 'a search summary (npm run search) whose best strategy fixes the architecture, task and training settings (families with a learned contract: job-memory)' });
  for (const h of hyperFlags) {
    const describe = (family.training.hyperHelp as Record<string, string>)[h.key] ?? h.key;
    cli = typeof h.v === 'string' ? cli.option(h.flag, { type: 'string', default: h.v, describe, ...(choices[h.key] ? { choices: [...choices[h.key]!] } : {}) }) : cli.option(h.flag, { type: 'number', default: h.v, describe });
  }
  const argv = (await cli.parse()) as Record<string, unknown> & { data: string[]; output: string; epochs: number; seed: number; batchSize: number; learningRate: number; patience: number; valFraction: number; quantization: 'static' | 'weights' };
  const pos = (name: string, v: number, int = false) => {
    if (!Number.isFinite(v) || v <= 0 || (int && !Number.isInteger(v))) throw new UserError(`--${name} must be a positive ${int ? 'whole ' : ''}number, got ${v}`);
  };
  pos('epochs', argv.epochs, true);
  pos('batch-size', argv.batchSize, true);
  pos('learning-rate', argv.learningRate);
  pos('patience', argv.patience, true);
  if (!(argv.valFraction > 0 && argv.valFraction < 1)) throw new UserError(`--val-fraction must be between 0 and 1, got ${argv.valFraction}`);
  if (!Number.isInteger(argv.seed) || argv.seed < 0) throw new UserError(`--seed must be a whole number ≥ 0, got ${argv.seed}`);
  const hyper: Record<string, number | string> = {};
  for (const h of hyperFlags) {
    const v = argv[h.flag] as number | string;
    if (typeof h.v === 'number' && !(Number.isFinite(v) && (v as number) >= 0)) throw new UserError(`--${h.flag} must be a number ≥ 0, got ${v}`);
    hyper[h.key] = v;
  }
  const data = argv.data.map(parseDataArg);
  const strategy = (argv['strategy'] as string | undefined) ?? null;
  if (strategy && !family.prepare) throw new UserError(`--strategy: family ${family.name} has no strategies (its contract is fixed); drop --strategy`);
  // A family whose contract is learned from its data (job-memory) names the concrete family to train.
  const prepared = family.prepare?.({ data, strategy, output: argv.output }) ?? null;
  for (const line of prepared?.notes ?? []) progress(line, true);
  const report = await runTraining(prepared?.family ?? family, {
    ...d,
    data,
    output: argv.output,
    epochs: argv.epochs,
    seed: argv.seed,
    batchSize: argv.batchSize,
    learningRate: argv.learningRate,
    patience: argv.patience,
    ...prepared?.settings,
    valFraction: argv.valFraction,
    quantization: argv.quantization,
    hyper,
    calibration: ((argv['calibrationData'] as string[] | undefined) ?? []).map(parseDataArg),
    log: (l: string) => progress(l, true),
  });
  console.log(JSON.stringify({ family: report.family, output: argv.output, backend: report.backend, bestEpoch: report.bestEpoch, valLoss: report.final.valLoss, seconds: report.trainSeconds, int8Bytes: report.onnx.int8Bytes, int8MaxDeviation: Math.max(...Object.values(report.onnx.int8VsFloatMaxAbs)) }));
});
