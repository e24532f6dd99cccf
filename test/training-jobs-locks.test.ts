/**
 * training-jobs-locks: the stale-lock takeover window of the training-job scheduler
 * (resource-agent/training-jobs.ts), on a real folder, with real lock files and a real child process, and
 * the scheduler's clock given (`now`), so the window is checked on both sides without waiting for it.
 *
 * The window: a holder on ANOTHER host cannot be asked whether it is alive, so its job is taken over only
 * when its lock has not been renewed for 10 heartbeats (heartbeat 1000 ms → 10 000 ms): at 9 000 ms and at
 * exactly 10 000 ms the job stays running and its slot stays held (a queued job waits); at 10 001 ms the job
 * is marked failed with the reason (holder, stage, progress, last heartbeat), its locks are removed, and the
 * queued job takes the slot and starts here. A dead holder on THIS host (its pid is gone) is taken over at
 * once, its lock 0 ms old.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrainingJobs } from '../resource-agent/training-jobs.js';
import type { Job, JobRequest } from '../resource-agent/training-jobs.js';
import { REPO } from './helpers/env.js';

const HEARTBEAT_MS = 1000;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const request: JobRequest = {
  family: 'container-resources',
  data: { traces: { paths: ['/data/traces'], trace: 'bitbrains', vms: null } },
  holdout: { period: '4d', share: 0.3, seed: 1 },
  training: { epochs: 1, patience: 1, batchSize: 8, learningRate: 0.01, valFraction: 0.2, seed: 1 },
  margin: 0.02,
  rulesGate: false,
  autoPromote: false,
};
const quiet = { info() {}, warn() {}, error() {} };
const dirs: string[] = [];
const open: TrainingJobs[] = [];

afterEach(async () => {
  for (const j of open.splice(0)) await j.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** scheduler: a TrainingJobs on a new folder whose jobs run a real child that waits (in place of retrain.ts). */
function scheduler(keep?: number): { jobs: TrainingJobs; dir: string; clock: { now: number } } {
  const dir = join(mkdtempSync(join(tmpdir(), 'crp-locks-')), 'training-jobs');
  dirs.push(join(dir, '..'));
  const clock = { now: T0 };
  const jobs = new TrainingJobs({ dir, manifestPath: join(dir, '..', 'manifest.json'), concurrency: 1, maxOldSpaceMb: 256, heartbeatMs: HEARTBEAT_MS, keep, prometheus: null, log: quiet, command: () => ({ file: process.execPath, args: ['-e', 'setTimeout(() => {}, 60000)'], cwd: REPO }), now: () => clock.now });
  open.push(jobs);
  return { jobs, dir, clock };
}

/** heldElsewhere: a job file made running by `holder`, with its claim and slot 0, both last renewed at T0. */
function heldElsewhere(jobs: TrainingJobs, dir: string, holder: { host: string; pid: number; boot: string }): Job {
  const j = jobs.submit(request);
  const running: Job = { ...j, state: 'running', startedAt: new Date(T0 - 60_000).toISOString(), stage: 'training', progress: 47, message: 'epoch 12/30', holder, childPid: 999_999 };
  writeFileSync(join(dir, `${j.id}.json`), JSON.stringify(running));
  const body = JSON.stringify({ ...holder, job: j.id, slot: 0 });
  for (const f of [`${j.id}.lock`, 'slot-0.lock']) {
    writeFileSync(join(dir, f), body);
    utimesSync(join(dir, f), T0 / 1000, T0 / 1000);
  }
  return running;
}

describe('the stale-lock takeover window', () => {
  it('a holder on another host: not taken over at 9 000 or 10 000 ms without a heartbeat, taken over at 10 001 ms', () => {
    const { jobs, dir, clock } = scheduler();
    expect(jobs.staleMs).toBe(10 * HEARTBEAT_MS);
    const held = heldElsewhere(jobs, dir, { host: 'node-b.example', pid: 4242, boot: 'b00b00' });
    const queued = jobs.submit({ ...request, training: { ...request.training!, seed: 2 } });

    for (const t of [9_000, 10_000]) {
      clock.now = T0 + t;
      jobs.tick();
      expect(jobs.read(held.id)!.state, `at ${t} ms`).toBe('running');
      expect(jobs.read(queued.id)!.state, `at ${t} ms`).toBe('queued');
      expect(existsSync(join(dir, `${held.id}.lock`))).toBe(true);
      expect(JSON.parse(readFileSync(join(dir, 'slot-0.lock'), 'utf8')).job).toBe(held.id);
    }

    clock.now = T0 + 10_001;
    jobs.tick();
    const failed = jobs.read(held.id)!;
    expect(failed.state).toBe('failed');
    expect(failed.error).toBe(`interrupted: its agent (pid 4242 on node-b.example) sent no heartbeat for 10 s while the job was training (47%); last heartbeat ${new Date(T0).toISOString()}. A candidate it had exported stays retained and not active; submit the job again`);
    expect(existsSync(join(dir, `${held.id}.lock`))).toBe(false);
    // the slot it held is free again: the queued job took it and runs here
    const started = jobs.read(queued.id)!;
    expect(started.state).toBe('running');
    expect(started.holder).toEqual(jobs.holder);
    expect(JSON.parse(readFileSync(join(dir, 'slot-0.lock'), 'utf8'))).toMatchObject({ job: queued.id, pid: process.pid });
    expect(() => process.kill(started.childPid!, 0)).not.toThrow();
  });

  it('a dead holder on this host is taken over at once (its lock 0 ms old)', () => {
    const { jobs, dir } = scheduler();
    // a pid that just exited
    const gone = spawnSync(process.execPath, ['-e', 'process.pid']).pid!;
    const held = heldElsewhere(jobs, dir, { host: hostname(), pid: gone, boot: 'b00b00' });
    jobs.tick();
    const failed = jobs.read(held.id)!;
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(new RegExp(`^interrupted: its agent \\(pid ${gone} on .+\\) is gone while the job was training \\(47%\\)`));
    expect(existsSync(join(dir, 'slot-0.lock'))).toBe(false);
  });
});

describe('finished jobs are kept up to --training-keep', () => {
  it('when a job ends, the oldest finished jobs beyond keep are deleted; queued ones stay whatever their age', () => {
    const { jobs, dir, clock } = scheduler(2);
    // six jobs a second apart: the first (oldest) stays queued, the next four have finished, the last is queued
    const ids = Array.from({ length: 6 }, () => {
      clock.now += 1000;
      return jobs.submit(request).id;
    });
    const ended = { succeeded: ids[1]!, failed: ids[2]!, cancelled: ids[3]! } as const;
    for (const [state, id] of Object.entries(ended)) {
      const j = jobs.read(id)!;
      writeFileSync(join(dir, `${id}.json`), JSON.stringify({ ...j, state, finishedAt: new Date(clock.now).toISOString() }));
    }
    writeFileSync(join(dir, `${ids[1]}.cancel`), 'x'); // a leftover marker goes with its job
    expect(jobs.prune()).toEqual([ids[1]]); // finished: 1, 2, 3 → keep the newest two
    // the last queued job is cancelled before it starts: that ends it, and ends the oldest finished one's stay
    expect(jobs.cancel(ids[5]!)!.state).toBe('cancelled');
    expect(jobs.ids()).toEqual([ids[0], ids[3], ids[4], ids[5]]);
    expect(existsSync(join(dir, `${ids[1]}.cancel`))).toBe(false);
    expect(jobs.read(ids[0]!)!.state).toBe('queued');
    expect(jobs.read(ids[4]!)!.state).toBe('queued');
  });
});

