/**
 * job-memory: the second model family. The peak memory of a batch job (a CI build, a Galaxy tool run)
 * from the attributes known before it starts, one family per data set ("job-memory/build-jobs",
 * "job-memory/bowtie2", …). Its contract is learned: the category vocabularies, number scales, task
 * (quantile/cost-aware regression or classification into memory bins) and widths form a JobSpec
 * (spec.ts) that travels with the model (ONNX metadata, manifest entry, Rust module).
 *
 * How a family with per-data-set vocabularies is represented:
 *   - `jobFamily(spec)` builds the ModelFamily of one spec (contract, reader, objective, serving, Rust);
 *   - `jobMemory` is the one registered family; its members job-memory/<data set> are listed nowhere:
 *     the CLIs get the concrete family from the data (train's `prepare`: split, hold-out, vocabularies,
 *     the strategy) or from a model file (`ofModel`: export, validate, the agent), so `--family
 *     job-memory --data any-galaxy-tool.csv` works for a data set never seen before;
 *   - the agent serves every job-memory/<data set> entry of its manifest from the spec embedded in the
 *     entry's model file (read after its sha256 is verified; resource-agent/families.ts), and refuses a
 *     version of that family whose embedded spec differs (contract.checkModel): its attributes would be
 *     encoded otherwise;
 *   - the dashboard's Replay page sends a data set's held-out jobs (replay.ts reads them for the agent).
 */
import type { ModelFamily } from '../../core/family.js';
import { UserError } from '../../util/errors.js';
import { canonicalJson } from '../../store/manifest.js';
import { contractOf, OTHER } from './spec.js';
import type { JobSpec } from './spec.js';
import { jobObjective } from './objective.js';
import { DEFAULT_STRATEGY, oneSource, prepareJobTraining, readStrategy, trainingSetOf } from './training.js';
import { readJobTable, splitJobs } from './data.js';
import { jobServing } from './serving.js';
import { gateJobModel, specOfBytes, specOfModel, validateCli } from './eval.js';
import type { searchCli as SearchCli } from './search.js';
import type { trainCli as TrainCli } from './train-cli.js';
import { rustJobExtras } from './rust.js';
import { jobReplay } from './replay.js';
import { writeFileAtomic } from '../../util/fs-atomic.js';
import { join } from 'node:path';

/** searchCli loads search.ts (which trains, so imports TensorFlow.js) only when `npm run search` runs: the agent never loads tfjs. */
const searchCli: typeof SearchCli = async (...args) => (await import('./search.js')).searchCli(...args);
/** trainCli likewise (it may train the network). */
const trainCli: typeof TrainCli = async (...args) => (await import('./train-cli.js')).trainCli(...args);

/** Preprocessing: preprocessing.json beside a trained model (for scripts such as bench/job_memory_reference.py). */
export interface Preprocessing {
  spec: JobSpec;
  example: Record<string, unknown>;
}

