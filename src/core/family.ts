/**
 * family: what a model family is. A family is one folder under src/families/ that implements ModelFamily
 * and is registered in src/families/registry.ts (one line); nothing else in the project knows its widths,
 * names or units. The trainer (model/pipeline.ts), the ONNX writer and runtime (onnx/), the int8 quantizer
 * (core/quantize.ts), the store and exporters (store/, export/) and the agent (resource-agent/) take a
 * family, or its contract, as a parameter.
 *
 *   contract    inputs and outputs: names, units, normalization, network widths (core/contract.ts)
 *   training    the training-data reader, the labels it carries, the objective and its hyperparameters
 *   serving     request item → normalized inputs, normalized outputs → the answer (HTTP shapes)
 *   evaluation  the family's baselines and its validation (what `npm run validate` runs for it)
 *   rust        extra Rust source appended to the edge module (e.g. post-processing)
 */
import type { ModelContract } from './contract.js';
import type { RiskTable } from './risk.js';
import type { Bytes, Millicores } from './units.js';
import type * as tf from '@tensorflow/tfjs';
import { InputError } from '../util/errors.js';

/** Tf: the TensorFlow.js namespace as model/tf.ts (the one module that imports it at run time) passes it to an objective. */
export type Tf = typeof tf;

/**
 * Objective: a family's training loss as a scalar tensor. `pred` is the network's raw output (n × outputs,
 * sigmoid columns as logits), `label` the family's labels (n × outputs), `aux` its extra per-row targets
 * (n × auxWidth, e.g. the future peak), `weight` the per-row sample weight (n × 1, mean 1 over the data).
 * The family module receives tfjs as `tf` so that model/tf.ts stays the one module that imports it at run time.
 */
export type Objective = (tf: Tf, pred: tf.Tensor2D, label: tf.Tensor2D, aux: tf.Tensor2D, weight: tf.Tensor2D) => tf.Scalar;

/** TrainData: rows of normalized inputs, labels, auxiliary targets and sample weights. */
export interface TrainData {
  X: Float32Array; // n × inputs
  Y: Float32Array; // n × outputs
  aux: Float32Array; // n × auxWidth
  weight: Float32Array; // n
  n: number;
  widths: { x: number; y: number; aux: number };
}

/** One training file and its weight in the mix (weights are relative: 2 counts a row twice as much). */
export interface DataSource {
  path: string;
  weight: number;
}

/** TrainingSet: what a family's reader returns for training. */
export interface TrainingSet extends TrainData {
  /** per-row group (a VM, a workload) so that validation can hold out whole groups; null: rows are independent */
  groups: string[] | null;
  /** what the report records about each file: path, sha256, rows, and the family's own description */
  sources: { path: string; sha256: string; rows: number; weight: number; info: Record<string, unknown> }[];
}

/** FamilyTraining: how a family's network learns. */
export interface FamilyTraining<H extends Record<string, number | string> = Record<string, number | string>> {
  /** reads one or more training files (each with its weight) into one set; throws InputError on bad files */
  load(sources: DataSource[]): TrainingSet;
  /** the hyperparameters of the objective with their defaults, e.g. { underPenalty: 5 } */
  hyperDefaults: H;
  /** one line per hyperparameter for --help */
  hyperHelp: Record<keyof H & string, string>;
  /** checkHyper (optional) refuses values outside their meaning with an InputError naming the flag */
  checkHyper?(h: H): void;
  /** the allowed values of string hyperparameters (becomes --flag choices) */
  hyperChoices?: Partial<Record<keyof H & string, readonly string[]>>;
  /** the objective for these hyperparameters */
  objective(h: H): Objective;
  /** a sentence for the training report */
  describeObjective(h: H): string;
  /**
   * calibrate (optional): from a calibration set (real windows of workloads not trained on) and the int8
   * model's normalized outputs on it, the metadata to embed in the model (e.g. a conformal risk table).
   */
  calibrate?(set: TrainingSet, outputs: Float32Array, sourceLabel: string): Record<string, string>;
  /**
   * search (optional): what `npm run search -- --family <name> …` runs: a seeded, resumable search over
   * this family's strategies; parses its own flags (`argv`, after the script name) and writes a summary
   * file that `npm run train -- --strategy FILE` reads.
   */
  search?(argv: string[]): Promise<void>;
  /**
   * cli (optional): what `npm run train -- --family <name> …` runs instead of the network pipeline's
   * flags: parses its own (`argv`, after the script name; --help shows them) and writes the model
   * (job-memory: the selection of a tree model, or its network).
   */
  cli?(argv: string[]): Promise<void>;
}

