/**
 * stress-targets: what a stress report (stress.ts) says about a model, as pure functions of the report.
 *
 *   stressGate      the floor a model must clear on EVERY slice it is scored on, or export/validate refuse
 *                   it: model business ≤ fixed-max-x1.3's, and model memory under-allocation % ≤ VPA's
 *                   (the recipe slices, scored with half-trained models, are reported, not gated).
 *   stressTargets   the goals, each per slice, met or not, with the value, the limit and the bootstrap
 *                   interval (over near-clone groups) where there is one:
 *                     business ≤ 0.90 × max × 1.3's and ≤ 0.80 × min(VPA, KRR)'s (the lower of the two),
 *                     memory under-allocation ≤ 0.6 × VPA's, CPU request slack ≤ KRR's,
 *                     CPU-limit breaches ≤ 0.5 × VPA's, memory request below the future mean ≤ 1% of
 *                     windows, and each memory hold target 0.90 / 0.95 / 0.99 observed within ±2 points.
 * Ratio targets report model ÷ baseline as the value. Worked example: model business 96.56, max × 1.3's
 * 90.87 → value 1.063, limit 0.90, not met; VPA breaches 0% and the model's 0% → value 0, met (0 ≤ 0).
 */
import type { Interval, MetricName } from './bootstrap.js';
import type { StressSlice } from './stress.js';

/** GateFailure: one slice where the model is below the floor. */
export interface GateFailure {
  slice: string;
  name: string;
  value: number;
  limit: number;
}

/**
 * stressGate returns every failure of the evaluated model (an empty list: it passes on every slice). The
 * recipe slices ('size-model': another model, trained on one size half, scored on the other) test the
 * training recipe, not this model: they are reported with their targets but not gated.
 */
export function stressGate(r: { slices: StressSlice[] }): GateFailure[] {
  const out: GateFailure[] = [];
  for (const s of r.slices) {
    if (s.kind === 'size-model') continue;
    const m = s.systems.model;
    const fixed = s.systems['fixed-max-x1.3'];
    const vpa = s.systems.vpa;
    if (!m) continue;
    if (fixed && m.businessScore > fixed.businessScore) out.push({ slice: s.name, name: 'business ≤ fixed-max-x1.3', value: m.businessScore, limit: fixed.businessScore });
    if (vpa && m.memUnderAllocationPct > vpa.memUnderAllocationPct) out.push({ slice: s.name, name: 'memory under % ≤ VPA', value: m.memUnderAllocationPct, limit: vpa.memUnderAllocationPct });
  }
  return out;
}

/** TargetResult: one target on one slice; `met` is null when it cannot be measured there. */
export interface TargetResult {
  slice: string;
  name: string;
  value: number;
  limit: number;
  met: boolean | null;
  /** model ÷ baseline, 95% over near-clone groups, for ratio targets */
  interval: Interval | null;
  /** the numbers behind the value, e.g. "model 96.56 vs fixed-max-x1.3 90.87" */
  detail: string;
}

/** HOLD_TARGETS: the memory hold rates whose observed rate must sit within HOLD_TOLERANCE points. */
export const HOLD_TARGETS = [0.9, 0.95, 0.99] as const;
export const HOLD_TOLERANCE = 2;

/** ratioTarget: model ≤ factor × baseline on `metric`, reported as model ÷ baseline. */
function ratioTarget(s: StressSlice, name: string, metric: MetricName, baseline: string, factor: number): TargetResult {
  const m = s.systems.model?.[metric];
  const b = (s.systems as Record<string, Record<MetricName, number> | undefined>)[baseline]?.[metric];
  if (m === undefined || b === undefined) return { slice: s.name, name, value: NaN, limit: factor, met: null, interval: null, detail: `no ${m === undefined ? 'model' : baseline} on this slice` };
  return {
    slice: s.name,
    name,
    value: b > 0 ? m / b : m > 0 ? Infinity : 0,
    limit: factor,
    met: m <= factor * b,
    interval: s.intervals?.versus[baseline]?.[metric].ratio ?? null,
    detail: `model ${m.toFixed(2)} vs ${baseline} ${b.toFixed(2)}`,
  };
}

