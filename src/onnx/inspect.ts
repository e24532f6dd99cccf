/**
 * inspect: the ONNX reader beside the writer (build.ts). Reads what the store needs from an ONNX file without running it: opset and IR version,
 * graph inputs and outputs, a hash of the weight initializers, and the metadata train.ts embeds (the
 * feature contract, training-data hash, quantization).
 */
import onnxProto from 'onnx-proto';
import { createHash } from 'node:crypto';
import type { TensorSpec } from '../core/tensor.js';
import type { QuantizedModel } from '../core/quantize.js';
import { InputError } from '../util/errors.js';

const { onnx } = onnxProto;

/** OnnxInspectError: bytes that are not an ONNX model of ours. */
export class OnnxInspectError extends InputError {
  constructor(message: string) {
    super(message);
  }
}

export interface OnnxInfo {
  irVersion: number;
  opset: number;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  weightsSha256: string;
  metadata: Record<string, string>;
  opTypes: string[];
}

function tensorSpec(v: onnxProto.onnx.IValueInfoProto): TensorSpec {
  const dims = v.type?.tensorType?.shape?.dim ?? [];
  return { name: v.name ?? '', elemType: 'float32', shape: dims.map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0))) };
}

/** inspectOnnx decodes model bytes; throws OnnxInspectError when they are not ONNX. */
export function inspectOnnx(bytes: Uint8Array, label = 'model'): OnnxInfo {
  let m: onnxProto.onnx.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxInspectError(`${label}: not an ONNX model (${(e as Error).message})`);
  }
  const g = m.graph;
  if (!g || !g.node?.length) throw new OnnxInspectError(`${label}: not an ONNX model (no graph)`);
  const opset = m.opsetImport?.find((o) => !o.domain)?.version;
  const h = createHash('sha256');
  for (const t of [...(g.initializer ?? [])].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''))) {
    h.update(t.name ?? '');
    h.update(JSON.stringify((t.dims ?? []).map(Number)));
    h.update(t.rawData ?? new Uint8Array());
  }
  // A tree ensemble (onnx/trees.ts) keeps its weights in the ai.onnx.ml node's attributes, not in
  // initializers: they are hashed too (a network has no such node, so its hash is as it always was).
  for (const n of g.node.filter((x) => x.domain === 'ai.onnx.ml')) h.update(onnx.NodeProto.encode(n).finish());
  return {
    irVersion: Number(m.irVersion ?? 0),
    opset: Number(opset ?? 0),
    inputs: (g.input ?? []).map(tensorSpec),
    outputs: (g.output ?? []).map(tensorSpec),
    weightsSha256: h.digest('hex'),
    metadata: Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
    opTypes: [...new Set(g.node.map((n) => n.opType ?? ''))].sort(),
  };
}

/**
 * readQuantizedModel rebuilds the QuantizedModel (int8 codes, scales, biases, activation scales) from
 * an int8 ONNX file written by src/onnx/build.ts, so exporters can re-emit its arithmetic (Rust).
 */
export function readQuantizedModel(bytes: Uint8Array, label = 'model'): QuantizedModel {
  const m = onnx.ModelProto.decode(bytes);
  const inits = new Map((m.graph?.initializer ?? []).map((t) => [t.name ?? '', t]));
  const raw = (name: string) => {
    const t = inits.get(name);
    if (!t?.rawData) throw new OnnxInspectError(`${label}: initializer ${name} is missing; export int8 models written by npm run train`);
    return t;
  };
  const f32 = (name: string) => {
    const d = raw(name).rawData!;
    return new Float32Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
  };
  const layers: QuantizedModel['layers'] = [];
  for (let k = 1; inits.has(`W${k}_q`); k++) {
    const t = raw(`W${k}_q`);
    const [inSize, outSize] = (t.dims ?? []).map(Number) as [number, number];
    const d = t.rawData!;
    layers.push({ inSize, outSize, Wq: new Int8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength)), wScale: f32(`W${k}_scale`), b: f32(`b${k}`) });
  }
  if (!layers.length) throw new OnnxInspectError(`${label}: no int8 weights (W1_q …) found; is this the fp32 model?`);
  const isStatic = inits.has('a1_scale');
  const actScales = new Float32Array(layers.length);
  const actQmax = layers.map(() => 255);
  if (isStatic) {
    layers.forEach((_, l) => {
      actScales[l] = f32(`a${l + 1}_scale`)[0]!;
      if (inits.has(`a${l + 1}_max`)) actQmax[l] = Math.round(f32(`a${l + 1}_max`)[0]! / actScales[l]!);
    });
  }
  const weightQmax = layers.map((L) => Math.max(...Array.from(L.Wq, Math.abs)));
  return { sigmoid: sigmoidColumns(m), mode: isStatic ? 'static' : 'weights', layers, actScales, actQmax, weightQmax };
}

/**
 * sigmoidColumns finds the output columns that pass through a Sigmoid: build.ts slices them out of the
 * last layer with Slice(starts, ends) and feeds each slice to a Sigmoid. Container models: [4].
 */
export function sigmoidColumns(m: onnxProto.onnx.IModelProto): number[] {
  const g = m.graph;
  const inits = new Map((g?.initializer ?? []).map((t) => [t.name ?? '', t]));
  const int64 = (name: string) => {
    const d = inits.get(name)?.rawData;
    return d ? Number(new BigInt64Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength))[0]) : NaN;
  };
  const cols: number[] = [];
  for (const sig of (g?.node ?? []).filter((n) => n.opType === 'Sigmoid')) {
    const slice = (g?.node ?? []).find((n) => n.opType === 'Slice' && n.output?.[0] === sig.input?.[0]);
    if (!slice) continue;
    const [a, b] = [int64(slice.input![1]!), int64(slice.input![2]!)];
    for (let c = a; c < b; c++) cols.push(c);
  }
  return cols.sort((x, y) => x - y);
}
