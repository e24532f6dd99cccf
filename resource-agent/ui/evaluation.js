/*
 * evaluation.js: the dashboard's Evaluation page (#evaluation): the evaluate and validate reports of the
 * agent's --reports folder (GET /ui/api/reports), one at a time: its trade-off chart, every system's
 * figures, and the model's risk targets.
 */
import { h, num, table, when } from './dom.js';
import { getJson } from './api.js';

const COLS = [['windows', 'windows', 0], ['memUnderAllocationPct', 'mem under %', 2], ['cpuLimitBreachPct', 'CPU breach %', 2], ['memOverAllocationPct', 'mem over %', 2], ['cpuRequestSlackPct', 'CPU req slack %', 2], ['memRequestSlackPct', 'mem req slack %', 2], ['businessScore', 'business score', 2]];

/** reportView: one report's section and the element its chart is drawn into. */
function reportView(r) {
  const plot = h('div', { className: 'chart-plot', role: 'img', 'aria-label': `${r.chart.title}: ${r.chart.yLabel} against ${r.chart.xLabel}, one point per system${r.riskCurve.length ? ' and the model\'s risk targets as a line' : ''}; the table beside it has the numbers` });
  const systems = table(['system', ...COLS.map((c) => c[1])], Object.entries(r.systems).map(([k, m]) => [k, ...COLS.map(([key, , d]) => num(m[key], d))]), 'every system on the same windows (lower is better)', 'systems');
  const mem = r.riskCurve.filter((p) => p.resource === 'memory');
  const cpu = r.riskCurve.filter((p) => p.resource === 'cpu');
  const curve = r.riskCurve.length
    ? [h('h2', {}, "The model's risk targets"),
      h('p', { className: 'muted' }, 'Each target scales the model\'s limits by its conformal factor; observed on the report\'s windows.'),
      table(['resource', 'target hold', 'factor', 'observed hold %', 'over / slack %', 'business'], [...mem, ...cpu].map((p) => [p.resource, num(p.target, 3), num(p.factor, 3), num(p.observedHoldPct), num(p.overPct), num(p.businessScore)]), null, 'risk')]
    : [h('p', { className: 'muted' }, 'This report has no risk curve (a model trained without --calibration-data).')];
  const section = h('section', { 'aria-label': `report ${r.file}` },
    h('h2', {}, r.title),
    h('p', { className: 'muted' }, `${r.kind} report ${r.file}`, r.model ? `, model ${r.model}` : '', `, written ${when(r.createdAt || r.modifiedAt)}.`),
    h('div', { className: 'side' }, h('figure', { className: 'chart' }, plot), h('div', {}, systems)),
    curve);
  return { section, plot };
}

/** evaluation: the page's parts, for app.js's router (parts.after draws the chart once they are in the page). */
export async function evaluation() {
  const list = await getJson('/ui/api/reports');
  const parts = [h('h1', {}, 'Evaluation')];
  if (list.dir === null) {
    parts.push(h('p', { className: 'note' }, 'No reports folder: start the agent with --reports DIR (RESOURCE_AGENT_REPORTS), the folder that "npm run evaluate -- … --json DIR/NAME.json" and "npm run validate -- --report DIR/validate" write to.'));
    return parts;
  }
  if (list.reports.length === 0) {
    parts.push(h('p', { className: 'note' }, `No evaluate or validate report in ${list.dir} yet.`));
  } else {
    const box = h('div', {});
    const select = h('select', { id: 'report-select' }, list.reports.map((r, i) => h('option', { value: String(i) }, `${r.kind}: ${r.title} (${r.file}, ${when(r.modifiedAt)})`)));
    const show = () => {
      for (const u of window.crpCharts.instances.slice()) window.crpCharts.destroy(u);
      const { section, plot } = reportView(list.reports[Number(select.value)]);
      box.replaceChildren(section);
      window.crpCharts.draw(plot, list.reports[Number(select.value)].chart);
    };
    select.addEventListener('change', show);
    parts.push(h('div', { className: 'toolbar' }, h('label', { for: 'report-select' }, 'Report'), select, h('span', { className: 'muted' }, `${list.reports.length} in ${list.dir}, newest first`)), box);
    parts.after = show;
  }
  if (list.skipped.length) parts.push(h('details', {}, h('summary', {}, `${list.skipped.length} other JSON file(s) in the folder are not reports`), h('ul', {}, list.skipped.map((s) => h('li', {}, h('code', {}, s.file), ` ${s.reason}`)))));
  return parts;
}
