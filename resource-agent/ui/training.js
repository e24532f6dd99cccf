/*
 * training.js: the dashboard's Training page (#training), from the agent's training-jobs API:
 *   - how to start a retraining (the form posts POST /v1/training-jobs with the admin token, asked for in
 *     the page's dialog), or, on a read-only (ConfigMap) store, what to do instead;
 *   - every job of the store, newest first: state, stage, a progress bar, ETA, start, the resulting
 *     candidate and its decision, and Cancel for a queued or running job (admin);
 *   - a candidate of any served family next to the version it was judged against: every slice of its
 *     shadow evaluation (GET <family>/models, the version's `shadow`), business and memory under-allocation
 *     of the candidate, the active version and the rules the record holds (containers: VPA, KRR and
 *     max × 1.3; job data sets: as requested, the training maximum), then the decision and its reason.
 * The page refreshes itself every second while a job is queued or running and this page is shown.
 * Built with the DOM API only (the `ui` helpers of app.js), no inline script or style.
 */

/** SYSTEM_NAMES: column titles of the systems a shadow record scores (any other key is shown as it is). */
const SYSTEM_NAMES = { vpa: 'VPA', krr: 'KRR', 'fixed-max-x1.3': 'max × 1.3' };
const ACTIVE_STATES = ['queued', 'running'];

/** duration: 75 → "1 min 15 s". */
function duration(sec) {
  if (sec === null || sec === undefined) return '—';
  if (sec < 60) return `${Math.round(sec)} s`;
  return `${Math.floor(sec / 60)} min ${Math.round(sec % 60)} s`;
}

/** trainingPage: the page's parts, for app.js's router. */
export async function trainingPage(ui) {
  const { h, getJson } = ui;
  const [cfg, list, fams] = await Promise.all([getJson('/ui/api/config'), getJson('/v1/training-jobs'), getJson('/v1/families')]);
  const container = fams.families.find((f) => f.name === 'container-resources');
  const parts = [h('h1', {}, 'Training')];
  parts.push(h('p', { className: 'muted' }, 'A training job retrains the container model on this cluster\'s own history (the agent\'s Prometheus, or trace files), in a child process at the lowest CPU priority. The candidate is exported as a new version, not active, and judged against the active version, VPA, KRR and max × 1.3 on held-back workloads and days; it becomes active only with auto-promote and when it beats the active version by the margin with no more memory under-allocation.'));
  if (!container) {
    parts.push(h('p', { className: 'note', id: 'training-none' }, 'This agent does not serve the container-resources family, which is what training jobs retrain.'));
    return parts;
  }
  const out = h('p', { className: 'result', role: 'status', 'aria-live': 'polite', id: 'training-result' });
  if (!list.writable) parts.push(h('p', { className: 'note', id: 'training-readonly' }, list.how));
  else parts.push(jobForm(ui, cfg, out));
  parts.push(out);
  const jobsBox = h('div', { id: 'training-jobs-box' });
  const candBox = h('div', { id: 'training-candidate-box' });
  parts.push(h('h2', {}, 'Jobs'), jobsBox, h('h2', {}, 'Candidate next to the active version'), candBox);

  let lastFinished = null;
  const refresh = async () => {
    const now = await getJson('/v1/training-jobs');
    jobsBox.replaceChildren(jobsTable(ui, now, cfg, out, refresh));
    const finished = now.jobs.filter((j) => !ACTIVE_STATES.includes(j.state)).map((j) => j.id).join(',');
    if (finished !== lastFinished) {
      lastFinished = finished;
      candBox.replaceChildren(await candidateView(ui, fams.families));
    }
    return now.jobs.some((j) => ACTIVE_STATES.includes(j.state));
  };
  await refresh();
  // While this page is shown and a job is queued or running, follow it.
  parts.after = () => {
    const tick = async () => {
      if (location.hash !== '#training') return;
      let busy = false;
      try {
        busy = await refresh();
      } catch {
        busy = true;
      }
      setTimeout(() => void tick(), busy ? 1000 : 5000);
    };
    setTimeout(() => void tick(), 1000);
  };
  return parts;
}

