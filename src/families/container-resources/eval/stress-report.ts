/**
 * stress-report: a stress report (stress.ts) for people: the console text (a systems × metrics table per
 * slice, the model ÷ baseline intervals, the memory hold rates, the gate verdict and the targets summary)
 * and the HTML page written beside --json (business per slice for every system, a table per slice, the
 * targets table).
 */
import { esc, page, table } from '../../../report/svg.js';
import { chartHtml } from '../../../report/charts.js';
import type { ChartSpec } from '../../../report/charts.js';
import { SYSTEMS } from './compare.js';
import { formatTable } from './trace-eval.js';
import { comparisonHtml } from './validate-html.js';
import { formatTargets, HOLD_TARGETS } from './stress-targets.js';
import type { GateFailure, TargetResult } from './stress-targets.js';
import type { Interval } from './bootstrap.js';
import type { StressReport, StressSlice } from './stress.js';

const SYSTEM_COLORS: Record<string, string> = { model: '#d62728', vpa: '#1f77b4', krr: '#2ca02c', 'fixed-max-x1.3': '#9467bd', 'as-provisioned': '#7f7f7f' };

const ci = (r: Interval) => `${r.point.toFixed(3)} (${r.lo.toFixed(3)} … ${r.hi.toFixed(3)})`;

/** sliceTitle: "all months: 48 VMs in 41 groups, 2,213 windows". */
export function sliceTitle(s: StressSlice): string {
  return `${s.name}: ${s.vms} VMs in ${s.groups} groups, ${s.windows.toLocaleString('en-US')} windows`;
}

/** formatSlice: the slice's table, model ÷ each baseline (business, memory under) and the memory hold rates. */
export function formatSlice(s: StressSlice, mainModel: string): string {
  const lines = [`── ${sliceTitle(s)}${s.model !== mainModel ? ` (model ${s.model})` : ''}`, formatTable(s.systems)];
  if (s.intervals) {
    for (const [b, v] of Object.entries(s.intervals.versus)) lines.push(`model ÷ ${b.padEnd(15)} business ${ci(v.businessScore.ratio)}   mem under ${ci(v.memUnderAllocationPct.ratio)}`);
    lines.push(`(95% bootstrap over ${s.intervals.groups} near-clone groups, ${s.intervals.resamples} resamples)`);
  }
  const holds = HOLD_TARGETS.map((t) => s.riskCurve.find((p) => p.resource === 'memory' && Math.abs(p.target - t) < 1e-9)).filter((p) => p !== undefined);
  if (holds.length) lines.push(`memory hold target → observed: ${holds.map((p) => `${p.target.toFixed(2)} → ${p.observedHoldPct.toFixed(1)}%`).join(', ')}`);
  return lines.join('\n');
}

/** formatGate: one line, "stress gate: PASS …" or "stress gate: FAIL (2): all months: business ≤ fixed-max-x1.3 (96.56 vs 90.87); …". */
export function formatGate(failures: GateFailure[], slices: number): string {
  if (!failures.length) return `stress gate: PASS on all ${slices} slices the model is scored on (model business ≤ fixed-max-x1.3's and memory under % ≤ VPA's; recipe slices of half-trained models are not gated)`;
  return `stress gate: FAIL (${failures.length}): ${failures.map((f) => `${f.slice}: ${f.name} (${f.value.toFixed(2)} vs ${f.limit.toFixed(2)})`).join('; ')}`;
}

/** formatStress: the whole console output of a stress run. */
export function formatStress(r: StressReport, gate: GateFailure[], targets: TargetResult[]): string {
  const head = `stress: ${r.split.role} VMs of ${r.split.file} (${r.split.evaluatedVms} of ${r.split.roleVms} with a window), months ${r.months.map((m) => `${m.label} ${m.windows}`).join(', ')} windows; model ${r.model}`;
  return [head, '', ...r.slices.map((s) => formatSlice(s, r.model) + '\n'), ...r.notes.map((n) => `note: ${n}`), '', formatGate(gate, r.slices.filter((x) => x.kind !== 'size-model').length), formatTargets(targets)].join('\n');
}