/** PreparedTraining: the concrete family to train and the training settings its strategy fixes. */
export interface PreparedTraining {
  family: ModelFamily;
  /** settings that override train's flags (a search's strategy: epochs, seed, learning rate, …) */
  settings: Partial<{ epochs: number; seed: number; batchSize: number; learningRate: number; patience: number }>;
  /** lines for the log */
  notes: string[];
}

/** ExportGate: what `npm run export` records about a model and which gates it failed. */
export interface ExportGate {
  failed: { name: string; value: number | null; limit: number }[];
  /** the validation summary stored with the version in the manifest */
  validation: Record<string, unknown>;
}

/**
 * StressGateOptions: the shift-stress gate (`export --stress SPLIT`): the model is scored on every slice
 * of the split's `role` VMs over the `inputs` (one folder per month), and refused when it is worse than the
 * family's floor on any slice. Families without a stress evaluation refuse the option.
 */
export interface StressGateOptions {
  split: string;
  role: 'test' | 'select';
  inputs?: string[];
}

/** FamilyEvaluation: how a family's models are judged before they ship. */
export interface FamilyEvaluation {
  /** validate a model file on held-out data (`data`, or the family's default) against its gates (export refuses failures) */
  gate(o: { model: string; samples: number; gatesFile: string; data?: string; stress?: StressGateOptions; log: (line: string) => void }): Promise<ExportGate>;
  /**
   * validate (optional): what `npm run validate -- --family <name> …` runs: parses its own flags (`argv`,
   * after the script name), prints its tables and throws GateError when a gate fails.
   */
  validate?(argv: string[]): Promise<void>;
}

/**
 * ServingBounds: the operator's bounds on recommended amounts (the agent's --min-cpu-millicores,
 * --min-memory-bytes, --max-cpu-millicores, --max-memory-bytes); a family applies those that concern it.
 * Caps are null when unset.
 */
export interface ServingBounds {
  minCpuMillicores: Millicores;
  minMemoryBytes: Bytes;
  maxCpuMillicores: Millicores | null;
  maxMemoryBytes: Bytes | null;
}

/**
 * RequestFieldError: a request field a family's serving code refuses. `field` is the JSON path inside
 * the item ("features.cpu_p95", "window.cpuCores[3]", "" for the item itself); the agent prefixes the
 * item's place ("items[3].") and answers 400 INVALID_FIELD with the message "<path>: <problem>".
 */
export class RequestFieldError extends InputError {
  constructor(readonly field: string, readonly problem: string) {
    super(`${field || 'body'}: ${problem}`);
  }
}

/** JsonSink: the agent's JSON byte writer as a family's answer writer sees it (resource-agent/render.ts). */
export interface JsonSink {
  /** text known to be ASCII: numbers, quantities, fixed keys */
  ascii(s: string): void;
  /** pre-encoded text */
  bytes(b: Buffer): void;
  /** one ASCII character code */
  byte(c: number): void;
  /** a JSON string literal, escaped, UTF-8 */
  string(s: string): void;
  /** k / 10000 for a whole k in 0..10000, as String(k / 10000) prints it (1234 → "0.1234") */
  fraction4(k: number): void;
}

/**
 * ServingAdapter: a family's request and answer shapes, for the agent's bounds. `M` is what an item's
 * answer echoes (names). Both methods run once per item of a 10,000-item batch: no allocation needed.
 */
export interface ServingAdapter<M = unknown> {
  /**
   * readItem checks one request item and writes its normalized inputs (contract order, one per input)
   * into `out` at `offset`; returns what the answer echoes. Throws RequestFieldError naming the field.
   */
  readItem(v: unknown, out: Float32Array, offset: number): M;
  /**
   * writeItem writes one answer's fields (no braces) from the model's normalized outputs at `y[offset…]`;
   * `model` is the serving version and its risk table (for requested hold rates). May throw
   * RequestFieldError (e.g. a hold rate the version was not calibrated for) before writing anything.
   */
  writeItem(w: JsonSink, y: Float32Array, offset: number, meta: M, model: ServedModel): void;
}

