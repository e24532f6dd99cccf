/**
 * training-jobs: the agent's retraining jobs (POST /v1/training-jobs, routes/training.ts). A job is one
 * `npm run retrain` (retrain.ts, src/retrain/run.ts) run as a CHILD PROCESS with a heap cap
 * (node --max-old-space-size), never on the request path: the agent only reads its progress lines.
 *
 * The child runs at the lowest CPU priority (nice 19, inherited by its own training child), so on shared
 * cores the agent's requests come first.
 *
 * Durable, in the model store: every job is a JSON file `<store>/training-jobs/<id>.json` (schema 1,
 * written atomically: temp, fsync, rename), so a restarted agent lists every job it ever had
 * (training-job-files.ts: the files and locks; training-child.ts: the child's arguments and lines).
 *
 * Exactly once, at most N at a time, across every agent process sharing a writable store (two replicas
 * on one volume): a job runs where its CLAIM `<id>.lock` was created (O_EXCL: exactly one creator wins),
 * and only by a holder of one of N SLOT files `slot-<k>.lock` (O_EXCL too), taken before the claim. The
 * holder rewrites both every `heartbeatMs`; the lock names the holder (host, pid, a per-process boot id).
 *
 * Interrupted: a job whose claim is missing or STALE (no heartbeat for 10 heartbeats), or held by a dead
 * process of this host (another pid that is gone, or this pid with another boot id: a restarted
 * container), is marked failed with the reason (which agent, its stage and progress, the last heartbeat),
 * and its locks are removed (a lock is removed only while it still names the stale holder; between that
 * check and the unlink there is a window of microseconds in which a new holder's slot could be lost). A
 * job's child holds the agent's pipe as its stdin (retrain --stop-with-stdin): if the agent dies, the
 * child cancels itself, so an interrupted job never promotes anything later.
 *
 * Cancel: a queued job is claimed by the cancelling agent and marked cancelled; a running one gets a
 * `<id>.cancel` marker that its holder sees within a heartbeat (SIGTERM to the child, which records its
 * candidate, if already exported, as cancelled and never active).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, utimesSync } from 'node:fs';
import { hostname, setPriority } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { TrainingSnapshot } from './metrics.js';
import { alive, JobFolder, jobView, newJobId, TERMINAL } from './training-job-files.js';
import type { Holder, Job, JobRequest, JobResult, JobState, JobView, LockInfo } from './training-job-files.js';
import { applyLine, retrainArgs } from './training-child.js';
import type { RetrainArgsOptions } from './training-child.js';

export { JOB_ID, JOB_SCHEMA_VERSION, newJobId } from './training-job-files.js';
export type { Holder, Job, JobRequest, JobResult, JobState, JobView } from './training-job-files.js';
export { retrainArgs } from './training-child.js';

export interface TrainingJobsOptions extends RetrainArgsOptions {
  /** the jobs folder (<store>/training-jobs) */
  dir: string;
  /** jobs running at once across every agent on this store */
  concurrency: number;
  heartbeatMs: number;
  /** finished jobs kept (default 100): when a job ends, the oldest finished ones beyond it are deleted */
  keep?: number;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void };
  /** the command a job runs (default: node --max-old-space-size=M --import tsx retrain.ts) */
  command?: (args: string[]) => { file: string; args: string[]; cwd: string };
  now?: () => number;
}

export const REPO = resolve(import.meta.dirname, '..');
const BOOT = randomBytes(8).toString('hex');

const isoNow = (now: () => number) => new Date(now()).toISOString();

/** Running: a child this agent runs, and what it holds. */
interface Running {
  id: string;
  slot: number;
  child: ChildProcess;
  job: Job;
  lastWrite: number;
  cancelled: boolean;
}

/** TrainingJobs: the jobs of one store, as one agent process sees and runs them. */
export class TrainingJobs {
  readonly holder: Holder = { host: hostname(), pid: process.pid, boot: BOOT };
  private readonly running = new Map<string, Running>();
  private timer: NodeJS.Timeout | null = null;
  private closing = false;
  private readonly now: () => number;
  private readonly files: JobFolder;

  constructor(readonly o: TrainingJobsOptions) {
    this.now = o.now ?? Date.now;
    this.files = new JobFolder(o.dir, this.now);
  }

  private path(id: string, ext: 'json' | 'lock' | 'cancel'): string {
    return this.files.path(id, ext);
  }

  private slotPath(k: number): string {
    return this.files.slotPath(k);
  }

