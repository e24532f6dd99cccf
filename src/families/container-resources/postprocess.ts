/**
 * postprocess: what happens to the model's answer before a user sees it, as small pure steps. Each step
 * takes a recommendation and returns a new one (never mutates). The whole order, the same for
 * POST /v1/recommend, the Prometheus path (npm run recommend, the agent's workloads) and, for the risk step,
 * evaluate and validate:
 *
 *   model (features.ts denormalizeOutputs: cores and bytes, memory request ≥ mem_p50)
 *   → withRiskFactors (limits × the hold-rate factors asked for, requests ≤ limits; cores and bytes)
 *   → fromModel (API units) → withMinimums → limitAtLeastRequest → roundUpToSteps → withCaps
 *
 * `modelSteps` and `pipeline` give the lists, `postProcess` runs them. The order keeps every invariant:
 * minimums and rounding are monotonic (they never turn limit ≥ request into limit < request), and a cap
 * applied to both request and limit keeps min(limit, cap) ≥ min(request, cap). So after the pipeline:
 * limit ≥ request, request ≥ minimum (unless a cap is below it, which the agent's options refuse), every
 * value ≤ its cap.
 *
 * Rounding (always up, so a recommendation is never made smaller than the model said), core/rounding.ts:
 *   CPU    ≤ 1000m: up to a multiple of 5m     (11m → 15m, 248m → 250m; ≤ 5% extra from 100m up)
 *          > 1000m: up to a multiple of 100m   (1001m → 1100m, 2350m → 2400m; ≤ 10% extra)
 *   memory ≤ 1Gi:   up to a multiple of 1Mi    (33.2Mi → 34Mi; ≤ 3.1% extra from the 32Mi minimum)
 *          > 1Gi:   up to a multiple of 64Mi   (1.01Gi → 1088Mi, 3.1Gi → 3200Mi; ≤ 6.25% extra)
 * Steps make the numbers readable in a pod spec and stop recommendations from churning by a millicore.
 *
 * No Node, no runtime, no HTTP: this module imports only the contract, units and rounding.
 */
import type { ModelRecommendation } from './recommendation.js';
import type { Bytes, Millicores } from '../../core/units.js';
import { MiB, millicoresFromCores } from '../../core/units.js';
import { roundCpuMillicores, roundMemoryBytes } from '../../core/rounding.js';

/**
 * PodResources: a recommendation as it goes into a pod spec, after post-processing: CPU in whole
 * millicores, memory in bytes, on the rounding steps. It is the family's one Recommendation
 * (recommendation.ts, cores and bytes) rendered in the API's units, not a second kind of recommendation.
 */
export interface PodResources {
  cpuRequestMillicores: Millicores;
  cpuLimitMillicores: Millicores;
  memRequestBytes: Bytes;
  memLimitBytes: Bytes;
  /** P(no OOM kill and no CPU-limit breach over the next window), 0..1 */
  confidence: number;
}

/** Policy: the operator's bounds. Caps are null when not set. */
export interface Policy {
  minCpuMillicores: Millicores;
  minMemoryBytes: Bytes;
  maxCpuMillicores: Millicores | null;
  maxMemoryBytes: Bytes | null;
}

/** DEFAULT_POLICY: 10m CPU and 32Mi memory at least (the model's own lower range), no caps. */
export const DEFAULT_POLICY: Readonly<Policy> = { minCpuMillicores: 10, minMemoryBytes: 32 * MiB, maxCpuMillicores: null, maxMemoryBytes: null };

/** A Step is one pure post-processing stage in API units. */
export type Step = (r: PodResources) => PodResources;

/** A ModelStep is one pure stage on the model's answer in cores and bytes, before fromModel. */
export type ModelStep = (r: ModelRecommendation) => ModelRecommendation;

/**
 * withRiskFactors multiplies the limits by the conformal factors of the hold rates asked for (core/risk.ts)
 * and keeps each request at most its limit; a null factor leaves that resource alone. As evaluate and
 * validate measured the targets: a factor below 1 lowers both (limitAtLeastRequest would otherwise raise
 * the limit back to the request, and serve something other than what was measured).
 * Example: withRiskFactors(1.25, null)({ mem request 3 GiB, limit 2 GiB, … }) → limit 2.5 GiB, request 2.5 GiB.
 */
