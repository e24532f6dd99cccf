/*
 * app.js: the dashboard's pages, drawn from the agent's own API. Hash routes: #overview, #models,
 * #evaluation. Every element is built with the DOM API and text nodes (no innerHTML of data); charts are
 * drawn by charts.js (window.crpCharts, uPlot). When a page has finished loading, <main> gets
 * data-loaded="<page>" (the browser tests wait for it).
 *
 * The admin token is asked for in a dialog when an admin button is pressed, kept in this module's memory
 * only (never in storage or a cookie), sent only as the bearer token of admin calls, and forgotten when
 * the agent refuses it.
 */
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
const when = (iso) => (iso ? new Date(iso).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : '—');
const yesNo = (ok, yes, no) => h('span', { className: ok ? 'ok' : 'bad' }, ok ? yes : no);

/** api: GET or POST a path of the agent; returns { status, body } (body parsed JSON, or null). */
async function api(path, opts = {}) {
  const r = await fetch(path, { headers: { accept: 'application/json', ...(opts.headers || {}) }, method: opts.method || 'GET', cache: 'no-store' });
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

/* ---------------- router ---------------- */

const PAGES = { overview, models, evaluation };

async function render() {
  const seq = ++renderSeq;
  const name = PAGES[location.hash.slice(1)] ? location.hash.slice(1) : 'overview';
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${name[0].toUpperCase()}${name.slice(1)} · resource-agent`;
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
