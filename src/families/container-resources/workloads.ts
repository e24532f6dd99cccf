/**
 * workloads: a recommendation for every container of every workload a source read (Prometheus today),
 * the way the agent answers one raw window: computeFeatures → the contract's ranges → normalize → the
 * model → denormalize → the risk factors asked for (serving/index.ts riskFor, recommendRow) → postProcess. The CLI
 * (recommend.ts) and the agent's workload refresh (resource-agent/workloads.ts) both call
 * recommendContainers, so a workload's answer through Prometheus is the answer POST /v1/recommend gives
 * for the same window.
 *
 * Beyond the model's answer, per container: the current requests and limits, the monthly saving of the
 * recommended requests against the current ones over the running replicas (prices per core-month and
 * GiB-month; default list prices of on-demand cloud capacity, override them), and the risk of the current
 * setting where the recommendation is higher (memory limit below → OOM risk; CPU request below →
 * throttling under contention). Worked numbers: 3 replicas, request 500m → 150m and 1Gi → 640Mi at 24 per
 * core-month and 3.2 per GiB-month: 3 × (0.35 × 24 + 0.375 × 3.2) = 3 × 9.60 = 28.80 per month.
 *
 * No runtime and no HTTP here: the model arrives as a `run` function (the agent's Inference.run or an
 * ONNX predictor).
 */
import type { ContainerUsage, Resources } from '../../sources/kube-workloads.js';
import { computeFeatures, FEATURE_NAMES, FLOOR_NOTE, N_FEATURES, N_OUTPUTS, normalizeFeatures } from './features.js';
import { checkFeatureValues } from './serving/input.js';
import { recommendRow, riskFor } from './serving/index.js';
import type { AppliedRisk } from './serving/render.js';
import { DEFAULT_POLICY, pipeline } from './postprocess.js';
import type { PodResources, Policy } from './postprocess.js';
import type { ServedModel } from '../../core/family.js';
import { coresFromMillicores, GiB, millicoresFromCores } from '../../core/units.js';
import type { Bytes, Cores } from '../../core/units.js';

/** Prices: currency per core-month and per GiB-month. */
export interface Prices {
  cpuCoreMonth: number;
  memoryGiBMonth: number;
}

/** DEFAULT_PRICES: about the on-demand list price of cloud capacity (USD; 730 h a month). */
export const DEFAULT_PRICES: Readonly<Prices> = { cpuCoreMonth: 24, memoryGiBMonth: 3.2 };

/** ContainerRecommendation: one container's answer, with what it is compared against. */
export interface ContainerRecommendation {
  usage: ContainerUsage;
  /** null when the container has too little data or is outside the model's range (see `notes`) */
  recommended: PodResources | null;
  risk: AppliedRisk | null;
  /** currency per month saved by the recommended requests (negative: it costs more); null when unknown */
  monthlySaving: number | null;
  /** what is wrong with the current setting, when the recommendation is higher ("OOM risk: …") */
  currentRisk: string | null;
  /** short history, no recommendation and why */
  notes: string[];
}

/** WorkloadResult: a recommendation run: the model version, every container, and the totals. */
export interface WorkloadResult {
  modelVersion: string;
  containers: ContainerRecommendation[];
  totals: Totals;
}

export interface Totals {
  workloads: number;
  containers: number;
  recommended: number;
  short: number;
  /** requests over the running replicas, now and recommended (only containers whose current requests are known) */
  currentCpuCores: Cores;
  recommendedCpuCores: Cores;
  currentMemoryBytes: Bytes;
  recommendedMemoryBytes: Bytes;
  monthlySaving: number;
}

/** Run: the model, as the agent's Inference.run: predicts n rows and hands the outputs to `use`. */
export type Run = <T>(x: Float32Array, n: number, use: (y: Float32Array, model: ServedModel) => T) => Promise<T>;

export interface RecommendOptions {
  policy?: Policy;
  /** hold-rate targets for the limits (the version's risk table must be calibrated for them) */
  risk?: { memoryHold?: number; cpuHold?: number } | null;
  prices?: Prices;
}

export { FLOOR_NOTE } from './features.js';

/** days(86400 × 1.5) === '1.5 d' */
const days = (sec: number) => `${Number((sec / 86400).toFixed(1))} d`;