/** businessSpec: business score (y) per slice number (x), one series per system. */
export function businessSpec(r: StressReport): ChartSpec {
  const series = SYSTEMS.map((sys) => ({
    name: sys,
    color: SYSTEM_COLORS[sys]!,
    style: 'line' as const,
    points: r.slices.flatMap((s, i): [number, number][] => (s.systems[sys] ? [[i + 1, s.systems[sys]!.businessScore]] : [])),
  })).filter((s) => s.points.length);
  const logY = series.every((s) => s.points.every(([, y]) => y > 0));
  return { title: 'Business score per slice (lower is better)', xLabel: 'slice number (see the table)', yLabel: `business score${logY ? ' (log scale)' : ''}`, logY, series };
}

/** targetsHtml: every target on every slice. */
function targetsHtml(targets: TargetResult[]): string {
  return table([['slice', 'target', 'value', 'limit', '95% interval', 'result', 'detail'], ...targets.map((t) => [
    t.slice, t.name, Number.isFinite(t.value) ? t.value : String(t.value), t.limit, t.interval ? `${t.interval.lo.toFixed(3)} … ${t.interval.hi.toFixed(3)}` : '-',
    t.met === null ? 'not measured' : t.met ? 'met' : 'NOT MET', t.detail,
  ])]);
}

/** intervalsHtml: model ÷ each baseline on business and memory under-allocation. */
function intervalsHtml(s: StressSlice): string {
  if (!s.intervals) return '<p>Fewer than 2 near-clone groups: no interval.</p>';
  return table([['model ÷', 'business (95% CI)', 'mem under (95% CI)', 'mem req < mean (95% CI)'], ...Object.entries(s.intervals.versus).map(([b, v]) => [b, ci(v.businessScore.ratio), ci(v.memUnderAllocationPct.ratio), ci(v.memRequestBelowMeanPct.ratio)])]) +
    `<p>Bootstrap over ${s.intervals.groups} near-clone groups (a VM's windows of every month together), ${s.intervals.resamples} resamples, seed ${s.intervals.seed}.</p>`;
}

/** stressHtml: the page written beside the JSON report. */
export function stressHtml(r: StressReport, gate: GateFailure[], targets: TargetResult[]): string {
  const body = [
    `<p>Model <code>${esc(r.model)}</code> on the ${esc(r.split.role)} VMs of <code>${esc(r.split.file)}</code> (${r.split.evaluatedVms} of ${r.split.roleVms} with a window); months: ${r.months.map((m) => `${esc(m.label)} (<code>${esc(m.input)}</code>, ${m.vms} VMs, ${m.windows} windows)`).join(', ')}. Protocol: past ${r.protocol.pastDays} d → next ${r.protocol.futureDays} d, stride ${r.protocol.strideDays} d. ${new Date(r.createdAt).toUTCString()}.</p>`,
    `<p class="${gate.length ? 'fail' : 'pass'}">${esc(formatGate(gate, r.slices.filter((x) => x.kind !== 'size-model').length))}</p>`,
    ...r.notes.map((n) => `<p>Note: ${esc(n)}</p>`),
    `<div class="charts">${chartHtml(businessSpec(r))}</div>`,
    table([['#', 'slice', 'VMs', 'groups', 'windows', ...SYSTEMS.map((s) => `${s} business`)], ...r.slices.map((s, i) => [i + 1, s.name, s.vms, s.groups, s.windows, ...SYSTEMS.map((sys) => s.systems[sys]?.businessScore ?? '-')])]),
    `<p>Size halves by median daily memory peak in the first month: smaller ${r.sizes.smaller.length} VMs, larger ${r.sizes.larger.length} VMs (from ${(r.sizes.boundaryBytes / 2 ** 30).toFixed(2)} GiB).</p>`,
    '<h2>Targets</h2>',
    targetsHtml(targets),
    ...r.slices.map((s, i) => comparisonHtml(`${i + 1}. ${sliceTitle(s)}${s.model !== r.model ? ` (model ${s.model})` : ''}`, s.systems, s.riskCurve) + intervalsHtml(s)),
  ];
  return page(`Stress evaluation: ${r.model}`, body.join('\n'));
}
