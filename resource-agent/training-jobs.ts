/**
 * training-jobs: the agent's retraining jobs (POST /v1/training-jobs, routes/training.ts). A job is one
 * `npm run retrain` (retrain.ts, src/retrain/run.ts) run as a CHILD PROCESS with a heap cap
 * (node --max-old-space-size), never on the request path: the agent only reads its progress lines.
 *
 * The child runs at the lowest CPU priority (nice 19, inherited by its own training child), so on shared
 * cores the agent's requests come first.
 *
 * Durable, in the model store: every job is a JSON file `<store>/training-jobs/<id>.json` (schema 1,
 * written atomically: temp, fsync, rename), so a restarted agent lists every job it ever had.
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
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname, setPriority } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../src/util/fs-atomic.js';

export const JOB_SCHEMA_VERSION = 1;
/** JOB_ID: tj-<UTC yyyymmddhhmmss>-<6 hex>, sortable by creation. */
export const JOB_ID = /^tj-\d{14}-[0-9a-f]{6}$/;
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
const TERMINAL: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];
const LOG_LINES = 40;

/** JobRequest: what was asked for, checked and filled with defaults (routes/training.ts). */
export interface JobRequest {
  family: string;
  data: { prometheus: { history: string; namespaces: string[]; selector: string | null; end: string | null } } | { traces: { paths: string[]; trace: string; vms: string | null } };
  holdout: { period: string; share: number; seed: number };
  training: { epochs: number; patience: number; batchSize: number; learningRate: number; valFraction: number; seed: number };
  margin: number;
  rulesGate: boolean;
  autoPromote: boolean;
}

/** JobResult: retrain.ts's result line. */
export interface JobResult {
  version: string;
  against: string;
  decision: 'promoted' | 'eligible' | 'rejected';
  active: string;
  reason: string;
  heldBack: Record<string, Record<string, number>> | null;
}

/** Holder: the agent process running a job. */
export interface Holder {
  host: string;
  pid: number;
  boot: string;
}

/** Job: a job file. */
export interface Job {
  schemaVersion: 1;
  id: string;
  state: JobState;
  request: JobRequest;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  updatedAt: string;
  stage: string | null;
  /** 0–100 */
  progress: number;
  /** seconds left, from the progress so far (null until 3%) */
  etaSec: number | null;
  /** the training's own estimate of its remaining epochs, while it trains */
  trainingEtaSec: number | null;
  message: string | null;
  log: string[];
  holder: Holder | null;
  /** the retrain child's pid */
  childPid: number | null;
  result: JobResult | null;
  error: string | null;
}

/** JobView: a job as the API shows it (the log as its last lines). */
export type JobView = Omit<Job, 'schemaVersion' | 'holder' | 'childPid'> & { runner: string | null };

export interface TrainingJobsOptions {
  /** the jobs folder (<store>/training-jobs) */
  dir: string;
  manifestPath: string;
  /** jobs running at once across every agent on this store */
  concurrency: number;
  /** the retrain child's heap cap, MiB (its own training child gets the same) */
  maxOldSpaceMb: number;
  heartbeatMs: number;
  /** the agent's Prometheus and how to reach it (a job never names its own URL) */
  prometheus: { url: string; headers: readonly string[]; bearerTokenFile: string | null; caFile: string | null } | null;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void; error(o: object, m: string): void };
  /** the command a job runs (default: node --max-old-space-size=M --import tsx retrain.ts) */
  command?: (args: string[]) => { file: string; args: string[]; cwd: string };
  now?: () => number;
}

export const REPO = resolve(import.meta.dirname, '..');
const BOOT = randomBytes(8).toString('hex');

const isoNow = (now: () => number) => new Date(now()).toISOString();

