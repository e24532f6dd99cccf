/**
 * trees: tree ensembles as ONNX-ML, beside the network writer (build.ts). The graph keeps the network's
 * contract, so the store, ONNX Runtime session and agent serve it unchanged:
 *   input  "features"        float32 [batch, inputs]   normalized inputs, contract order
 *   output "recommendation"  float32 [batch, outputs]  normalized outputs
 * One ai.onnx.ml TreeEnsembleRegressor (ml opset 3, aggregate SUM, post_transform NONE) computes the raw
 * targets; each output then takes one raw target through its transform, and the outputs are concatenated:
 *   identity   n = raw
 *   sigmoid    n = 1 / (1 + e^−raw)                          (a probability)
 *   log        n = ln(max(raw, floor)) · scale + offset      (raw in some unit → a log-normalized amount)
 * Example (job-memory, gradient-boosted): raw [peak / mean peak, log-normalized quantile, confidence
 * logit] → outputs [log(raw0), raw1, sigmoid(raw2)].
 *
 * A split is `x[feature] <= threshold` (BRANCH_LEQ, float32) → left, else right; a leaf adds its value to
 * its tree's target; base values are added last. forwardTrees computes the same in float32 arithmetic
 * (the TypeScript reference of the parity tests), treesOfOnnx reads a file back (Rust export, tests).
 */
import onnxProto from 'onnx-proto';
import type { ModelContract } from '../core/contract.js';
import { encodeModel, INPUT_NAME, OUTPUT_NAME, PRODUCER } from './build.js';
import { OnnxInspectError, readQuantizedModel } from './inspect.js';
import type { QuantizedModel } from '../core/quantize.js';

const { onnx } = onnxProto;
type INode = onnxProto.onnx.INodeProto;
type ITensor = onnxProto.onnx.ITensorProto;
type IAttr = onnxProto.onnx.IAttributeProto;
const DT = onnx.TensorProto.DataType;
const AT = onnx.AttributeProto.AttributeType;

/** ML_DOMAIN and its opset: TreeEnsembleRegressor as defined in ai.onnx.ml 3. */
export const ML_DOMAIN = 'ai.onnx.ml';
export const ML_OPSET = 3;
export const TREE_OP = 'TreeEnsembleRegressor';

/**
 * Tree: one regression tree in flat arrays, node 0 the root. For a split node i: feature[i] ≥ 0,
 * `x[feature[i]] <= threshold[i]` goes to left[i], else right[i]; a leaf has feature −1 and value[i].
 */
export interface Tree {
  /** the raw target its leaves add to */
  target: number;
  feature: Int32Array;
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  value: Float32Array;
}

export type OutputTransform = { type: 'identity' } | { type: 'sigmoid' } | { type: 'log'; floor: number; scale: number; offset: number };

/** TreeEnsemble: the trees, the raw targets' base values, and how each output is made from a raw target. */
export interface TreeEnsemble {
  nFeatures: number;
  /** per raw target, added after the trees' sum */
  base: number[];
  trees: Tree[];
  outputs: { source: number; transform: OutputTransform }[];
}

/** nodeCount: the nodes of every tree (what the file's size grows with, ~30 bytes each). */
export const nodeCount = (e: TreeEnsemble) => e.trees.reduce((s, t) => s + t.feature.length, 0);

/** leafOf walks one tree for the row at x[offset…]: returns the leaf's node index. */
export function leafOf(t: Tree, x: ArrayLike<number>, offset: number): number {
  let i = 0;
  while (t.feature[i]! >= 0) i = x[offset + t.feature[i]!]! <= t.threshold[i]! ? t.left[i]! : t.right[i]!;
  return i;
}

