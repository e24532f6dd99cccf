/*
 * replay.js: the dashboard's Replay page (#replay): a job family's live simulation. Its held-out jobs
 * (GET /ui/api/replay/jobs) are sent, in order, to the family's own POST …/recommend/batch (the served
 * model, as any client), and each answer's limit is scored against the job's real peak, drawn and totalled
 * as it arrives.
 */
import { GiB, h, num, when } from './dom.js';
import { api, getJson } from './api.js';

let stopCurrent = () => {};
const pct = (x) => (Number.isFinite(x) ? `${x.toFixed(2)} %` : '—');
const gib = (b) => `${(b / GiB).toFixed(1)} GiB`;

/** stopReplay pauses the replay on the page, if one runs (the router calls it when the page changes). */
export function stopReplay() {
  const stop = stopCurrent;
  stopCurrent = () => {};
  stop();
}

/** emptyScore: a replay's running totals before its first job. */
const emptyScore = () => ({ next: 0, under: 0, over: 0, peaks: 0, scored: 0, refused: 0, alloc: [], peak: [], budget: 0, recent: [] });

/**
 * scoreAnswers adds a batch's answers to the running totals: under = jobs whose allocation < peak,
 * over = bytes over the peaks, peaks = bytes of the peaks; a refused item is counted apart. The last 8
 * jobs are kept, newest first.
 */
