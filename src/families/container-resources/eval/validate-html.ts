/** validate-html: report.html for validate: headline metrics, gates, per-kind table and plots. */
import { chart, esc, page, table } from '../../../report/svg.js';
import { chartHtml } from '../../../report/charts.js';
import type { ChartSpec } from '../../../report/charts.js';
import type { ValidationReport } from './types.js';
import type { ResourceMetrics } from './metrics.js';
import type { RiskPoint } from './risk-eval.js';

/** LABELLED_TARGETS: the hold targets the trade-off chart names (the ones the README reports); the others are points of the line only. */
const LABELLED_TARGETS = [0.9, 0.95, 0.99];
const SYSTEM_COLORS: Record<string, string> = { model: '#d62728', vpa: '#1f77b4', krr: '#2ca02c', 'fixed-max-x1.3': '#9467bd', 'as-provisioned': '#7f7f7f' };

/** riskCurveHtml: the hold-rate targets, what was observed and what each cost. */
export function riskCurveHtml(curve: RiskPoint[], cal: { source: string; groups: number; windows: number } | null): string {
  return `<h2>Risk targets (split conformal)</h2><p>Factors calibrated on ${cal ? `${cal.windows} windows of ${cal.groups} workloads (${esc(cal.source)})` : 'an unknown set'}; observed here on other workloads.</p>` +
    table([['resource', 'target hold', 'factor', 'observed hold %', 'over / slack %', 'business'], ...curve.map((p) => [p.resource, p.target, p.factor, p.observedHoldPct, p.overPct, p.businessScore ?? '-'])]);
}

/**
 * comparisonHtml: the systems table and the trade-off plot (under-allocation % vs over-allocation %);
 * with a risk curve, the model's targets are drawn as a line beside the baselines' single points.
 */
export function comparisonHtml(title: string, rows: Partial<Record<string, ResourceMetrics>>, curve: RiskPoint[] = []): string {
  const entries = Object.entries(rows) as [string, ResourceMetrics][];
  return `<h2>${esc(title)}</h2>` + table([['system', 'windows', 'mem under %', 'CPU breach %', 'mem over %', 'CPU req slack %', 'mem req slack %', 'mem req < future mean %', 'business score'],
    ...entries.map(([k, m]) => [k, m.windows, m.memUnderAllocationPct, m.cpuLimitBreachPct, m.memOverAllocationPct, m.cpuRequestSlackPct, m.memRequestSlackPct, m.memRequestBelowMeanPct ?? '-', m.businessScore])]) + `<div class="charts">${chartHtml(tradeoffSpec(rows, curve))}</div>`;
}

/**
 * tradeoffSpec: the trade-off chart (memory under-allocation % against over-allocation %), one point per
 * system, and the model's memory risk targets as a line when the report has a risk curve. The HTML reports
 * and the agent's dashboard (Evaluation) draw this same spec.
 */
export function tradeoffSpec(rows: Partial<Record<string, ResourceMetrics>>, curve: RiskPoint[] = []): ChartSpec {
  const entries = Object.entries(rows) as [string, ResourceMetrics][];
  const mem = curve.filter((p) => p.resource === 'memory');
  const overs = [...entries.map(([, m]) => m.memOverAllocationPct), ...mem.map((p) => p.overPct)];
  // The strictest targets cost 10-50× the others' over-allocation: a log x axis keeps every point
  // apart, unless a point sits at 0 % (a log axis cannot show it).
  const logX = overs.every((x) => x > 0);
  return {
    title: 'Trade-off: every system is a point (lower-left is better)',
    xLabel: `memory over-allocation %${logX ? ' (log scale)' : ''}`,
    yLabel: 'memory under-allocation %',
    logX,
    height: 400,
    // Every point is labelled (a system's name, a target's hold rate) and the model is a ring, drawn
    // after the others: where it sits on another system (max × 1.3 often does) both stay readable.
    series: [
      ...entries.filter(([k]) => k !== 'model').map(([k, m]) => ({ name: `${k} (business ${m.businessScore.toFixed(1)})`, color: SYSTEM_COLORS[k] ?? '#000', style: 'dots' as const, points: [[m.memOverAllocationPct, m.memUnderAllocationPct]] as [number, number][], labels: [k] })),
      ...entries.filter(([k]) => k === 'model').map(([k, m]) => ({ name: `${k} (business ${m.businessScore.toFixed(1)})`, color: SYSTEM_COLORS[k] ?? '#000', style: 'ring' as const, points: [[m.memOverAllocationPct, m.memUnderAllocationPct]] as [number, number][], labels: [k] })),
      ...(mem.length ? [{ name: `model at hold targets ${mem[0]!.target} … ${mem[mem.length - 1]!.target} (${LABELLED_TARGETS.join(', ')} labelled)`, color: '#ff7f0e', style: 'line' as const, points: mem.map((p) => [p.overPct, 100 - p.observedHoldPct] as [number, number]), labels: mem.map((p) => (LABELLED_TARGETS.includes(p.target) ? `hold ${p.target}` : null)) }] : []),
    ],
  };
}

