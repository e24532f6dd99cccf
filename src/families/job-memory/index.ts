/**
 * job-memory: the second model family. The peak memory of a batch job (a CI build, a Galaxy tool run)
 * from the attributes known before it starts, one family per data set ("job-memory/build-jobs",
 * "job-memory/bowtie2", …). Its contract is learned: the category vocabularies, number scales, task
 * (quantile/cost-aware regression or classification into memory bins) and widths form a JobSpec
 * (spec.ts) that travels with the model (ONNX metadata, manifest entry, Rust module).
 *
 * How a family with per-data-set vocabularies is represented:
 *   - `jobFamily(spec)` builds the ModelFamily of one spec (contract, reader, objective, serving, Rust);
 *   - the CLIs get the concrete family from the data (train's `prepare`: split, hold-out, vocabularies,
 *     the strategy) or from a model file (`ofModel`: export, validate), so `--family job-memory --data
 *     any-galaxy-tool.csv` works for a data set never seen before;
 *   - the agent serves, for each registered data set, the spec committed in specs/<data set>.json: it
 *     is the shipped model's preprocessing (test/job-memory.test.ts checks they are equal), and export
 *     refuses a model of a registered data set whose preprocessing differs from it (the agent would
 *     encode its attributes differently): commit the new model's preprocessing.json there first.
 */
import { readFileSync } from 'node:fs';
import type { ModelFamily } from '../types.js';
import { UserError } from '../../util/errors.js';
import { canonicalJson } from '../../store/manifest.js';
import { contractOf } from './spec.js';
import type { JobSpec } from './spec.js';
import { jobObjective } from './objective.js';
import { DEFAULT_STRATEGY, oneSource, prepareJobTraining, readStrategy, trainingSetOf } from './training.js';
import { readJobTable, splitJobs } from './data.js';
import { jobServing } from './serving.js';
import { gateJobModel, specOfModel, validateCli } from './eval.js';
import { searchCli } from './search.js';
import { rustJobExtras } from './rust.js';
import { writeFileAtomic } from '../../util/fs-atomic.js';
import { join } from 'node:path';

/** ShippedSpec: specs/<data set>.json, the preprocessing of the shipped model and a /docs example. */
export interface ShippedSpec {
  spec: JobSpec;
  example: Record<string, unknown>;
}

const dataset = (name: string) => name.replace(/^job-memory\//, '');

/** jobFamily: the ModelFamily of one spec; `registered` is the spec the agent serves under that name. */
export function jobFamily(spec: JobSpec, example: Record<string, unknown> = {}, registered: JobSpec | null = null): ModelFamily {
  const name = spec.family;
  const f: ModelFamily = {
    name,
    title: `Peak memory of a ${dataset(name)} job from its attributes (request = limit)`,
    contract: contractOf(spec),
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
      search: (argv) => searchCli(argv, name, (s) => jobFamily(s)),
    },
    evaluation: {
      async gate(o) {
        const own = specOfModel(o.model);
        if (registered && canonicalJson(own) !== canonicalJson(registered)) {
          return { failed: [{ name: `preprocessing equals src/families/job-memory/specs/${dataset(name)}.json (what the agent serves)`, value: null, limit: 0 }], validation: {} };
        }
        return gateJobModel(o);
      },
      validate: (argv) => validateCli(argv, name),
    },
    rustExtras: () => rustJobExtras(spec),
    serving: jobServing(spec, dataset(name), example),
    prepare(o) {
      const strategy = o.strategy ? readStrategy(o.strategy) : DEFAULT_STRATEGY;
      const p = prepareJobTraining(name === 'job-memory' ? null : name, o.data, strategy, o.output);
      const ex = { attributes: rawExample(p.table, p.split.train[0]!) };
      writeFileAtomic(join(o.output, 'preprocessing.json'), JSON.stringify({ spec: p.spec, example: ex } satisfies ShippedSpec, null, 2) + '\n');
      const s = p.strategy;
      return {
        family: jobFamily(p.spec, ex, null),
        settings: { epochs: s.epochs, seed: s.seed, batchSize: s.batchSize, learningRate: s.learningRate, patience: s.patience },
        notes: [
          `train: ${p.spec.family}: ${p.split.kind} 80/20 split of ${p.table.n} jobs: ${p.split.train.length} train, ${p.split.holdout.length} held out (${join(o.output, 'holdout.csv')}); ${contractOf(p.spec).inputs.length} inputs from ${p.spec.attributes.length} attributes`,
          `train: strategy ${o.strategy ?? '(default)'}: hidden [${s.hidden.join(', ')}], learning rate ${s.learningRate}, batch ${s.batchSize}, epochs ≤ ${s.epochs}, patience ${s.patience}, seed ${s.seed}, task ${JSON.stringify(s.task)} (these override the flags)`,
        ],
      };
    },
    ofModel(modelPath) {
      const s = specOfModel(modelPath);
      if (name !== 'job-memory' && s.family !== name) throw new UserError(`--model ${modelPath} is a model of ${s.family}, not of --family ${name}`);
      const reg = SHIPPED.get(s.family) ?? null;
      return jobFamily(s, reg?.example ?? {}, reg?.spec ?? null);
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

/** The data sets with a shipped model; each is registered as job-memory/<data set>. */
export const SHIPPED_DATASETS = ['build-jobs', 'bowtie2', 'hisat2'] as const;

function readShipped(ds: string): ShippedSpec | null {
  try {
    return JSON.parse(readFileSync(new URL(`./specs/${ds}.json`, import.meta.url), 'utf8')) as ShippedSpec;
  } catch {
    return null;
  }
}

const SHIPPED = new Map<string, ShippedSpec>(SHIPPED_DATASETS.flatMap((ds) => {
  const s = readShipped(ds);
  return s ? [[`job-memory/${ds}`, s] as const] : [];
}));

/** JOB_FAMILIES: one family per data set with a committed spec (what the agent can serve). */
export const JOB_FAMILIES: readonly ModelFamily[] = [...SHIPPED.values()].map((s) => jobFamily(s.spec, s.example, s.spec));

/**
 * jobMemory: `--family job-memory`, the entry for any job CSV (search, train, validate, export find the
 * concrete job-memory/<data set> family from --data or the model). Its own contract is an empty
 * placeholder: it is never trained or served as such.
 */
export const jobMemory: ModelFamily = jobFamily({
  schemaVersion: 1, family: 'job-memory', format: 'galaxy', attributes: [], memory: { min: 2 ** 20, max: 2 ** 40 },
  task: { type: 'regression', objective: 'quantile', quantile: 0.95, safety: 1.1 }, hidden: [1],
  training: { rows: 0, maxPeak: 0, meanPeak: 1, split: 'random', splitSeed: null },
});
jobMemory.training.search = (argv) => searchCli(argv, null, (s) => jobFamily(s));