/** sliceTargets: every target on one slice, in the order of the module header. */
function sliceTargets(s: StressSlice): TargetResult[] {
  const vpa = s.systems.vpa?.businessScore ?? Infinity;
  const krr = s.systems.krr?.businessScore ?? Infinity;
  const lower = krr < vpa ? 'krr' : 'vpa';
  const below = s.systems.model?.memRequestBelowMeanPct;
  const out = [
    ratioTarget(s, 'business ≤ 0.90 × max×1.3', 'businessScore', 'fixed-max-x1.3', 0.9),
    ratioTarget(s, 'business ≤ 0.80 × min(VPA, KRR)', 'businessScore', lower, 0.8),
    ratioTarget(s, 'memory under ≤ 0.6 × VPA', 'memUnderAllocationPct', 'vpa', 0.6),
    ratioTarget(s, 'CPU request slack ≤ KRR', 'cpuRequestSlackPct', 'krr', 1),
    ratioTarget(s, 'CPU-limit breaches ≤ 0.5 × VPA', 'cpuLimitBreachPct', 'vpa', 0.5),
    { slice: s.name, name: 'mem request < future mean ≤ 1%', value: below ?? NaN, limit: 1, met: below === undefined ? null : below <= 1, interval: null, detail: below === undefined ? 'no model on this slice' : `${below.toFixed(2)}% of ${s.windows} windows` },
  ];
  for (const t of HOLD_TARGETS) {
    const p = s.riskCurve.find((q) => q.resource === 'memory' && Math.abs(q.target - t) < 1e-9);
    const name = `memory hold ${t.toFixed(2)} within ±${HOLD_TOLERANCE}`;
    out.push(p
      ? { slice: s.name, name, value: p.observedHoldPct, limit: 100 * t, met: Math.abs(p.observedHoldPct - 100 * t) <= HOLD_TOLERANCE, interval: null, detail: `held ${p.observedHoldPct.toFixed(2)}% at × ${p.factor} vs ${(100 * t).toFixed(0)}% ± ${HOLD_TOLERANCE}` }
      : { slice: s.name, name, value: NaN, limit: 100 * t, met: null, interval: null, detail: s.riskCurve.length ? `the risk table has no ${t} target` : 'the model has no risk table' });
  }
  return out;
}

/** stressTargets: every target on every slice. */
export function stressTargets(r: { slices: StressSlice[] }): TargetResult[] {
  return r.slices.flatMap(sliceTargets);
}

/**
 * formatTargets: per slice, "met 5/9, not met: …" (value and limit of each miss), then the totals.
 * Example line: "  all months          met 4/9  not met: business ≤ 0.90 × max×1.3 1.063 > 0.9, …".
 */
export function formatTargets(targets: TargetResult[]): string {
  const slices = [...new Set(targets.map((t) => t.slice))];
  const num = (x: number) => (Number.isFinite(x) ? +x.toFixed(3) : String(x));
  const lines = slices.map((name) => {
    const ts = targets.filter((t) => t.slice === name);
    const met = ts.filter((t) => t.met === true).length;
    const missed = ts.filter((t) => t.met === false).map((t) => `${t.name} (${num(t.value)} vs ${num(t.limit)})`);
    const unmeasured = ts.filter((t) => t.met === null).length;
    return `  ${name.padEnd(48)} met ${met}/${ts.length}${unmeasured ? `, ${unmeasured} not measured` : ''}${missed.length ? `; not met: ${missed.join(', ')}` : ''}`;
  });
  const met = targets.filter((t) => t.met === true).length;
  const notMet = targets.filter((t) => t.met === false).length;
  return `targets: ${met} met, ${notMet} not met, ${targets.length - met - notMet} not measured (of ${targets.length})\n${lines.join('\n')}`;
}
