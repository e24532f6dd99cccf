/*
 * workloads.js: the dashboard's Workloads page (#workloads): every workload container the agent reads from
 * Prometheus (GET /v1/workloads), current → recommended requests and limits, sortable and filtered; a
 * container's Chart button draws its usage window (GET …?samples=1) with the four request and limit lines.
 */
import { GiB, h, num, when } from './dom.js';
import { api, getJson } from './api.js';
const cpuQ = (x) => (x ? x.quantity : '—');
const arrow = (cur, rec) => `${cur} → ${rec}`;
const signed = (x) => (x === null || x === undefined ? '—' : `${x < 0 ? '−' : '+'}${Math.abs(x).toFixed(2)}`);

/** WL_COLS: the table's columns: header, how a row sorts (a number or a string), and its cell. */
const WL_COLS = [
  { key: 'namespace', head: 'namespace', sort: (r) => r.w.namespace, cell: (r) => r.w.namespace },
  { key: 'kind', head: 'kind', sort: (r) => r.w.kind, cell: (r) => r.w.kind },
  { key: 'workload', head: 'workload', sort: (r) => r.w.name, cell: (r) => r.w.name },
  { key: 'container', head: 'container', sort: (r) => r.c.name, cell: (r) => r.c.name },
  { key: 'cpuRequest', head: 'CPU request', sort: (r) => r.c.recommended?.cpu.request.millicores ?? -1, cell: (r) => arrow(cpuQ(r.c.current.requests.cpu), r.c.recommended ? r.c.recommended.cpu.request.quantity : '?') },
  { key: 'cpuLimit', head: 'CPU limit', sort: (r) => r.c.recommended?.cpu.limit.millicores ?? -1, cell: (r) => arrow(cpuQ(r.c.current.limits.cpu), r.c.recommended ? r.c.recommended.cpu.limit.quantity : '?') },
  { key: 'memRequest', head: 'memory request', sort: (r) => r.c.recommended?.memory.request.bytes ?? -1, cell: (r) => arrow(cpuQ(r.c.current.requests.memory), r.c.recommended ? r.c.recommended.memory.request.quantity : '?') },
  { key: 'memLimit', head: 'memory limit', sort: (r) => r.c.recommended?.memory.limit.bytes ?? -1, cell: (r) => arrow(cpuQ(r.c.current.limits.memory), r.c.recommended ? r.c.recommended.memory.limit.quantity : '?') },
  { key: 'confidence', head: 'confidence', sort: (r) => r.c.recommended?.confidence ?? -1, cell: (r) => (r.c.recommended ? r.c.recommended.confidence.toFixed(2) : '—') },
  { key: 'saving', head: 'saving or risk ($/month)', sort: (r) => r.c.monthlySaving ?? -Infinity, cell: (r) => [h('span', { className: r.c.monthlySaving > 0 ? 'ok' : r.c.monthlySaving < 0 ? 'bad' : '' }, signed(r.c.monthlySaving)), r.c.currentRisk ? h('span', { className: 'bad risk' }, ` ${r.c.currentRisk}`) : null] },
  { key: 'notes', head: 'notes', sort: (r) => r.c.notes.join('; '), cell: (r) => r.c.notes.join('; ') || '—' },
];

/**
 * SETTINGS: the four request and limit lines, each in its own colour (current ones dashed too), so the
 * legend, which shows colours only, tells current from recommended.
 */
const SETTINGS = {
  recRequest: { name: 'recommended request', color: '#2ca02c' },
  recLimit: { name: 'recommended limit', color: '#d62728' },
  curRequest: { name: 'current request', color: '#ff7f0e', dash: [6, 4] },
  curLimit: { name: 'current limit', color: '#8c564b', dash: [6, 4] },
};

/**
 * fittedTop: the y axis' top, fitted to what the chart is about (the usage and the recommendation, + 15%),
 * never to a current setting far above them (8 cores or 40Gi would squash the usage into the bottom pixels).
 */
function fittedTop(values) {
  const top = Math.max(...values.filter((v) => Number.isFinite(v)));
  return top > 0 ? top * 1.15 : 1;
}

/**
 * settingLines: a flat line per request or limit across the window. One above the axis' top is drawn on
 * the top edge, and both its legend entry and a label at its right end say so, with its value.
 */
function settingLines(x0, x1, top, lines) {
  return lines.filter((l) => l.y !== null && l.y !== undefined).map((l) => {
    const above = l.y > top;
    const y = above ? top : l.y;
    return { name: `${l.name} ${l.q}${above ? ' (above: at the top edge)' : ''}`, color: l.color, dash: l.dash, points: [[x0, y], [x1, y]], labels: [null, above ? `▲ ${l.name} ${l.q}` : null] };
  });
}

