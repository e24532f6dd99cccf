/**
 * training-jobs: the agent's POST/GET /v1/training-jobs and cancel, with REAL retraining children
 * (retrain.ts → train.ts) on real Bitbrains VMs (../shared/data/bitbrains-250, VMs 1–60, about 10 s a job),
 * on copies of the shipped store (v2.0.0 active).
 *
 * In process (app.inject): admin token, field errors, a job from queued to succeeded with its stages,
 * (and a job-memory/build-jobs job from the build-jobs CSV with a 3 s selection budget),
 * progress, ETA, log tail and resulting version (also in GET /v1/models with its shadow record); cancel
 * of a running job (its child stops, nothing exported) and of a queued one (concurrency 1); cancel of a
 * finished job (409 JOB_FINISHED), an unknown id (404); a read-only (ConfigMap) store answers 409
 * STORE_READ_ONLY naming the in-cluster CronJob of the ConfigMap store; GET /metrics shows the jobs by
 * state, the running job's progress and the last finished job's duration.
 * Two real agent processes on one store: test/training-jobs-replicas.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, symlinkSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { need } from './helpers/env.js';
import { createAgent } from '../resource-agent/app.js';
import type { Agent } from '../resource-agent/app.js';
import { AGENT_DEFAULTS } from '../resource-agent/options.js';
import { family, readManifest } from './helpers/manifest.js';
import { auth, JOB_CSV, quick, removeStores, shippedStore, slow, until } from './helpers/training-jobs.js';

const skip = need('shared-data');

afterAll(removeStores);

describe.skipIf(skip)('training jobs in one agent (in process)', () => {
  let agent: Agent;
  let store: ReturnType<typeof shippedStore>;
  const get = async (url: string) => (await agent.app.inject({ method: 'GET', url })).json();
  const post = (url: string, payload?: unknown, headers: Record<string, string> = auth) => agent.app.inject({ method: 'POST', url, payload: payload as object, headers });
  const metricsText = async () => (await agent.app.inject({ method: 'GET', url: '/metrics' })).body;
  /** gauge: the value of one series in the metrics text, or NaN when it is absent. */
  const gauge = (text: string, series: string) => Number(text.split('\n').find((l) => l.startsWith(`${series} `))?.split(' ')[1] ?? NaN);

  beforeAll(async () => {
    store = shippedStore();
    agent = await createAgent({ ...AGENT_DEFAULTS, manifest: store.manifest, adminTokenFile: store.token, docs: true, ui: false, pollIntervalMs: 0, trainingConcurrency: 1, trainingHeartbeatMs: 200 }, { logger: false, defaultMetrics: false });
    await agent.stores.start();
    await agent.app.ready();
  });

  afterAll(async () => {
    await agent?.app.close();
    await agent?.stores.close();
  });

  it('BAD CALL - no token is 401, a wrong field is 400 naming it, an agent without --prometheus needs data', async () => {
    expect((await post('/v1/training-jobs', quick, {})).statusCode).toBe(401);
    const bad = await post('/v1/training-jobs', { ...quick, training: { epochs: -1 } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'INVALID_FIELD', field: 'training.epochs' });
    const noData = await post('/v1/training-jobs', {});
    expect(noData.json().error.field).toBe('data');
    expect(noData.json().error.message).toMatch(/no --prometheus/);
    const prom = await post('/v1/training-jobs', { data: { prometheus: { history: '28d' } } });
    expect(prom.json().error).toMatchObject({ field: 'data.prometheus' });
    const unknown = await post('/v1/training-jobs', { ...quick, promote: true });
    expect(unknown.json().error).toMatchObject({ field: 'promote' });
    const fam = await post('/v1/training-jobs', { ...quick, family: 'job-memory/build-jobs' });
    expect(fam.json().error).toMatchObject({ field: 'data' });
    expect(fam.json().error.message).toMatch(/a job-memory\/build-jobs job retrains from a job CSV: \{"jobs": \{"path"/);
    // the families come from the registry's retraining hooks: the route names none itself
    const gpu = (await post('/v1/training-jobs', { ...quick, family: 'gpu-hours' })).json().error;
    expect(gpu).toMatchObject({ field: 'family' });
    expect(gpu.message).toMatch(/^family: 'gpu-hours': training jobs retrain container-resources \(data: prometheus or traces\), or job-memory\/<data set> \(data: jobs, a job CSV\)/);
    // a family with members is retrained one data set at a time
    expect((await post('/v1/training-jobs', { ...quick, family: 'job-memory' })).json().error.message).toMatch(/^family: 'job-memory': training jobs retrain /);
    const jobs = { family: 'job-memory/build-jobs', data: { jobs: { path: JOB_CSV } } };
    expect((await post('/v1/training-jobs', { ...jobs, budget: -1 })).json().error).toMatchObject({ code: 'INVALID_FIELD', field: 'body.budget' });
    expect((await post('/v1/training-jobs', { ...jobs, budget: 'fast' })).json().error.message).toMatch(/"fast"; expected seconds for the model selection/);
    expect((await post('/v1/training-jobs', { ...jobs, training: { epochs: 3 } })).json().error).toMatchObject({ field: 'training' });
    expect((await post('/v1/training-jobs', { ...jobs, data: { jobs: { path: '/nope.csv' } } })).json().error).toMatchObject({ field: 'data.jobs.path' });
    expect((await agent.app.inject({ method: 'GET', url: '/v1/training-jobs/tj-20250101000000-abcdef' })).json().error.code).toBe('JOB_NOT_FOUND');
    const doc = await get('/openapi.json');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/training-jobs', '/v1/training-jobs/{id}', '/v1/training-jobs/{id}/cancel']));
  });

  it('a job goes queued → running (stages, progress, ETA, log) → succeeded with its version and figures; /v1/models shows the candidate', async () => {
    const r = await post('/v1/training-jobs', quick);
    expect(r.statusCode).toBe(202);
    const job = r.json();
    expect(job.state).toBe('queued');
    expect(r.headers.location).toBe(`/v1/training-jobs/${job.id}`);
    expect(job.request).toMatchObject({ family: 'container-resources', margin: 0.02, autoPromote: false, holdout: { period: '4d', share: 0.3 }, training: { epochs: 30, patience: 10, seed: 1 } });
    const seen = new Set<string>();
    let eta = false;
    const done = await until(() => get(`/v1/training-jobs/${job.id}`), (j) => {
      if (j.stage) seen.add(j.stage);
      if (j.state === 'running' && j.etaSec !== null) eta = true;
      return ['succeeded', 'failed', 'cancelled'].includes(j.state);
    }, 240_000, 50);
    expect(done.state, done.error).toBe('succeeded');
    expect(done.progress).toBe(100);
    expect(seen.has('training')).toBe(true);
    expect(eta).toBe(true);
    expect(done.runner).toMatch(/\(pid \d+\)$/);
    expect(done.log.length).toBeGreaterThan(3);
    expect(done.result).toMatchObject({ version: '2.1.0', against: '2.0.0', active: '2.0.0' });
    expect(['rejected', 'eligible']).toContain(done.result.decision);
    expect(Object.keys(done.result.heldBack).sort()).toEqual(['active', 'candidate', 'fixed-max-x1.3', 'krr', 'vpa']);
    await agent.stores.reload(); // server.ts watches the manifest; an in-process agent reloads when told
    const models = await get('/v1/models');
    const v = models.versions.find((x: { version: string }) => x.version === '2.1.0');
    expect(v.active).toBe(false);
    expect(v.shadow.decision).toBe(done.result.decision);
    const list = await get('/v1/training-jobs');
    expect(list).toMatchObject({ writable: true, how: null, concurrency: 1 });
    expect(list.jobs[0].id).toBe(job.id);
    // a finished job cannot be cancelled
    const again = await post(`/v1/training-jobs/${job.id}/cancel`);
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('JOB_FINISHED');
  }, 300_000);

  it('cancel: a running job stops (its child is gone, nothing exported) and a queued one never starts', async () => {
    const first = (await post('/v1/training-jobs', slow)).json();
    const second = (await post('/v1/training-jobs', slow)).json();
    const running = await until(() => get(`/v1/training-jobs/${first.id}`), (j) => j.state === 'running' && j.stage === 'training');
    expect((await get(`/v1/training-jobs/${second.id}`)).state).toBe('queued');
    const pid = JSON.parse(readFileSync(join(store.dir, 'training-jobs', `${first.id}.json`), 'utf8')).childPid as number;
    expect(running.runner).toBeTruthy();
    // GET /metrics: the jobs by state (the previous test's job succeeded), the running one's progress, the
    // duration of the last finished one
    const before = await metricsText();
    expect(gauge(before, 'resource_agent_training_jobs{state="running"}')).toBe(1);
    expect(gauge(before, 'resource_agent_training_jobs{state="queued"}')).toBe(1);
    expect(gauge(before, 'resource_agent_training_jobs{state="succeeded"}')).toBe(1);
    expect(gauge(before, 'resource_agent_training_jobs{state="cancelled"}')).toBe(0);
    expect(gauge(before, `resource_agent_training_job_progress_percent{job="${first.id}"}`)).toBeGreaterThanOrEqual(15);
    expect(gauge(before, 'resource_agent_training_last_duration_seconds{state="succeeded"}')).toBeGreaterThan(0);
    const c2 = await post(`/v1/training-jobs/${second.id}/cancel`);
    expect(c2.statusCode).toBe(200);
    expect(c2.json().state).toBe('cancelled');
    await post(`/v1/training-jobs/${first.id}/cancel`);
    const j1 = await until(() => get(`/v1/training-jobs/${first.id}`), (j) => j.state !== 'running');
    expect(j1.state).toBe('cancelled');
    expect(() => process.kill(pid, 0)).toThrow();
    const after = await metricsText();
    expect(gauge(after, 'resource_agent_training_jobs{state="running"}')).toBe(0);
    expect(gauge(after, 'resource_agent_training_jobs{state="cancelled"}')).toBe(2);
    expect(after).not.toMatch(/resource_agent_training_job_progress_percent\{/);
    // the last finished job that had started is the cancelled running one
    expect(gauge(after, 'resource_agent_training_last_duration_seconds{state="cancelled"}')).toBeGreaterThan(0);
    expect((await get(`/v1/training-jobs/${second.id}`)).startedAt).toBeNull();
    // cancelled in training: no candidate beyond the first test's 2.1.0
    expect(family(readManifest(store.manifest)).versions.map((x) => x.version)).toEqual(['2.0.0', '2.1.0']);
  }, 300_000);

  it('a job-memory family: a job CSV as data and the search budget passed through; the candidate judged against the active version on the latest held-back jobs', async () => {
    const r = await post('/v1/training-jobs', { family: 'job-memory/build-jobs', data: { jobs: { path: JOB_CSV } }, budget: 3 });
    expect(r.statusCode).toBe(202);
    expect(r.json().request).toMatchObject({ family: 'job-memory/build-jobs', data: { jobs: { path: 'build-jobs.csv' } }, budget: 3, autoPromote: false });
    const done = await until(() => get(`/v1/training-jobs/${r.json().id}`), (j) => ['succeeded', 'failed', 'cancelled'].includes(j.state), 240_000, 100);
    expect(done.state, done.error).toBe('succeeded');
    expect(done.result).toMatchObject({ against: '1.0.0', active: '1.0.0' });
    expect(['rejected', 'eligible']).toContain(done.result.decision);
    expect(Object.keys(done.result.heldBack).sort()).toEqual(['active', 'as requested', 'candidate', 'fixed (train max)']);
    const fam = family(readManifest(store.manifest), 'job-memory/build-jobs');
    const cand = fam.versions.find((v) => v.version === done.result.version)!;
    // 4,598 build jobs in time order: the first 3,678 trained on, the latest 920 held back; the budget recorded
    expect(cand.shadow).toMatchObject({ state: 'decided', decision: done.result.decision, data: { source: 'jobs', split: 'chronological 80/20', trainJobs: 3678, heldBackJobs: 920, budgetSec: 3 } });
    expect(fam.active).toBe('1.0.0');
  }, 300_000);

  it('a read-only (ConfigMap) store answers 409 STORE_READ_ONLY naming the CronJob, and GET says how', async () => {
    const ro = shippedStore();
    mkdirSync(join(ro.dir, '..2025_06_02'));
    symlinkSync('..2025_06_02', join(ro.dir, '..data'));
    const a = await createAgent({ ...AGENT_DEFAULTS, manifest: ro.manifest, adminTokenFile: ro.token, docs: false, ui: false, pollIntervalMs: 0 }, { logger: false, defaultMetrics: false });
    await a.stores.start();
    try {
      const r = await a.app.inject({ method: 'POST', url: '/v1/training-jobs', payload: quick, headers: auth });
      expect(r.statusCode).toBe(409);
      expect(r.json().error.code).toBe('STORE_READ_ONLY');
      expect(r.json().error.message).toMatch(/create job --from=cronjob\/resource-agent-retrain/);
      expect(r.json().error.message).toMatch(/kubectl apply -k resource-agent\/deploy\/overlays\/configmap-store-retrain/);
      const list = (await a.app.inject({ method: 'GET', url: '/v1/training-jobs' })).json();
      expect(list).toMatchObject({ writable: false, jobs: [] });
      expect(list.how).toMatch(/CronJob/);
    } finally {
      await a.app.close();
      await a.stores.close();
    }
  });
});