/** recommendContainers recommends for every container that has a window, in one batch. */
export async function recommendContainers(containers: readonly ContainerUsage[], run: Run, o: RecommendOptions = {}): Promise<WorkloadResult> {
  const policy = o.policy ?? DEFAULT_POLICY;
  const prices = o.prices ?? DEFAULT_PRICES;
  const steps = pipeline(policy);
  const rows: number[] = [];
  const x = new Float32Array(containers.length * N_FEATURES);
  const raws = new Float64Array(containers.length * N_FEATURES);
  const row = new Float64Array(N_FEATURES);
  const notes = containers.map((c) => (c.short ? [`short history: ${days(c.coveredSec)} of ${days(c.historySec)}`] : []));
  containers.forEach((c, i) => {
    if (!c.window) {
      notes[i]!.push(`no recommendation: ${c.samples} sample${c.samples === 1 ? '' : 's'} (2 needed)`);
      return;
    }
    try {
      const f = computeFeatures(c.window);
      for (let j = 0; j < N_FEATURES; j++) row[j] = f[FEATURE_NAMES[j]!];
      // Features computed from a window: only the model's ranges and units apply, as for POST /v1/recommend's
      // windows (the bounds on client-given variance, trend and age do not: the window determines them).
      // Range queries give one sample per step, so there are no repeated timestamps to merge here.
      checkFeatureValues(row, (j) => FEATURE_NAMES[j]!, false);
    } catch (e) {
      notes[i]!.push(`no recommendation: ${(e as Error).message}`);
      return;
    }
    normalizeFeatures(row, x, rows.length * N_FEATURES);
    raws.set(row, rows.length * N_FEATURES);
    rows.push(i);
  });
  const answers = new Map<number, { rec: PodResources; risk: AppliedRisk | null }>();
  const modelVersion = await run(x.subarray(0, rows.length * N_FEATURES), rows.length, (y, model) => {
    rows.forEach((ci, r) => {
      const inputs = raws.subarray(r * N_FEATURES, (r + 1) * N_FEATURES);
      const risk = o.risk && (o.risk.memoryHold !== undefined || o.risk.cpuHold !== undefined) ? riskFor(o.risk, model) : null;
      const { rec, floored } = recommendRow(y, r * N_OUTPUTS, inputs, steps, risk);
      // the reason, when the request is the median-daily-peak floor rather than the model's figure
      if (floored) notes[ci]!.push(FLOOR_NOTE);
      answers.set(ci, { rec, risk });
    });
    return model.version;
  });

  const out: ContainerRecommendation[] = containers.map((usage, i) => {
    const a = answers.get(i);
    const rec = a?.rec ?? null;
    return { usage, recommended: rec, risk: a?.risk ?? null, monthlySaving: rec ? saving(usage, rec, prices) : null, currentRisk: rec ? riskOf(usage, rec) : null, notes: notes[i]! };
  });
  return { modelVersion, containers: out, totals: totalsOf(out) };
}

/** replicasOf: the running replicas, at least 1 (a workload that just ended is priced as one). */
const replicasOf = (u: ContainerUsage) => Math.max(u.replicas, 1);

function saving(u: ContainerUsage, r: PodResources, p: Prices): number | null {
  const { cpuCores, memoryBytes } = u.requests;
  if (cpuCores === null && memoryBytes === null) return null;
  const cpu = cpuCores === null ? 0 : (cpuCores - coresFromMillicores(r.cpuRequestMillicores)) * p.cpuCoreMonth;
  const mem = memoryBytes === null ? 0 : ((memoryBytes - r.memRequestBytes) / GiB) * p.memoryGiBMonth;
  return replicasOf(u) * (cpu + mem);
}

function riskOf(u: ContainerUsage, r: PodResources): string | null {
  const out: string[] = [];
  const l: Resources = u.limits;
  if (l.memoryBytes !== null && l.memoryBytes < r.memLimitBytes) out.push('OOM risk: memory limit below the recommended');
  else if (l.memoryBytes === null && u.requests.memoryBytes !== null && u.requests.memoryBytes < r.memRequestBytes) out.push('memory request below the recommended');
  if (u.requests.cpuCores !== null && millicoresFromCores(u.requests.cpuCores) < r.cpuRequestMillicores) out.push('CPU request below the recommended');
  if (l.cpuCores !== null && millicoresFromCores(l.cpuCores) < r.cpuLimitMillicores) out.push('throttling risk: CPU limit below the recommended');
  return out.length ? out.join('; ') : null;
}

/** totalsOf sums a run: requests over the running replicas, only where the current requests are known. */
export function totalsOf(cs: readonly ContainerRecommendation[]): Totals {
  const t: Totals = { workloads: new Set(cs.map((c) => `${c.usage.workload.namespace}/${c.usage.workload.kind}/${c.usage.workload.name}`)).size, containers: cs.length, recommended: 0, short: 0, currentCpuCores: 0, recommendedCpuCores: 0, currentMemoryBytes: 0, recommendedMemoryBytes: 0, monthlySaving: 0 };
  for (const c of cs) {
    if (c.usage.short) t.short++;
    if (!c.recommended) continue;
    t.recommended++;
    const n = replicasOf(c.usage);
    if (c.usage.requests.cpuCores !== null) {
      t.currentCpuCores += n * c.usage.requests.cpuCores;
      t.recommendedCpuCores += coresFromMillicores(n * c.recommended.cpuRequestMillicores);
    }
    if (c.usage.requests.memoryBytes !== null) {
      t.currentMemoryBytes += n * c.usage.requests.memoryBytes;
      t.recommendedMemoryBytes += n * c.recommended.memRequestBytes;
    }
    t.monthlySaving += c.monthlySaving ?? 0;
  }
  return t;
}
