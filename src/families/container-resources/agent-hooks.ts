/**
 * agent-hooks: what the agent (resource-agent/) asks of the container family without knowing it
 * (core/family.ts FamilyWorkloads, FamilyReports):
 *
 *   workloads  every container the Prometheus source read → recommendContainers (workloads.ts) → the
 *              agent's gauges and the GET /v1/workloads document (workload-formats.ts workloadsDocument)
 *   reports    an `evaluate --json` or `validate --report` file → the Evaluation page's view: each system's
 *              metrics (the table) and the trade-off chart the HTML reports draw (eval/validate-html.ts
 *              tradeoffSpec), so the dashboard and the reports cannot disagree
 *
 *   evaluate report: { trace, windows, overall: { <system>: metrics, … }, riskCurve? }
 *   validate report: { gates, overall: metrics, comparison? | rules?, riskCurve }
 */
import { coresFromMillicores } from '../../core/units.js';
import type { FamilyReports, FamilyWorkloads, ReportView, WorkloadGauge } from '../../core/family.js';
import type { ChartSpec } from '../../report/charts.js';
import type { ContainerUsage } from '../../sources/kube-workloads.js';
import { recommendContainers } from './workloads.js';
import type { WorkloadResult } from './workloads.js';
import { workloadsDocument } from './workload-formats.js';
import { tradeoffSpec } from './eval/validate-html.js';
import type { ResourceMetrics } from './eval/metrics.js';
import type { RiskPoint } from './eval/risk-eval.js';

/** gaugesOf: a run's containers as the agent's workload gauges show them (cores and bytes). */
function gaugesOf(r: WorkloadResult): WorkloadGauge[] {
  return r.containers.map((c) => {
    const w = c.usage.workload;
    const rec = c.recommended;
    return {
      namespace: w.namespace,
      kind: w.kind,
      workload: w.name,
      container: c.usage.container,
      recommended: rec && { cpu: [coresFromMillicores(rec.cpuRequestMillicores), coresFromMillicores(rec.cpuLimitMillicores)], memory: [rec.memRequestBytes, rec.memLimitBytes] },
      current: { cpu: [c.usage.requests.cpuCores, c.usage.limits.cpuCores], memory: [c.usage.requests.memoryBytes, c.usage.limits.memoryBytes] },
      confidence: rec ? rec.confidence : null,
    };
  });
}

/** containerWorkloads: recommendations for the containers a workload source read, without their windows once made. */
export const containerWorkloads: FamilyWorkloads = {
  async recommend(containers: readonly ContainerUsage[], run, bounds) {
    const full = await recommendContainers(containers, run, { policy: bounds });
    // Keep no raw window past the refresh (the agent holds the result until the next one).
    const result: WorkloadResult = { ...full, containers: full.containers.map((c) => ({ ...c, usage: { ...c.usage, window: null } })) };
    return { totals: result.totals, gauges: () => gaugesOf(result), document: (source) => workloadsDocument(result, source) };
  },
};

/** ContainerReportView: one report as the Evaluation page shows it. */
export interface ContainerReportView extends ReportView {
  kind: 'evaluate' | 'validate';
  systems: Record<string, SystemRow>;
  riskCurve: RiskPoint[];
  chart: ChartSpec;
}

/** SystemRow: the table's columns for one system. */
export type SystemRow = Pick<ResourceMetrics, 'windows' | 'memUnderAllocationPct' | 'cpuLimitBreachPct' | 'memOverAllocationPct' | 'cpuRequestSlackPct' | 'memRequestSlackPct' | 'businessScore'>;

const COLUMNS = ['windows', 'memUnderAllocationPct', 'cpuLimitBreachPct', 'memOverAllocationPct', 'cpuRequestSlackPct', 'memRequestSlackPct', 'businessScore'] as const;

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isMetrics = (x: unknown): x is ResourceMetrics => isObj(x) && COLUMNS.every((k) => typeof x[k] === 'number' || x[k] === null);
/** row keeps the table's columns; a figure JSON stored as null (NaN) stays NaN here and null in the answer. */
const row = (m: ResourceMetrics): SystemRow => Object.fromEntries(COLUMNS.map((k) => [k, m[k] ?? NaN])) as SystemRow;
const rows = (o: Record<string, unknown>): Record<string, SystemRow> => Object.fromEntries(Object.entries(o).filter(([, m]) => isMetrics(m)).map(([k, m]) => [k, row(m as ResourceMetrics)]));

function riskCurveOf(r: Record<string, unknown>): RiskPoint[] {
  const c = r.riskCurve;
  return Array.isArray(c) ? c.filter((p): p is RiskPoint => isObj(p) && typeof p.resource === 'string' && typeof p.target === 'number' && typeof p.overPct === 'number' && typeof p.observedHoldPct === 'number') : [];
}

/**
 * reportView recognizes a parsed report; returns a reason instead when it is neither kind.
 * Example: { trace: 'bitbrains', windows: 900, vms: [...45], overall: { model: {...}, vpa: {...} } } → kind 'evaluate'.
 */
export function reportView(file: string, modifiedAt: string, r: unknown): ContainerReportView | string {
  if (!isObj(r) || !isObj(r.overall)) return 'not an evaluate or validate report (no "overall")';
  const createdAt = typeof r.createdAt === 'string' ? r.createdAt : null;
  const model = typeof r.model === 'string' ? r.model : null;
  const riskCurve = riskCurveOf(r);
  let kind: ContainerReportView['kind'];
  let systems: Record<string, SystemRow>;
  let title: string;
  if (typeof r.trace === 'string' && !isMetrics(r.overall)) {
    kind = 'evaluate';
    systems = rows(r.overall);
    const vms = Array.isArray(r.vms) ? `${r.vms.length} VMs, ` : '';
    title = `${r.trace}: ${vms}${typeof r.windows === 'number' ? r.windows : '?'} windows`;
  } else if (Array.isArray(r.gates) && isMetrics(r.overall)) {
    kind = 'validate';
    const others = isObj(r.comparison) ? rows(r.comparison) : isObj(r.rules) ? rows(r.rules) : {};
    systems = { model: row(r.overall), ...others };
    const data = isObj(r.data) ? r.data : {};
    title = `validate on ${typeof data.source === 'string' ? data.source : 'unknown data'}: ${typeof data.samples === 'number' ? data.samples : '?'} windows`;
  } else {
    return 'not an evaluate or validate report (unknown shape)';
  }
  if (Object.keys(systems).length === 0) return 'its "overall" holds no system\'s metrics';
  return { file, kind, modifiedAt, createdAt, title, model, systems, riskCurve, chart: tradeoffSpec(systems as Record<string, ResourceMetrics>, riskCurve) };
}

/** containerReports: the container family's evaluate and validate reports. */
export const containerReports: FamilyReports = { view: reportView };
