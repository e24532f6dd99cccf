/**
 * build: writes the network as an ONNX model with onnx-proto (protobufjs). IR version 7, opset 13, only
 * standard operators (QuantizeLinear, DequantizeLinear, MatMul, Add, Relu, Slice, Sigmoid, Concat).
 *
 * Graph contract (both the fp32 and the int8 file), for any family's ModelContract:
 *   input  "features"        float32 [batch, inputs]   normalized inputs, contract order, in [0, 1]
 *   output "recommendation"  float32 [batch, outputs]  normalized outputs (denormalize with the contract);
 *                                                      the contract's sigmoid outputs are probabilities
 * `batch` is a symbolic (dynamic) dimension. For containers: [batch, 12] → [batch, 5], output 4 the
 * confidence. The output is the last layer's values with each run of sigmoid columns sliced out, passed
 * through Sigmoid and concatenated back in order.
 *
 * int8 form (QDQ): each weight matrix is an int8 initializer with per-output-channel scales, fed to MatMul
 * through DequantizeLinear(axis = 1); in 'static' mode every MatMul input activation also passes a
 * [Clip →] QuantizeLinear → DequantizeLinear chain (uint8, calibrated scale; see QuantRanges). ONNX Runtime may fuse these into
 * integer kernels; the arithmetic is the one `forwardQuantized` reproduces.
 */
import onnxProto from 'onnx-proto';
import type { FloatWeights } from '../core/weights.js';
import type { QuantizedModel } from '../core/quantize.js';
import type { ModelContract } from '../core/contract.js';

const { onnx } = onnxProto;
type INode = onnxProto.onnx.INodeProto;
type ITensor = onnxProto.onnx.ITensorProto;
const DT = onnx.TensorProto.DataType;

export const OPSET = 13;
export const IR_VERSION = 7;
export const INPUT_NAME = 'features';
export const OUTPUT_NAME = 'recommendation';
/**
 * PRODUCER: the program that wrote the file (this project), the same for every family's models: the
 * ONNX producerName, the start of the model's doc string and its domain. No family is named here.
 */
export const PRODUCER = 'container-resource-predictor';

function f32(name: string, dims: number[], data: ArrayLike<number>): ITensor {
  return { name, dims, dataType: DT.FLOAT, rawData: new Uint8Array(Float32Array.from(data).buffer) };
}
function i8(name: string, dims: number[], data: Int8Array): ITensor {
  return { name, dims, dataType: DT.INT8, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}
function u8scalar(name: string, v: number): ITensor {
  return { name, dims: [], dataType: DT.UINT8, rawData: new Uint8Array([v]) };
}
function i64(name: string, data: number[]): ITensor {
  return { name, dims: [data.length], dataType: DT.INT64, rawData: new Uint8Array(BigInt64Array.from(data.map(BigInt)).buffer) };
}
function node(opType: string, inputs: string[], outputs: string[], name: string, attrs: onnxProto.onnx.IAttributeProto[] = []): INode {
  return { opType, input: inputs, output: outputs, name, attribute: attrs };
}
function valueInfo(name: string, width: number, doc: string): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    docString: doc,
    type: { tensorType: { elemType: DT.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: width }] } } },
  };
}

/**
 * head appends the nodes that turn the last layer's linear output into the graph output: runs of
 * consecutive columns with the same activation are sliced, sigmoid runs go through Sigmoid, and the runs
 * are concatenated back in order. With no sigmoid columns the output is the last layer itself (Identity).
 * Container example (5 columns, sigmoid [4]): Slice 0..4 → resources, Slice 4..5 → Sigmoid, Concat.
 */