/** jobForm: the retraining form (its fields fill the POST body; the rest are the API's defaults). */
function jobForm(ui, cfg, out) {
  const { h } = ui;
  const fromProm = cfg.workloads && cfg.workloads.enabled;
  const field = (id, label, input, help) => h('div', { className: 'field' }, h('label', { for: id }, label), input, help ? h('span', { className: 'help', id: `${id}-help` }, help) : null);
  const history = h('input', { id: 'training-history', value: '28d', size: 6, 'aria-describedby': 'training-history-help' });
  const paths = h('input', { id: 'training-paths', size: 40, placeholder: '/data/traces', 'aria-describedby': 'training-paths-help' });
  const epochs = h('input', { id: 'training-epochs', type: 'number', min: 1, max: 10000, value: 300 });
  const promote = h('input', { id: 'training-promote', type: 'checkbox' });
  const button = h('button', { type: 'submit', className: 'primary', id: 'training-start', disabled: !cfg.admin.enabled, 'aria-describedby': cfg.admin.enabled ? null : 'training-admin-off' }, 'Start retraining');
  const form = h('form', { id: 'training-form', className: 'toolbar', 'aria-label': 'Start a retraining' },
    fromProm ? field('training-history', 'History', history, 'from the agent\'s Prometheus') : field('training-paths', 'Trace folder', paths, 'on the agent\'s file system (the agent has no --prometheus)'),
    field('training-epochs', 'Epochs', epochs),
    h('div', { className: 'field' }, promote, h('label', { for: 'training-promote' }, 'Auto-promote when better')),
    button,
    cfg.admin.enabled ? null : h('span', { className: 'help', id: 'training-admin-off' }, `Disabled: ${cfg.admin.reason}.`));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { data: fromProm ? { prometheus: { history: history.value.trim() || '28d' } } : { traces: { paths: [paths.value.trim()] } }, training: { epochs: Number(epochs.value) }, autoPromote: promote.checked };
    const r = await ui.adminPost('Start a retraining', '/v1/training-jobs', body);
    if (!r) {
      out.className = 'result';
      out.textContent = 'Start a retraining: cancelled.';
      return;
    }
    const err = r.body && r.body.error;
    out.className = r.status === 202 ? 'result ok' : 'result bad';
    out.textContent = r.status === 202 ? `Queued job ${r.body.id}.` : `Start a retraining: refused (${r.status}${err ? ` ${err.code}` : ''})${err ? `: ${err.message}` : ''}.`;
    await ui.rerender();
  });
  return form;
}