/** usageCharts: the CPU and memory specs of one container: its downsampled window, the recommended and current request and limit. */
function usageCharts(c, endSec) {
  const win = c.window;
  const x = win.timestampsSec.map((t) => (t - endSec) / 3600);
  const x0 = x[0];
  const x1 = x.length > 1 ? x[x.length - 1] : x0 + 1;
  const rec = c.recommended;
  const cur = c.current;
  const line = (key, q, y) => ({ ...SETTINGS[key], q, y });
  const cores = (v) => v && v.millicores / 1000;
  const gib = (v) => v && v.bytes / GiB;
  const cpuTop = fittedTop([...win.cpuCoresMax, cores(rec?.cpu.request), cores(rec?.cpu.limit)]);
  const cpu = {
    title: `CPU of ${c.name} (${win.points} points, ${win.perPoint} sample${win.perPoint === 1 ? '' : 's'} each)`, xLabel: 'hours before the window’s end', yLabel: 'cores', width: 600, height: 260, yRange: [0, cpuTop],
    series: [
      { name: 'usage, highest', color: '#1f77b4', points: x.map((t, i) => [t, win.cpuCoresMax[i]]) },
      { name: 'usage, mean', color: '#9ecae1', points: x.map((t, i) => [t, win.cpuCoresMean[i]]) },
      ...settingLines(x0, x1, cpuTop, [
        line('recRequest', rec?.cpu.request.quantity, cores(rec?.cpu.request)),
        line('recLimit', rec?.cpu.limit.quantity, cores(rec?.cpu.limit)),
        line('curRequest', cur.requests.cpu?.quantity, cores(cur.requests.cpu)),
        line('curLimit', cur.limits.cpu?.quantity, cores(cur.limits.cpu)),
      ]),
    ],
  };
  const memTop = fittedTop([...win.memoryBytesMax.map((b) => b / GiB), gib(rec?.memory.request), gib(rec?.memory.limit)]);
  const mem = {
    title: `Memory of ${c.name}`, xLabel: 'hours before the window’s end', yLabel: 'GiB', width: 600, height: 260, yRange: [0, memTop],
    series: [
      { name: 'working set, highest', color: '#9467bd', points: x.map((t, i) => [t, win.memoryBytesMax[i] / GiB]) },
      ...settingLines(x0, x1, memTop, [
        line('recRequest', rec?.memory.request.quantity, gib(rec?.memory.request)),
        line('recLimit', rec?.memory.limit.quantity, gib(rec?.memory.limit)),
        line('curRequest', cur.requests.memory?.quantity, gib(cur.requests.memory)),
        line('curLimit', cur.limits.memory?.quantity, gib(cur.limits.memory)),
      ]),
    ],
  };
  return [cpu, mem];
}

