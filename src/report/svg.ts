/**
 * svg (the name is historical): the HTML reports' page, table and chart helpers. Charts are no longer
 * hand-drawn SVG: chart() returns a uPlot chart (charts.ts) and page() inlines the library and the renderer
 * whenever the body holds a chart, so every report stays one self-contained file that opens offline.
 */
import { chartHtml, CHART_MARKER, inlineChartAssets } from './charts.js';

export interface Series {
  name: string;
  points: [number, number][];
  color: string;
  /** 'line' joins points; 'dots' draws markers */
  style?: 'line' | 'dots';
  dash?: number[];
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** chart: a chart of series on linear (or log) axes, with a legend under the plot (charts.ts ChartSpec). */
export function chart(title: string, xLabel: string, yLabel: string, series: Series[], opts: { width?: number; height?: number; diagonal?: boolean; logX?: boolean; logY?: boolean } = {}): string {
  return chartHtml({ title, xLabel, yLabel, series, ...opts });
}

/** page wraps body HTML in a minimal self-contained document. */
export function page(title: string, body: string): string {
  const charts = body.includes(CHART_MARKER) ? inlineChartAssets() : { head: '', tail: '' };
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;max-width:1200px;color:#222}table{border-collapse:collapse;margin:12px 0}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.fail{color:#b00;font-weight:bold}.pass{color:#070;font-weight:bold}.charts{display:flex;flex-wrap:wrap;gap:16px}code{background:#f4f4f4;padding:1px 4px}
</style>${charts.head}</head><body><h1>${esc(title)}</h1>${body}${charts.tail}</body></html>\n`;
}

/** table renders rows (first row = header) as HTML. */
export function table(rows: (string | number)[][]): string {
  const [head, ...rest] = rows;
  const cell = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(3)) : esc(v));
  return `<table><tr>${head!.map((h) => `<th>${cell(h)}</th>`).join('')}</tr>${rest.map((r) => `<tr>${r.map((v) => `<td>${cell(v)}</td>`).join('')}</tr>`).join('')}</table>`;
}

export { esc };
