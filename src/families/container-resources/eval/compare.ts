/**
 * compare: every system's recommendations for the same windows, so they can be scored side by side with
 * the shared metrics. Systems:
 *   model           the ONNX network (features from computeFeatures on the past window)
 *   vpa             Kubernetes VPA recommender, defaults (baselines/vpa/), limits proportional to
 *                   the original spec when there is one
 *   krr             Robusta KRR "simple" (baselines/krr.ts): CPU request p95, no CPU limit, memory max × 1.15
 *   fixed-max-x1.3  memory request = limit = past max × 1.3, CPU request p95, CPU limit max × 1.3
 *   as-provisioned  the original allocation, where the data carries one (Bitbrains' provisioned capacity)
 */
import { computeFeatures, N_FEATURES, normalizeFeatures, toVector } from '../features.js';
import { recommendVpa } from '../baselines/vpa/index.js';
import { recommendKrr } from '../baselines/krr.js';
import { asProvisioned, recommendFixedRule } from '../baselines/fixed-rule.js';
import type { Recommendation } from '../recommendation.js';

import type { UsageWindow } from '../../../sources/types.js';
import type { OnnxPredictor } from '../../../onnx/runtime.js';
import type { Recommendations } from './metrics.js';
import { denormalizeOutputs, N_OUTPUTS } from '../features.js';
import type { Bytes, Cores } from '../../../core/units.js';

export const SYSTEMS = ['model', 'vpa', 'krr', 'fixed-max-x1.3', 'as-provisioned'] as const;
export type SystemName = (typeof SYSTEMS)[number];

/** One evaluation window: the past usage and, where known, the allocation it ran with. */
export interface EvalWindow {
  past: UsageWindow;
  /** the original allocation (cores, bytes) where the data has one */
  original?: { cpuRequestCores?: Cores; cpuLimitCores?: Cores; memRequestBytes?: Bytes; memLimitBytes?: Bytes };
}

/** collect turns per-window baseline answers into column arrays (null CPU limit → Infinity: none). */
function collect(recs: Recommendation[]): Recommendations {
  return {
    cpuRequest: Float64Array.from(recs, (r) => r.cpuRequestCores),
    cpuLimit: Float64Array.from(recs, (r) => r.cpuLimitCores ?? Infinity),
    memRequest: Float64Array.from(recs, (r) => r.memRequestBytes),
    memLimit: Float64Array.from(recs, (r) => r.memLimitBytes),
  };
}

/** rawFeatureMatrix computes the 12 real-unit features of every window (n × 12). */
export function rawFeatureMatrix(windows: EvalWindow[]): Float64Array {
  const R = new Float64Array(windows.length * N_FEATURES);
  windows.forEach((w, i) => R.set(toVector(computeFeatures(w.past)), i * N_FEATURES));
  return R;
}

/** featureMatrix normalizes real-unit feature rows (n × 12, from rawFeatureMatrix) for the network. */
export function featureMatrix(raw: Float64Array): Float32Array {
  const n = raw.length / N_FEATURES;
  const X = new Float32Array(raw.length);
  for (let i = 0; i < n; i++) normalizeFeatures(raw.subarray(i * N_FEATURES, (i + 1) * N_FEATURES), X, i * N_FEATURES);
  return X;
}

/**
 * recommendationsFromOutputs turns n × 5 model outputs into real units: multiples of each window's scales
 * (`raw`, its real-unit features), the memory request at least its median daily peak (denormalizeOutputs).
 */
export function recommendationsFromOutputs(out: Float32Array, raw: Float64Array, n: number): Recommendations & { confidence: Float64Array } {
  const r = { cpuRequest: new Float64Array(n), cpuLimit: new Float64Array(n), memRequest: new Float64Array(n), memLimit: new Float64Array(n), confidence: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    const rec = denormalizeOutputs(out, i * N_OUTPUTS, raw.subarray(i * N_FEATURES, (i + 1) * N_FEATURES));
    r.cpuRequest[i] = rec.cpuRequestCores;
    r.cpuLimit[i] = rec.cpuLimitCores;
    r.memRequest[i] = rec.memRequestBytes;
    r.memLimit[i] = rec.memLimitBytes;
    r.confidence[i] = rec.confidence;
  }
  return r;
}

/** predictWindows runs the model on every window: its recommendations in real units. */
export async function predictWindows(windows: EvalWindow[], model: OnnxPredictor): Promise<Recommendations & { confidence: Float64Array }> {
  const raw = rawFeatureMatrix(windows);
  return recommendationsFromOutputs(await model.predict(featureMatrix(raw), windows.length), raw, windows.length);
}

/** recommendAll returns each system's recommendations for the windows (as-provisioned only when known). */
export async function recommendAll(windows: EvalWindow[], model: OnnxPredictor, onProgress?: (system: string) => void): Promise<Partial<Record<SystemName, Recommendations>>> {
  onProgress?.('model');
  const fromModel = await predictWindows(windows, model);
  return { model: fromModel, ...recommendBaselines(windows, onProgress) };
}

/** recommendBaselines returns every system but the model, for callers that already ran the model. */
export function recommendBaselines(windows: EvalWindow[], onProgress?: (system: string) => void): Partial<Record<Exclude<SystemName, 'model'>, Recommendations>> {
  const out: Partial<Record<Exclude<SystemName, 'model'>, Recommendations>> = {};
  onProgress?.('vpa');
  out.vpa = collect(windows.map((w) => recommendVpa(w.past, {
    originalCpuRequestCores: w.original?.cpuRequestCores,
    originalCpuLimitCores: w.original?.cpuLimitCores,
    originalMemRequestBytes: w.original?.memRequestBytes,
    originalMemLimitBytes: w.original?.memLimitBytes,
  })));
  onProgress?.('krr');
  out.krr = collect(windows.map((w) => recommendKrr(w.past)));
  onProgress?.('fixed-max-x1.3');
  out['fixed-max-x1.3'] = collect(windows.map((w) => recommendFixedRule(w.past, { factor: 1.3 })));
  if (windows.every((w) => w.original?.cpuLimitCores !== undefined && w.original?.memLimitBytes !== undefined)) {
    out['as-provisioned'] = collect(windows.map((w) => asProvisioned(w.original!.cpuLimitCores!, w.original!.memLimitBytes!)));
  }
  return out;
}