  private write(j: Job): void {
    this.files.write(j);
  }

  /** staleMs: a holder that has not written its locks for this long is gone. */
  get staleMs(): number {
    return 10 * this.o.heartbeatMs;
  }

  /** start: the scheduler, every heartbeat (recover interrupted jobs, start queued ones, beat). */
  start(): void {
    // the folder is made by the first submit, so an agent that never trains leaves no trace in its store
    this.tick();
    this.timer = setInterval(() => this.tick(), this.o.heartbeatMs);
    this.timer.unref();
  }

  /** read: a job file, or null (missing, unreadable or of another schema). */
  read(id: string): Job | null {
    return this.files.read(id);
  }

  /** ids: every job id in the folder, oldest first. */
  ids(): string[] {
    return this.files.ids();
  }

  /** view: a job as the API shows it. */
  view(j: Job): JobView {
    return jobView(j);
  }

  /**
   * snapshot: jobs by state, the running ones' progress, and the duration of the last finished one (the
   * /metrics gauges). Reads every job file; a scrape every 15 s reads a few hundred small files at most.
   */
  snapshot(): TrainingSnapshot {
    const jobs = this.ids().map((id) => this.read(id)).filter((j): j is Job => j !== null);
    const byState: TrainingSnapshot['byState'] = {};
    for (const j of jobs) byState[j.state] = (byState[j.state] ?? 0) + 1;
    const ended = jobs.filter((j) => TERMINAL.includes(j.state) && j.startedAt && j.finishedAt).sort((a, b) => Date.parse(a.finishedAt!) - Date.parse(b.finishedAt!)).at(-1);
    return {
      byState,
      running: jobs.filter((j) => j.state === 'running').map((j) => ({ id: j.id, progress: j.progress })),
      last: ended ? { state: ended.state, seconds: (Date.parse(ended.finishedAt!) - Date.parse(ended.startedAt!)) / 1000 } : null,
    };
  }

  list(): JobView[] {
    return this.ids().reverse().map((id) => this.read(id)).filter((j): j is Job => j !== null).map((j) => this.view(j));
  }

  /** submit writes a queued job and schedules at once. */
  submit(request: JobRequest): Job {
    mkdirSync(this.o.dir, { recursive: true });
    const t = isoNow(this.now);
    const j: Job = { schemaVersion: 1, id: newJobId(this.now()), state: 'queued', request, createdAt: t, startedAt: null, finishedAt: null, updatedAt: t, stage: null, progress: 0, etaSec: null, trainingEtaSec: null, message: 'queued', log: [], holder: null, childPid: null, result: null, error: null };
    this.write(j);
    if (this.timer) setImmediate(() => this.tick());
    return j;
  }

  /**
   * cancel: a queued job is claimed here and marked cancelled; a running one is signalled (its holder,
   * this agent or another, stops it within a heartbeat). Returns the job as it is now, or null if unknown.
   */
  cancel(id: string): Job | null {
    const j = this.read(id);
    if (!j) return null;
    if (TERMINAL.includes(j.state)) return j;
    const mine = this.running.get(id);
    if (mine) {
      this.stopChild(mine);
      return this.read(id);
    }
    if (j.state === 'queued' && this.files.createExclusive(this.path(id, 'lock'), this.lockBody(id, -1))) {
      const again = this.read(id);
      if (again && again.state === 'queued') {
        this.finish(again, 'cancelled', 'cancelled before it started', null);
        rmSync(this.path(id, 'lock'), { force: true });
        return this.read(id);
      }
      rmSync(this.path(id, 'lock'), { force: true });
    }
    // running elsewhere (or just claimed): leave a marker its holder acts on
    this.files.createExclusive(this.path(id, 'cancel'), isoNow(this.now));
    return this.read(id);
  }

  private lockBody(id: string, slot: number): string {
    return JSON.stringify({ ...this.holder, job: id, slot });
  }

  /** dead: the holder is gone (a dead process of this host, or this pid of an earlier boot), or silent too long. */
  private dead(info: LockInfo | null): string | null {
    if (!info) return 'its claim is missing';
    const h = info.holder;
    if (h.host === this.holder.host) {
      if (h.pid === this.holder.pid && h.boot !== this.holder.boot) return `its agent (pid ${h.pid} on ${h.host}) restarted`;
      if (h.pid !== this.holder.pid && !alive(h.pid)) return `its agent (pid ${h.pid} on ${h.host}) is gone`;
    }
    if (info.ageMs > this.staleMs) return `its agent (pid ${h.pid} on ${h.host}) sent no heartbeat for ${Math.round(info.ageMs / 1000)} s`;
    return null;
  }