function head(nodes: INode[], inits: ITensor[], last: string, width: number, sigmoid: readonly number[]): void {
  if (!sigmoid.length) {
    nodes.push(node('Identity', [last], [OUTPUT_NAME], 'output'));
    return;
  }
  const runs: { start: number; end: number; sig: boolean }[] = [];
  for (let c = 0; c < width; c++) {
    const sig = sigmoid.includes(c);
    const r = runs[runs.length - 1];
    if (r && r.sig === sig) r.end = c + 1;
    else runs.push({ start: c, end: c + 1, sig });
  }
  const parts = runs.map((r, k) => {
    // One linear run then one sigmoid run (containers, job-memory networks): the names written since
    // v1.0.0 ('resources', 'confidence'), so existing files and new ones agree.
    const nm = r.sig ? (runs.length === 2 && k === 1 ? 'confidence' : `sigmoid_${r.start}_${r.end}`) : runs.length === 2 && k === 0 ? 'resources' : `linear_${r.start}_${r.end}`;
    const tag = r.sig ? (nm === 'confidence' ? 'conf' : nm) : nm === 'resources' ? 'res' : nm;
    inits.push(i64(`slice_${tag}_starts`, [r.start]), i64(`slice_${tag}_ends`, [r.end]));
    const sliced = r.sig ? `${nm}_logit` : nm;
    nodes.push(node('Slice', [last, `slice_${tag}_starts`, `slice_${tag}_ends`, 'slice_axes'], [sliced], `slice_${nm}`));
    if (r.sig) nodes.push(node('Sigmoid', [sliced], [nm], `sigmoid_${nm}`));
    return nm;
  });
  inits.push(i64('slice_axes', [1]));
  nodes.push(node('Concat', parts, [OUTPUT_NAME], 'concat_output', [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }]));
}

/**
 * encodeModel writes a graph with the contract's one input and one output as an ONNX model (the network
 * here, the tree ensemble in trees.ts): `opsets` beyond the default domain's, and the output's doc string.
 */
export function encodeModel(c: ModelContract, nodes: INode[], inits: ITensor[], doc: string, metadata: Record<string, string>, o: { opsets?: onnxProto.onnx.IOperatorSetIdProto[]; outputDoc?: string } = {}): Uint8Array {
  const m = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: PRODUCER,
    producerVersion: '1',
    domain: `io.github.${PRODUCER}`,
    modelVersion: 1,
    docString: doc,
    opsetImport: [{ domain: '', version: OPSET }, ...(o.opsets ?? [])],
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'resource_predictor',
      node: nodes,
      initializer: inits,
      input: [valueInfo(INPUT_NAME, c.inputs.length, `normalized features in [0, 1], in this order: ${c.inputs.map((f) => f.name).join(', ')}`)],
      output: [valueInfo(OUTPUT_NAME, c.outputs.length, o.outputDoc ?? outputDoc(c))],
    },
  });
  return onnx.ModelProto.encode(m).finish();
}

/** outputDoc: "normalized cpu_request, …, mem_limit and confidence (probability)" for containers. */
function outputDoc(c: ModelContract): string {
  const lin = c.outputs.filter((_, i) => !c.sigmoid.includes(i)).map((o) => o.name);
  const sig = c.outputs.filter((_, i) => c.sigmoid.includes(i)).map((o) => o.name);
  return `normalized ${lin.join(', ')}${sig.length ? ` and ${sig.join(', ')} (probability)` : ''}`;
}

/**
 * LayerEmitter: how one layer's weights enter the graph. It adds the initializers (including the bias
 * `b<k>`) and any nodes that make the float matrix `W<k>`, and returns the name of the MatMul's input
 * (`cur`, or what the layer's input becomes on its way: e.g. an activation's quantize–dequantize chain).
 * `l` is the layer's index, `k` = l + 1 its number in tensor names.
 */
type LayerEmitter = (l: number, k: number, cur: string, nodes: INode[], inits: ITensor[]) => string;

/**
 * denseGraph writes the network's one loop: per layer the emitter's weights, MatMul, Add and (but for
 * the last) Relu, then the head (sigmoid runs). Both the fp32 and the int8 graph are this loop.
 */
