/**
 * shadow: a retrained candidate next to the version active now and the rules it must beat (VPA, KRR,
 * max × 1.3, the re-implementations of eval/compare.ts), on the SHADOW windows of a retraining (split.ts:
 * workloads the candidate never trained on, futures after the cutoff) and on the same windows rescaled
 * (memory or CPU × 0.1 and × 10, eval/stress.ts RESCALINGS: a workload 10× smaller or larger than any it
 * saw), then the promotion decision as a pure function of those figures.
 *
 * Decision (`decide`): the candidate is ELIGIBLE when, on every slice,
 *   business ≤ (1 − margin) × the active version's business      (it beats it by the margin)
 *   memory under-allocation % ≤ the active version's               (no more OOM kills for the gain)
 * and, with the rules gate (--rules-gate; off by default: a candidate better than the version it would
 * replace is an improvement even where both lose to a rule, and the agent cannot serve the rule),
 *   business ≤ max × 1.3's, memory under-allocation % ≤ VPA's      (never worse than the rule it replaces).
 * The rules' figures are recorded on every slice either way, and their two comparisons are in the decision
 * as `rules` (required only with the gate: then they are among the `checks` too).
 * Worked example, margin 0.02: active 100.0 business and 8% under, candidate 97.5 and 8% → 97.5 ≤ 98.0 and
 * 8 ≤ 8: eligible; candidate 98.5 → 98.5 > 98.0: not eligible, the record says "business ≤ 0.98 × active
 * (98.5 > 98)". Eligible is promoted only when asked (--promote, autoPromote).
 *
 * Intervals: candidate ⁄ each other system, bootstrap 95% over WORKLOADS (windows of one workload resample
 * together), for business and memory under-allocation; they are reported, the decision uses the point
 * figures (a shadow set is often a few dozen workloads: an interval that excludes 1 would rarely be met).
 */
import type { OnnxPredictor } from '../onnx/runtime.js';
import type { TraceWindow } from '../families/container-resources/data/windows.js';
import { predictWindows, recommendBaselines } from '../families/container-resources/eval/compare.js';
import { resourceMetrics } from '../families/container-resources/eval/metrics.js';
import type { Recommendations, ResourceMetrics } from '../families/container-resources/eval/metrics.js';
import { bootstrapVersus, sumsOf } from '../families/container-resources/eval/bootstrap.js';
import type { Interval, Sums } from '../families/container-resources/eval/bootstrap.js';
import { outcomesOf, RESCALINGS, scaleWindow } from '../families/container-resources/eval/stress.js';

export const SHADOW_SYSTEMS = ['candidate', 'active', 'vpa', 'krr', 'fixed-max-x1.3'] as const;
export type ShadowSystem = (typeof SHADOW_SYSTEMS)[number];

/** ShadowSlice: every system on one set of shadow windows. */
export interface ShadowSlice {
  name: string;
  kind: 'held-back' | 'rescaled';
  windows: number;
  workloads: number;
  systems: Record<ShadowSystem, ResourceMetrics>;
  /** candidate ⁄ each other system over workloads (null with fewer than 2 workloads) */
  versus: Partial<Record<Exclude<ShadowSystem, 'candidate'>, { businessScore: Interval; memUnderAllocationPct: Interval }>> | null;
}

/** scoreShadow: every system's figures and the intervals on one slice's windows. */
function scoreShadow(name: string, kind: ShadowSlice['kind'], windows: TraceWindow[], recs: Record<ShadowSystem, Recommendations>, workloadOf: ReadonlyMap<string, string>): ShadowSlice {
  const o = outcomesOf(windows);
  const systems = Object.fromEntries(SHADOW_SYSTEMS.map((s) => [s, resourceMetrics(recs[s], o)])) as Record<ShadowSystem, ResourceMetrics>;
  const groups = new Map<string, number[]>();
  windows.forEach((w, i) => {
    const g = workloadOf.get(w.vm) ?? w.vm;
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(i);
  });
  let versus: ShadowSlice['versus'] = null;
  if (groups.size >= 2) {
    const sums: Record<string, Sums[]> = {};
    for (const s of SHADOW_SYSTEMS) sums[s] = [...groups.values()].map((rows) => sumsOf(recs[s], o, rows));
    const b = bootstrapVersus(sums, 'candidate');
    versus = {};
    for (const [s, v] of Object.entries(b.versus)) versus[s as Exclude<ShadowSystem, 'candidate'>] = { businessScore: v.businessScore.ratio, memUnderAllocationPct: v.memUnderAllocationPct.ratio };
  }
  return { name, kind, windows: windows.length, workloads: groups.size, systems, versus };
}

/** recommendEvery: both models and the three rules on the windows. */
async function recommendEvery(windows: TraceWindow[], candidate: OnnxPredictor, active: OnnxPredictor): Promise<Record<ShadowSystem, Recommendations>> {
  const b = recommendBaselines(windows);
  return { candidate: await predictWindows(windows, candidate), active: await predictWindows(windows, active), vpa: b.vpa!, krr: b.krr!, 'fixed-max-x1.3': b['fixed-max-x1.3']! };
}

