/**
 * types: what a model family is. A family is one folder under src/families/ that implements ModelFamily
 * and is registered in src/families/registry.ts (one line); nothing else in the project knows its widths,
 * names or units. The trainer (model/pipeline.ts), the ONNX writer and runtime (onnx/), the int8 quantizer
 * (model/quantize.ts), the store and exporters (store/, export/) and the agent (resource-agent/) take a
 * family, or its contract, as a parameter.
 *
 *   contract    inputs and outputs: names, units, normalization, network widths (core/contract.ts)
 *   training    the training-data reader, the labels it carries, the objective and its hyperparameters
 *   serving     request item → normalized inputs, normalized outputs → the answer (HTTP shapes)
 *   evaluation  the family's baselines and its validation (what `npm run validate` runs for it)
 *   rust        extra Rust source appended to the edge module (e.g. post-processing)
 */
import type { ModelContract } from '../core/contract.js';
import type { Objective, TrainData } from '../model/tf.js';

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
}

/** ExportGate: what `npm run export` records about a model and which gates it failed. */
export interface ExportGate {
  failed: { name: string; value: number | null; limit: number }[];
  /** the validation summary stored with the version in the manifest */
  validation: Record<string, unknown>;
}

/** FamilyEvaluation: how a family's models are judged before they ship. */
export interface FamilyEvaluation {
  /** validate a model file on held-out data against the family's gates (export refuses failures) */
  gate(o: { model: string; samples: number; gatesFile: string; log: (line: string) => void }): Promise<ExportGate>;
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
}
