/**
 * train: train the 12→32→16→5 network on a data file and write the float model, int8 and fp32 ONNX
 * files and the training reports.
 *   npm run train -- --data data/training_data.npz --output models/
 */
import { makeCli, progress, runMain } from './src/util/cli.js';
import { UserError } from './src/util/errors.js';
import { runTraining, TRAIN_DEFAULTS } from './src/model/pipeline.js';

runMain(async () => {
  const d = TRAIN_DEFAULTS;
  const argv = await makeCli('train', 'Train the resource predictor.\n\nUsage: npm run train -- --data data/training_data.npz --output models/')
    .option('data', { alias: 'd', type: 'string', default: 'data/training_data.npz', describe: 'training data (.npz from npm run generate)' })
    .option('output', { alias: 'o', type: 'string', default: 'models/', describe: 'output folder' })
    .option('epochs', { type: 'number', default: d.epochs, describe: 'maximum epochs (early stopping may end sooner)' })
    .option('seed', { type: 'number', default: d.seed, describe: 'seed for initialization, split and shuffling' })
    .option('under-penalty', { type: 'number', default: d.underPenalty, describe: 'cost of under-provisioning relative to over-provisioning' })
    .option('batch-size', { type: 'number', default: d.batchSize })
    .option('learning-rate', { type: 'number', default: d.learningRate })
    .option('patience', { type: 'number', default: d.patience, describe: 'epochs without validation improvement before stopping' })
    .option('quantization', { choices: ['static', 'weights'] as const, default: d.quantization, describe: 'int8 form: static QDQ (weights and activations) or weight-only' })
    .parse();
  const pos = (name: string, v: number, int = false) => {
    if (!Number.isFinite(v) || v <= 0 || (int && !Number.isInteger(v))) throw new UserError(`--${name} must be a positive ${int ? 'whole ' : ''}number, got ${v}`);
  };
  pos('epochs', argv.epochs, true);
  pos('under-penalty', argv.underPenalty);
  pos('batch-size', argv.batchSize, true);
  pos('learning-rate', argv.learningRate);
  pos('patience', argv.patience, true);
  if (!Number.isInteger(argv.seed) || argv.seed < 0) throw new UserError(`--seed must be a whole number ≥ 0, got ${argv.seed}`);
  const report = await runTraining({
    ...d,
    data: argv.data,
    output: argv.output,
    epochs: argv.epochs,
    seed: argv.seed,
    underPenalty: argv.underPenalty,
    batchSize: argv.batchSize,
    learningRate: argv.learningRate,
    patience: argv.patience,
    quantization: argv.quantization,
    log: (l) => progress(l, true),
  });
  console.log(JSON.stringify({ output: argv.output, backend: report.backend, bestEpoch: report.bestEpoch, valLoss: report.final.valLoss, seconds: report.trainSeconds, int8Bytes: report.onnx.int8Bytes, int8MaxDeviation: Math.max(...Object.values(report.onnx.int8VsFloatMaxAbs)) }));
});