/** newJobId: tj-20250602000000-1a2b3c. */
export function newJobId(nowMs: number): string {
  return `tj-${new Date(nowMs).toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
}

/** retrainArgs: the retrain.ts arguments of a job (after the script). */
export function retrainArgs(r: JobRequest, o: Pick<TrainingJobsOptions, 'manifestPath' | 'maxOldSpaceMb' | 'prometheus'>): string[] {
  const a: string[] = ['--manifest', o.manifestPath, '--progress', 'json', '--stop-with-stdin', '--max-old-space-size', String(o.maxOldSpaceMb)];
  if ('prometheus' in r.data) {
    const p = r.data.prometheus;
    const c = o.prometheus!;
    a.push('--prometheus', c.url, '--history', p.history);
    for (const h of c.headers) a.push('--header', h);
    if (c.bearerTokenFile) a.push('--bearer-token-file', c.bearerTokenFile);
    if (c.caFile) a.push('--ca-file', c.caFile);
    for (const n of p.namespaces) a.push('--namespace', n);
    if (p.selector) a.push('--selector', p.selector);
    if (p.end) a.push('--end', p.end);
  } else {
    const t = r.data.traces;
    a.push('--trace', t.trace, ...(t.vms ? ['--vms', t.vms] : []), '--input', ...t.paths);
  }
  a.push('--holdout-period', r.holdout.period, '--holdout-share', String(r.holdout.share), '--holdout-seed', String(r.holdout.seed));
  const t = r.training;
  a.push('--epochs', String(t.epochs), '--patience', String(t.patience), '--batch-size', String(t.batchSize), '--learning-rate', String(t.learningRate), '--val-fraction', String(t.valFraction), '--seed', String(t.seed));
  a.push('--margin', String(r.margin), r.rulesGate ? '--rules-gate' : '--no-rules-gate');
  if (r.autoPromote) a.push('--promote');
  return a;
}

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

  constructor(readonly o: TrainingJobsOptions) {
    this.now = o.now ?? Date.now;
  }

  /** staleMs: a holder that has not written its locks for this long is gone. */
  get staleMs(): number {
    return 10 * this.o.heartbeatMs;
  }

  private path(id: string, ext: 'json' | 'lock' | 'cancel'): string {
    return join(this.o.dir, `${id}.${ext}`);
  }

  private slotPath(k: number): string {
    return join(this.o.dir, `slot-${k}.lock`);
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
    try {
      const j = JSON.parse(readFileSync(this.path(id, 'json'), 'utf8')) as Job;
      return j.schemaVersion === JOB_SCHEMA_VERSION && j.id === id ? j : null;
    } catch {
      return null;
    }
  }

  private write(j: Job): void {
    j.updatedAt = isoNow(this.now);
    writeFileAtomic(this.path(j.id, 'json'), JSON.stringify(j, null, 2) + '\n');
  }

  /** ids: every job id in the folder, oldest first. */
  ids(): string[] {
    if (!existsSync(this.o.dir)) return [];
    return readdirSync(this.o.dir).filter((f) => f.endsWith('.json') && JOB_ID.test(f.slice(0, -5))).map((f) => f.slice(0, -5)).sort();
  }

  /** view: a job as the API shows it. */
  view(j: Job): JobView {
    const { schemaVersion: _s, holder, childPid: _c, ...rest } = j;
    // GET needs no token: trace folders are shown by their last component, as the dashboard's routes do
    // (a job file written by hand or by an older agent may carry no data: shown as it is)
    const d = j.request?.data as JobRequest['data'] | undefined;
    const request = d && typeof d === 'object' && 'traces' in d ? { ...j.request, data: { traces: { ...d.traces, paths: d.traces.paths.map((p) => basename(p) || p) } } } : j.request;
    return { ...rest, request, log: j.log.slice(-20), runner: holder ? `${holder.host} (pid ${holder.pid})` : null };
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
    if (j.state === 'queued' && this.createExclusive(this.path(id, 'lock'), this.lockBody(id, -1))) {
      const again = this.read(id);
      if (again && again.state === 'queued') {
        this.finish(again, 'cancelled', 'cancelled before it started', null);
        rmSync(this.path(id, 'lock'), { force: true });
        return this.read(id);
      }
      rmSync(this.path(id, 'lock'), { force: true });
    }
    // running elsewhere (or just claimed): leave a marker its holder acts on
    this.createExclusive(this.path(id, 'cancel'), isoNow(this.now));
    return this.read(id);
  }

  private lockBody(id: string, slot: number): string {
    return JSON.stringify({ ...this.holder, job: id, slot });
  }

  /** createExclusive creates a file only if it does not exist (O_EXCL); true when this call created it. */
  private createExclusive(path: string, body: string): boolean {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw e;
    }
    try {
      writeSync(fd, body);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  /** lockInfo: a lock's holder and age, or null when it is missing or unreadable. */
  private lockInfo(path: string): { holder: Holder; job: string; ageMs: number; body: string } | null {
    try {
      const body = readFileSync(path, 'utf8');
      const x = JSON.parse(body) as Holder & { job: string };
      return { holder: { host: x.host, pid: x.pid, boot: x.boot }, job: x.job, ageMs: this.now() - statSync(path).mtimeMs, body };
    } catch {
      return null;
    }
  }

  /** dead: the holder is gone (a dead process of this host, or this pid of an earlier boot), or silent too long. */
  private dead(info: { holder: Holder; ageMs: number } | null): string | null {
    if (!info) return 'its claim is missing';
    const h = info.holder;
    if (h.host === this.holder.host) {
      if (h.pid === this.holder.pid && h.boot !== this.holder.boot) return `its agent (pid ${h.pid} on ${h.host}) restarted`;
      if (h.pid !== this.holder.pid && !alive(h.pid)) return `its agent (pid ${h.pid} on ${h.host}) is gone`;
    }
    if (info.ageMs > this.staleMs) return `its agent (pid ${h.pid} on ${h.host}) sent no heartbeat for ${Math.round(info.ageMs / 1000)} s`;
    return null;
  }

  /** removeIf removes a lock only while it still holds `body` (see the header for the remaining window). */
  private removeIf(path: string, body: string): void {
    try {
      if (readFileSync(path, 'utf8') === body) rmSync(path, { force: true });
    } catch {
      // already gone
    }
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
      const info = this.lockInfo(this.path(id, 'lock'));
      const why = this.dead(info);
      if (!why) continue;
      const last = info ? new Date(this.now() - info.ageMs).toISOString() : 'unknown';
      this.o.log.warn({ job: id, reason: why }, 'training job interrupted');
      this.finish(j, 'failed', `interrupted: ${why} while the job was ${j.stage ?? 'starting'} (${j.progress.toFixed(0)}%); last heartbeat ${last}. A candidate it had exported stays retained and not active; submit the job again`, null);
      if (info) {
        this.removeIf(this.path(id, 'lock'), info.body);
        const slot = JSON.parse(info.body).slot as number;
        const sl = this.lockInfo(this.slotPath(slot));
        if (sl && sl.job === id) this.removeIf(this.slotPath(slot), sl.body);
      }
      rmSync(this.path(id, 'cancel'), { force: true });
    }
    // slots whose holder is gone without a job file saying so (killed between the slot and the claim)
    for (let k = 0; k < this.o.concurrency; k++) {
      const sl = this.lockInfo(this.slotPath(k));
      if (sl && ![...this.running.values()].some((r) => r.slot === k) && this.dead(sl)) {
        const j = this.read(sl.job);
        if (!j || j.state !== 'running') this.removeIf(this.slotPath(k), sl.body);
      }
    }
  }

  private schedule(): void {
    const queued = this.ids().map((id) => this.read(id)).filter((j): j is Job => j !== null && j.state === 'queued');
    for (const j of queued) {
      const slot = this.takeSlot(j.id);
      if (slot < 0) return;
      if (!this.createExclusive(this.path(j.id, 'lock'), this.lockBody(j.id, slot))) {
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
    for (let k = 0; k < this.o.concurrency; k++) if (this.createExclusive(this.slotPath(k), this.lockBody(id, k))) return k;
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

  /** onLine: a progress object, a log line in JSON, or plain text (an error line). */
  private onLine(r: Running, raw: string, started: number): void {
    // GET needs no token: an absolute path in a line is shown by its last component
    const line = raw.replace(/(?:\/[^\s/:,;()"'`]+)+\/([^\s/:,;()"'`]+)/g, '$1');
    const j = r.job;
    let p: { stage?: string; pct?: number; message?: string; trainingEtaSec?: number | null; log?: string } | null = null;
    try {
      p = line.startsWith('{') ? JSON.parse(line) : null;
    } catch {
      p = null;
    }
    if (p && typeof p.pct === 'number') {
      j.stage = p.stage ?? j.stage;
      j.progress = p.pct;
      j.message = p.message ?? j.message;
      j.trainingEtaSec = p.stage === 'training' ? p.trainingEtaSec ?? null : null;
      const elapsed = (this.now() - started) / 1000;
      j.etaSec = p.pct >= 3 ? Math.round((elapsed * (100 - p.pct)) / p.pct) : null;
      if (!/epoch \d+\//.test(j.message ?? '')) j.log.push(`${p.stage}: ${p.message}`);
    } else if (p && typeof p.log === 'string') {
      if (!/^train: epoch \d+\//.test(p.log)) j.log.push(p.log);
    } else if (line.trim()) {
      j.log.push(line);
    }
    if (j.log.length > LOG_LINES) j.log.splice(0, j.log.length - LOG_LINES);
    // at most two writes a second
    if (this.now() - r.lastWrite >= 500) {
      r.lastWrite = this.now();
      this.write(j);
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

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};
