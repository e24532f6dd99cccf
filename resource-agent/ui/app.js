/*
 * app.js: the dashboard's pages, drawn from the agent's own API. Hash routes: #overview, #models,
 * #workloads (GET /v1/workloads, with ?samples=1 for a container's chart), #evaluation, #replay (a job
 * family's hold-out streamed through its POST …/recommend/batch), #training (training.js: retraining jobs
 * and each candidate next to the active version). Every element is built with the DOM API and text nodes (no innerHTML of data); charts are
 * drawn by charts.js (window.crpCharts, uPlot). When a page has finished loading, <main> gets
 * data-loaded="<page>" (the browser tests wait for it).
 *
 * The admin token is asked for in a dialog when an admin button is pressed, kept in this module's memory
 * only (never in storage or a cookie), sent only as the bearer token of admin calls, and forgotten when
 * the agent refuses it.
 */
import { trainingPage } from './training.js';

const main = document.getElementById('main');
const dialog = document.getElementById('admin-dialog');
const tokenInput = document.getElementById('admin-token');
let adminToken = '';
let renderSeq = 0;

/** h: an element with attributes (on* attributes become listeners) and children (strings become text). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'className') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const num = (v, digits = 2) => (v === null || v === undefined || Number.isNaN(v) ? '—' : typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en') : v.toFixed(digits)) : String(v));
// A date that does not parse (a hand-written report) is shown as written, never thrown on.
const when = (iso) => {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? String(iso) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
};
const yesNo = (ok, yes, no) => h('span', { className: ok ? 'ok' : 'bad' }, ok ? yes : no);

/** api: GET or POST a path of the agent; returns { status, body } (body parsed JSON, or null). */
async function api(path, opts = {}) {
  const r = await fetch(path, { headers: { accept: 'application/json', ...(opts.headers || {}) }, method: opts.method || 'GET', body: opts.body, cache: 'no-store' });
  let body = null;
  try {
    body = await r.json();
  } catch {
    body = null;
  }
  return { status: r.status, body };
}

async function getJson(path) {
  const r = await api(path);
  if (r.status !== 200) throw new Error(`${path} answered ${r.status}${r.body && r.body.error ? `: ${r.body.error.message}` : ''}`);
  return r.body;
}