/** rawTargets: the raw targets (tree sums in float32, in tree order, then + base) of n rows. */
export function rawTargets(e: TreeEnsemble, x: ArrayLike<number>, n: number): Float32Array {
  const T = e.base.length;
  const out = new Float32Array(n * T);
  const acc = new Float32Array(T);
  for (let r = 0; r < n; r++) {
    acc.fill(0);
    for (const t of e.trees) acc[t.target] = Math.fround(acc[t.target]! + t.value[leafOf(t, x, r * e.nFeatures)]!);
    for (let k = 0; k < T; k++) out[r * T + k] = Math.fround(acc[k]! + Math.fround(e.base[k]!));
  }
  return out;
}

/** applyTransform: one output from its raw target, in float32 steps as the graph computes it. */
export function applyTransform(tr: OutputTransform, raw: number): number {
  const f = Math.fround;
  if (tr.type === 'identity') return raw;
  if (tr.type === 'sigmoid') return f(1 / (1 + f(Math.exp(-raw))));
  return f(f(f(Math.log(Math.max(raw, f(tr.floor)))) * f(tr.scale)) + f(tr.offset));
}

/** forwardTrees: the graph's outputs for n rows of normalized inputs (the TypeScript reference). */
export function forwardTrees(e: TreeEnsemble, x: ArrayLike<number>, n: number): Float32Array {
  const raw = rawTargets(e, x, n);
  const T = e.base.length;
  const O = e.outputs.length;
  const y = new Float32Array(n * O);
  for (let r = 0; r < n; r++) e.outputs.forEach((o, j) => (y[r * O + j] = applyTransform(o.transform, raw[r * T + o.source]!)));
  return y;
}

const ints = (name: string, v: ArrayLike<number>): IAttr => ({ name, type: AT.INTS, ints: Array.from(v) });
const floats = (name: string, v: ArrayLike<number>): IAttr => ({ name, type: AT.FLOATS, floats: Array.from(v, Math.fround) });
const strings = (name: string, v: string[]): IAttr => ({ name, type: AT.STRINGS, strings: v.map((s) => new TextEncoder().encode(s)) });
const f32 = (name: string, v: number[]): ITensor => ({ name, dims: [], dataType: DT.FLOAT, rawData: new Uint8Array(Float32Array.from(v).buffer) });
const i64 = (name: string, v: number[]): ITensor => ({ name, dims: [v.length], dataType: DT.INT64, rawData: new Uint8Array(BigInt64Array.from(v.map(BigInt)).buffer) });

/** treeAttributes: the TreeEnsembleRegressor attributes of an ensemble. */
function treeAttributes(e: TreeEnsemble): IAttr[] {
  const n = { tree: [] as number[], node: [] as number[], feat: [] as number[], val: [] as number[], mode: [] as string[], tru: [] as number[], fal: [] as number[], miss: [] as number[] };
  const tg = { tree: [] as number[], node: [] as number[], id: [] as number[], w: [] as number[] };
  e.trees.forEach((t, k) => {
    for (let i = 0; i < t.feature.length; i++) {
      const leaf = t.feature[i]! < 0;
      n.tree.push(k);
      n.node.push(i);
      n.feat.push(leaf ? 0 : t.feature[i]!);
      n.val.push(leaf ? 0 : t.threshold[i]!);
      n.mode.push(leaf ? 'LEAF' : 'BRANCH_LEQ');
      n.tru.push(leaf ? 0 : t.left[i]!);
      n.fal.push(leaf ? 0 : t.right[i]!);
      n.miss.push(0);
      if (leaf) {
        tg.tree.push(k);
        tg.node.push(i);
        tg.id.push(t.target);
        tg.w.push(t.value[i]!);
      }
    }
  });
  return [
    { name: 'aggregate_function', type: AT.STRING, s: new TextEncoder().encode('SUM') },
    floats('base_values', e.base),
    { name: 'n_targets', type: AT.INT, i: e.base.length },
    ints('nodes_falsenodeids', n.fal),
    ints('nodes_featureids', n.feat),
    ints('nodes_missing_value_tracks_true', n.miss),
    strings('nodes_modes', n.mode),
    ints('nodes_nodeids', n.node),
    ints('nodes_treeids', n.tree),
    ints('nodes_truenodeids', n.tru),
    floats('nodes_values', n.val),
    { name: 'post_transform', type: AT.STRING, s: new TextEncoder().encode('NONE') },
    ints('target_ids', tg.id),
    ints('target_nodeids', tg.node),
    ints('target_treeids', tg.tree),
    floats('target_weights', tg.w),
  ];
}

