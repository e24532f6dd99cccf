/*
 * app.js: the dashboard's router, drawn from the agent's own API. Hash routes, one module a page:
 * #overview (overview.js), #models (models.js), #workloads (workloads.js: GET /v1/workloads, with
 * ?samples=1 for a container's chart), #evaluation (evaluation.js), #replay (replay.js: a job family's
 * hold-out streamed through its POST …/recommend/batch), #training (training.js: retraining jobs and each
 * candidate next to the active version). Every element is built with the DOM API and text nodes (dom.js:
 * no innerHTML of data); charts are drawn by charts.js (window.crpCharts, uPlot); the agent is called
 * through api.js, which keeps the admin token. When a page has finished loading, <main> gets
 * data-loaded="<page>" (the browser tests wait for it).
 */
import { h, num, when } from './dom.js';
import { adminPost, api, getJson } from './api.js';
import { overview } from './overview.js';
import { models } from './models.js';
import { evaluation } from './evaluation.js';
import { workloads } from './workloads.js';
import { replay, stopReplay } from './replay.js';
import { trainingPage } from './training.js';

const main = document.getElementById('main');
let renderSeq = 0;

/** PAGES: each hash route and the function that builds its parts. */
const PAGES = { overview, models, workloads, evaluation, replay, training: () => trainingPage({ h, api, getJson, num, when, adminPost, rerender: render }) };

/** render draws the page the location hash names (Overview when it names none). */
async function render() {
  const seq = ++renderSeq;
  const name = PAGES[location.hash.slice(1)] ? location.hash.slice(1) : 'overview';
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${name[0].toUpperCase()}${name.slice(1)} · resource-agent`;
  stopReplay();
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
