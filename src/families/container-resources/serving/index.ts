/**
 * serving: how the agent (resource-agent/) serves the container family. POST /v1/recommend takes one
 * item (input.ts: 12 features by name or in order, or a raw usage window) and answers CPU and memory
 * request and limit with a confidence (render.ts), after the post-processing pipeline of
 * ../postprocess.ts for the operator's bounds; POST /v1/recommend/batch takes up to 10,000 items.
 */
import type { FamilyServing, ServingAdapter } from '../../../core/family.js';
import { denormalizeOutputs, FLOOR_NOTE, memRequestFloored, N_FEATURES } from '../features.js';
import { DEFAULT_POLICY, modelSteps, pipeline, postProcess } from '../postprocess.js';
import type { PodResources, Step } from '../postprocess.js';
import { readContainerItem } from './input.js';
import type { ItemMeta } from './input.js';
import { writeRecommendation } from './render.js';
import type { AppliedRisk } from './render.js';
import { factorFor } from '../../../core/risk.js';
import { RequestFieldError } from '../../../core/family.js';
import type { ServedModel } from '../../../core/family.js';
import { ANSWER, EXAMPLE, ITEM } from './schemas.js';

/**
 * riskFor picks the serving version's conformal factors for the requested hold rates (it changes nothing:
 * the factors are applied by postprocess.ts withRiskFactors, in recommendRow); the smallest calibrated
 * target at or above a request is used (src/core/risk.ts factorFor). A hold rate outside (0, 1) is a RequestFieldError naming
 * risk.memoryHold / risk.cpuHold. What the version cannot certify depends on `degrade`:
 *   false (the CLI: the operator chose the model and the rate)   a version without a table, or a target
 *         above its table, is a RequestFieldError;
 *   true (the agent: the served version may change under the caller, e.g. a rollback to a version
 *         trained without --calibration-data)   the answer degrades instead, with a warning: to the
 *         nearest certified target (the highest in the table) for a target above it, and to no factor
 *         (the model's own limits; target and factor null, calibration null) without a table.
 */
export function riskFor(want: NonNullable<ItemMeta['risk']>, model: ServedModel, degrade = false): AppliedRisk {
  const table = model.risk;
  const warnings: string[] = [];
  if (!table && degrade) {
    const none = (h: number | undefined) => (h === undefined ? null : { requested: h, target: null, factor: null });
    for (const key of ['memoryHold', 'cpuHold'] as const) {
      const h = want[key];
      if (h !== undefined && !(h > 0 && h < 1)) throw new RequestFieldError(`risk.${key}`, `${h} must be a hold rate between 0 and 1, e.g. 0.99 for at most 1% of windows over the limit`);
    }
    warnings.push(`risk: model version ${model.version} has no risk calibration; answered with the model's own limits, so no hold rate is guaranteed (serve a version trained with --calibration-data for one)`);
    return { memory: none(want.memoryHold), cpu: none(want.cpuHold), calibration: null, warnings };
  }
  const pick = (key: 'memoryHold' | 'cpuHold', output: string) => {
    const h = want[key];
    if (h === undefined) return null;
    if (!table) throw new RequestFieldError(`risk.${key}`, `model version ${model.version} has no risk calibration, so it cannot answer for a hold rate; omit "risk" or serve a version trained with --calibration-data`);
    const rows = table.factors[output] ?? [];
    try {
      return { requested: h, ...factorFor(rows, h, `risk.${key}`) };
    } catch (e) {
      const top = rows.reduce<[number, number] | null>((a, x) => (a === null || x[0] > a[0] ? x : a), null);
      if (degrade && top && h > 0 && h < 1) {
        warnings.push(`risk.${key}: ${h} is above the highest target model version ${model.version} was calibrated for (${top[0]}); answered for ${top[0]}`);
        return { requested: h, target: top[0], factor: top[1] };
      }
      throw new RequestFieldError(`risk.${key}`, (e as Error).message.replace(/^risk\.\w+: /, ''));
    }
  };
  const memory = pick('memoryHold', 'mem_limit');
  const cpu = pick('cpuHold', 'cpu_limit');
  return { memory, cpu, calibration: `${table!.calibration.windows} windows of ${table!.calibration.groups} workloads (${table!.calibration.source})`, ...(warnings.length ? { warnings } : {}) };
}

/**
 * recommendRow is the container family's whole post-processing of one model output row (`y` at `offset`,
 * the window's real-unit features `inputs`), the same for POST /v1/recommend and the Prometheus path
 * (workloads.ts): model (denormalizeOutputs, memory request ≥ mem_p50) → risk factors → API units →
 * minimums → limit ≥ request → rounding → caps (postprocess.ts). `floored`: the memory request is the
 * mem_p50 floor rather than the model's figure (the answer says why: FLOOR_NOTE).
 */
export function recommendRow(y: ArrayLike<number>, offset: number, inputs: ArrayLike<number>, steps: Step[], risk: AppliedRisk | null): { rec: PodResources; floored: boolean } {
  const before = modelSteps(risk && { memFactor: risk.memory?.factor ?? null, cpuFactor: risk.cpu?.factor ?? null });
  return { rec: postProcess(denormalizeOutputs(y, offset, inputs), undefined, steps, before), floored: memRequestFloored(y, offset, inputs) };
}

export const containerServing: FamilyServing = {
  path: '/v1/recommend',
  summary: 'Recommend requests and limits for one container',
  defaultBounds: DEFAULT_POLICY,
  adapter(bounds): ServingAdapter<ItemMeta> {
    const policy = { ...bounds };
    const steps = pipeline(policy);
    // Scratch space for one item's real-unit features: items are read one after another, synchronously.
    const row = new Float64Array(N_FEATURES);
    return {
      readItem: (v, out, offset) => readContainerItem(v, out, offset, row),
      writeItem: (w, y, offset, meta, model) => {
        const applied = meta.risk ? riskFor(meta.risk, model, true) : null;
        const { rec, floored } = recommendRow(y, offset, meta.inputs, steps, applied);
        // the floor's reason travels with the answer (as in npm run recommend's NOTES)
        writeRecommendation(w, rec, floored ? { ...meta, warnings: [...(meta.warnings ?? []), FLOOR_NOTE] } : meta, applied);
      },
    };
  },
  schemas: { item: ITEM, answer: ANSWER },
  example: EXAMPLE,
};