function scoreAnswers(st, batch, answers) {
  answers.forEach((a, i) => {
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
}

/** chartSpec: allocation and real peak per job so far, in GiB. */
const chartSpec = (st) => ({
  title: 'Allocation against the real peak, per job', xLabel: 'job (hold-out order)', yLabel: 'GiB', width: 640, height: 320,
  series: [
    { name: 'real peak', color: '#1f77b4', style: 'dots', size: 4, points: st.peak.map((p, i) => [i + 1, p / GiB]) },
    { name: 'allocation (served model)', color: '#ff7f0e', style: 'dots', size: 4, points: st.alloc.map((a, i) => [i + 1, a / GiB]) },
  ],
});

/** recentRow: one of the last jobs: when it was submitted, its allocation and peak, and what came of it. */
function recentRow(j) {
  const outcome = j.error ? h('span', { className: 'bad' }, `refused: ${j.error}`) : j.alloc < j.peak ? h('span', { className: 'bad' }, `under by ${gib(j.peak - j.alloc)}`) : h('span', { className: 'ok' }, `held, ${gib(j.alloc - j.peak)} spare`);
  return h('tr', {}, h('th', { scope: 'row' }, h('code', {}, j.id)), h('td', {}, j.time ? when(j.time) : '—'), h('td', {}, j.alloc === null ? '—' : gib(j.alloc)), h('td', {}, gib(j.peak)), h('td', { className: 'text' }, outcome));
}

/** figures: the running totals' elements, and show(), which writes a score into them. */
function figures(jobs) {
  const fig = (field) => h('dd', { 'data-field': field }, '—');
  const f = { jobs: fig('jobs'), under: fig('under'), over: fig('over'), business: fig('business'), refused: fig('refused') };
  const show = (st) => {
    f.jobs.textContent = `${st.next} of ${jobs.length}`;
    f.under.textContent = st.scored ? pct((100 * st.under) / st.scored) : '—';
    f.over.textContent = st.scored ? pct((100 * st.over) / st.peaks) : '—';
    f.business.textContent = st.scored ? ((500 * st.under) / st.scored + (100 * st.over) / st.peaks).toFixed(2) : '—';
    f.refused.textContent = String(st.refused);
  };
  const list = h('dl', { className: 'stats', 'aria-label': 'running figures' },
    h('div', {}, h('dt', {}, 'jobs replayed'), f.jobs),
    h('div', {}, h('dt', {}, 'under-allocated (jobs)'), f.under),
    h('div', {}, h('dt', {}, 'over-allocated (bytes)'), f.over),
    h('div', {}, h('dt', {}, 'business score'), f.business),
    h('div', {}, h('dt', {}, 'refused items'), f.refused));
  return { list, show };
}

/**
 * replayView: one family's live simulation. Its held-out jobs are sent, in order, to the family's own
 * POST …/recommend/batch (the served model, as any client), `speed` jobs a second in batches every 250 ms;
 * each answer's limit is scored against the job's real peak: under % = jobs whose allocation < peak,
 * over % = bytes over the peaks / bytes of the peaks, business = 5 × under % + over % (as validate scores).
 */
function replayView(info, jobs, recorded) {
  const st = { ...emptyScore(), running: false, busy: false, timer: null };
  const figs = figures(jobs);
  const toggle = h('button', { type: 'button', className: 'primary', id: 'replay-toggle', 'aria-pressed': 'false' }, 'Start');
  const speed = h('select', { id: 'replay-speed' }, [1, 5, 20, 100, 500].map((s) => h('option', { value: String(s), selected: s === 20 }, `${s} job${s === 1 ? '' : 's'}/s`)));
  const reset = h('button', { type: 'button', id: 'replay-reset' }, 'Reset');
  const status = h('p', { className: 'result', id: 'replay-status', role: 'status', 'aria-live': 'polite' }, `${jobs.length} held-out jobs ready; Start sends them to POST ${info.batch}.`);
  const recentBody = h('tbody', {});
  const plot = h('div', { className: 'chart-plot', role: 'img', 'aria-label': 'Allocation against the real peak, per job, in GiB; the figures beside it have the running totals' });
  let chart = null;

  const show = () => {
    figs.show(st);
    if (chart) window.crpCharts.update(chart, chartSpec(st));
    else if (st.scored) chart = window.crpCharts.draw(plot, chartSpec(st));
    recentBody.replaceChildren(...st.recent.map(recentRow));
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
      scoreAnswers(st, batch, r.body.items);
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
    Object.assign(st, emptyScore());
    toggle.textContent = 'Start';
    toggle.disabled = false;
    if (chart) {
      window.crpCharts.destroy(chart);
      chart = null;
    }
    show();
  });
  stopCurrent = () => pause('Stopped.');
  show();
  return replaySection(info, jobs, recorded, { toggle, speed, reset, status, figures: figs.list, plot, recentBody });
}

/** replaySection lays out a replay's controls, running figures, chart and last jobs. */
function replaySection(info, jobs, recorded, el) {
  const v = recorded && recorded.validation;
  return h('section', { 'aria-label': `replay of ${info.family}` },
    h('p', { className: 'muted' }, `${jobs.length} held-out jobs from ${info.source} (${info.via === 'replay-dir' ? '--replay' : "the manifest's validation.data"}), in file order (submission time for build jobs). Each is sent to POST ${info.batch}; its allocation (the answer's limit) is scored against the job's real peak.`),
    h('div', { className: 'toolbar' }, el.toggle, h('label', { for: 'replay-speed' }, 'Speed'), el.speed, el.reset),
    el.status,
    el.figures,
    h('p', { className: 'muted' }, 'business = 5 × under % + over % (lower is better).',
      v ? h('span', { id: 'replay-recorded' }, ` Recorded at export for version ${recorded.version} on all ${v.jobs} jobs: business ${num(v.businessScore)}, under ${pct(v.underPct)}, over ${pct(v.overPct)} (before the agent rounds allocations up to 1 MiB / 64 MiB steps).`) : null),
    h('div', { className: 'side' },
      h('figure', { className: 'chart' }, el.plot),
      h('table', { className: 'recent' }, h('caption', { className: 'muted' }, 'the last 8 jobs, newest first'),
        h('thead', {}, h('tr', {}, ['job', 'submitted', 'allocation', 'peak', 'outcome'].map((c) => h('th', { scope: 'col' }, c)))), el.recentBody)));
}

/** replay: the page's parts, for app.js's router: a family to choose and its replay. */
export async function replay() {
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
