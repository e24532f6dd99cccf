/** training: the self-contained training_report.html (loss curves, hyperparameters, ONNX parity). */
import { chart, page, table } from './svg.js';

interface ReportLike {
  createdAt: string;
  backend: string;
  hyperparameters: Record<string, unknown>;
  family: string;
  data: { sha256: string; samples: number; sources: { path: string; weight: number; rows: number }[] };
  epochs: { epoch: number; loss: number; valLoss: number }[];
  bestEpoch: number;
  onnx: { int8Bytes: number; fp32Bytes: number; int8VsFloatMaxAbs: Record<string, number>; fp32VsFloatMaxAbs: Record<string, number> };
  quantization: { mode: string };
}

/** trainingReportHtml renders the report object as HTML. */
export function trainingReportHtml(r: ReportLike): string {
  const curves = chart('Loss per epoch', 'epoch', 'loss', [
    { name: 'training loss', color: '#1f77b4', points: r.epochs.map((e) => [e.epoch, e.loss]) },
    { name: 'validation loss', color: '#d62728', points: r.epochs.map((e) => [e.epoch, e.valLoss]) },
  ], { logY: true });
  const outputs = Object.keys(r.onnx.int8VsFloatMaxAbs);
  return page('Training report', [
    `<p>Created ${r.createdAt} on backend <code>${r.backend}</code>; family <code>${r.family}</code>; data ${r.data.sources.map((s) => `<code>${s.path}</code> (${s.rows} rows, weight ${s.weight})`).join(', ')} (${r.data.samples} samples in all, sha256 <code>${r.data.sha256.slice(0, 16)}…</code>). Best epoch: ${r.bestEpoch}.</p>`,
    `<div class="charts">${curves}</div>`,
    '<h2>Hyperparameters</h2>',
    table([['name', 'value'], ...Object.entries(r.hyperparameters).map(([k, v]) => [k, String(v)])]),
    `<h2>ONNX (${r.quantization.mode})</h2><p>int8 file ${r.onnx.int8Bytes} bytes, fp32 file ${r.onnx.fp32Bytes} bytes. Max |Δ| against the float tfjs model on held-out rows (normalized units):</p>`,
    table([['output', 'int8 ONNX', 'fp32 ONNX'], ...outputs.map((o) => [o, r.onnx.int8VsFloatMaxAbs[o]!.toExponential(2), r.onnx.fp32VsFloatMaxAbs[o]!.toExponential(2)])]),
    '<h2>Epochs</h2>',
    table([['epoch', 'loss', 'validation loss'], ...r.epochs.map((e) => [e.epoch, e.loss.toFixed(5), e.valLoss.toFixed(5)])]),
  ].join('\n'));
}