const KIND_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

/** validationReportHtml renders a validation report; `scatter` is (future peak, memory limit) in bytes. */
export function validationReportHtml(r: ValidationReport, scatter: [number, number][], kinds: string[]): string {
  const o = r.overall;
  const gib = (b: number) => b / 2 ** 30;
  const kindNames = [...new Set(kinds)];
  const pvA = chart('Memory limit vs. future peak (GiB, log-log)', 'future peak, GiB', 'recommended limit, GiB',
    kindNames.map((k, i) => ({ name: k, color: KIND_COLORS[i % KIND_COLORS.length]!, style: 'dots' as const,
      points: scatter.filter((_, j) => kinds[j] === k).map(([p, l]) => [gib(p), gib(l)] as [number, number]) })), { diagonal: true, logX: true, logY: true });
  const cal = chart('Confidence calibration (reliability)', 'mean confidence in bin', 'observed hold rate', [
    { name: 'model', color: '#1f77b4', points: r.calibration.bins.filter((b) => b.count > 0).map((b) => [b.meanConfidence, b.holdRate]) },
    { name: 'perfect', color: '#aaa', dash: [4, 4], points: [[0, 0], [1, 1]] },
  ]);
  const metricsRow = (name: string, m: typeof o) => [name, m.windows, m.memUnderAllocationPct, m.cpuLimitBreachPct, m.memOverAllocationPct, m.cpuRequestSlackPct, m.memRequestSlackPct, m.businessScore];
  const head = ['', 'windows', 'mem under %', 'CPU breach %', 'mem over %', 'CPU req slack %', 'mem req slack %', 'business score'];
  return page('Validation report', [
    `<p>Model <code>${esc(r.model)}</code> on ${esc(r.data.source)}, ${r.data.samples} windows. ${new Date(r.createdAt).toUTCString()}.</p>`,
    `<p class="${r.passed ? 'pass' : 'fail'}">${r.passed ? 'All gates passed.' : 'Gates failed: ' + r.gates.filter((g) => !g.passed).map((g) => g.name).join(', ')}</p>`,
    table([['gate', 'limit', 'value', 'result'], ...r.gates.map((g) => [g.name, g.limit, g.value === null ? 'not measured' : g.value, g.passed ? 'pass' : 'FAIL'])]),
    '<h2>Overall and per workload kind</h2>',
    table([head, metricsRow('all', o), ...Object.entries(r.perKind).map(([k, m]) => metricsRow(k, m))]),
    '<h2>Mean absolute error (real units)</h2>',
    table([['', 'CPU request (cores)', 'CPU limit (cores)', 'mem request (GiB)', 'mem limit (GiB)'],
      ...[['all', o.mae] as const, ...Object.entries(r.perKind).map(([k, m]) => [k, m.mae] as const)].map(([k, m]) => [k, m.cpu_request_cores, m.cpu_limit_cores, gib(m.mem_request_bytes), gib(m.mem_limit_bytes)])]),
    `<div class="charts">${pvA}${cal}</div>`,
    `<h2>Calibration</h2><p>Expected calibration error ${r.calibration.ece.toFixed(4)}; recommendations held in ${(100 * r.calibration.holdRate).toFixed(1)}% of windows.</p>`,
    table([['bin', 'windows', 'mean confidence', 'hold rate'], ...r.calibration.bins.map((b) => [`${b.from.toFixed(1)}–${b.to.toFixed(1)}`, b.count, b.count ? b.meanConfidence : '-', b.count ? b.holdRate : '-'])]),
    `<p>Confidence as a risk signal: ROC AUC ${r.confidenceAuc.toFixed(3)} for "the recommendation held" (0.5 = chance).</p>`,
    r.riskCurve.length ? riskCurveHtml(r.riskCurve, r.riskCalibration) : '<p>No risk table: the model was trained without --calibration-data.</p>',
    r.comparison ? comparisonHtml('Side by side on the same windows', r.comparison) : '',
    r.rules ? comparisonHtml('The rules the real gates compare with, on the same windows', { model: r.overall, ...r.rules }, r.riskCurve) : '',
    r.int8VsFloat ? `<h2>int8 vs float</h2>${table([['output', 'max |Δ| (normalized)'], ...Object.entries(r.int8VsFloat.maxAbsNormalized).map(([k, v]) => [k, v.toExponential(2)])])}` : '<p>int8 vs float: not measured (no predictor_fp32.onnx beside the model).</p>',
  ].join('\n'));
}