  /** tick: heartbeat, cancel markers, interrupted jobs, then start queued jobs while a slot is free. */
  tick(): void {
    if (this.closing) return;
    try {
      this.beat();
      this.recover();
      this.schedule();
    } catch (e) {
      this.o.log.error({ err: (e as Error).message }, 'training jobs: scheduler tick failed');
    }
  }

  private beat(): void {
    const t = new Date(this.now());
    for (const r of this.running.values()) {
      for (const p of [this.path(r.id, 'lock'), this.slotPath(r.slot)]) {
        try {
          utimesSync(p, t, t);
        } catch (e) {
          this.o.log.error({ job: r.id, lock: p, err: (e as Error).message }, 'training jobs: heartbeat failed');
        }
      }
      if (!r.cancelled && existsSync(this.path(r.id, 'cancel'))) this.stopChild(r);
    }
  }

  private recover(): void {
    for (const id of this.ids()) {
      if (this.running.has(id)) continue;
      const j = this.read(id);
      if (!j || j.state !== 'running') continue;
      const info = this.files.lockInfo(this.path(id, 'lock'));
      const why = this.dead(info);
      if (!why) continue;
      const last = info ? new Date(this.now() - info.ageMs).toISOString() : 'unknown';
      this.o.log.warn({ job: id, reason: why }, 'training job interrupted');
      this.finish(j, 'failed', `interrupted: ${why} while the job was ${j.stage ?? 'starting'} (${j.progress.toFixed(0)}%); last heartbeat ${last}. A candidate it had exported stays retained and not active; submit the job again`, null);
      if (info) {
        this.files.removeIf(this.path(id, 'lock'), info.body);
        const slot = info.slot;
        const sl = this.files.lockInfo(this.slotPath(slot));
        if (sl && sl.job === id) this.files.removeIf(this.slotPath(slot), sl.body);
      }
      rmSync(this.path(id, 'cancel'), { force: true });
    }
    // slots whose holder is gone without a job file saying so (killed between the slot and the claim)
    for (let k = 0; k < this.o.concurrency; k++) {
      const sl = this.files.lockInfo(this.slotPath(k));
      if (sl && ![...this.running.values()].some((r) => r.slot === k) && this.dead(sl)) {
        const j = this.read(sl.job);
        if (!j || j.state !== 'running') this.files.removeIf(this.slotPath(k), sl.body);
      }
    }
  }

  private schedule(): void {
    const queued = this.ids().map((id) => this.read(id)).filter((j): j is Job => j !== null && j.state === 'queued');
    for (const j of queued) {
      const slot = this.takeSlot(j.id);
      if (slot < 0) return;
      if (!this.files.createExclusive(this.path(j.id, 'lock'), this.lockBody(j.id, slot))) {
        rmSync(this.slotPath(slot), { force: true });
        continue;
      }
      const again = this.read(j.id);
      if (!again || again.state !== 'queued') {
        rmSync(this.path(j.id, 'lock'), { force: true });
        rmSync(this.slotPath(slot), { force: true });
        continue;
      }
      this.run(again, slot);
    }
  }

  private takeSlot(id: string): number {
    for (let k = 0; k < this.o.concurrency; k++) if (this.files.createExclusive(this.slotPath(k), this.lockBody(id, k))) return k;
    return -1;
  }

  private release(r: Running): void {
    rmSync(this.path(r.id, 'lock'), { force: true });
    rmSync(this.slotPath(r.slot), { force: true });
    rmSync(this.path(r.id, 'cancel'), { force: true });
  }

  private finish(j: Job, state: JobState, error: string | null, result: JobResult | null): void {
    j.state = state;
    j.error = error;
    j.result = result;
    j.finishedAt = isoNow(this.now);
    j.etaSec = state === 'succeeded' ? 0 : null;
    j.trainingEtaSec = null;
    if (state === 'succeeded') j.progress = 100;
    j.message = state === 'succeeded' ? `${result!.decision}: candidate ${result!.version} (active ${result!.active})` : error;
    this.write(j);
    this.prune();
  }