/** shadowEvaluate scores the held-back slice and its four rescalings, in that order. */
export async function shadowEvaluate(windows: TraceWindow[], workloadOf: ReadonlyMap<string, string>, models: { candidate: OnnxPredictor; active: OnnxPredictor }, onSlice: (done: number, total: number, name: string) => void = () => {}): Promise<ShadowSlice[]> {
  const total = 1 + RESCALINGS.length;
  const out = [scoreShadow('held back', 'held-back', windows, await recommendEvery(windows, models.candidate, models.active), workloadOf)];
  onSlice(1, total, 'held back');
  for (const r of RESCALINGS) {
    const scaled = windows.map((w) => scaleWindow(w, r.resource, r.factor));
    out.push(scoreShadow(r.name, 'rescaled', scaled, await recommendEvery(scaled, models.candidate, models.active), workloadOf));
    onSlice(out.length, total, r.name);
  }
  return out;
}

/** Check: one condition of the decision on one slice. */
export interface Check {
  slice: string;
  name: string;
  value: number;
  limit: number;
  passed: boolean;
}

/** Decision: every check, and whether all passed. */
export interface Decision {
  eligible: boolean;
  checks: Check[];
  /** the failed checks, one line each: "held back: business ≤ 0.98 × active (98.5 > 98)" */
  reasons: string[];
  /** the candidate against max × 1.3 and VPA on every slice, whether or not the gate requires them */
  rules: Check[];
}

const n3 = (x: number) => +x.toFixed(3);
/** failed: a failed check as one line, "held back: business ≤ max × 1.3 (125 > 120)". */
export const failed = (k: Check) => `${k.slice}: ${k.name} (${n3(k.value)} > ${n3(k.limit)})`;

/** decide applies the module header's rule to the slices. */
export function decide(slices: readonly ShadowSlice[], o: { margin: number; rulesGate: boolean }): Decision {
  const checks: Check[] = [];
  const rules: Check[] = [];
  const r6 = (x: number) => +x.toFixed(6);
  for (const s of slices) {
    const c = s.systems.candidate;
    const a = s.systems.active;
    checks.push({ slice: s.name, name: `business ≤ ${r6(1 - o.margin)} × active`, value: c.businessScore, limit: (1 - o.margin) * a.businessScore, passed: c.businessScore <= (1 - o.margin) * a.businessScore });
    checks.push({ slice: s.name, name: 'memory under % ≤ active', value: c.memUnderAllocationPct, limit: a.memUnderAllocationPct, passed: c.memUnderAllocationPct <= a.memUnderAllocationPct });
    const f = s.systems['fixed-max-x1.3'];
    const v = s.systems.vpa;
    const ruleChecks = [
      { slice: s.name, name: 'business ≤ max × 1.3', value: c.businessScore, limit: f.businessScore, passed: c.businessScore <= f.businessScore },
      { slice: s.name, name: 'memory under % ≤ VPA', value: c.memUnderAllocationPct, limit: v.memUnderAllocationPct, passed: c.memUnderAllocationPct <= v.memUnderAllocationPct },
    ];
    rules.push(...ruleChecks);
    if (o.rulesGate) checks.push(...ruleChecks);
  }
  const reasons = checks.filter((k) => !k.passed).map(failed);
  return { eligible: reasons.length === 0, checks, reasons, rules };
}

/**
 * formatShadow: the slices as a table (business and memory under % of each system), then the decision.
 * Example line: "held back        28 (14)   candidate 91.20 / 7.14   active 120.50 / 14.29   …".
 */
export function formatShadow(slices: readonly ShadowSlice[], d: Decision): string {
  const head = ['slice', 'windows (workloads)', ...SHADOW_SYSTEMS.map((s) => `${s} business / mem under %`)];
  const lines = [head.join(' | ')];
  for (const s of slices) lines.push([s.name, `${s.windows} (${s.workloads})`, ...SHADOW_SYSTEMS.map((x) => `${s.systems[x].businessScore.toFixed(2)} / ${s.systems[x].memUnderAllocationPct.toFixed(2)}`)].join(' | '));
  const held = slices.find((s) => s.kind === 'held-back')?.versus?.active?.businessScore;
  if (held) lines.push(`candidate ⁄ active business on the held-back windows: ${held.point.toFixed(3)} (95% over workloads ${held.lo.toFixed(3)} … ${held.hi.toFixed(3)})`);
  lines.push(d.eligible ? `every check passed (${d.checks.length})` : `failed ${d.reasons.length} of ${d.checks.length} checks: ${d.reasons.join('; ')}`);
  const lost = d.rules.filter((k) => !k.passed && !d.checks.some((c) => c.slice === k.slice && c.name === k.name));
  if (lost.length) lines.push(`not required (no --rules-gate): ${lost.map(failed).join('; ')}`);
  return lines.join('\n');
}
