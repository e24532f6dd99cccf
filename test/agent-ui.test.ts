/**
 * agent-ui: the dashboard's routes in-process (app.inject, no browser): the page and its assets carry
 * the strict Content-Security-Policy and load nothing from elsewhere, /ui/api/config says whether admin
 * calls are enabled, /ui/api/reports lists the --reports folder's reports newest first and skips other
 * JSON with a reason, /ui/api/replay finds a job family's hold-out (--replay DIR, else the manifest's
 * validation.data) or says why not, a window is downsampled to at most 300 points with the worked numbers
 * of window-samples.ts, and --no-ui removes it all. The browser checks are in ui-browser.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createAgent } from '../resource-agent/app.js';
import type { Agent } from '../resource-agent/app.js';
import { AGENT_DEFAULTS, parseOptions } from '../resource-agent/options.js';
import { CSP } from '../resource-agent/routes/ui.js';
import { listReports, viewOf } from '../resource-agent/reports.js';
import { makeStore } from './helpers/model-store.js';
import type { TempStore } from './helpers/model-store.js';
import { constLoad } from './helpers/model-store.js';
import { downsampleWindow } from '../resource-agent/window-samples.js';
import { Replays } from '../resource-agent/replay.js';
import type { ServedFamily } from '../resource-agent/families.js';

const metrics = (under: number, over: number) => ({ windows: 10, memUnderAllocationPct: under, cpuLimitBreachPct: 0, memOverAllocationPct: over, cpuRequestSlackPct: 10, memRequestSlackPct: 20, businessScore: 5 * under + over });

describe('/ui routes', () => {
  let store: TempStore;
  let dir: string;
  const agents: Agent[] = [];
  const make = async (o: object = {}) => {
    const a = await createAgent({ ...AGENT_DEFAULTS, manifest: store.manifestPath, reports: dir, ...o }, { logger: false, defaultMetrics: false, load: constLoad(new Float32Array(5).fill(0.5)) });
    agents.push(a);
    return a;
  };

  beforeAll(() => {
    store = makeStore([1]);
    dir = mkdtempSync(join(tmpdir(), 'crp-ui-reports-'));
    mkdirSync(join(dir, 'validate'));
    writeFileSync(join(dir, 'old.json'), JSON.stringify({ trace: 'bitbrains', windows: 10, vms: ['vm1'], overall: { model: metrics(1, 50), vpa: metrics(3, 20) } }));
    writeFileSync(join(dir, 'validate/report.json'), JSON.stringify({ gates: [], overall: metrics(2, 40), rules: { 'fixed-max-x1.3': metrics(4, 30) }, data: { source: 'real.npz', samples: 10 }, riskCurve: [{ resource: 'memory', target: 0.9, factor: 1, observedHoldPct: 90, overPct: 35, businessScore: 85 }] }));
    writeFileSync(join(dir, 'broken.json'), '{ not json');
    writeFileSync(join(dir, 'other.json'), '[1, 2]');
    // old.json is the oldest, validate/report.json the newest
    utimesSync(join(dir, 'old.json'), new Date('2026-01-01'), new Date('2026-01-01'));
    utimesSync(join(dir, 'validate/report.json'), new Date('2026-01-03'), new Date('2026-01-03'));
  });
  afterAll(async () => {
    for (const a of agents) await a.app.close();
    store.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('GET /ui is the page, with a strict CSP and only same-origin scripts and styles', async () => {
    const a = await make();
    const r = await a.app.inject('/ui');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.headers['content-security-policy']).toBe(CSP);
    expect(CSP).toContain("script-src 'self'");
    expect(CSP).not.toContain('unsafe-inline');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    const srcs = [...r.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(srcs.filter((s) => !s.startsWith('/') && !s.startsWith('#') && !s.startsWith('data:'))).toEqual([]);
    expect(r.body).not.toMatch(/<script>|style=/);
  });

  it('GET / redirects to the dashboard, or to the API docs when the dashboard is off (it used to be 404)', async () => {
    const on = await (await make()).app.inject('/');
    expect([on.statusCode, on.headers.location]).toEqual([302, '/ui']);
    const off = await (await make({ ui: false })).app.inject('/');
    expect([off.statusCode, off.headers.location]).toEqual([302, '/docs']);
  });

  it('serves every asset the page names, with its type; an unknown one is 404', async () => {
    const a = await make();
    const page = (await a.app.inject('/ui')).body;
    for (const m of page.matchAll(/"\/ui\/assets\/([^"]+)"/g)) {
      const r = await a.app.inject(`/ui/assets/${m[1]}`);
      expect(r.statusCode, m[1]).toBe(200);
      expect(r.headers['content-type']).toMatch(m[1]!.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      expect(r.headers['content-security-policy']).toBe(CSP);
    }
    expect((await a.app.inject('/ui/assets/app.js')).body).toContain('data-loaded');
    expect((await a.app.inject('/ui/assets/../options.ts')).statusCode).toBe(404);
    const r = await a.app.inject('/ui/assets/nope.js');
    expect(r.statusCode).toBe(404);
    expect(r.body).toContain('app.js');
  });

  it('/ui/api/config: admin disabled with the reason when no token file is configured', async () => {
    const off = await make({ adminTokenFile: null });
    // the reports folder by its name only: these routes need no token, so no absolute path
    expect((await off.app.inject('/ui/api/config')).json()).toEqual({ admin: { enabled: false, reason: expect.stringContaining('--admin-token-file') }, reports: basename(dir), workloads: { enabled: false, reason: expect.stringContaining('--prometheus') } });
    const tokenFile = join(store.dir, 'token');
    writeFileSync(tokenFile, 't\n');
    const on = await make({ adminTokenFile: tokenFile });
    expect((await on.app.inject('/ui/api/config')).json().admin).toEqual({ enabled: true, reason: null });
  });

  it('/ui/api/reports: the validate report (newest) then the evaluate one; other JSON is skipped with a reason', async () => {
    const a = await make();
    const list = (await a.app.inject('/ui/api/reports')).json();
    expect(list.reports.map((r: { file: string; kind: string }) => [r.file, r.kind])).toEqual([[join('validate', 'report.json'), 'validate'], ['old.json', 'evaluate']]);
    const [v, e] = list.reports;
    expect(Object.keys(v.systems)).toEqual(['model', 'fixed-max-x1.3']);
    expect(v.title).toBe('validate on real.npz: 10 windows');
    // the chart: one point per system, the memory risk target as a line of 1 point
    expect(v.chart.series.map((s: { points: unknown[] }) => s.points.length)).toEqual([1, 1, 1]);
    expect(e.title).toBe('bitbrains: 1 VMs, 10 windows');
    // the model last (a ring over any system it sits on): vpa (20, 3), then the model (50, 1)
    expect(e.chart.series.map((s: { points: number[][] }) => s.points)).toEqual([[[20, 3]], [[50, 1]]]);
    expect(list.skipped.map((s: { file: string }) => s.file).sort()).toEqual(['broken.json', 'other.json']);
    expect(list.skipped.find((s: { file: string }) => s.file === 'broken.json').reason).toMatch(/^not JSON/);
  });

  it('without --reports the list is empty and says so (dir null)', () => {
    expect(listReports(null)).toEqual({ dir: null, reports: [], skipped: [] });
    expect(viewOf('x.json', '', { overall: {} })).toBe('not an evaluate or validate report (unknown shape)');
  });

  it('/ui/api/replay: a store with no job family lists none; an unknown family is 404 naming the list', async () => {
    const a = await make();
    expect((await a.app.inject('/ui/api/replay')).json()).toEqual({ replayDir: null, families: [] });
    const r = await a.app.inject('/ui/api/replay/jobs?family=job-memory/build-jobs');
    expect(r.statusCode).toBe(404);
    expect(r.json().error.message).toBe("no job family 'job-memory/build-jobs' is served here; see GET /ui/api/replay");
  });

  it('Replays: --replay DIR first (DIR/<data set>/holdout.csv), then the manifest\'s validation.data; neither says which paths were tried', () => {
    const holdDir = mkdtempSync(join(tmpdir(), 'crp-replay-'));
    try {
      const header = 'atom_id;time;location;memory_fail_count;branch;buildProfile;jobs;localJobs;makeType;targets;component;ts_phase;ts_status;cgroup;max_rss;max_cache;memreq';
      // 50 jobs (the reader's minimum); job i peaks at (i + 1) GiB and asked for 1024 MiB
      const rows = Array.from({ length: 50 }, (_, i) => `id${String(i).padStart(12, '0')};2025-05-01 00:${String(i).padStart(2, '0')}:00.000;location_1;0;branch_1;p;4;2;opt;all,dist;c;testing;ok;/x;${(i + 1) * 2 ** 30};0;1024`);
      mkdirSync(join(holdDir, 'toy'));
      writeFileSync(join(holdDir, 'toy', 'holdout.csv'), [header, ...rows].join('\n') + '\n');
      const fam = (validation: Record<string, unknown> | null) => ({
        family: { name: 'job-memory/toy', serving: { path: '/v1/jobs/toy/recommend' } },
        // as a real ModelStore: status() shows only the file name, the getter holds the path
        store: { manifestPath: join(holdDir, 'manifest.json'), status: () => ({ manifestPath: 'manifest.json', versions: [{ active: true, validation }] }) },
      }) as unknown as ServedFamily;
      // no --replay, no validation.data: not available, and why
      const none = new Replays([fam(null)], null).list()[0]!;
      expect(none).toMatchObject({ family: 'job-memory/toy', batch: '/v1/jobs/toy/recommend/batch', available: false, jobs: 0 });
      expect(none.reason).toMatch(/^no hold-out recorded: .*--replay DIR .*toy\/holdout\.csv/);
      // the manifest's path, relative to the manifest's folder
      const viaManifest = new Replays([fam({ data: 'toy/holdout.csv' })], null);
      // callers see the manifest's relative path, never the server's folders
      expect(viaManifest.list()[0]).toMatchObject({ available: true, via: 'manifest', jobs: 50, source: 'toy/holdout.csv' });
      const jobs = viaManifest.jobs('job-memory/toy')!.jobs!;
      expect(jobs[2]).toEqual({ id: 'id0000000000', time: '2025-05-01T00:02:00.000Z', attributes: { location: 'location_1', branch: 'branch_1', buildProfile: 'p', jobs: 4, localJobs: 2, makeType: 'opt', targets: ['all', 'dist'], component: 'c', ts_phase: 'testing' }, peakBytes: 3 * 2 ** 30, requestedBytes: 2 ** 30 });
      // --replay wins; a --replay folder without the file falls back to the manifest, naming what was tried
      expect(new Replays([fam({ data: 'nope.csv' })], holdDir).list()[0]).toMatchObject({ available: true, via: 'replay-dir' });
      const missing = new Replays([fam({ data: 'nope.csv' })], join(holdDir, 'toy')).list()[0]!;
      expect(missing.available).toBe(false);
      expect(missing.reason).toBe(`no readable hold-out: tried <--replay>/toy/holdout.csv (--replay: not found); nope.csv (the manifest's validation.data: not found)`);
      expect(JSON.stringify(missing)).not.toContain(holdDir);
    } finally {
      rmSync(holdDir, { recursive: true, force: true });
    }
  });

  it('downsampleWindow: 2,016 samples → 7 per point, 288 points (mean and highest CPU, highest memory); 100 → themselves', () => {
    const n = 2016;
    const w = { timestampsSec: Array.from({ length: n }, (_, i) => 1e9 + 300 * i), cpuCores: Array.from({ length: n }, (_, i) => i % 7), memoryBytes: Array.from({ length: n }, (_, i) => 1000 + i) };
    const s = downsampleWindow(w);
    expect([s.samples, s.perPoint, s.timestampsSec.length]).toEqual([2016, 7, 288]);
    // point 1 holds samples 7..13: CPU 0..6 → mean 3, highest 6; memory 1007..1013 → 1013
    expect([s.timestampsSec[1], s.cpuCoresMean[1], s.cpuCoresMax[1], s.memoryBytesMax[1]]).toEqual([1e9 + 2100, 3, 6, 1013]);
    // 600 samples → 2 per point, 300 points; 100 samples → 100 points equal to the samples
    expect(downsampleWindow({ ...w, timestampsSec: w.timestampsSec.slice(0, 600), cpuCores: w.cpuCores.slice(0, 600), memoryBytes: w.memoryBytes.slice(0, 600) }).timestampsSec.length).toBe(300);
    const small = downsampleWindow({ timestampsSec: w.timestampsSec.slice(0, 100), cpuCores: w.cpuCores.slice(0, 100), memoryBytes: w.memoryBytes.slice(0, 100) });
    expect([small.perPoint, small.cpuCoresMax, small.memoryBytesMax]).toEqual([1, w.cpuCores.slice(0, 100), w.memoryBytes.slice(0, 100)]);
    expect(small.cpuCoresMean).toEqual(small.cpuCoresMax);
  });

  it('BAD CALL - --replay naming a missing folder is refused, naming the flag', () => {
    expect(() => parseOptions(['--replay', join(dir, 'nope')], {})).toThrow(/--replay \(RESOURCE_AGENT_REPLAY\): .* is not a folder/);
  });

  it('--no-ui: no /ui routes', async () => {
    const a = await make({ ui: false });
    expect((await a.app.inject('/ui')).statusCode).toBe(404);
  });

  it('BAD CALL - --reports naming a missing folder is refused, naming the flag', () => {
    expect(() => parseOptions(['--reports', join(dir, 'nope')], {})).toThrow(/--reports \(RESOURCE_AGENT_REPORTS\): .* is not a folder/);
    const o = parseOptions(['--reports', dir, '--no-ui'], {});
    expect('options' in o && [o.options.reports, o.options.ui]).toEqual([dir, false]);
  });
});