/** workloads: the page's parts, for app.js's router. */
export async function workloads() {
  const cfg = await getJson('/ui/api/config');
  const parts = [h('h1', {}, 'Workloads')];
  if (!cfg.workloads.enabled) {
    parts.push(h('p', { className: 'note', id: 'workloads-off' }, `No workloads here: ${cfg.workloads.reason}. Start it with --prometheus URL (e.g. npm start -- --prometheus http://localhost:9090) and this page lists every workload container with its recommendation.`));
    return parts;
  }
  const r = await api('/v1/workloads');
  if (r.status === 503) {
    parts.push(h('p', { className: 'note', id: 'workloads-wait' }, `No workload recommendations yet: ${r.body && r.body.error ? r.body.error.message : 'the first refresh is running'}.`));
    return parts;
  }
  if (r.status !== 200) throw new Error(`/v1/workloads answered ${r.status}${r.body && r.body.error ? `: ${r.body.error.message}` : ''}`);
  const doc = r.body;
  const endSec = Date.parse(doc.source.end) / 1000;
  const all = doc.workloads.flatMap((w) => w.containers.map((c) => ({ w, c })));
  const t = doc.totals;
  parts.push(h('p', { className: doc.refresh.stale ? 'note' : 'muted', id: 'workloads-source' },
    `${t.workloads} workloads, ${t.containers} containers from ${doc.source.prometheus} (${when(doc.source.start)} → ${when(doc.source.end)}, every ${doc.source.stepSec} s), model ${doc.modelVersion}, refreshed ${when(doc.refresh.refreshedAt)}`,
    doc.refresh.stale ? `; the last refresh FAILED (${doc.refresh.lastError}), these are the last good results` : '',
    `. Requests over the running replicas: CPU ${num(t.currentCpuCores)} → ${num(t.recommendedCpuCores)} cores, memory ${num(t.currentMemoryBytes / GiB)} → ${num(t.recommendedMemoryBytes / GiB)} GiB; monthly saving ${signed(t.monthlySaving)}.`));
  for (const w of doc.warnings) parts.push(h('p', { className: 'note' }, `warning: ${w}`));

  const state = { sort: 'namespace', dir: 1, text: '', namespace: '' };
  const filter = h('input', { id: 'wl-filter', type: 'search', placeholder: 'workload, container, kind, note…', 'aria-describedby': 'wl-count' });
  const nsSelect = h('select', { id: 'wl-namespace' }, h('option', { value: '' }, 'all'), [...new Set(all.map((x) => x.w.namespace))].map((n) => h('option', { value: n }, n)));
  const count = h('span', { id: 'wl-count', className: 'muted', role: 'status' });
  const tbody = h('tbody', {});
  const headRow = h('tr', {});
  const chartBox = h('section', { id: 'wl-chart', 'aria-label': 'usage chart' }, h('p', { className: 'muted' }, 'Choose a container’s Chart button to see its usage window with the recommended request and limit drawn over it.'));

  const showChart = async (x) => {
    for (const u of window.crpCharts.instances.slice()) window.crpCharts.destroy(u);
    chartBox.dataset.loaded = '';
    chartBox.replaceChildren(h('p', { className: 'muted' }, `Loading ${x.w.namespace}/${x.w.kind}/${x.w.name}…`));
    const one = await getJson(`/v1/workloads/${encodeURIComponent(x.w.namespace)}/${encodeURIComponent(x.w.kind)}/${encodeURIComponent(x.w.name)}?samples=1`);
    const c = one.workload.containers.find((k) => k.name === x.c.name);
    const title = h('h2', { id: 'wl-chart-title', tabindex: '-1' }, `${x.w.namespace}/${x.w.kind}/${x.w.name}, container ${x.c.name}`);
    if (!c || !c.window) {
      chartBox.replaceChildren(title, h('p', { className: 'note' }, `No usage window: ${c ? `${c.samples} sample${c.samples === 1 ? '' : 's'} in the last refresh (2 needed)` : 'the container is gone from the last refresh'}.`));
      chartBox.dataset.loaded = x.c.name;
      title.focus();
      return;
    }
    const specs = usageCharts(c, endSec);
    const plots = specs.map((s) => h('div', { className: 'chart-plot', role: 'img', 'aria-label': `${s.title}: ${s.yLabel} against ${s.xLabel}; ${s.series.map((k) => k.name).join(', ')}` }));
    chartBox.replaceChildren(title,
      h('p', { className: 'muted' }, `${c.window.samples} samples (${num(c.history.coveredSec / 86400, 1)} of ${num(c.history.requestedSec / 86400, 1)} days) in ${c.window.points} points of ${c.window.perPoint}: each point is the highest (and, for CPU, the mean) usage of its samples. Solid lines: recommended (green request, red limit); dashed: current (orange request, brown limit). The y axis fits the usage and the recommendation; a current setting above it is drawn on the top edge, marked ▲ with its value.`),
      h('div', { className: 'side' }, plots.map((p) => h('figure', { className: 'chart' }, p))));
    specs.forEach((s, i) => window.crpCharts.draw(plots[i], s));
    chartBox.dataset.loaded = x.c.name;
    title.focus();
  };

  const draw = () => {
    const q = state.text.trim().toLowerCase();
    const col = WL_COLS.find((k) => k.key === state.sort);
    const rows = all
      .filter((x) => (!state.namespace || x.w.namespace === state.namespace) && (!q || [x.w.namespace, x.w.kind, x.w.name, x.c.name, ...x.c.notes, x.c.currentRisk || ''].join(' ').toLowerCase().includes(q)))
      .sort((a, b) => {
        const va = col.sort(a);
        const vb = col.sort(b);
        return (typeof va === 'number' ? va - vb : String(va).localeCompare(String(vb))) * state.dir;
      });
    headRow.replaceChildren(...WL_COLS.map((k) => h('th', { scope: 'col', 'aria-sort': k.key === state.sort ? (state.dir > 0 ? 'ascending' : 'descending') : 'none' },
      h('button', { type: 'button', className: 'sort', 'data-sort': k.key, onclick: () => { state.dir = state.sort === k.key ? -state.dir : 1; state.sort = k.key; draw(); } },
        k.head, k.key === state.sort ? (state.dir > 0 ? ' ▲' : ' ▼') : ''))), h('th', { scope: 'col' }, 'usage'));
    tbody.replaceChildren(...rows.map((x) => h('tr', { 'data-key': `${x.w.namespace}/${x.w.kind}/${x.w.name}/${x.c.name}` },
      WL_COLS.map((k, i) => (i === 0 ? h('th', { scope: 'row', className: 'text' }, k.cell(x)) : h('td', { className: i < 4 ? 'text' : k.key === 'notes' || k.key === 'saving' ? 'text wrap' : '' }, k.cell(x)))),
      h('td', {}, h('button', { type: 'button', 'data-action': 'chart', 'aria-label': `Chart the usage of ${x.w.namespace}/${x.w.kind}/${x.w.name} container ${x.c.name}`, onclick: () => void showChart(x).catch((e) => chartBox.replaceChildren(h('p', { className: 'error', role: 'alert' }, `Could not load the chart: ${e.message}`))) }, 'Chart')))));
    count.textContent = `${rows.length} of ${all.length} containers`;
  };
  filter.addEventListener('input', () => { state.text = filter.value; draw(); });
  nsSelect.addEventListener('change', () => { state.namespace = nsSelect.value; draw(); });
  draw();
  parts.push(
    h('div', { className: 'toolbar' }, h('label', { for: 'wl-filter' }, 'Filter'), filter, h('label', { for: 'wl-namespace' }, 'Namespace'), nsSelect, count),
    h('div', { className: 'scroll' }, h('table', { className: 'workloads' }, h('caption', { className: 'muted' }, 'current → recommended, per container; the column buttons sort'), h('thead', {}, headRow), tbody)),
    chartBox);
  return parts;
}