/** ServedModel: what an answer may need to know of the version that made it. */
export interface ServedModel {
  version: string;
  /** the version's conformal risk table (src/core/risk.ts), null when it was not calibrated */
  risk: RiskTable | null;
}

/** A JSON Schema object with properties (for OpenAPI). */
export interface ObjectSchema {
  type: 'object';
  properties: Record<string, unknown>;
  required?: readonly string[];
  [key: string]: unknown;
}

/**
 * FamilyServing: how the agent serves a family. POST `path` answers one item, POST `path`/batch up to
 * --max-batch-items items in one inference; the agent adds "modelVersion" (and "count", "items") around
 * the family's answer fields.
 */
export interface FamilyServing {
  /** the single-item route: "/v1/recommend" for containers; e.g. "/v1/jobs/peak-memory/recommend" */
  path: string;
  /** one line for /docs: "Recommend requests and limits for one container" */
  summary: string;
  /** the bounds the agent's flags default to */
  defaultBounds: Readonly<ServingBounds>;
  /** builds the adapter for the operator's bounds (once, at start-up) */
  adapter(bounds: ServingBounds): ServingAdapter;
  /** OpenAPI: one request item, and one answer item without modelVersion */
  schemas: { item: ObjectSchema; answer: ObjectSchema };
  /** a single-item request body shown in /docs */
  example: Record<string, unknown>;
}

/**
 * ModelRun: a served model as the agent's Inference.run gives it to a hook: predicts `n` rows of
 * normalized inputs `x` (contract order) and hands the normalized outputs and the version that made them
 * to `use`, whose result it returns.
 */
export type ModelRun = <T>(x: Float32Array, n: number, use: (y: Float32Array, model: ServedModel) => T) => Promise<T>;

/** WorkloadAmounts: a request and a limit: cores for CPU, bytes for memory (null: not set, or not known). */
export interface WorkloadAmounts {
  cpu: [request: number | null, limit: number | null];
  memory: [request: number | null, limit: number | null];
}

/** WorkloadGauge: one workload container as the agent's resource_agent_workload_* gauges show it. */
export interface WorkloadGauge {
  namespace: string;
  kind: string;
  workload: string;
  container: string;
  /** null: no recommendation for it (too little data, outside the model's range) */
  recommended: WorkloadAmounts | null;
  current: WorkloadAmounts;
  /** the recommendation's confidence, null without one */
  confidence: number | null;
}

/** WorkloadSourceInfo: where a refresh read its data (the document's "source" and "warnings"). */
export interface WorkloadSourceInfo {
  prometheus: string;
  startSec: number;
  endSec: number;
  stepSec: number;
  warnings: string[];
}

/** WorkloadsDocument: what GET /v1/workloads serves; the agent filters `workloads` and finds one by namespace, kind and name. */
export interface WorkloadsDocument {
  workloads: Array<{ namespace: string; kind: string; name: string; containers: Array<{ name: string }> }>;
}

/** WorkloadRecommendations: one refresh's answer. It keeps no usage window (the agent holds it until the next refresh). */
export interface WorkloadRecommendations<D extends WorkloadsDocument = WorkloadsDocument> {
  totals: { workloads: number; containers: number; recommended: number };
  /** one row per container, in the document's container order */
  gauges(): WorkloadGauge[];
  /** the document GET /v1/workloads serves (as `npm run recommend -- --format json` prints it) */
  document(source: WorkloadSourceInfo): D;
}

/**
 * FamilyWorkloads (agent hook): what the agent's workload refresh (--prometheus, resource-agent/workloads.ts)
 * does with every container a workload source read, without knowing the family.
 */
export interface FamilyWorkloads {
  /**
   * recommend: a recommendation for every container (the source's records, src/sources/kube-workloads.ts
   * ContainerUsage, passed on untouched), in one batch through `run`, within the operator's `bounds`.
   */
  recommend(containers: readonly WorkloadContainer[], run: ModelRun, bounds: ServingBounds): Promise<WorkloadRecommendations>;
}

/** WorkloadContainer: what every workload source's per-container record has (the family reads the rest, e.g. its window). */
export interface WorkloadContainer {
  workload: { namespace: string; kind: string; name: string };
  container: string;
}

