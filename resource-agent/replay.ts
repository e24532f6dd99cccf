/**
 * replay: the held-out jobs of each served job-memory family, for the dashboard's Replay page (the live
 * simulation: the page sends them, in their order, to the family's own POST …/recommend/batch and scores
 * each allocation against the job's real peak).
 *
 * Where a family's hold-out is found, first match wins:
 *   1. --replay DIR (RESOURCE_AGENT_REPLAY): DIR/<data set>/holdout.csv, the layout that
 *      `npm run train -- … --output models/job-memory/<data set>` writes (so `--replay models/job-memory`);
 *   2. the manifest: the active version's `validation.data`, which export records from validate (the
 *      hold-out the version was scored on, e.g. models/job-memory/build-jobs/holdout.csv), relative to the
 *      manifest's folder as model files are.
 * Neither present or readable: the family has no replay, and the reason says which paths were tried.
 * The file is read with the trainer's reader (src/families/job-memory/data.ts), at most MAX_REPLAY_BYTES
 * and MAX_REPLAY_JOBS, and cached until its size or modification time changes.
 */
import { statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { rawRow, readJobTable } from '../src/families/job-memory/data.js';
import type { ServedFamily } from './families.js';

/** the most a hold-out may hold (the build jobs' is 920 jobs, 300 KB) */
export const MAX_REPLAY_BYTES = 16 * 1024 * 1024;
export const MAX_REPLAY_JOBS = 20_000;

const PREFIX = 'job-memory/';

/** ReplayJob: one held-out job as the page sends it (attributes) and scores it (peakBytes). */
export interface ReplayJob {
  id: string;
  /** submission time (build jobs), ISO, or null */
  time: string | null;
  attributes: Record<string, unknown>;
  peakBytes: number;
  /** what the job asked for (build jobs' memreq), bytes, or null */
  requestedBytes: number | null;
}

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

  /** families: every served job family and its replay (or why not). */
  list(): ReplaySource[] {
    return this.served.filter((f) => f.family.name.startsWith(PREFIX)).map((f) => this.source(f).info);
  }

  /** jobs: a family's held-out jobs in file order, or null with the reason. */
  jobs(family: string): { info: ReplaySource; jobs: ReplayJob[] | null } | null {
    const f = this.served.find((s) => s.family.name === family && s.family.name.startsWith(PREFIX));
    return f ? this.source(f) : null;
  }

  /**
   * candidates: where a family's hold-out may be; `shown` is what callers see (never the server's folders:
   * "<--replay>/build-jobs/holdout.csv", or the manifest's own relative path).
   */
  private candidates(f: ServedFamily): { path: string; shown: string; via: 'replay-dir' | 'manifest' }[] {
    const out: { path: string; shown: string; via: 'replay-dir' | 'manifest' }[] = [];
    const ds = f.family.name.slice(PREFIX.length);
    if (this.replayDir) out.push({ path: join(this.replayDir, ds, 'holdout.csv'), shown: `<--replay>/${ds}/holdout.csv`, via: 'replay-dir' });
    const st = f.store.status();
    const active = st.versions.find((v) => v.active);
    const data = active?.validation?.data;
    if (typeof data === 'string' && data) out.push({ path: isAbsolute(data) ? data : resolve(dirname(f.store.manifestPath), data), shown: isAbsolute(data) ? `<manifest>/${basename(data)}` : data, via: 'manifest' });
    return out;
  }

  private source(f: ServedFamily): { info: ReplaySource; jobs: ReplayJob[] | null } {
    const base = { family: f.family.name, batch: `${f.family.serving.path}/batch` };
    const tried: string[] = [];
    for (const c of this.candidates(f)) {
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
          const t = readJobTable(c.path);
          if (t.n > MAX_REPLAY_JOBS) throw new Error(`${t.n} jobs, over the ${MAX_REPLAY_JOBS} the page replays`);
          const idCol = t.header.indexOf('atom_id');
          const sep = t.format === 'build-jobs' ? ';' : ',';
          const jobs = Array.from({ length: t.n }, (_, i): ReplayJob => ({
            id: idCol >= 0 ? t.lines[i]!.split(sep)[idCol]!.slice(0, 12) : `job-${i + 1}`,
            time: t.time ? new Date(t.time[i]!).toISOString() : null,
            attributes: rawRow(t, i),
            peakBytes: t.peak[i]!,
            requestedBytes: t.requested ? t.requested[i]! : null,
          }));
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
      : `no hold-out recorded: the active version's manifest entry has no validation.data, and the agent runs without --replay DIR (a folder holding ${f.family.name.slice(PREFIX.length)}/holdout.csv)`;
    return { info: { ...base, available: false, source: null, via: null, jobs: 0, reason }, jobs: null };
  }
}
