/**
 * report-charts: the HTML reports' charts as text (the browser checks are in ui-browser.test.ts): a page
 * with a chart inlines uPlot and the renderer and names no other file (one self-contained, offline file);
 * a page without one carries no script; a spec cannot close its <script> element; non-finite points are
 * dropped; the trade-off spec has one point per system and the memory risk targets as one line.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { chartHtml, chartJson, CHART_ASSETS, pointCount } from '../src/report/charts.js';
import { chart, page } from '../src/report/svg.js';
import { tradeoffSpec } from '../src/families/container-resources/eval/validate-html.js';

const m = (under: number, over: number) => ({ windows: 10, memUnderAllocationPct: under, cpuLimitBreachPct: 0, memOverAllocationPct: over, cpuRequestSlackPct: 0, memRequestSlackPct: 0, memRequestBelowMeanPct: 0, businessScore: 5 * under + over });

describe('report charts', () => {
  it('a page with a chart inlines uPlot and the renderer, and loads nothing from elsewhere', () => {
    const html = page('t', chart('Loss', 'epoch', 'loss', [{ name: 'a', color: '#000', points: [[1, 2], [2, 1]] }]));
    expect(html).toContain(readFileSync(CHART_ASSETS['uPlot.iife.min.js'], 'utf8').slice(0, 200));
    expect(html).toContain('window.crpCharts');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
    expect(page('t', '<p>no chart</p>')).not.toContain('<script');
  });

  it('a spec cannot close its script element; non-finite points are dropped', () => {
    const spec = { title: '</script><b>', xLabel: 'x', yLabel: 'y', series: [{ name: 's', color: '#000', points: [[1, 1], [NaN, 2], [3, Infinity], [4, 4]] as [number, number][] }] };
    expect(chartJson(spec)).not.toContain('<');
    expect(JSON.parse(chartJson(spec)).series[0].points).toEqual([[1, 1], [4, 4]]);
    // labels follow their points
    expect(JSON.parse(chartJson({ ...spec, series: [{ ...spec.series[0]!, labels: ['a', 'b', 'c', 'd'] }] })).series[0].labels).toEqual(['a', 'd']);
    expect(pointCount(spec)).toBe(2);
    expect(chartHtml(spec)).toContain('aria-label="&lt;/script&gt;&lt;b&gt;: y against x; 1 series, 2 points');
  });

  it('tradeoffSpec: a point per system (x over %, y under %) and the memory targets as a line (x over %, y 100 − hold %)', () => {
    const curve = [
      { resource: 'memory' as const, target: 0.9, factor: 1, observedHoldPct: 91, overPct: 30, businessScore: 75 },
      { resource: 'cpu' as const, target: 0.9, factor: 1, observedHoldPct: 92, overPct: 10, businessScore: null },
    ];
    const s = tradeoffSpec({ model: m(5, 60), vpa: m(15, 20) }, curve);
    // the model last, as a ring, so a system under it stays visible; every point labelled
    expect(s.series.map((x) => [x.style, x.points, x.labels])).toEqual([['dots', [[20, 15]], ['vpa']], ['ring', [[60, 5]], ['model']], ['line', [[30, 9]], ['hold 0.9']]]);
    expect(s.series[1]!.name).toBe('model (business 85.0)');
    expect(s.logX).toBe(true);
    // a system at 0 % over-allocation cannot sit on a log axis: linear then
    expect(tradeoffSpec({ model: m(5, 0) }).logX).toBe(false);
  });
});
