/**
 * training-jobs-replicas: training jobs with two REAL agent processes (`npm start`) on one store, real
 * retraining children on real Bitbrains VMs (../shared/data/bitbrains-250, VMs 1–60): two jobs submitted to
 * different agents run one at a time and each exactly once (two new versions, each job one runner); a running
 * job cancelled through the agent that does not run it stops (its child gone, nothing exported, no lock left);
 * an agent killed with SIGKILL mid-job: the restarted agent marks the job failed with the reason, and the
 * job's child stopped with it. (The same API in one agent: test/training-jobs.test.ts.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { need } from './helpers/env.js';
import { family, readManifest } from './helpers/manifest.js';
import { auth, processGone, quick, removeStores, shippedStore, slow, startAgentProcess, until } from './helpers/training-jobs.js';
import type { AgentProcess } from './helpers/training-jobs.js';

const skip = need('shared-data');

afterAll(removeStores);

describe.skipIf(skip)('training jobs with two real agent processes on one store', () => {
  const agents: AgentProcess[] = [];
  afterAll(async () => {
    for (const a of agents) await a.stop();
  });
  // the API's JSON, read loosely (the shapes are checked by the assertions)
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const getJ = async (a: AgentProcess, path: string): Promise<any> => (await fetch(`${a.url}${path}`)).json();
  const submit = async (a: AgentProcess, body: unknown) => {
    const r = await fetch(`${a.url}/v1/training-jobs`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(r.status).toBe(202);
    return (await r.json()) as { id: string };
  };

  it('two jobs submitted to two agents run one at a time, each exactly once', async () => {
    const store = shippedStore();
    const [a, b] = [await startAgentProcess(store), await startAgentProcess(store)];
    agents.push(a, b);
    const j1 = await submit(a, quick);
    const j2 = await submit(b, { ...quick, training: { ...quick.training, seed: 2 } });
    let most = 0;
    const final = await until(async () => {
      const [la, lb] = [await getJ(a, '/v1/training-jobs'), await getJ(b, '/v1/training-jobs')];
      // both agents read the same store: the same jobs
      expect(la.jobs.map((j: { id: string }) => j.id)).toEqual(lb.jobs.map((j: { id: string }) => j.id));
      most = Math.max(most, la.jobs.filter((j: { state: string }) => j.state === 'running').length);
      return la.jobs as { id: string; state: string; runner: string; result: { version: string } | null; error: string | null }[];
    }, (js) => js.length === 2 && js.every((j) => ['succeeded', 'failed', 'cancelled'].includes(j.state)), 240_000, 100);
    expect(final.map((j) => j.state), JSON.stringify(final.map((j) => j.error))).toEqual(['succeeded', 'succeeded']);
    expect(most).toBe(1);
    expect(new Set(final.map((j) => j.result!.version))).toEqual(new Set(['2.1.0', '2.2.0']));
    expect(final.map((j) => j.id).sort()).toEqual([j1.id, j2.id].sort());
    // exactly once: two jobs, two new versions, and nothing else
    expect(family(readManifest(store.manifest)).versions.map((v) => v.version)).toEqual(['2.0.0', '2.1.0', '2.2.0']);
    await a.stop();
    await b.stop();
  }, 300_000);

  it('cancel from the other replica: the agent that runs the job sees the marker within a heartbeat and stops its child', async () => {
    const store = shippedStore();
    const [a, b] = [await startAgentProcess(store), await startAgentProcess(store)];
    agents.push(a, b);
    const job = await submit(a, slow);
    const running = await until(() => getJ(a, `/v1/training-jobs/${job.id}`), (j) => j.state === 'running' && j.stage === 'training');
    // either agent may have claimed it: cancel through the one that does not run it
    const runnerPid = Number(/\(pid (\d+)\)$/.exec(running.runner)![1]);
    const [runner, other] = runnerPid === a.proc.pid ? [a, b] : [b, a];
    expect(runnerPid).toBe(runner.proc.pid);
    const childPid = JSON.parse(readFileSync(join(store.dir, 'training-jobs', `${job.id}.json`), 'utf8')).childPid as number;
    const r = await fetch(`${other.url}/v1/training-jobs/${job.id}/cancel`, { method: 'POST', headers: auth });
    expect(r.status).toBe(200);
    const done = await until(() => getJ(other, `/v1/training-jobs/${job.id}`), (j) => j.state !== 'running', 60_000);
    expect(done.state).toBe('cancelled');
    expect(done.error).toMatch(/^cancelled while running/);
    expect(done.runner).toBe(running.runner);
    await processGone(childPid);
    // nothing promoted or exported, and no lock, slot or cancel marker left in the store
    expect(family(readManifest(store.manifest)).versions.map((v) => v.version)).toEqual(['2.0.0']);
    expect(readdirSync(join(store.dir, 'training-jobs')).filter((f) => !f.endsWith('.json'))).toEqual([]);
    await a.stop();
    await b.stop();
  }, 300_000);

  it('an agent killed mid-job (SIGKILL): the restarted agent marks the job failed with the reason; the job\'s child stopped with it', async () => {
    const store = shippedStore();
    const a = await startAgentProcess(store);
    agents.push(a);
    const job = await submit(a, slow);
    await until(() => getJ(a, `/v1/training-jobs/${job.id}`), (j) => j.state === 'running' && j.stage === 'training');
    const file = join(store.dir, 'training-jobs', `${job.id}.json`);
    const childPid = JSON.parse(readFileSync(file, 'utf8')).childPid as number;
    await a.stop('SIGKILL');
    const restarted = await startAgentProcess(store);
    agents.push(restarted);
    const failed = await until(() => getJ(restarted, `/v1/training-jobs/${job.id}`), (j) => j.state !== 'running', 60_000);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(new RegExp(`^interrupted: its agent \\(pid ${a.proc.pid} on .+\\) is gone while the job was training \\(\\d+%\\)`));
    // the child saw its stdin close and stopped (no orphan that could promote later)
    await processGone(childPid);
    expect(family(readManifest(store.manifest)).active).toBe('2.0.0');
    // the job is still listed (never lost), and no lock is left behind
    expect((await getJ(restarted, '/v1/training-jobs')).jobs.map((j: { id: string }) => j.id)).toEqual([job.id]);
    await restarted.stop();
  }, 300_000);
});