  /**
   * prune deletes the files of the oldest finished jobs beyond `keep` (default 100), so the folder and a
   * /metrics scrape stay small; queued and running jobs always stay. Example: keep 2, finished a b c d, queued
   * e → a and b go. Their candidates stay in the store (the manifest retains versions, not this folder).
   */
  prune(): string[] {
    const keep = this.o.keep ?? 100;
    const finished = this.ids().filter((id) => TERMINAL.includes(this.read(id)?.state ?? 'queued'));
    const gone = finished.slice(0, Math.max(0, finished.length - keep));
    for (const id of gone) for (const ext of ['json', 'cancel'] as const) rmSync(this.path(id, ext), { force: true });
    if (gone.length) this.o.log.info({ removed: gone.length, keep }, 'old training jobs removed');
    return gone;
  }

  private run(j: Job, slot: number): void {
    const args = retrainArgs(j.request, this.o);
    const cmd = this.o.command?.(args) ?? { file: process.execPath, args: [`--max-old-space-size=${this.o.maxOldSpaceMb}`, '--import', 'tsx', join(REPO, 'retrain.ts'), ...args], cwd: REPO };
    const child = spawn(cmd.file, cmd.args, { cwd: cmd.cwd, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    // The lowest CPU priority (nice 19; its training child inherits it): on shared cores the agent's
    // requests run first and the job takes what they leave (bench/training.ts measures the effect).
    if (child.pid) {
      try {
        setPriority(child.pid, 19);
      } catch (e) {
        this.o.log.warn({ job: j.id, err: (e as Error).message }, 'training job: could not lower its CPU priority');
      }
    }
    const started = this.now();
    Object.assign(j, { state: 'running', startedAt: new Date(started).toISOString(), holder: this.holder, childPid: child.pid ?? null, stage: 'starting', message: 'starting' });
    this.write(j);
    const r: Running = { id: j.id, slot, child, job: j, lastWrite: 0, cancelled: false };
    this.running.set(j.id, r);
    this.o.log.info({ job: j.id, pid: child.pid }, 'training job started');
    let stdout = '';
    let pending = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) this.onLine(r, line, started);
    });
    child.stdin!.on('error', () => {});
    child.on('error', (e) => this.o.log.error({ job: j.id, err: e.message }, 'training job: the child could not start'));
    child.on('close', (code, sig) => {
      this.running.delete(j.id);
      if (pending) this.onLine(r, pending, started);
      if (this.closing && !r.cancelled) {
        this.release(r);
        return;
      }
      let result: JobResult | null = null;
      try {
        result = code === 0 ? (JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as JobResult) : null;
      } catch {
        result = null;
      }
      const err = [...r.job.log].reverse().find((l) => l.startsWith('error:'))?.replace(/^error: /, '') ?? null;
      if (r.cancelled) this.finish(r.job, 'cancelled', 'cancelled while running; a candidate it had exported stays retained and not active', null);
      else if (result) this.finish(r.job, 'succeeded', null, result);
      else this.finish(r.job, 'failed', err ?? `the retraining exited with ${code ?? sig}`, null);
      this.release(r);
      this.o.log.info({ job: j.id, state: r.job.state }, 'training job finished');
      setImmediate(() => this.tick());
    });
  }

  /** onLine: one stderr line of the child into its job (training-child.ts applyLine); at most two writes a second. */
  private onLine(r: Running, raw: string, started: number): void {
    applyLine(r.job, raw, (this.now() - started) / 1000);
    if (this.now() - r.lastWrite >= 500) {
      r.lastWrite = this.now();
      this.write(r.job);
    }
  }

  private stopChild(r: Running): void {
    r.cancelled = true;
    r.job.message = 'cancelling';
    this.write(r.job);
    r.child.kill('SIGTERM');
    const t = setTimeout(() => r.child.kill('SIGKILL'), 10_000);
    t.unref();
    r.child.once('close', () => clearTimeout(t));
  }

  /** close: the agent stops; its running jobs are stopped and marked failed with the reason. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    const waits = [...this.running.values()].map((r) => new Promise<void>((res) => {
      r.child.once('close', () => res());
      const j = this.read(r.id) ?? r.job;
      this.finish({ ...j, log: r.job.log, stage: r.job.stage, progress: r.job.progress }, 'failed', `interrupted: the agent (pid ${process.pid} on ${this.holder.host}) shut down while the job was ${r.job.stage ?? 'starting'} (${r.job.progress.toFixed(0)}%); a candidate it had exported stays retained and not active; submit the job again`, null);
      r.child.kill('SIGTERM');
      setTimeout(() => r.child.kill('SIGKILL'), 5000).unref();
    }));
    await Promise.all(waits);
  }
}