export function withRiskFactors(memFactor: number | null, cpuFactor: number | null): ModelStep {
  return (r) => {
    const out = { ...r };
    if (memFactor !== null) {
      out.memLimitBytes = r.memLimitBytes * memFactor;
      out.memRequestBytes = Math.min(r.memRequestBytes, out.memLimitBytes);
    }
    if (cpuFactor !== null) {
      out.cpuLimitCores = r.cpuLimitCores * cpuFactor;
      out.cpuRequestCores = Math.min(r.cpuRequestCores, out.cpuLimitCores);
    }
    return out;
  };
}

/** modelSteps returns the steps before fromModel, in order: the risk factors (none: no step). */
export function modelSteps(risk: { memFactor: number | null; cpuFactor: number | null } | null): ModelStep[] {
  return risk && (risk.memFactor !== null || risk.cpuFactor !== null) ? [withRiskFactors(risk.memFactor, risk.cpuFactor)] : [];
}

/**
 * fromModel converts the denormalized model outputs (cores, bytes) into API units.
 * Example: { cpuRequestCores: 0.2481, … } → { cpuRequestMillicores: 248.1, … }.
 */
export function fromModel(o: ModelRecommendation): PodResources {
  return {
    cpuRequestMillicores: millicoresFromCores(o.cpuRequestCores),
    cpuLimitMillicores: millicoresFromCores(o.cpuLimitCores),
    memRequestBytes: o.memRequestBytes,
    memLimitBytes: o.memLimitBytes,
    confidence: Math.min(Math.max(o.confidence, 0), 1),
  };
}

/** withMinimums raises every value to its minimum. withMinimums(10, 32Mi)({cpu 4m, …}) → cpu 10m. */
export function withMinimums(minCpu: Millicores, minMem: Bytes): Step {
  return (r) => ({
    ...r,
    cpuRequestMillicores: Math.max(r.cpuRequestMillicores, minCpu),
    cpuLimitMillicores: Math.max(r.cpuLimitMillicores, minCpu),
    memRequestBytes: Math.max(r.memRequestBytes, minMem),
    memLimitBytes: Math.max(r.memLimitBytes, minMem),
  });
}

/** limitAtLeastRequest raises each limit to its request. {cpu request 300m, limit 250m} → limit 300m. */
export const limitAtLeastRequest: Step = (r) => ({
  ...r,
  cpuLimitMillicores: Math.max(r.cpuLimitMillicores, r.cpuRequestMillicores),
  memLimitBytes: Math.max(r.memLimitBytes, r.memRequestBytes),
});

/** roundUpToSteps rounds all four resource values up to their steps (core/rounding.ts, see the header). */
export const roundUpToSteps: Step = (r) => ({
  ...r,
  cpuRequestMillicores: roundCpuMillicores(r.cpuRequestMillicores),
  cpuLimitMillicores: roundCpuMillicores(r.cpuLimitMillicores),
  memRequestBytes: roundMemoryBytes(r.memRequestBytes),
  memLimitBytes: roundMemoryBytes(r.memLimitBytes),
});

/** withCaps lowers requests and limits to the caps; a null cap leaves the value alone. */
export function withCaps(maxCpu: Millicores | null, maxMem: Bytes | null): Step {
  const cpu = (m: number) => (maxCpu === null ? m : Math.min(m, maxCpu));
  const mem = (b: number) => (maxMem === null ? b : Math.min(b, maxMem));
  return (r) => ({
    ...r,
    cpuRequestMillicores: cpu(r.cpuRequestMillicores),
    cpuLimitMillicores: cpu(r.cpuLimitMillicores),
    memRequestBytes: mem(r.memRequestBytes),
    memLimitBytes: mem(r.memLimitBytes),
  });
}

/** pipeline returns the steps after fromModel, in order, for a policy. */
export function pipeline(p: Policy): Step[] {
  return [withMinimums(p.minCpuMillicores, p.minMemoryBytes), limitAtLeastRequest, roundUpToSteps, withCaps(p.maxCpuMillicores, p.maxMemoryBytes)];
}

/**
 * postProcess runs the whole pipeline on one denormalized model answer: `before` (modelSteps), fromModel,
 * then `steps` (pipeline).
 * Example (default policy): cpu request 0.2481 cores, limit 0.2 cores, memory request 300.2Mi, limit 1.3Gi
 *   → withMinimums: unchanged → limitAtLeastRequest: cpu limit 248.1m → round: 250m / 250m, 301Mi / 1344Mi.
 */
export function postProcess(o: ModelRecommendation, p: Policy = DEFAULT_POLICY, steps: Step[] = pipeline(p), before: readonly ModelStep[] = []): PodResources {
  let m = o;
  for (const s of before) m = s(m);
  let r = fromModel(m);
  for (const s of steps) r = s(r);
  return r;
}