const dataset = (name: string) => name.replace(/^job-memory\//, '');

/**
 * exampleOf: a request built from a spec alone (/docs): each number's most frequent exact value (else
 * half its training maximum), each category's and list's most frequent value.
 */
export function exampleOf(s: JobSpec): Record<string, unknown> {
  return {
    attributes: Object.fromEntries(s.attributes.map((a) => [a.name, a.kind === 'number' ? (a.values[0] ?? Math.round(a.max / 2)) : a.kind === 'list' ? a.vocab.slice(0, 1) : (a.vocab[0] ?? OTHER)])),
  };
}

/**
 * checkSpecOf: the contract check of a spec: a model file is this family's when the JobSpec embedded
 * in it is the same (canonical JSON); else the reason, naming what differs.
 */
function checkSpecOf(spec: JobSpec): (bytes: Uint8Array, label: string) => string | null {
  const want = canonicalJson(spec);
  return (bytes, label) => {
    let own: JobSpec;
    try {
      own = specOfBytes(bytes, label);
    } catch (e) {
      return (e as Error).message;
    }
    if (canonicalJson(own) === want) return null;
    const diff = own.family !== spec.family ? `it is a model of ${own.family}` : own.attributes.length !== spec.attributes.length || own.attributes.some((a, i) => canonicalJson(a) !== canonicalJson(spec.attributes[i])) ? 'its attributes or vocabularies differ' : 'its task, output scale or training facts differ';
    return `${label}: its preprocessing is not the one this agent serves for ${spec.family} (${diff}; a new vocabulary is a new contract); restart the agent to serve it`;
  };
}

/** jobFamily: the ModelFamily of one spec; `example` is the request /docs shows (default exampleOf). */
export function jobFamily(spec: JobSpec, example: Record<string, unknown> = exampleOf(spec)): ModelFamily {
  const name = spec.family;
  const f: ModelFamily = {
    name,
    title: `Peak memory of a ${dataset(name)} job from its attributes (request = limit)`,
    contract: { ...contractOf(spec), checkModel: checkSpecOf(spec) },
    fileStem: name.replace(/\//g, '-'),
    training: {
      load(sources) {
        const t = readJobTable(oneSource(sources));
        return trainingSetOf(spec, t, splitJobs(t).train);
      },
      hyperDefaults: {},
      hyperHelp: {},
      objective: () => jobObjective(spec),
      describeObjective: () => (spec.task.type === 'regression'
        ? `squared error of the log peak (mem_point); ${spec.task.objective === 'quantile' ? `pinball at ${spec.task.quantile}` : 'smooth business score (5 × short + bytes over)'} on mem_quantile, allocation × ${spec.task.safety}; log loss of the confidence`
        : `squared error of the log peak (mem_point); log loss of the ${spec.task.edges.length - 1} bin exceedance heads (${spec.task.binning} bins), threshold ${spec.task.threshold}`),
      search: (argv) => searchCli(argv, name === 'job-memory' ? null : name, (s) => jobFamily(s)),
      cli: (argv) => trainCli(argv, name === 'job-memory' ? null : name, (s, ex) => jobFamily(s, ex)),
    },
    evaluation: {
      gate: (o) => gateJobModel(o),
      validate: (argv) => validateCli(argv, name),
    },
    rustExtras: () => rustJobExtras(spec),
    serving: jobServing(spec, dataset(name), example),
    replay: jobReplay,
    retraining: { data: 'jobs' },
    prepare(o) {
      const strategy = o.strategy ? readStrategy(o.strategy) : DEFAULT_STRATEGY;
      const p = prepareJobTraining(name === 'job-memory' ? null : name, o.data, strategy, o.output);
      const ex = { attributes: rawExample(p.table, p.split.train[0]!) };
      writeFileAtomic(join(o.output, 'preprocessing.json'), JSON.stringify({ spec: p.spec, example: ex } satisfies Preprocessing, null, 2) + '\n');
      const s = p.strategy;
      return {
        family: jobFamily(p.spec, ex),
        settings: { epochs: s.epochs, seed: s.seed, batchSize: s.batchSize, learningRate: s.learningRate, patience: s.patience },
        notes: [
          `train: ${p.spec.family}: ${p.split.kind} 80/20 split of ${p.table.n} jobs: ${p.split.train.length} train, ${p.split.holdout.length} held out (${join(o.output, 'holdout.csv')}); ${contractOf(p.spec).inputs.length} inputs from ${p.spec.attributes.length} attributes`,
          `train: strategy ${o.strategy ?? '(default)'}: hidden [${s.hidden.join(', ')}], learning rate ${s.learningRate}, batch ${s.batchSize}, epochs ≤ ${s.epochs}, patience ${s.patience}, seed ${s.seed}, task ${JSON.stringify(s.task)} (these override the flags)`,
        ],
      };
    },
    ofModel(modelPath, bytes) {
      const s = bytes ? specOfBytes(bytes, modelPath) : specOfModel(modelPath);
      if (name !== 'job-memory' && s.family !== name) throw new UserError(`--model ${modelPath} is a model of ${s.family}, not of --family ${name}`);
      return jobFamily(s);
    },
  };
  return f;
}

/** rawExample: one row as a request's "attributes" (numbers as numbers). */
function rawExample(t: ReturnType<typeof readJobTable>, i: number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const a of t.attributes) {
    const v = t.values[a.name]![i]!;
    o[a.name] = a.kind === 'number' ? Number(v) : a.kind === 'list' ? v.split(a.separator ?? ',') : v;
  }
  return o;
}

/**
 * jobMemory: `--family job-memory`, the entry for any job CSV (search, train, validate, export find the
 * concrete job-memory/<data set> family from --data or the model). Its own contract is an empty
 * placeholder: it is never trained or served as such.
 */
const PLACEHOLDER: JobSpec = {
  schemaVersion: 1, family: 'job-memory', format: 'galaxy', attributes: [], memory: { min: 2 ** 20, max: 2 ** 40 },
  task: { type: 'regression', objective: 'quantile', quantile: 0.95, safety: 1.1 }, hidden: [1],
  training: { rows: 0, maxPeak: 0, meanPeak: 1, split: 'random', splitSeed: null },
};
export const jobMemory: ModelFamily = jobFamily(PLACEHOLDER, {});
jobMemory.member = (name) => {
  if (!/^job-memory\/[A-Za-z0-9_.-]+$/.test(name)) throw new UserError(`--family ${name}: a job-memory data set's name is letters, digits, '_', '.' and '-' (the CSV file's stem)`);
  return jobFamily({ ...PLACEHOLDER, family: name });
};
