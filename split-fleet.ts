/**
 * split-fleet: which VMs train, which choose and which are only reported (data/fleet-split.ts).
 *   npm run split-fleet -- --input ../shared/data/bitbrains-250 --output data/fleet-split.json
 */
import { makeCli, progress, runMain } from './src/util/cli.js';
import { getSource } from './src/sources/registry.js';
import { SOURCES } from './src/sources/registry.js';
import { makeSplit, vmsOf } from './src/families/container-resources/data/fleet-split.js';
import { writeFileAtomic } from './src/util/fs-atomic.js';
import { UserError } from './src/util/errors.js';

runMain(async () => {
  const argv = await makeCli('split-fleet', 'Split a fleet into train / select / test VMs, keeping near-clone groups (correlated VMs) on one side.\n\nUsage: npm run split-fleet -- --input ../shared/data/bitbrains-250 --output data/fleet-split.json')
    .option('trace', { choices: SOURCES.map((s) => s.name), default: SOURCES[0]!.name, describe: 'usage source (format) of the input' })
    .option('input', { alias: 'i', type: 'string', array: true, demandOption: true, describe: 'the reference month: folder(s) or file(s) of traces' })
    .option('output', { alias: 'o', type: 'string', default: 'data/fleet-split.json', describe: 'where to write the split (JSON)' })
    .option('threshold', { type: 'number', default: 0.9, describe: 'near-clone: hourly memory AND CPU correlation at least this' })
    .option('test', { type: 'number', default: 0.2, describe: 'fraction of VMs only ever reported' })
    .option('select', { type: 'number', default: 0.2, describe: 'fraction of VMs for early stopping, seed choice and risk calibration' })
    .option('seed', { type: 'number', default: 20261202, describe: 'seed of the group order' })
    .parse();
  for (const k of ['threshold', 'test', 'select'] as const) {
    if (!(argv[k] >= 0 && argv[k] <= 1)) throw new UserError(`--${k} ${argv[k]}: give a number between 0 and 1`);
  }
  if (argv.test + argv.select >= 1) throw new UserError(`--test ${argv.test} + --select ${argv.select} leave no VM to train on; keep their sum below 1`);
  const traces = getSource(argv.trace).read(argv.input, { log: (l) => progress(l) });
  if (!traces.length) throw new UserError(`--input ${argv.input.join(', ')} has no trace files`);
  progress(`split-fleet: correlating ${traces.length} traces (${(traces.length * (traces.length - 1)) / 2} pairs)`, true);
  const split = makeSplit(traces, {
    threshold: argv.threshold,
    seed: argv.seed,
    fractions: { train: 1 - argv.test - argv.select, select: argv.select, test: argv.test },
    method: `near-clone groups: hourly memory and CPU correlation ≥ ${argv.threshold} on ${argv.input.join(', ')} (union-find); whole groups to one role by a seeded hash (seed ${argv.seed})`,
  });
  writeFileAtomic(argv.output, JSON.stringify(split, null, 2) + '\n');
  const n = (r: 'train' | 'select' | 'test') => vmsOf(split, r).length;
  console.log(`${argv.output}: ${traces.length} VMs, ${split.groups.length} near-clone groups of ${split.groups.reduce((a, g) => a + g.length, 0)} VMs; train ${n('train')}, select ${n('select')}, test ${n('test')}`);
});