/** jobsTable: every job, newest first, with a progress bar and Cancel for the unfinished ones. */
function jobsTable(ui, list, cfg, out, refresh) {
  const { h, when } = ui;
  if (!list.jobs.length) return h('p', { className: 'muted', id: 'training-empty' }, 'No training job in this store yet.');
  const rows = list.jobs.map((j) => {
    const bar = h('progress', { max: 100, value: j.progress, 'aria-label': `progress of ${j.id}` });
    const cancel = ACTIVE_STATES.includes(j.state)
      ? h('button', { type: 'button', 'data-job': j.id, className: 'cancel', disabled: !cfg.admin.enabled, onclick: async () => {
        const r = await ui.adminPost(`Cancel ${j.id}`, `/v1/training-jobs/${j.id}/cancel`);
        if (!r) return;
        const err = r.body && r.body.error;
        out.className = r.status === 200 ? 'result ok' : 'result bad';
        out.textContent = r.status === 200 ? `Cancel ${j.id}: ${r.body.state === 'cancelled' ? 'cancelled' : 'cancelling'}.` : `Cancel ${j.id}: refused (${r.status}${err ? ` ${err.code}` : ''})${err ? `: ${err.message}` : ''}.`;
        await refresh();
      } }, 'Cancel')
      : null;
    const res = j.result ? h('span', {}, `${j.result.version}: `, h('span', { className: j.result.decision === 'promoted' ? 'ok' : j.result.decision === 'rejected' ? 'bad' : '' }, j.result.decision), ` (active ${j.result.active})`) : j.error ? h('span', { className: 'bad' }, j.error) : '—';
    return h('tr', { 'data-job': j.id, 'data-state': j.state },
      h('th', { scope: 'row' }, h('code', {}, j.id)),
      h('td', { className: 'text' }, j.state),
      h('td', { className: 'text' }, ACTIVE_STATES.includes(j.state) ? j.stage || '—' : '—'),
      h('td', {}, bar, ` ${j.progress.toFixed(0)} %`),
      h('td', {}, ACTIVE_STATES.includes(j.state) ? duration(j.etaSec) : '—'),
      h('td', { className: 'text' }, when(j.startedAt)),
      h('td', { className: 'text wrap' }, res),
      h('td', { className: 'text' }, cancel || ''));
  });
  return h('table', { className: 'jobs', id: 'training-jobs' },
    h('caption', { className: 'muted' }, `every training job of this store, newest first; at most ${list.concurrency} at once across the agents sharing it, the rest queued`),
    h('thead', {}, h('tr', {}, ['job', 'state', 'stage', 'progress', 'ETA', 'started', 'candidate', 'action'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows));
}

/**
 * candidateView: the retained candidates of every served family (the newest first, a selector picks another)
 * and one's shadow evaluation. The systems are the record's own: the candidate, the active version, then
 * the rules it was scored against.
 */
async function candidateView(ui, families) {
  const { h, num } = ui;
  const cands = [];
  for (const f of families) {
    const models = await ui.getJson(f.models);
    for (const v of models.versions.filter((x) => x.shadow && x.shadow.slices && x.shadow.slices.length).reverse()) cands.push({ family: f.name, v });
  }
  if (!cands.length) return h('p', { className: 'muted', id: 'training-no-candidate' }, 'No retained version has a shadow evaluation yet: the first finished training job adds one.');
  const box = h('div', {});
  const select = h('select', { id: 'training-candidate' }, cands.map(({ family, v }, i) => h('option', { value: String(i) }, `${family} ${v.version} (${v.shadow.decision || v.shadow.state}, against ${v.shadow.against})`)));
  const show = () => {
    const { v } = cands[Number(select.value)];
    const s = v.shadow;
    const keys = Object.keys(s.slices[0].systems);
    const systems = ['candidate', 'active', ...keys.filter((k) => k !== 'candidate' && k !== 'active')].filter((k) => keys.includes(k));
    const usage = s.slices[0].windows !== undefined; // a usage shadow (windows of workloads), else held-back jobs
    const head = ['slice', usage ? 'windows (workloads)' : 'jobs', ...systems.map((k) => (k === 'candidate' ? `candidate ${v.version}` : k === 'active' ? `active ${s.against}` : SYSTEM_NAMES[k] || k))];
    const cell = (m) => `${num(m.businessScore)} / ${num(m.memUnderAllocationPct ?? m.underPct)} %`;
    const rows = s.slices.map((sl) => h('tr', { 'data-slice': sl.name },
      h('th', { scope: 'row' }, sl.name),
      h('td', {}, usage ? `${sl.windows} (${sl.workloads})` : String(sl.jobs)),
      ...systems.map((k) => h('td', { 'data-system': k, className: k === 'candidate' ? 'text cand' : 'text' }, cell(sl.systems[k])))));
    const ratio = s.slices[0] && s.slices[0].versus && s.slices[0].versus.active && s.slices[0].versus.active.businessScore;
    const caption = usage
      ? `business (5 × memory under % + over %, lower is better) / memory under-allocation %, on ${s.data.shadow.windows} windows of ${s.data.shadow.workloads} held-out workloads whose future is after ${s.data.cutoff}, and the same windows rescaled`
      : `business (5 × under % + over %, lower is better) / under-allocation %, on the ${s.data.heldBackJobs} latest jobs, held back from training (${s.data.split})`;
    const trained = usage
      ? `Trained on ${s.data.train.windows} windows of ${s.data.train.workloads} workloads (${s.data.description}); margin ${s.margin}${s.rulesGate ? ', rules gate on' : ''}.`
      : `Trained on ${s.data.trainJobs} jobs (${s.data.description}); margin ${s.margin}.`;
    box.replaceChildren(
      h('p', { id: 'training-decision', className: s.decision === 'promoted' ? 'ok' : s.decision === 'rejected' ? 'bad' : '' }, `${v.version}: ${s.decision || s.state}. ${s.reason || ''}`),
      h('table', { id: 'training-slices' },
        h('caption', { className: 'muted' }, caption),
        h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, rows)),
      ratio ? h('p', { className: 'muted' }, `candidate ÷ active business on the held-back windows: ${num(ratio.point, 3)} (95% over workloads ${num(ratio.lo, 3)} … ${num(ratio.hi, 3)})`) : null,
      h('p', { className: 'muted' }, trained));
  };
  select.addEventListener('change', show);
  show();
  return h('div', {}, h('div', { className: 'toolbar' }, h('label', { for: 'training-candidate' }, 'Candidate'), select), box);
}