function denseGraph(layers: number, width: number, sigmoid: readonly number[], emit: LayerEmitter): { nodes: INode[]; inits: ITensor[] } {
  const nodes: INode[] = [];
  const inits: ITensor[] = [];
  let cur = INPUT_NAME;
  for (let l = 0; l < layers; l++) {
    const k = l + 1;
    cur = emit(l, k, cur, nodes, inits);
    nodes.push(node('MatMul', [cur, `W${k}`], [`mm${k}`], `matmul_${k}`));
    nodes.push(node('Add', [`mm${k}`, `b${k}`], [`z${k}`], `add_${k}`));
    cur = `z${k}`;
    if (l < layers - 1) {
      nodes.push(node('Relu', [cur], [`h${k}`], `relu_${k}`));
      cur = `h${k}`;
    }
  }
  head(nodes, inits, cur, width, sigmoid);
  return { nodes, inits };
}

/** buildFloatOnnx writes the fp32 graph: MatMul + Add (+ Relu) per layer, the weights as float initializers. */
export function buildFloatOnnx(c: ModelContract, w: FloatWeights, metadata: Record<string, string> = {}): Uint8Array {
  const { nodes, inits } = denseGraph(w.layers.length, c.outputs.length, w.sigmoid, (l, k, cur, _nodes, inits) => {
    const L = w.layers[l]!;
    inits.push(f32(`W${k}`, [L.inSize, L.outSize], L.W), f32(`b${k}`, [L.outSize], L.b));
    return cur;
  });
  return encodeModel(c, nodes, inits, `${PRODUCER}, float32`, { quantization: 'none', ...metadata });
}

/**
 * quantizedLayer emits one int8 layer: in 'static' mode the input activation's [Clip →] QuantizeLinear →
 * DequantizeLinear chain, then the int8 weights with their per-channel scales through DequantizeLinear.
 */
function quantizedLayer(q: QuantizedModel): LayerEmitter {
  return (l, k, input, nodes, inits) => {
    const L = q.layers[l]!;
    let cur = input;
    if (q.mode === 'static') {
      inits.push(f32(`a${k}_scale`, [], [q.actScales[l]!]), u8scalar(`a${k}_zero`, 0));
      if (q.actQmax[l]! < 255) {
        // Keep codes within 0..actQmax (see QuantRanges): clip in float before quantizing.
        inits.push(f32(`a${k}_min`, [], [0]), f32(`a${k}_max`, [], [Math.fround(q.actQmax[l]! * q.actScales[l]!)]));
        nodes.push(node('Clip', [cur, `a${k}_min`, `a${k}_max`], [`a${k}_clipped`], `clip_a${k}`));
        cur = `a${k}_clipped`;
      }
      nodes.push(node('QuantizeLinear', [cur, `a${k}_scale`, `a${k}_zero`], [`a${k}_q`], `quantize_a${k}`));
      nodes.push(node('DequantizeLinear', [`a${k}_q`, `a${k}_scale`, `a${k}_zero`], [`a${k}_dq`], `dequantize_a${k}`));
      cur = `a${k}_dq`;
    }
    inits.push(i8(`W${k}_q`, [L.inSize, L.outSize], L.Wq), f32(`W${k}_scale`, [L.outSize], L.wScale));
    inits.push(i8(`W${k}_zero`, [L.outSize], new Int8Array(L.outSize)), f32(`b${k}`, [L.outSize], L.b));
    nodes.push(node('DequantizeLinear', [`W${k}_q`, `W${k}_scale`, `W${k}_zero`], [`W${k}`], `dequantize_W${k}`, [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }]));
    return cur;
  };
}

/** buildQuantizedOnnx writes the int8 QDQ graph for a quantized model. */
export function buildQuantizedOnnx(c: ModelContract, q: QuantizedModel, metadata: Record<string, string> = {}): Uint8Array {
  const { nodes, inits } = denseGraph(q.layers.length, c.outputs.length, q.sigmoid, quantizedLayer(q));
  return encodeModel(c, nodes, inits, `${PRODUCER}, int8 (${q.mode === 'static' ? 'static QDQ: int8 per-channel weights, uint8 calibrated activations' : 'weight-only int8 per-channel'})`, {
    quantization: q.mode === 'static' ? 'int8-static-qdq' : 'int8-weight-only',
    ...metadata,
  });
}
