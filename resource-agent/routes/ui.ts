/**
 * ui: the dashboard, served by the agent itself (no CDN: every asset ships in the package, so it works in
 * an offline cluster). The page is static; its script reads the agent's own API (/readyz, /v1/families,
 * /v1/families/{name}/models, the admin routes) and the two routes below.
 *
 *   GET /ui                     the page (hash routes: #overview, #models, #workloads, #evaluation, #replay, #training)
 *   GET /ui/assets/{name}       the page's modules (UI_MODULES), style.css (resource-agent/ui/), charts.js and uPlot (src/report/charts.ts)
 *   GET /ui/api/config          whether admin calls and workloads are enabled (and why not), the reports folder's name
 *   GET /ui/api/reports         the evaluate/validate reports of --reports, newest first (reports.ts)
 *   GET /ui/api/replay          the served job families and whether each has a hold-out to replay (replay.ts)
 *   GET /ui/api/replay/jobs?family=job-memory/build-jobs   that hold-out's jobs: attributes and real peaks
 *
 * These routes need no token, so they never show a folder as the agent was given it: --reports and --replay
 * are shown by their last component ("reports"), report files by their path inside the folder.
 *
 * Every /ui response carries a strict Content-Security-Policy: scripts, styles and fetches from the agent
 * only, no inline script or style, no frames, no forms posting elsewhere. The admin token is never sent
 * to these routes: the page keeps it in memory and sends it to the admin routes only.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { CHART_ASSETS, CHART_CSS } from '../../src/report/charts.js';
import { listReports } from '../reports.js';
import type { AgentOptions } from '../options.js';
import type { ServedFamily } from '../families.js';
import { Replays } from '../replay.js';
import { AgentError } from '../errors.js';

/** CSP: what the dashboard may load; everything else is refused by the browser. */
export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const UI_DIR = join(import.meta.dirname, '../ui');
/** UI_MODULES: the page's ES modules (resource-agent/ui/): app.js, the router, imports the others. */
const UI_MODULES = ['app.js', 'dom.js', 'api.js', 'overview.js', 'models.js', 'evaluation.js', 'workloads.js', 'replay.js', 'training.js'];

interface Asset {
  type: string;
  body: Buffer;
}

/** assets: the files the page loads, read once at start-up (a missing one fails the start, not a page). */
function loadAssets(): Map<string, Asset> {
  const js = 'text/javascript; charset=utf-8';
  const css = 'text/css; charset=utf-8';
  return new Map<string, Asset>([
    ...UI_MODULES.map((name): [string, Asset] => [name, { type: js, body: readFileSync(join(UI_DIR, name)) }]),
    ['style.css', { type: css, body: Buffer.concat([readFileSync(join(UI_DIR, 'style.css')), Buffer.from('\n' + CHART_CSS + '\n')]) }],
    ['charts.js', { type: js, body: readFileSync(CHART_ASSETS['charts.js']) }],
    ['uPlot.iife.min.js', { type: js, body: readFileSync(CHART_ASSETS['uPlot.iife.min.js']) }],
    ['uPlot.min.css', { type: css, body: readFileSync(CHART_ASSETS['uPlot.min.css']) }],
  ]);
}

/** shownDir: what unauthenticated callers see of a folder option: its last component ("/srv/x/reports" → "reports"). */
export function shownDir(dir: string): string {
  return basename(dir.replace(/[\\/]+$/, '')) || '.';
}

function secure(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-cache');
}

/** uiRoutes registers the dashboard's routes (hidden from /docs: they are the page's, not the API's). */
export function uiRoutes(app: FastifyInstance, o: AgentOptions, served: readonly ServedFamily[] = []): void {
  const assets = loadAssets();
  const replays = new Replays(served, o.replay);
  const index = readFileSync(join(UI_DIR, 'index.html'));
  const hide = { schema: { hide: true } };

  app.get('/ui', hide, (_req, reply) => secure(reply).type('text/html; charset=utf-8').send(index));

  app.get<{ Params: { name: string } }>('/ui/assets/:name', hide, (req, reply) => {
    const a = assets.get(req.params.name);
    if (!a) return secure(reply).code(404).type('text/plain; charset=utf-8').send(`no asset ${req.params.name}; the page loads ${[...assets.keys()].join(', ')}`);
    return secure(reply).type(a.type).send(a.body);
  });

  app.get('/ui/api/config', hide, (_req, reply) =>
    secure(reply).send({
      admin: o.adminTokenFile !== null ? { enabled: true, reason: null } : { enabled: false, reason: 'the agent runs without an admin token (start it with --admin-token-file or RESOURCE_AGENT_ADMIN_TOKEN_FILE)' },
      reports: o.reports === null ? null : shownDir(o.reports),
      workloads: o.prometheus !== null ? { enabled: true, reason: null } : { enabled: false, reason: 'the agent runs without --prometheus (RESOURCE_AGENT_PROMETHEUS), so it reads no workloads' },
    }),
  );

  app.get('/ui/api/reports', hide, (_req, reply) => secure(reply).send({ ...listReports(o.reports), dir: o.reports === null ? null : shownDir(o.reports) }));

  app.get('/ui/api/replay', hide, (_req, reply) => secure(reply).send({ replayDir: o.replay === null ? null : shownDir(o.replay), families: replays.list() }));

  app.get<{ Querystring: { family?: string } }>('/ui/api/replay/jobs', hide, (req, reply) => {
    const family = req.query.family ?? '';
    const r = replays.jobs(family);
    if (!r) throw new AgentError('ROUTE_NOT_FOUND', `no job family '${family}' is served here; see GET /ui/api/replay`);
    if (!r.jobs) throw new AgentError('ROUTE_NOT_FOUND', `${family} has no hold-out to replay: ${r.info.reason}`);
    return secure(reply).send({ ...r.info, jobs: r.jobs });
  });
}
