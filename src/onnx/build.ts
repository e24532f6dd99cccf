/**
 * build: writes the network as an ONNX model with onnx-proto (protobufjs). IR version 7, opset 13, only
 * standard operators (QuantizeLinear, DequantizeLinear, MatMul, Add, Relu, Slice, Sigmoid, Concat).
 *
 * Graph contract (both the fp32 and the int8 file):
 *   input  "features"        float32 [batch, 12]  normalized features, contract order, in [0, 1]
 *   output "recommendation"  float32 [batch, 5]   normalized cpu_request, cpu_limit, mem_request,
 *                                                 mem_limit (denormalize with the contract) and
 *                                                 confidence (a probability)
 * `batch` is a symbolic (dynamic) dimension.
 *
 * int8 form (QDQ): each weight matrix is an int8 initializer with per-output-channel scales, fed to MatMul
 * through DequantizeLinear(axis = 1); in 'static' mode every MatMul input activation also passes a
 * [Clip →] QuantizeLinear → DequantizeLinear chain (uint8, calibrated scale; see QuantRanges). ONNX Runtime may fuse these into
 * integer kernels; the arithmetic is the one `forwardQuantized` reproduces.
 */
import onnxProto from 'onnx-proto';
import type { FloatWeights } from '../model/weights.js';
import type { QuantizedModel } from '../model/quantize.js';
import { FEATURE_NAMES, N_FEATURES, N_OUTPUTS, OUTPUT_NAMES } from '../contract/features.js';

const { onnx } = onnxProto;
type INode = onnxProto.onnx.INodeProto;
type ITensor = onnxProto.onnx.ITensorProto;
const DT = onnx.TensorProto.DataType;

export const OPSET = 13;
export const IR_VERSION = 7;
export const INPUT_NAME = 'features';
export const OUTPUT_NAME = 'recommendation';

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

/** head appends Slice/Sigmoid/Concat that turn the last layer's n × 5 linear output into the graph output. */
function head(nodes: INode[], inits: ITensor[], last: string): void {
  inits.push(i64('slice_res_starts', [0]), i64('slice_res_ends', [4]), i64('slice_conf_starts', [4]), i64('slice_conf_ends', [5]), i64('slice_axes', [1]));
  nodes.push(node('Slice', [last, 'slice_res_starts', 'slice_res_ends', 'slice_axes'], ['resources'], 'slice_resources'));
  nodes.push(node('Slice', [last, 'slice_conf_starts', 'slice_conf_ends', 'slice_axes'], ['confidence_logit'], 'slice_confidence'));
  nodes.push(node('Sigmoid', ['confidence_logit'], ['confidence'], 'sigmoid_confidence'));
  nodes.push(node('Concat', ['resources', 'confidence'], [OUTPUT_NAME], 'concat_output', [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }]));
}

function model(nodes: INode[], inits: ITensor[], doc: string, metadata: Record<string, string>): Uint8Array {
  const m = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    producerName: 'container-resource-predictor',
    producerVersion: '1',
    domain: 'io.github.container-resource-predictor',
    modelVersion: 1,
    docString: doc,
    opsetImport: [{ domain: '', version: OPSET }],
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'resource_predictor',
      node: nodes,
      initializer: inits,
      input: [valueInfo(INPUT_NAME, N_FEATURES, `normalized features in [0, 1], in this order: ${FEATURE_NAMES.join(', ')}`)],
      output: [valueInfo(OUTPUT_NAME, N_OUTPUTS, `normalized ${OUTPUT_NAMES.slice(0, 4).join(', ')} and confidence (probability)`)],
    },
  });
  return onnx.ModelProto.encode(m).finish();
}

/** buildFloatOnnx writes the fp32 graph: MatMul + Add (+ Relu) per layer. */
export function buildFloatOnnx(w: FloatWeights, metadata: Record<string, string> = {}): Uint8Array {
  const nodes: INode[] = [];
  const inits: ITensor[] = [];
  let cur = INPUT_NAME;
  w.layers.forEach((L, l) => {
    const k = l + 1;
    inits.push(f32(`W${k}`, [L.inSize, L.outSize], L.W), f32(`b${k}`, [L.outSize], L.b));
    nodes.push(node('MatMul', [cur, `W${k}`], [`mm${k}`], `matmul_${k}`));
    nodes.push(node('Add', [`mm${k}`, `b${k}`], [`z${k}`], `add_${k}`));
    cur = `z${k}`;
    if (l < w.layers.length - 1) {
      nodes.push(node('Relu', [cur], [`h${k}`], `relu_${k}`));
      cur = `h${k}`;
    }
  });
  head(nodes, inits, cur);
  return model(nodes, inits, 'container-resource-predictor, float32', { quantization: 'none', ...metadata });
}

/** buildQuantizedOnnx writes the int8 QDQ graph for a quantized model. */
export function buildQuantizedOnnx(q: QuantizedModel, metadata: Record<string, string> = {}): Uint8Array {
  const nodes: INode[] = [];
  const inits: ITensor[] = [];
  let cur = INPUT_NAME;
  q.layers.forEach((L, l) => {
    const k = l + 1;
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
    nodes.push(node('MatMul', [cur, `W${k}`], [`mm${k}`], `matmul_${k}`));
    nodes.push(node('Add', [`mm${k}`, `b${k}`], [`z${k}`], `add_${k}`));
    cur = `z${k}`;
    if (l < q.layers.length - 1) {
      nodes.push(node('Relu', [cur], [`h${k}`], `relu_${k}`));
      cur = `h${k}`;
    }
  });
  head(nodes, inits, cur);
  return model(nodes, inits, `container-resource-predictor, int8 (${q.mode === 'static' ? 'static QDQ: int8 per-channel weights, uint8 calibrated activations' : 'weight-only int8 per-channel'})`, {
    quantization: q.mode === 'static' ? 'int8-static-qdq' : 'int8-weight-only',
    ...metadata,
  });
}
