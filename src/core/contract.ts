/**
 * contract: what every model family's input/output contract is made of, and the arithmetic on it. A
 * family (src/families/<name>/) declares its inputs and outputs once as a ModelContract; the trainer, the
 * int8 quantizer, the ONNX writer and runtime, the store, the agent and the Rust export read widths, names,
 * units and normalization from it and hard-code none of them.
 *
 * Normalization maps a real value to [0, 1] and back, serializably (it is stored in the manifest):
 * - log:         n = ln(x/min) / ln(max/min), clamped; inverse x = min · (max/min)^n
 *                (keeps constant RELATIVE precision: 10m and 100m CPU stay apart at 8 bits, where a
 *                linear map over 10m..64 cores would make its 1/255 step 250 millicores)
 * - linear:      n = (x − min) / (max − min), clamped; inverse x = min + n · (max − min)
 * - odds:        n = x / (1 + x) for x ≥ 0 (0 → 0, 1 → 0.5, 3 → 0.75); inverse x = n / (1 − n)
 * - signed-odds: n = 0.5 + 0.5 · x / (1 + |x|) (−1 → 0.25, 0 → 0.5, 1 → 0.75); inverse by cases
 * - ratio:       relative to another input of the same row (its real value r, at least `floor`):
 *                n = ln(clamp(x / max(r, floor), min, max) / min) / ln(max/min); inverse x = max(r, floor) ·
 *                min · (max/min)^n. Scale-free: multiply x and r by k and n is unchanged, so a network fed
 *                only such inputs answers k × as much (scale equivariance), as long as r ≥ floor.
 * - constant:    n = 0 whatever x (an input the network does not see; its value is still checked)
 * Worked numbers: normalize({type:'log',min:0.01,max:64}, 0.25) = ln(25) / ln(6400) = 3.2189 / 8.7641 = 0.3673;
 * normalize({type:'ratio',of:5,floor:1,min:1/64,max:64}, 2 GiB, row with row[5] = 4 GiB) = ln(32) / ln(4096) = 0.4167.
 */

export type Normalization =
  | { type: 'log'; min: number; max: number }
  | { type: 'linear'; min: number; max: number }
  | { type: 'odds' }
  | { type: 'signed-odds' }
  | { type: 'ratio'; of: number; floor: number; min: number; max: number }
  | { type: 'constant' };

/** FieldSpec: one input or output of a model, in real units. */
export interface FieldSpec {
  name: string;
  unit: string;
  description: string;
  normalization: Normalization;
}

/**
 * ModelContract: a family's network contract. The network is dense: inputs → hidden (ReLU each) → outputs
 * (linear), and the outputs listed in `sigmoid` go through a sigmoid (probabilities) in every runtime.
 */
export interface ModelContract {
  /** the family's name, as in the manifest ("container-resources") */
  family: string;
  /** changes whenever a number changes meaning; a change is a major version in the store */
  version: string;
  inputs: readonly FieldSpec[];
  outputs: readonly FieldSpec[];
  /** widths of the hidden ReLU layers, e.g. [32, 16] */
  hidden: readonly number[];
  /** indices of outputs that are probabilities (a sigmoid of the last layer's value) */
  sigmoid: readonly number[];
  /** the JSON the store records and compares (a change of it is a major version) */
  descriptor(): Record<string, unknown>;
  /**
   * checkModel (optional): for a contract learned from data (job-memory's vocabularies), why a model
   * file's own embedded contract is not this one (null when it is); the agent refuses such a version,
   * whose inputs would be encoded differently although its widths may be the same.
   */
  checkModel?(bytes: Uint8Array, label: string): string | null;
}

/** layerSizes(c) is [inputs, ...hidden, outputs]: [12, 32, 16, 5] for the container family. */
export function layerSizes(c: ModelContract): number[] {
  return [c.inputs.length, ...c.hidden, c.outputs.length];
}

/** architectureName(c): "dense-12-32-16-5-relu-relu". */
export function architectureName(c: ModelContract): string {
  return `dense-${layerSizes(c).join('-')}${c.hidden.map(() => '-relu').join('')}`;
}

const clamp01 = (n: number): number => (n < 0 ? 0 : n > 1 ? 1 : n);

/** ratioRef: the reference of a ratio spec in a row of real inputs (1 when no row is given: x is a ratio already). */
export function ratioRef(spec: { of: number; floor: number }, row: ArrayLike<number> | undefined): number {
  return row === undefined ? 1 : Math.max(row[spec.of]!, spec.floor);
}

/**
 * normalize maps a real value to [0, 1] by spec. normalize({type:'log',min:0.01,max:64}, 0.25) ≈ 0.3673.
 * `row` is the real-unit input row, needed by 'ratio' specs (without it x is taken as the ratio itself).
 */
export function normalize(spec: Normalization, x: number, row?: ArrayLike<number>): number {
  switch (spec.type) {
    case 'ratio': {
      const q = Math.min(Math.max(x / ratioRef(spec, row), spec.min), spec.max);
      return clamp01(Math.log(q / spec.min) / Math.log(spec.max / spec.min));
    }
    case 'constant':
      return 0;
    case 'log':
      return clamp01(Math.log(Math.max(x, spec.min) / spec.min) / Math.log(spec.max / spec.min));
    case 'linear':
      return clamp01((x - spec.min) / (spec.max - spec.min));
    case 'odds':
      return x <= 0 ? 0 : x / (1 + x);
    case 'signed-odds':
      return 0.5 + (0.5 * x) / (1 + Math.abs(x));
  }
}

/**
 * denormalize is normalize's inverse on [0, 1]; n is clamped to [0, 1] first. `row` (real-unit inputs) gives
 * a 'ratio' spec its reference; without it the answer is the ratio itself.
 */
export function denormalize(spec: Normalization, n: number, row?: ArrayLike<number>): number {
  const c = clamp01(n);
  switch (spec.type) {
    case 'ratio':
      return ratioRef(spec, row) * spec.min * Math.exp(c * Math.log(spec.max / spec.min));
    case 'constant':
      return 0;
    case 'log':
      return spec.min * Math.exp(c * Math.log(spec.max / spec.min));
    case 'linear':
      return spec.min + c * (spec.max - spec.min);
    case 'odds':
      return c >= 1 ? Infinity : c / (1 - c);
    case 'signed-odds': {
      const s = 2 * (c - 0.5); // s = x / (1 + |x|)  →  x = s / (1 − |s|)
      return Math.abs(s) >= 1 ? Math.sign(s) * Infinity : s / (1 - Math.abs(s));
    }
  }
}

/** normalizeRow writes the normalized values of real-unit vector `x` (one per field) into `out` at `offset`. */
export function normalizeRow(fields: readonly FieldSpec[], x: ArrayLike<number>, out: Float32Array = new Float32Array(fields.length), offset = 0): Float32Array {
  for (let i = 0; i < fields.length; i++) out[offset + i] = normalize(fields[i]!.normalization, x[i]!, x);
  return out;
}

/** denormalizeRow returns the real-unit values of the normalized row at `offset` (one per field); `inputs` for 'ratio' outputs. */
export function denormalizeRow(fields: readonly FieldSpec[], n: ArrayLike<number>, offset = 0, inputs?: ArrayLike<number>): number[] {
  const out = new Array<number>(fields.length);
  for (let i = 0; i < fields.length; i++) out[i] = denormalize(fields[i]!.normalization, n[offset + i]!, inputs);
  return out;
}