/** ReplayJob: one held-out job as the dashboard's Replay page sends it (attributes) and scores it (peakBytes). */
export interface ReplayJob {
  id: string;
  /** submission time (build jobs), ISO, or null */
  time: string | null;
  attributes: Record<string, unknown>;
  peakBytes: number;
  /** what the job asked for (build jobs' memreq), bytes, or null */
  requestedBytes: number | null;
}

/**
 * FamilyReplay (agent hook): the hold-out a served family's jobs are replayed from on the dashboard
 * (resource-agent/replay.ts finds the file: under --replay DIR, or the manifest's validation.data).
 */
export interface FamilyReplay {
  /** folder: the folder under --replay DIR holding `name`'s holdout.csv ('build-jobs' for job-memory/build-jobs); null: `name` has no replay */
  folder(name: string): string | null;
  /** read: the held-out jobs of a hold-out file, in file order; throws naming what is wrong with it */
  read(path: string): ReplayJob[];
}

/** ReportView: one evaluation report as the dashboard's Evaluation page shows it (a family adds its own fields: table, chart). */
export interface ReportView {
  /** its path under the reports folder, e.g. "validate/report.json" */
  file: string;
  kind: string;
  modifiedAt: string;
  createdAt: string | null;
  /** what it measured, e.g. "bitbrains: 45 VMs, 900 windows" */
  title: string;
  model: string | null;
}

/** FamilyReports (agent hook): how the agent's --reports folder recognizes this family's evaluation reports. */
export interface FamilyReports {
  /** view: a parsed report file as the Evaluation page shows it, or why it is not one of this family's reports */
  view(file: string, modifiedAt: string, report: unknown): ReportView | string;
}

/** ModelFamily: one family of models. */
export interface ModelFamily {
  /** the name in the manifest and on the command line, e.g. "container-resources" */
  name: string;
  /** one line for --help and /docs */
  title: string;
  contract: ModelContract;
  /** model file stem in a store: predictor_vX.Y.Z.onnx for the default family, <name>_vX.Y.Z.onnx otherwise */
  fileStem: string;
  training: FamilyTraining;
  evaluation: FamilyEvaluation;
  /** Rust source appended to the generated edge module (may use the generated consts and predict()) */
  rustExtras?: () => string;
  /** the agent's HTTP routes for this family (resource-agent/) */
  serving: FamilyServing;
  /**
   * prepare (optional): for a family whose contract is learned from its data (category vocabularies) and
   * a search's strategy file: the concrete family to train on `data`; may write files beside the model
   * in `output` (the hold-out). train.ts calls it before runTraining.
   */
  prepare?(o: { data: DataSource[]; strategy: string | null; output: string }): PreparedTraining;
  /**
   * ofModel (optional): the concrete family of a trained model file, its contract read from the file
   * (`bytes`: the file's content when the caller has read and verified it already, e.g. by checksum)
   */
  ofModel?(modelPath: string, bytes?: Uint8Array): ModelFamily;
  /**
   * member (optional): for a family whose members are named `<name>/<member>` (job-memory/bowtie2) and
   * read their contract from their model file: the CLI entry for the member `name` (its search, train,
   * validate and export check that a model or data set belongs to it). Members need no registration.
   */
  member?(name: string): ModelFamily;
  /**
   * Agent hooks (optional): what the agent (resource-agent/) calls without knowing the family. A member
   * (job-memory/bowtie2) has its registered family's hooks.
   *   workloads  recommendations for every workload container a source read (--prometheus)
   *   replay     the held-out jobs the dashboard's Replay page sends (--replay, the manifest's validation.data)
   *   reports    the evaluation reports the dashboard's Evaluation page lists (--reports)
   *   retraining what POST /v1/training-jobs retrains this family from (src/retrain does the work)
   */
  workloads?: FamilyWorkloads;
  replay?: FamilyReplay;
  reports?: FamilyReports;
  retraining?: FamilyRetraining;
}

/**
 * FamilyRetraining (agent hook): the data a training job of this family reads, so the agent's training
 * route accepts and checks a job without knowing the family.
 *   usage  the cluster's usage history: {"prometheus": {…}} or trace files {"traces": {…}} (container-resources)
 *   jobs   a job CSV: {"jobs": {"path": …}}, with an optional selection "budget" (job-memory/<data set>)
 */
export interface FamilyRetraining {
  data: 'usage' | 'jobs';
}
