/**
 * charts: the project's charts, drawn by one library (uPlot) in the agent's dashboard and in the HTML
 * reports. A chart is a ChartSpec: plain JSON (title, axis labels, series of [x, y] points) that the one
 * browser renderer, client/charts.js, draws with uPlot. Reports embed the spec in the page and inline the
 * library and the renderer, so a report stays one self-contained file that opens offline; the dashboard
 * loads the same two files from the agent (CHART_ASSETS).
 *
 * Why uPlot (measured on the npm packages, minified, gzip -9): uPlot 1.6.32 51 KB (22 KB) + 1.9 KB CSS;
 * Chart.js 4.6.1 210 KB (71 KB); ECharts 6.1.0 1,122 KB (368 KB); Frappe Charts 1.6.2 69 KB (18 KB) but no
 * numeric x axis (no scatter) and it injects a <style> element, which a strict CSP refuses.
 *
 *   chartHtml({ title: 'Loss', xLabel: 'epoch', yLabel: 'loss', series: [{ name: 'training', color: '#1f77b4', points: [[1, 0.5], [2, 0.4]] }] })
 *   → <figure class="chart">…<script type="application/json" class="chart-spec">{…}</script></figure>
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * ChartSeries: one named set of points; 'dots' draws filled markers only, 'ring' hollow ones (larger, so
 * a dot under one stays visible), 'line' joins the points in order.
 */
export interface ChartSeries {
  name: string;
  color: string;
  style?: 'line' | 'dots' | 'ring';
  /** dash pattern of a line in CSS pixels, e.g. [4, 4] */
  dash?: number[];
  /** marker size in CSS pixels (default: 10 for few dots, 4 above 200) */
  size?: number;
  points: [number, number][];
  /** a text drawn beside each point (null: none), in the order of `points`, e.g. hold targets '0.95' */
  labels?: (string | null)[];
}

/** ChartSpec: one chart, as JSON; client/charts.js draws it. */
export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  /** logarithmic axes (points ≤ 0 are left out) */
  logX?: boolean;
  logY?: boolean;
  /** draw y = x over the data's range */
  diagonal?: boolean;
  /** a fixed y range instead of one fitted to every point (points outside it are drawn at its edge by the caller) */
  yRange?: [number, number];
  /** the widest the chart is drawn; it is narrower on a narrow screen */
  width?: number;
  height?: number;
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** finiteSpec drops points that are not finite numbers (JSON would turn them into null), and their labels. */
export function finiteSpec(spec: ChartSpec): ChartSpec {
  return {
    ...spec,
    series: spec.series.map((s) => {
      const keep = s.points.map(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
      return { ...s, points: s.points.filter((_, i) => keep[i]), ...(s.labels ? { labels: s.labels.filter((_, i) => keep[i]) } : {}) };
    }),
  };
}

/** pointCount: how many points a spec draws (what a browser test expects the chart to hold). */
export function pointCount(spec: ChartSpec): number {
  return finiteSpec(spec).series.reduce((n, s) => n + s.points.length, 0);
}

/** chartJson: a spec as JSON safe inside a <script> element ('<' escaped, so no '</script>' can close it). */
export function chartJson(spec: ChartSpec): string {
  return JSON.stringify(finiteSpec(spec)).replace(/</g, '\\u003c');
}

/**
 * chartHtml: a chart placeholder for a report page: the element the renderer draws into, its accessible
 * name, and the spec. page() (svg.ts) inlines the library when a body holds one.
 */
export function chartHtml(spec: ChartSpec): string {
  const n = pointCount(spec);
  const label = `${spec.title}: ${spec.yLabel} against ${spec.xLabel}; ${spec.series.length} series, ${n} points (the table has the numbers)`;
  return `<figure class="chart"><div class="chart-plot" role="img" aria-label="${esc(label)}"></div><script type="application/json" class="chart-spec">${chartJson(spec)}</script></figure>`;
}

/** CHART_MARKER: what a page holding a chart contains. */
export const CHART_MARKER = 'class="chart-spec"';

const uplotDir = dirname(createRequire(import.meta.url).resolve('uplot/package.json'));

/** CHART_ASSETS: the files the renderer needs, as the dashboard serves them (name → path on disk). */
export const CHART_ASSETS = {
  'uPlot.iife.min.js': join(uplotDir, 'dist/uPlot.iife.min.js'),
  'uPlot.min.css': join(uplotDir, 'dist/uPlot.min.css'),
  'charts.js': join(import.meta.dirname, 'client/charts.js'),
} as const;

/** CHART_CSS: the figure's layout in reports and in the dashboard (no inline style attributes). */
export const CHART_CSS = '.chart{margin:0 0 12px;display:inline-block;vertical-align:top}.chart .u-title{font-size:14px}.chart .u-legend{font-size:12px;text-align:left}.chart .u-legend th,.chart .u-legend td{border:0;background:none;padding:1px 4px}';

let inlined: { css: string; js: string } | null = null;

/** inlineChartAssets: the <style> and <script> elements that make a report draw its charts offline. */
export function inlineChartAssets(): { head: string; tail: string } {
  inlined ??= {
    css: readFileSync(CHART_ASSETS['uPlot.min.css'], 'utf8') + CHART_CSS,
    js: readFileSync(CHART_ASSETS['uPlot.iife.min.js'], 'utf8') + '\n' + readFileSync(CHART_ASSETS['charts.js'], 'utf8'),
  };
  return { head: `<style>${inlined.css}</style>`, tail: `<script>${inlined.js.replace(/<\/script/gi, '<\\/script')}</script>` };
}
