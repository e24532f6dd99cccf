/**
 * onnx-inspect: reads what the store needs from an ONNX file without running it: opset and IR version,
 * graph inputs and outputs, a hash of the weight initializers, and the metadata train.ts embeds (the
 * feature contract, training-data hash, quantization).
 */
import onnxProto from 'onnx-proto';
import { createHash } from 'node:crypto';
import type { TensorSpec } from './manifest.js';

const { onnx } = onnxProto;

export class OnnxInspectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxModelError';
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

/** inspectOnnx decodes model bytes; throws OnnxInspectError (name OnnxModelError) when they are not ONNX. */
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
