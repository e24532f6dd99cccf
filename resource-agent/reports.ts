/**
 * reports: the evaluation reports the dashboard's Evaluation page shows. The agent is started with
 * `--reports DIR` (the folder `evaluate --json` and `validate --report` write to); every `*.json` in it or
 * in a sub-folder (2 levels: reports/validate/report.json) that is an evaluate or a validate report is
 * listed, newest first (file modification time). A file that is not JSON, or JSON of another shape, is
 * listed under `skipped` with the reason, never an error: the folder may hold anything.
 *
 *   evaluate report: { trace, windows, overall: { <system>: metrics, … }, riskCurve? }
 *   validate report: { gates, overall: metrics, comparison? | rules?, riskCurve }
 *
 * Each report becomes a ReportView: its systems' metrics (the table) and the trade-off chart's spec, the
 * one the HTML reports draw (tradeoffSpec), so the dashboard and the reports cannot disagree.
 */
import { lstatSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { JsonScanner, ScanError } from './json-scan.js';
import type { ChartSpec } from '../src/report/charts.js';
import { tradeoffSpec } from '../src/families/container-resources/eval/validate-html.js';
import type { ResourceMetrics } from '../src/families/container-resources/eval/metrics.js';
import type { RiskPoint } from '../src/families/container-resources/eval/risk-eval.js';

/** ReportView: one report as the Evaluation page shows it. */
export interface ReportView {
  /** its path under the reports folder, e.g. "validate/report.json" */
  file: string;
  kind: 'evaluate' | 'validate';
  modifiedAt: string;
  createdAt: string | null;
  /** what it measured, e.g. "bitbrains: 45 VMs, 900 windows" */
  title: string;
  model: string | null;
  systems: Record<string, SystemRow>;
  riskCurve: RiskPoint[];
  chart: ChartSpec;
}

/** SystemRow: the table's columns for one system. */
export type SystemRow = Pick<ResourceMetrics, 'windows' | 'memUnderAllocationPct' | 'cpuLimitBreachPct' | 'memOverAllocationPct' | 'cpuRequestSlackPct' | 'memRequestSlackPct' | 'businessScore'>;

export interface ReportList {
  dir: string | null;
  reports: ReportView[];
  skipped: { file: string; reason: string }[];
}

const MAX_BYTES = 32 * 1024 * 1024;
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
 * viewOf recognizes a parsed report; returns a reason instead when it is neither kind.
 * Example: { trace: 'bitbrains', windows: 900, vms: [...45], overall: { model: {...}, vpa: {...} } } → kind 'evaluate'.
 */
export function viewOf(file: string, modifiedAt: string, r: unknown): ReportView | string {
  if (!isObj(r) || !isObj(r.overall)) return 'not an evaluate or validate report (no "overall")';
  const createdAt = typeof r.createdAt === 'string' ? r.createdAt : null;
  const model = typeof r.model === 'string' ? r.model : null;
  const riskCurve = riskCurveOf(r);
  let kind: ReportView['kind'];
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

/**
 * jsonFiles lists the *.json files under `dir` (`depth` folders down). A symbolic link is followed only
 * when it leads to a file inside the reports folder (`root`, real path); one that leads outside is
 * listed in `outside` and never read (the folder is served without authentication).
 */
function jsonFiles(dir: string, depth: number, root: string, outside: string[]): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names) {
    if (n.startsWith('.')) continue;
    const p = join(dir, n);
    let st;
    try {
      st = lstatSync(p);
      if (st.isSymbolicLink()) {
        const real = realpathSync(p);
        if (real !== root && !real.startsWith(root + sep)) {
          if (n.endsWith('.json')) outside.push(p);
          continue;
        }
        st = statSync(p);
      }
    } catch {
      continue;
    }
    if (st.isDirectory() && depth > 0) out.push(...jsonFiles(p, depth - 1, root, outside));
    else if (st.isFile() && n.endsWith('.json')) out.push(p);
  }
  return out;
}

/** notJson says where a file stops being JSON (byte and path), never what it holds. */
function notJson(text: string): string {
  try {
    const s = new JsonScanner({ maxDepth: 64 });
    s.feed(Buffer.from(text, 'utf8'));
    s.end();
  } catch (e) {
    if (e instanceof ScanError) return e.message.replace(/^the body is not valid JSON: /, 'not JSON: ').replace(/^the body /, 'not JSON: the file ');
  }
  return 'not JSON';
}

/** listReports reads every report under `dir` (null: none configured), newest first. */
export function listReports(dir: string | null): ReportList {
  const list: ReportList = { dir, reports: [], skipped: [] };
  if (dir === null) return list;
  const found: { view: ReportView; mtime: number }[] = [];
  let root: string;
  try {
    root = realpathSync(dir);
  } catch {
    return list;
  }
  const outside: string[] = [];
  for (const p of jsonFiles(dir, 2, root, outside)) {
    const file = relative(dir, p);
    try {
      const st = statSync(p);
      if (st.size > MAX_BYTES) {
        list.skipped.push({ file, reason: `larger than ${MAX_BYTES} bytes` });
        continue;
      }
      const text = readFileSync(p, 'utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        list.skipped.push({ file, reason: notJson(text) });
        continue;
      }
      const v = viewOf(file, st.mtime.toISOString(), parsed);
      if (typeof v === 'string') list.skipped.push({ file, reason: v });
      else found.push({ view: v, mtime: st.mtimeMs });
    } catch (e) {
      // never the error's message: it holds the file's absolute path
      list.skipped.push({ file, reason: `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})` });
    }
  }
  for (const p of outside) list.skipped.push({ file: relative(dir, p), reason: 'a link to a file outside the reports folder; not read' });
  list.reports = found.sort((a, b) => b.mtime - a.mtime || a.view.file.localeCompare(b.view.file)).map((f) => f.view);
  return list;
}
