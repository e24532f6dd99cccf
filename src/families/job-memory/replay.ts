/**
 * replay: the job-memory families' hold-out for the dashboard's Replay page (core/family.ts FamilyReplay).
 * The agent finds the file (resource-agent/replay.ts: --replay DIR/<data set>/holdout.csv, or the
 * manifest's validation.data); this reads it with the trainer's reader (data.ts), so a replayed job's
 * attributes are exactly what training and validation saw.
 */
import type { FamilyReplay, ReplayJob } from '../../core/family.js';
import { rawRow, readJobTable } from './data.js';

const PREFIX = 'job-memory/';

/**
 * readHoldout: the jobs of a hold-out file in file order: the build jobs' atom_id (first 12 characters)
 * or job-<row>, the submission time, the request attributes, the real peak and what the job asked for.
 */
export function readHoldout(path: string): ReplayJob[] {
  const t = readJobTable(path);
  const idCol = t.header.indexOf('atom_id');
  const sep = t.format === 'build-jobs' ? ';' : ',';
  return Array.from({ length: t.n }, (_, i): ReplayJob => ({
    id: idCol >= 0 ? t.lines[i]!.split(sep)[idCol]!.slice(0, 12) : `job-${i + 1}`,
    time: t.time ? new Date(t.time[i]!).toISOString() : null,
    attributes: rawRow(t, i),
    peakBytes: t.peak[i]!,
    requestedBytes: t.requested ? t.requested[i]! : null,
  }));
}

/** jobReplay: each data set's hold-out sits in the folder named after it (job-memory/build-jobs → build-jobs); the bare job-memory has none. */
export const jobReplay: FamilyReplay = {
  folder: (name) => (name.startsWith(PREFIX) && name.length > PREFIX.length ? name.slice(PREFIX.length) : null),
  read: readHoldout,
};