/** buildTreeOnnx writes an ensemble as an ONNX-ML model with the contract's graph input and output. */
export function buildTreeOnnx(c: ModelContract, e: TreeEnsemble, metadata: Record<string, string> = {}): Uint8Array {
  if (e.nFeatures !== c.inputs.length) throw new Error(`tree ensemble takes ${e.nFeatures} inputs, the contract ${c.inputs.length}`);
  if (e.outputs.length !== c.outputs.length) throw new Error(`tree ensemble gives ${e.outputs.length} outputs, the contract ${c.outputs.length}`);
  const nodes: INode[] = [{ opType: TREE_OP, domain: ML_DOMAIN, input: [INPUT_NAME], output: ['raw'], name: 'trees', attribute: treeAttributes(e) }];
  const inits: ITensor[] = [i64('slice_axes', [1])];
  const parts = e.outputs.map((o, j) => {
    inits.push(i64(`out${j}_starts`, [o.source]), i64(`out${j}_ends`, [o.source + 1]));
    const s = `out${j}_raw`;
    nodes.push({ opType: 'Slice', input: ['raw', `out${j}_starts`, `out${j}_ends`, 'slice_axes'], output: [s], name: `slice_out${j}` });
    const name = `out${j}_${c.outputs[j]!.name}`;
    const t = o.transform;
    if (t.type === 'identity') nodes.push({ opType: 'Identity', input: [s], output: [name], name: `identity_out${j}` });
    else if (t.type === 'sigmoid') nodes.push({ opType: 'Sigmoid', input: [s], output: [name], name: `sigmoid_out${j}` });
    else {
      inits.push(f32(`out${j}_floor`, [t.floor]), f32(`out${j}_scale`, [t.scale]), f32(`out${j}_offset`, [t.offset]));
      nodes.push({ opType: 'Max', input: [s, `out${j}_floor`], output: [`out${j}_floored`], name: `max_out${j}` });
      nodes.push({ opType: 'Log', input: [`out${j}_floored`], output: [`out${j}_ln`], name: `log_out${j}` });
      nodes.push({ opType: 'Mul', input: [`out${j}_ln`, `out${j}_scale`], output: [`out${j}_scaled`], name: `mul_out${j}` });
      nodes.push({ opType: 'Add', input: [`out${j}_scaled`, `out${j}_offset`], output: [name], name: `add_out${j}` });
    }
    return name;
  });
  nodes.push({ opType: 'Concat', input: parts, output: [OUTPUT_NAME], name: 'concat_output', attribute: [{ name: 'axis', type: AT.INT, i: 1 }] });
  return encodeModel(c, nodes, inits, `${PRODUCER}, tree ensemble (${e.trees.length} trees, ${nodeCount(e)} nodes)`, { quantization: 'none (tree ensemble, float32 thresholds and leaves)', ...metadata }, {
    opsets: [{ domain: ML_DOMAIN, version: ML_OPSET }],
    outputDoc: `normalized ${c.outputs.map((o) => o.name).join(', ')}`,
  });
}

/** isTreeOnnx: whether model bytes hold a TreeEnsembleRegressor (a tree model, not a network). */
export function isTreeOnnx(bytes: Uint8Array): boolean {
  try {
    return (onnx.ModelProto.decode(bytes).graph?.node ?? []).some((n) => n.opType === TREE_OP);
  } catch {
    return false;
  }
}

