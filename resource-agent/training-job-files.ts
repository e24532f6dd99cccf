/**
 * training-job-files: the job files and locks of the training jobs (training-jobs.ts schedules them) in
 * `<store>/training-jobs`:
 *
 *   <id>.json      a job (schema 1), written atomically (temp, fsync, rename); the API shows it as a JobView
 *   <id>.lock      its claim: created with O_EXCL (exactly one creator wins), naming the holder (host, pid,
 *                  a per-process boot id); renewed (mtime) every heartbeat while the job runs
 *   slot-<k>.lock  one of N run slots, taken the same way before the claim
 *   <id>.cancel    a cancel marker for a job running in another agent process
 *
 * A lock is removed only while it still holds the body that was read (removeIf); between that check and
 * the unlink there is a window of microseconds in which a new holder's lock could be lost.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, statSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic } from '../src/util/fs-atomic.js';

export const JOB_SCHEMA_VERSION = 1;
/** JOB_ID: tj-<UTC yyyymmddhhmmss>-<6 hex>, sortable by creation. */
export const JOB_ID = /^tj-\d{14}-[0-9a-f]{6}$/;
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
export const TERMINAL: readonly JobState[] = ['succeeded', 'failed', 'cancelled'];

/** JobRequest: what was asked for, checked and filled with defaults (routes/training.ts). */
export interface JobRequest {
  family: string;
  data: { prometheus: { history: string; namespaces: string[]; selector: string | null; end: string | null } } | { traces: { paths: string[]; trace: string; vms: string | null } } | { jobs: { path: string } };
  /** a job-memory family: seconds for its model selection (null: train's default) */
  budget?: number | null;
  /** the container family's split and training settings (absent for a job family) */
  holdout?: { period: string; share: number; seed: number };
  training?: { epochs: number; patience: number; batchSize: number; learningRate: number; valFraction: number; seed: number };
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

/** newJobId: tj-20250602000000-1a2b3c. */
export function newJobId(nowMs: number): string {
  return `tj-${new Date(nowMs).toISOString().replace(/[-:T]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
}

/** LockInfo: a lock's holder, the job it names, its age and its exact text. */
export interface LockInfo {
  holder: Holder;
  job: string;
  slot: number;
  ageMs: number;
  body: string;
}

/** JobFolder: the files of one store's jobs. */
export class JobFolder {
  constructor(readonly dir: string, private readonly now: () => number) {}

  path(id: string, ext: 'json' | 'lock' | 'cancel'): string {
    return join(this.dir, `${id}.${ext}`);
  }

  slotPath(k: number): string {
    return join(this.dir, `slot-${k}.lock`);
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

  /** write: the job file, its updatedAt set to now. */
  write(j: Job): void {
    j.updatedAt = new Date(this.now()).toISOString();
    writeFileAtomic(this.path(j.id, 'json'), JSON.stringify(j, null, 2) + '\n');
  }

  /** ids: every job id in the folder, oldest first. */
  ids(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir).filter((f) => f.endsWith('.json') && JOB_ID.test(f.slice(0, -5))).map((f) => f.slice(0, -5)).sort();
  }

  /** createExclusive creates a file only if it does not exist (O_EXCL); true when this call created it. */
  createExclusive(path: string, body: string): boolean {
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
  lockInfo(path: string): LockInfo | null {
    try {
      const body = readFileSync(path, 'utf8');
      const x = JSON.parse(body) as Holder & { job: string; slot: number };
      return { holder: { host: x.host, pid: x.pid, boot: x.boot }, job: x.job, slot: x.slot, ageMs: this.now() - statSync(path).mtimeMs, body };
    } catch {
      return null;
    }
  }

  /** removeIf removes a lock only while it still holds `body` (see the header for the remaining window). */
  removeIf(path: string, body: string): void {
    try {
      if (readFileSync(path, 'utf8') === body) rmSync(path, { force: true });
    } catch {
      // already gone
    }
  }
}

/** jobView: a job as the API shows it. */
export function jobView(j: Job): JobView {
  const { schemaVersion: _s, holder, childPid: _c, ...rest } = j;
  // GET needs no token: trace folders are shown by their last component, as the dashboard's routes do
  // (a job file written by hand or by an older agent may carry no data: shown as it is)
  const d = j.request?.data as JobRequest['data'] | undefined;
  const request = d && typeof d === 'object' && 'traces' in d ? { ...j.request, data: { traces: { ...d.traces, paths: d.traces.paths.map((p) => basename(p) || p) } } }
    : d && typeof d === 'object' && 'jobs' in d ? { ...j.request, data: { jobs: { path: basename(d.jobs.path) || d.jobs.path } } }
    : j.request;
  return { ...rest, request, log: j.log.slice(-20), runner: holder ? `${holder.host} (pid ${holder.pid})` : null };
}

/** alive: the process exists on this host (EPERM: it exists under another user). */
export const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};