function table(head, rows, caption, className) {
  return h('table', { className },
    caption ? h('caption', { className: 'muted' }, caption) : null,
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', {}, c)))))));
}

/* ---------------- Overview ---------------- */

async function overview() {
  const fams = await getJson('/v1/families');
  const statuses = await Promise.all(fams.families.map((f) => getJson(f.models)));
  const cards = fams.families.map((f, i) => {
    const s = statuses[i];
    const refused = s.versions.filter((v) => v.status === 'refused');
    return h('section', { className: 'card', 'aria-labelledby': `fam-${f.name}` },
      h('h2', { id: `fam-${f.name}` }, f.name, fams.default === f.name ? h('span', { className: 'muted' }, ' (default family)') : null),
      h('p', { className: 'muted' }, f.title),
      h('dl', {},
        h('dt', {}, 'ready'), h('dd', { 'data-field': 'ready' }, yesNo(s.ready, 'ready', 'not ready'), s.ready ? null : ` — ${s.activeError || s.manifestError || 'no manifest loaded yet'}`),
        h('dt', {}, 'serving'), h('dd', { 'data-field': 'serving' }, s.serving || '—'),
        h('dt', {}, 'active'), h('dd', { 'data-field': 'active' }, s.active || '—'),
        h('dt', {}, 'previous'), h('dd', { 'data-field': 'previous' }, s.previousActive || '—'),
        h('dt', {}, 'retained'), h('dd', {}, `${s.versions.length} version${s.versions.length === 1 ? '' : 's'}`),
        h('dt', {}, 'refusals'), h('dd', { 'data-field': 'refusals' }, refused.length === 0 && !s.manifestError ? 'none' : h('ul', {},
          s.manifestError ? h('li', {}, `manifest refused: ${s.manifestError}`) : null,
          refused.map((v) => h('li', {}, h('code', {}, v.version), ` ${v.reason || 'refused'}`)))),
        h('dt', {}, 'last reload'), h('dd', { 'data-field': 'last-reload' }, when(s.lastReloadAt)),
        h('dt', {}, 'manifest updated'), h('dd', {}, when(s.manifestUpdatedAt)),
        h('dt', {}, 'recommendations'), h('dd', {}, h('code', {}, `POST ${f.recommend}`)),
      ));
  });
  return [h('h1', {}, 'Overview'), h('p', { className: 'muted' }, `${fams.families.length} model famil${fams.families.length === 1 ? 'y' : 'ies'} served. Details per version under Models.`), h('div', { className: 'cards' }, cards)];
}

/* ---------------- Models ---------------- */

/** askToken opens the admin dialog for `what`; resolves to the token, or null when cancelled. */
function askToken(what) {
  return new Promise((resolve) => {
    document.getElementById('admin-what').textContent = what;
    tokenInput.value = adminToken;
    dialog.returnValue = '';
    const done = () => {
      dialog.removeEventListener('close', done);
      resolve(dialog.returnValue === 'confirm' && tokenInput.value.trim() ? tokenInput.value.trim() : null);
      tokenInput.value = '';
    };
    dialog.addEventListener('close', done);
    dialog.showModal();
    tokenInput.focus();
  });
}

/** admin runs an admin call after asking for the token, and writes what happened into `out`. */
async function admin(what, path, out, onDone) {
  const token = await askToken(what);
  if (token === null) {
    out.textContent = `${what}: cancelled.`;
    return;
  }
  adminToken = token;
  out.className = 'result';
  out.textContent = `${what}: sending…`;
  const r = await api(path, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  if (r.status === 200) {
    const b = r.body;
    out.className = 'result ok';
    out.textContent = `${what}: ${b.changed ? 'done' : 'nothing to change'}. Active ${b.active}, previous ${b.previousActive || '—'}, serving ${b.serving || '—'}.`;
  } else {
    if (r.status === 401 || r.status === 403) adminToken = '';
    const e = r.body && r.body.error;
    out.className = 'result bad';
    out.textContent = `${what}: refused (${r.status}${e ? ` ${e.code}` : ''})${e ? `: ${e.message}` : ''}.`;
  }
  await onDone();
}

/** adminPost: an admin POST with an optional JSON body (the Training page), after asking for the token; null when cancelled. */
async function adminPost(what, path, body) {
  const token = await askToken(what);
  if (token === null) return null;
  adminToken = token;
  const json = body === undefined ? {} : { 'content-type': 'application/json' };
  const r = await api(path, { method: 'POST', headers: { authorization: `Bearer ${token}`, ...json }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (r.status === 401 || r.status === 403) adminToken = '';
  return r;
}

function validationText(v) {
  if (!v || typeof v !== 'object') return '—';
  return h('ul', { className: 'figures' }, Object.entries(v).map(([k, x]) => h('li', {}, `${k}: ${typeof x === 'number' ? num(x, 3) : JSON.stringify(x)}`)));
}

async function models() {
  const [cfg, fams] = await Promise.all([getJson('/ui/api/config'), getJson('/v1/families')]);
  const out = h('p', { className: 'result', role: 'status', 'aria-live': 'polite', id: 'admin-result' });
  const parts = [h('h1', {}, 'Models')];
  const disabledId = 'admin-disabled';
  if (!cfg.admin.enabled) parts.push(h('p', { className: 'note', id: disabledId }, `Activate and rollback are disabled: ${cfg.admin.reason}.`));
  else parts.push(h('p', { className: 'muted' }, 'Activate and rollback ask for the admin token; it stays in this page only.'));
  parts.push(out);
  const sections = h('div', {});
  parts.push(sections);

  const draw = async () => {
    const statuses = await Promise.all(fams.families.map((f) => getJson(f.models)));
    sections.replaceChildren(...fams.families.map((f, i) => {
      const s = statuses[i];
      // The agent's own prefix for the family (a family name may hold a '/': job-memory/build-jobs).
      const base = f.models.replace(/\/models$/, '');
      const noRollback = !cfg.admin.enabled ? disabledId : !s.previousActive ? `rb-why-${f.name}` : null;
      const rollback = h('button', {
        type: 'button', className: 'primary', 'data-action': 'rollback', 'data-family': f.name,
        disabled: noRollback !== null, 'aria-describedby': noRollback,
        onclick: () => admin(`Roll back ${f.name} to ${s.previousActive}`, `${base}/rollback`, out, draw),
      }, s.previousActive ? `Roll back to ${s.previousActive}` : 'Roll back');
      const rows = s.versions.slice().reverse().map((v) => {
        const why = !cfg.admin.enabled ? disabledId : v.active ? `act-why-${f.name}-${v.version}` : v.status !== 'verified' ? `act-why-${f.name}-${v.version}` : null;
        const whyText = v.active ? 'already active' : v.status !== 'verified' ? `refused: ${v.reason || 'not verified'}` : null;
        const button = h('button', {
          type: 'button', 'data-action': 'activate', 'data-family': f.name, 'data-version': v.version,
          'aria-label': `Activate version ${v.version} of ${f.name}`, disabled: why !== null, 'aria-describedby': why,
          onclick: () => admin(`Activate ${f.name} ${v.version}`, `${base}/models/${encodeURIComponent(v.version)}/activate`, out, draw),
        }, 'Activate');
        const flags = [v.active ? 'active' : null, v.previousActive ? 'previous' : null, v.serving ? 'serving' : null].filter(Boolean).join(', ');
        return [
          v.version,
          when(v.createdAt),
          v.status === 'verified' ? yesNo(true, 'verified', '') : h('span', { className: 'bad', title: v.reason || '' }, `refused: ${v.reason || ''}`),
          flags || '—',
          validationText(v.validation),
          num(v.bytes),
          h('code', { title: `sha256 of ${v.file}` }, v.sha256),
          h('span', {}, button, whyText && cfg.admin.enabled ? h('span', { id: `act-why-${f.name}-${v.version}`, className: 'muted' }, ` ${whyText}`) : null),
        ];
      });
      return h('section', { 'aria-labelledby': `models-${f.name}`, 'data-family': f.name },
        h('h2', { id: `models-${f.name}` }, `${f.name}`, h('span', { className: 'muted' }, ` — active ${s.active || '—'}, previous ${s.previousActive || '—'}, serving ${s.serving || '—'}`)),
        h('div', { className: 'toolbar' }, rollback, !s.previousActive && cfg.admin.enabled ? h('span', { id: `rb-why-${f.name}`, className: 'muted' }, 'no previous version to roll back to') : null),
        table(['version', 'created', 'checksum', 'flags', 'validation', 'bytes', 'sha256', 'action'], rows, `${f.name}: every retained version, newest first`, 'models'));
    }));
  };
  await draw();
  return parts;
}

/* ---------------- Evaluation ---------------- */

const COLS = [['windows', 'windows', 0], ['memUnderAllocationPct', 'mem under %', 2], ['cpuLimitBreachPct', 'CPU breach %', 2], ['memOverAllocationPct', 'mem over %', 2], ['cpuRequestSlackPct', 'CPU req slack %', 2], ['memRequestSlackPct', 'mem req slack %', 2], ['businessScore', 'business score', 2]];

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

async function evaluation() {
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

/* ---------------- Workloads ---------------- */

const GiB = 2 ** 30;
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

async function workloads() {
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

/* ---------------- Replay ---------------- */

let stopReplay = () => {};
const pct = (x) => (Number.isFinite(x) ? `${x.toFixed(2)} %` : '—');
const gib = (b) => `${(b / GiB).toFixed(1)} GiB`;

/**
 * replayView: one family's live simulation. Its held-out jobs are sent, in order, to the family's own
 * POST …/recommend/batch (the served model, as any client), `speed` jobs a second in batches every 250 ms;
 * each answer's limit is scored against the job's real peak: under % = jobs whose allocation < peak,
 * over % = bytes over the peaks / bytes of the peaks, business = 5 × under % + over % (as validate scores).
 */
function replayView(info, jobs, recorded) {
  const st = { next: 0, under: 0, over: 0, peaks: 0, scored: 0, refused: 0, alloc: [], peak: [], running: false, busy: false, budget: 0, timer: null, recent: [] };
  const fig = (field) => h('dd', { 'data-field': field }, '—');
  const f = { jobs: fig('jobs'), under: fig('under'), over: fig('over'), business: fig('business'), refused: fig('refused') };
  const toggle = h('button', { type: 'button', className: 'primary', id: 'replay-toggle', 'aria-pressed': 'false' }, 'Start');
  const speed = h('select', { id: 'replay-speed' }, [1, 5, 20, 100, 500].map((s) => h('option', { value: String(s), selected: s === 20 }, `${s} job${s === 1 ? '' : 's'}/s`)));
  const reset = h('button', { type: 'button', id: 'replay-reset' }, 'Reset');
  const status = h('p', { className: 'result', id: 'replay-status', role: 'status', 'aria-live': 'polite' }, `${jobs.length} held-out jobs ready; Start sends them to POST ${info.batch}.`);
  const recentBody = h('tbody', {});
  const plot = h('div', { className: 'chart-plot', role: 'img', 'aria-label': 'Allocation against the real peak, per job, in GiB; the figures beside it have the running totals' });
  const spec = () => ({
    title: 'Allocation against the real peak, per job', xLabel: 'job (hold-out order)', yLabel: 'GiB', width: 640, height: 320,
    series: [
      { name: 'real peak', color: '#1f77b4', style: 'dots', size: 4, points: st.peak.map((p, i) => [i + 1, p / GiB]) },
      { name: 'allocation (served model)', color: '#ff7f0e', style: 'dots', size: 4, points: st.alloc.map((a, i) => [i + 1, a / GiB]) },
    ],
  });
  let chart = null;

  const show = () => {
    f.jobs.textContent = `${st.next} of ${jobs.length}`;
    f.under.textContent = st.scored ? pct((100 * st.under) / st.scored) : '—';
    f.over.textContent = st.scored ? pct((100 * st.over) / st.peaks) : '—';
    f.business.textContent = st.scored ? ((500 * st.under) / st.scored + (100 * st.over) / st.peaks).toFixed(2) : '—';
    f.refused.textContent = String(st.refused);
    if (chart) window.crpCharts.update(chart, spec());
    else if (st.scored) chart = window.crpCharts.draw(plot, spec());
    recentBody.replaceChildren(...st.recent.map((j) => h('tr', {}, h('th', { scope: 'row' }, h('code', {}, j.id)), h('td', {}, j.time ? when(j.time) : '—'), h('td', {}, j.alloc === null ? '—' : gib(j.alloc)), h('td', {}, gib(j.peak)), h('td', { className: 'text' }, j.error ? h('span', { className: 'bad' }, `refused: ${j.error}`) : j.alloc < j.peak ? h('span', { className: 'bad' }, `under by ${gib(j.peak - j.alloc)}`) : h('span', { className: 'ok' }, `held, ${gib(j.alloc - j.peak)} spare`)))));
  };

  const pause = (why) => {
    st.running = false;
    clearTimeout(st.timer);
    toggle.textContent = st.next >= jobs.length ? 'Start' : 'Resume';
    toggle.setAttribute('aria-pressed', 'false');
    toggle.disabled = st.next >= jobs.length;
    status.textContent = why;
  };

  const step = async () => {
    st.timer = null;
    if (!st.running || st.busy) return;
    st.budget = Math.min(st.budget + Number(speed.value) / 4, 500);
    const k = Math.min(Math.floor(st.budget), jobs.length - st.next);
    if (k > 0) {
      st.budget -= k;
      const batch = jobs.slice(st.next, st.next + k);
      st.busy = true;
      let r;
      try {
        r = await api(info.batch, { method: 'POST', body: JSON.stringify({ items: batch.map((j) => ({ id: j.id, attributes: j.attributes })) }), headers: { 'content-type': 'application/json' } });
      } finally {
        st.busy = false;
      }
      if (r.status !== 200) {
        pause(`Paused: the agent answered ${r.status}${r.body && r.body.error ? ` ${r.body.error.code}: ${r.body.error.message}` : ''}.`);
        return;
      }
      r.body.items.forEach((a, i) => {
        const j = batch[i];
        const rec = { id: j.id, time: j.time, peak: j.peakBytes, alloc: null, error: null };
        if (a.error) {
          st.refused++;
          rec.error = a.error.message;
        } else {
          const alloc = a.memory.limitBytes;
          rec.alloc = alloc;
          st.scored++;
          st.peaks += j.peakBytes;
          if (alloc < j.peakBytes) st.under++;
          else st.over += alloc - j.peakBytes;
          st.alloc.push(alloc);
          st.peak.push(j.peakBytes);
        }
        st.recent.unshift(rec);
      });
      st.recent.length = Math.min(st.recent.length, 8);
      st.next += k;
      show();
      if (st.next >= jobs.length) {
        pause(`Replayed all ${jobs.length} jobs with model ${r.body.modelVersion}.`);
        return;
      }
    }
    if (st.running) st.timer = setTimeout(() => void step(), 250);
  };

  toggle.addEventListener('click', () => {
    if (st.running) {
      pause(`Paused after ${st.next} of ${jobs.length} jobs.`);
      return;
    }
    st.running = true;
    toggle.textContent = 'Pause';
    toggle.setAttribute('aria-pressed', 'true');
    status.textContent = `Replaying at ${speed.value} jobs/s…`;
    void step();
  });
  speed.addEventListener('change', () => { if (st.running) status.textContent = `Replaying at ${speed.value} jobs/s…`; });
  reset.addEventListener('click', () => {
    pause('Reset: nothing replayed yet.');
    Object.assign(st, { next: 0, under: 0, over: 0, peaks: 0, scored: 0, refused: 0, alloc: [], peak: [], budget: 0, recent: [] });
    toggle.textContent = 'Start';
    toggle.disabled = false;
    if (chart) {
      window.crpCharts.destroy(chart);
      chart = null;
    }
    show();
  });
  stopReplay = () => pause('Stopped.');
  show();

  const v = recorded && recorded.validation;
  return h('section', { 'aria-label': `replay of ${info.family}` },
    h('p', { className: 'muted' }, `${jobs.length} held-out jobs from ${info.source} (${info.via === 'replay-dir' ? '--replay' : "the manifest's validation.data"}), in file order (submission time for build jobs). Each is sent to POST ${info.batch}; its allocation (the answer's limit) is scored against the job's real peak.`),
    h('div', { className: 'toolbar' }, toggle, h('label', { for: 'replay-speed' }, 'Speed'), speed, reset),
    status,
    h('dl', { className: 'stats', 'aria-label': 'running figures' },
      h('div', {}, h('dt', {}, 'jobs replayed'), f.jobs),
      h('div', {}, h('dt', {}, 'under-allocated (jobs)'), f.under),
      h('div', {}, h('dt', {}, 'over-allocated (bytes)'), f.over),
      h('div', {}, h('dt', {}, 'business score'), f.business),
      h('div', {}, h('dt', {}, 'refused items'), f.refused)),
    h('p', { className: 'muted' }, 'business = 5 × under % + over % (lower is better).',
      v ? h('span', { id: 'replay-recorded' }, ` Recorded at export for version ${recorded.version} on all ${v.jobs} jobs: business ${num(v.businessScore)}, under ${pct(v.underPct)}, over ${pct(v.overPct)} (before the agent rounds allocations up to 1 MiB / 64 MiB steps).`) : null),
    h('div', { className: 'side' },
      h('figure', { className: 'chart' }, plot),
      h('table', { className: 'recent' }, h('caption', { className: 'muted' }, 'the last 8 jobs, newest first'),
        h('thead', {}, h('tr', {}, ['job', 'submitted', 'allocation', 'peak', 'outcome'].map((c) => h('th', { scope: 'col' }, c)))), recentBody)));
}

async function replay() {
  const list = await getJson('/ui/api/replay');
  const parts = [h('h1', {}, 'Replay')];
  if (list.families.length === 0) {
    parts.push(h('p', { className: 'note', id: 'replay-none' }, 'No job-memory family is served by this agent, so there is nothing to replay. The replay streams a job family\'s held-out jobs through its recommend route (e.g. job-memory/build-jobs at /v1/jobs/build-jobs/recommend).'));
    return parts;
  }
  const fams = await getJson('/v1/families');
  const box = h('div', {});
  const select = h('select', { id: 'replay-family' }, list.families.map((f, i) => h('option', { value: String(i) }, `${f.family}${f.available ? ` (${f.jobs} jobs)` : ' (no hold-out)'}`)));
  const show = async () => {
    stopReplay();
    for (const u of window.crpCharts.instances.slice()) window.crpCharts.destroy(u);
    const info = list.families[Number(select.value)];
    if (!info.available) {
      box.replaceChildren(h('p', { className: 'note', id: 'replay-unavailable' }, `${info.family} has no hold-out to replay: ${info.reason}.`));
      return;
    }
    const [data, models] = await Promise.all([getJson(`/ui/api/replay/jobs?family=${encodeURIComponent(info.family)}`), getJson(fams.families.find((f) => f.name === info.family).models)]);
    const recorded = models.versions.find((v) => v.version === models.serving) || null;
    box.replaceChildren(replayView(info, data.jobs, recorded));
  };
  select.addEventListener('change', () => void show());
  parts.push(h('p', { className: 'muted' }, 'The build-job predictor\'s live simulation: the family\'s hold-out (jobs the model never trained on) streams in at the chosen speed; each job\'s allocation from the served model is drawn against its real peak, with the running under-allocation, over-allocation and business score.'),
    h('div', { className: 'toolbar' }, h('label', { for: 'replay-family' }, 'Job family'), select), box);
  await show();
  return parts;
}

/* ---------------- router ---------------- */

const PAGES = { overview, models, workloads, evaluation, replay, training: () => trainingPage({ h, api, getJson, num, when, adminPost, rerender: render }) };

async function render() {
  const seq = ++renderSeq;
  const name = PAGES[location.hash.slice(1)] ? location.hash.slice(1) : 'overview';
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${name[0].toUpperCase()}${name.slice(1)} · resource-agent`;
  stopReplay();
  stopReplay = () => {};
  main.setAttribute('aria-busy', 'true');
  main.removeAttribute('data-loaded');
  if (window.crpCharts) for (const u of window.crpCharts.instances.slice()) window.crpCharts.destroy(u);
  let parts;
  try {
    parts = await PAGES[name]();
  } catch (e) {
    parts = [h('h1', {}, name), h('p', { className: 'error', role: 'alert' }, `Could not load this page: ${e.message}`)];
  }
  if (seq !== renderSeq) return;
  main.replaceChildren(...parts);
  if (parts.after) parts.after();
  main.setAttribute('aria-busy', 'false');
  main.dataset.loaded = name;
}

window.addEventListener('hashchange', () => {
  void render().then(() => main.focus({ preventScroll: true }));
});
void render();