/** treesOfOnnx reads an ensemble back from a file written by buildTreeOnnx (the Rust export, tests). */
export function treesOfOnnx(bytes: Uint8Array, label = 'model'): TreeEnsemble {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph!;
  const te = (g.node ?? []).find((n) => n.opType === TREE_OP);
  if (!te) throw new OnnxInspectError(`${label}: no ${TREE_OP} node; is it a network?`);
  const a = new Map((te.attribute ?? []).map((x) => [x.name ?? '', x]));
  const I = (k: string) => (a.get(k)?.ints ?? []).map(Number);
  const F = (k: string) => a.get(k)?.floats ?? [];
  const modes = (a.get('nodes_modes')?.strings ?? []).map((s) => new TextDecoder().decode(s));
  const [treeIds, nodeIds, feats, vals, tru, fal] = [I('nodes_treeids'), I('nodes_nodeids'), I('nodes_featureids'), F('nodes_values'), I('nodes_truenodeids'), I('nodes_falsenodeids')];
  const [tTree, tNode, tId, tW] = [I('target_treeids'), I('target_nodeids'), I('target_ids'), F('target_weights')];
  const nTrees = Math.max(-1, ...treeIds) + 1;
  const size = new Array<number>(nTrees).fill(0);
  treeIds.forEach((t, i) => (size[t] = Math.max(size[t]!, nodeIds[i]! + 1)));
  const trees: Tree[] = size.map((s) => ({ target: 0, feature: new Int32Array(s).fill(-1), threshold: new Float32Array(s), left: new Int32Array(s), right: new Int32Array(s), value: new Float32Array(s) }));
  treeIds.forEach((t, i) => {
    const tr = trees[t]!;
    const j = nodeIds[i]!;
    if (modes[i] === 'LEAF') return;
    if (modes[i] !== 'BRANCH_LEQ') throw new OnnxInspectError(`${label}: node mode ${modes[i]} is not one this project writes (BRANCH_LEQ, LEAF)`);
    tr.feature[j] = feats[i]!;
    tr.threshold[j] = vals[i]!;
    tr.left[j] = tru[i]!;
    tr.right[j] = fal[i]!;
  });
  tTree.forEach((t, i) => {
    trees[t]!.target = tId[i]!;
    trees[t]!.value[tNode[i]!] = tW[i]!;
  });
  const init = new Map((g.initializer ?? []).map((t) => [t.name ?? '', t]));
  const scalar = (name: string) => {
    const d = init.get(name)?.rawData;
    return d ? new Float32Array(d.buffer.slice(d.byteOffset, d.byteOffset + 4))[0]! : NaN;
  };
  const start = (name: string) => {
    const d = init.get(name)?.rawData;
    return d ? Number(new BigInt64Array(d.buffer.slice(d.byteOffset, d.byteOffset + 8))[0]) : NaN;
  };
  const concat = (g.node ?? []).find((n) => n.name === 'concat_output');
  const outputs = (concat?.input ?? []).map((_, j) => {
    const kind = (g.node ?? []).find((n) => n.name === `sigmoid_out${j}`) ? 'sigmoid' : (g.node ?? []).find((n) => n.name === `log_out${j}`) ? 'log' : 'identity';
    const transform: OutputTransform = kind === 'log' ? { type: 'log', floor: scalar(`out${j}_floor`), scale: scalar(`out${j}_scale`), offset: scalar(`out${j}_offset`) } : { type: kind };
    return { source: start(`out${j}_starts`), transform };
  });
  const inputDims = g.input?.[0]?.type?.tensorType?.shape?.dim ?? [];
  return { nFeatures: Number(inputDims[1]?.dimValue ?? 0), base: Array.from(F('base_values')), trees, outputs };
}

/** servedModelOf: what the Rust export embeds: the tree ensemble of a tree model, else the int8 network. */
export function servedModelOf(bytes: Uint8Array, label = 'model'): QuantizedModel | TreeEnsemble {
  return isTreeOnnx(bytes) ? treesOfOnnx(bytes, label) : readQuantizedModel(bytes, label);
}
