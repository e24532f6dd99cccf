/**
 * replay: the held-out jobs of each served family that has a replay (job-memory/<data set>), for the
 * dashboard's Replay page (the live simulation: the page sends them, in their order, to the family's own
 * POST …/recommend/batch and scores each allocation against the job's real peak).
 *
 * Where a family's hold-out is found, first match wins:
 *   1. --replay DIR (RESOURCE_AGENT_REPLAY): DIR/<data set>/holdout.csv, the layout that
 *      `npm run train -- … --output models/job-memory/<data set>` writes (so `--replay models/job-memory`);
 *   2. the manifest: the active version's `validation.data`, which export records from validate (the
 *      hold-out the version was scored on, e.g. models/job-memory/build-jobs/holdout.csv), relative to the
 *      manifest's folder as model files are.
 * Neither present or readable: the family has no replay, and the reason says which paths were tried.
 * The file is read by the family's replay hook (core/family.ts FamilyReplay; job-memory: its trainer's
 * reader), at most MAX_REPLAY_BYTES and MAX_REPLAY_JOBS, and cached until its size or modification time
 * changes. A family has a replay when its hook names a folder for it (the served family's, else its
 * registered family's: src/families/registry.ts registeredOf).
 */
import { statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import type { FamilyReplay, ReplayJob } from '../src/core/family.js';
import { registeredOf } from '../src/families/registry.js';
import type { ServedFamily } from './families.js';

export type { ReplayJob } from '../src/core/family.js';

/** the most a hold-out may hold (the build jobs' is 920 jobs, 300 KB) */
export const MAX_REPLAY_BYTES = 16 * 1024 * 1024;
export const MAX_REPLAY_JOBS = 20_000;

/** ReplaySource: a family's replay, or why there is none. */
export interface ReplaySource {
  family: string;
  /** POST body {"items": [{"id", "attributes"}, …]} goes here */
  batch: string;
  available: boolean;
  /** the hold-out file, as found */
  source: string | null;
  /** how it was found: 'replay-dir' | 'manifest' */
  via: 'replay-dir' | 'manifest' | null;
  jobs: number;
  reason: string | null;
}

interface Cached {
  key: string;
  jobs: ReplayJob[];
}

/** Replays: finds and reads the hold-outs (see the header). */
export class Replays {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly served: readonly ServedFamily[],
    private readonly replayDir: string | null,
  ) {}

  /** families: every served family with a replay, and its hold-out (or why not). */
  list(): ReplaySource[] {
    return this.served.filter((f) => replayOf(f)).map((f) => this.source(f, replayOf(f)!).info);
  }

  /** jobs: a family's held-out jobs in file order, or null with the reason. */
  jobs(family: string): { info: ReplaySource; jobs: ReplayJob[] | null } | null {
    const f = this.served.find((s) => s.family.name === family && replayOf(s));
    return f ? this.source(f, replayOf(f)!) : null;
  }

  /**
   * candidates: where a family's hold-out may be; `shown` is what callers see (never the server's folders:
   * "<--replay>/build-jobs/holdout.csv", or the manifest's own relative path).
   */
  private candidates(f: ServedFamily, ds: string): { path: string; shown: string; via: 'replay-dir' | 'manifest' }[] {
    const out: { path: string; shown: string; via: 'replay-dir' | 'manifest' }[] = [];
    if (this.replayDir) out.push({ path: join(this.replayDir, ds, 'holdout.csv'), shown: `<--replay>/${ds}/holdout.csv`, via: 'replay-dir' });
    const st = f.store.status();
    const active = st.versions.find((v) => v.active);
    const data = active?.validation?.data;
    if (typeof data === 'string' && data) out.push({ path: isAbsolute(data) ? data : resolve(dirname(f.store.manifestPath), data), shown: isAbsolute(data) ? `<manifest>/${basename(data)}` : data, via: 'manifest' });
    return out;
  }

  private source(f: ServedFamily, r: { hook: FamilyReplay; folder: string }): { info: ReplaySource; jobs: ReplayJob[] | null } {
    const base = { family: f.family.name, batch: `${f.family.serving.path}/batch` };
    const tried: string[] = [];
    for (const c of this.candidates(f, r.folder)) {
      let st;
      try {
        st = statSync(c.path);
      } catch {
        tried.push(`${c.shown} (${c.via === 'replay-dir' ? '--replay' : "the manifest's validation.data"}: not found)`);
        continue;
      }
      if (!st.isFile()) {
        tried.push(`${c.shown} (not a file)`);
        continue;
      }
      if (st.size > MAX_REPLAY_BYTES) {
        tried.push(`${c.shown} (${st.size} bytes, over the ${MAX_REPLAY_BYTES} the page replays)`);
        continue;
      }
      const key = `${c.path}:${st.size}:${st.mtimeMs}`;
      let cached = this.cache.get(f.family.name);
      if (!cached || cached.key !== key) {
        try {
          const jobs = r.hook.read(c.path);
          if (jobs.length > MAX_REPLAY_JOBS) throw new Error(`${jobs.length} jobs, over the ${MAX_REPLAY_JOBS} the page replays`);
          cached = { key, jobs };
          this.cache.set(f.family.name, cached);
        } catch (e) {
          tried.push(`${c.shown} (${(e as Error).message})`);
          continue;
        }
      }
      return { info: { ...base, available: true, source: c.shown, via: c.via, jobs: cached.jobs.length, reason: null }, jobs: cached.jobs };
    }
    const reason = tried.length
      ? `no readable hold-out: tried ${tried.join('; ')}`
      : `no hold-out recorded: the active version's manifest entry has no validation.data, and the agent runs without --replay DIR (a folder holding ${r.folder}/holdout.csv)`;
    return { info: { ...base, available: false, source: null, via: null, jobs: 0, reason }, jobs: null };
  }
}

/** replayOf: a served family's replay hook (its own, else its registered family's) and its folder, or null when it has no replay. */
function replayOf(f: ServedFamily): { hook: FamilyReplay; folder: string } | null {
  const hook = f.family.replay ?? registeredOf(f.family.name)?.replay;
  const folder = hook?.folder(f.family.name) ?? null;
  return hook && folder !== null ? { hook, folder } : null;
}
