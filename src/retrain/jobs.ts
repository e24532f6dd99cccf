/**
 * jobs: one retraining of a JOB-MEMORY family (job-memory/<data set>) from a job CSV, in the stages of
 * run.ts (what `npm run retrain -- --family job-memory/build-jobs --jobs FILE` and a training job run):
 *
 *   reading     the job table and its 80/20 split (data.ts splitJobs: chronological when the table has
 *               times, so the held-back 20% are the MOST RECENT jobs; else the seeded shuffle)
 *   training    the real `train --family … --data FILE --budget S` in a child process (the model chosen by
 *               cross-validation within the budget, train-cli.ts), on the training 80%
 *   exporting   the candidate into the store as a new version of that family, NOT active
 *   evaluating  the candidate and the active version (each with the spec embedded in its own file) on the
 *               held-back jobs, next to the rules: the jobs' own request (memreq) and the training maximum
 *   deciding    as shadow.ts decides for containers: business ≤ (1 − margin) × the active version's and
 *               memory under-allocation ≤ the active version's; business ≤ fixed (train max)'s is recorded
 *               as `rules` and required only with the rules gate. Promoted only when asked and eligible.
 *
 * The active version may have been trained on some of these held-back jobs (a store made from the same
 * file with the same split has not): the record names the data, the split and both versions.
 */
import { basename, dirname, join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { family as familyOf, findVersion, readManifest, verifyVersion } from '../store/manifest.js';
import type { VersionEntry } from '../store/manifest.js';
import { getFamily } from '../families/registry.js';
import { readJobTable, splitJobs } from '../families/job-memory/data.js';
import type { JobTable } from '../families/job-memory/data.js';
import { runJobModel, specOfBytes, specOfModel } from '../families/job-memory/eval.js';
import { jobMetrics } from '../families/job-memory/metrics.js';
import type { JobMetrics } from '../families/job-memory/metrics.js';
import { exportModel } from '../export/publish.js';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs-atomic.js';
import { CancelledError, runTrainChild } from './train-child.js';
import { failed } from './shadow.js';
import type { Check } from './shadow.js';
import { nextStep, round4, STAGES, updateEntry } from './run.js';
import type { RetrainOptions, Stage } from './run.js';
import { isConfigMapStore } from '../store/configmap.js';

/** JobRetrainOptions: what a job-family retraining needs (the run settings as run.ts takes them). */
export interface JobRetrainOptions extends Pick<RetrainOptions, 'manifestPath' | 'margin' | 'rulesGate' | 'promote' | 'workDir' | 'maxOldSpaceMb' | 'signal' | 'onProgress' | 'onTrainLine'> {
  /** job-memory/<data set>, a family the store has an active version of */
  family: string;
  /** the job CSV (build-jobs or Galaxy format) */
  data: string;
  /** seconds for the model selection (train --budget); null: train's own default */
  budgetSec: number | null;
}

/** JobShadowRecord: what the candidate's manifest entry holds as `shadow`. */
export interface JobShadowRecord {
  schemaVersion: 1;
  state: 'decided';
  decision: 'promoted' | 'eligible' | 'rejected';
  against: string;
  decidedAt: string;
  reason: string;
  margin: number;
  rulesGate: boolean;
  promoteAsked: boolean;
  data: { source: 'jobs'; description: string; split: string; trainJobs: number; heldBackJobs: number; budgetSec: number | null };
  training: { trained: true; kind: string; seconds: number };
  slices: { name: string; kind: 'held-back'; jobs: number; systems: Record<string, JobMetrics> }[];
  checks: Check[];
  reasons: string[];
  rules: Check[];
}

/** JobRetrainResult: as run.ts RetrainResult, with the job record. */
export interface JobRetrainResult {
  version: string;
  against: string;
  decision: JobShadowRecord['decision'];
  active: string;
  record: JobShadowRecord;
  manifestPath: string;
  next: string | null;
}

/** TREE_PROGRESS: train's selection line, "train: [####----] 3/8 … ETA ≤ 1m 5s". */
const TREE_PROGRESS = /^train: \[[^\]]*\] (\d+)\/(\d+) /;

/** decideJobs: the checks and rules of the module header on the held-back slice. */
export function decideJobs(systems: Record<string, JobMetrics>, o: { margin: number; rulesGate: boolean }): { eligible: boolean; checks: Check[]; reasons: string[]; rules: Check[] } {
  const c = systems.candidate!;
  const a = systems.active!;
  const f = systems['fixed (train max)']!;
  const slice = 'held back';
  const checks: Check[] = [
    { slice, name: `business ≤ ${+(1 - o.margin).toFixed(6)} × active`, value: c.businessScore, limit: (1 - o.margin) * a.businessScore, passed: c.businessScore <= (1 - o.margin) * a.businessScore },
    { slice, name: 'memory under % ≤ active', value: c.underPct, limit: a.underPct, passed: c.underPct <= a.underPct },
  ];
  const rules: Check[] = [{ slice, name: 'business ≤ fixed (train max)', value: c.businessScore, limit: f.businessScore, passed: c.businessScore <= f.businessScore }];
  if (o.rulesGate) checks.push(...rules);
  const reasons = checks.filter((k) => !k.passed).map(failed);
  return { eligible: reasons.length === 0, checks, reasons, rules };
}

/** activeOf: the family's active version in the store, verified. */
function activeOf(manifestPath: string, family: string): { entry: VersionEntry; bytes: Uint8Array } {
  const m = readManifest(manifestPath);
  if (!m.families[family]) throw new UserError(`--family ${family}: the store ${manifestPath} has no such family (it has ${Object.keys(m.families).join(', ')}); export a first version with npm run export -- --family ${family}`);
  const fam = familyOf(m, family);
  const entry = findVersion(fam, fam.active)!;
  const v = verifyVersion(manifestPath, entry);
  if (!v.ok) throw new UserError(`the active ${family} version ${entry.version} does not verify (${v.reason}); fix the store (npm run rollback) before retraining`);
  return { entry, bytes: v.bytes };
}

/** scoreHeldBack: candidate, active and the two rules on the held-back rows. */
async function scoreHeldBack(t: JobTable, rows: number[], candidateFile: string, activeFile: string): Promise<Record<string, JobMetrics>> {
  const peaks = Float64Array.from(rows, (i) => t.peak[i]!);
  const cs = specOfModel(candidateFile);
  const cand = await runJobModel(candidateFile, cs, t, rows);
  const act = await runJobModel(activeFile, specOfModel(activeFile), t, rows);
  const systems: Record<string, JobMetrics> = {
    candidate: jobMetrics(peaks, cand.allocation, cand.point, cand.confidence),
    active: jobMetrics(peaks, act.allocation, act.point, act.confidence),
    'fixed (train max)': jobMetrics(peaks, new Float64Array(rows.length).fill(cs.training.maxPeak)),
  };
  if (t.requested) systems['as requested'] = jobMetrics(peaks, Float64Array.from(rows, (i) => t.requested![i]!));
  return systems;
}

/** retrainJobs runs the stages of the module header. */
export async function retrainJobs(o: JobRetrainOptions): Promise<JobRetrainResult> {
  const report = (stage: Stage, within: number, message: string) => {
    const s = STAGES.find((x) => x.stage === stage)!;
    o.onProgress?.({ stage, pct: +(s.from + (s.to - s.from) * Math.min(Math.max(within, 0), 1)).toFixed(1), message });
  };
  const check = () => {
    if (o.signal?.aborted) throw new CancelledError();
  };
  const manifestPath = resolve(o.manifestPath);
  const active = activeOf(manifestPath, o.family);
  report('reading', 0, `reading ${basename(o.data)}`);
  const t = readJobTable(o.data);
  const split = splitJobs(t);
  report('splitting', 1, `${t.n} jobs: ${split.train.length} to train on, the ${split.kind === 'chronological' ? 'latest' : 'seeded'} ${split.holdout.length} held back`);
  check();

  const out = join(o.workDir, 'model');
  mkdirSync(o.workDir, { recursive: true });
  report('training', 0, `train --family ${o.family} in a child process, model selection within ${o.budgetSec === null ? 'train\'s default budget' : `${o.budgetSec} s`}`);
  const summary = await runTrainChild({
    args: ['--family', o.family, '--data', resolve(o.data), ...(o.budgetSec === null ? [] : ['--budget', String(o.budgetSec)]), '--output', out],
    maxOldSpaceMb: o.maxOldSpaceMb,
    signal: o.signal,
    onLine: (line) => {
      o.onTrainLine?.(line);
      const m = TREE_PROGRESS.exec(line);
      if (m) report('training', Number(m[1]) / Number(m[2]), `candidate ${m[1]}/${m[2]} cross-validated`);
    },
  });
  const modelFile = typeof summary.model === 'string' ? summary.model : null;
  if (!modelFile) throw new UserError(`train --family ${o.family} trained a ${String(summary.kind)} model; a retraining judges the tree models train chooses (drop any --strategy)`);
  report('training', 1, `${String(summary.kind)} chosen in ${Number(summary.seconds).toFixed(0)} s`);
  check();

  const activeFile = join(o.workDir, 'active.onnx');
  writeFileAtomic(activeFile, Buffer.from(active.bytes));
  specOfBytes(active.bytes, `the active ${o.family} ${active.entry.version}`);
  const named = getFamily(o.family);
  const family = named.ofModel?.(modelFile) ?? named;
  const outputDir = dirname(resolve(dirname(manifestPath), active.entry.file));
  const exported = exportModel({ model: modelFile, outputDir, manifestPath, family, validation: null, activate: false, shadow: { state: 'evaluating', against: active.entry.version } });
  report('exporting', 1, `candidate ${exported.version} retained in the store, not active (active: ${active.entry.version})`);

  report('evaluating', 0, `candidate ${exported.version} vs active ${active.entry.version} and the rules on ${split.holdout.length} held-back jobs`);
  const systems = await scoreHeldBack(t, split.holdout, modelFile, activeFile);
  check();
  const d = decideJobs(systems, o);
  const now = familyOf(readManifest(manifestPath), o.family).active;
  const promoteNow = o.promote && d.eligible && now === active.entry.version;
  const decision = promoteNow ? 'promoted' : d.eligible && now === active.entry.version ? 'eligible' : 'rejected';
  const lost = d.rules.filter((k) => !k.passed && !o.rulesGate);
  const reason = now !== active.entry.version ? `the active version changed from ${active.entry.version} to ${now} during the evaluation; not promoted`
    : d.eligible ? `every check passed (${d.checks.length}); ${promoteNow ? 'promoted' : 'not promoted: promotion was not asked for (--promote / autoPromote)'}${lost.length ? `; not required (no --rules-gate / rulesGate): ${lost.map(failed).join('; ')}` : ''}`
    : `failed ${d.reasons.length} of ${d.checks.length} checks: ${d.reasons.join('; ')}`;
  const record: JobShadowRecord = round4({
    schemaVersion: 1, state: 'decided', decision, against: active.entry.version, decidedAt: new Date().toISOString(), reason, margin: o.margin, rulesGate: o.rulesGate, promoteAsked: o.promote,
    data: { source: 'jobs', description: basename(o.data), split: `${split.kind} 80/20${split.seed !== null ? ` (seed ${split.seed})` : ''}`, trainJobs: split.train.length, heldBackJobs: split.holdout.length, budgetSec: o.budgetSec },
    training: { trained: true, kind: String(summary.kind), seconds: Number(summary.seconds) },
    slices: [{ name: 'held back', kind: 'held-back', jobs: split.holdout.length, systems }],
    checks: d.checks, reasons: d.reasons, rules: d.rules,
  });
  report('deciding', 0.5, reason);
  const c = systems.candidate!;
  const validation = round4({ source: `shadow evaluation: ${split.holdout.length} held-back jobs of ${basename(o.data)}`, jobs: c.jobs, businessScore: c.businessScore, underPct: c.underPct, overPct: c.overPct, activeBusinessScore: systems.active!.businessScore });
  const written = updateEntry(manifestPath, exported.version, (e) => ({ ...e, validation, shadow: record as unknown as Record<string, unknown> }), promoteNow, o.family);
  const activeNow = familyOf(written, o.family).active;
  report('deciding', 1, `${decision}: active ${activeNow}`);
  return { version: exported.version, against: active.entry.version, decision, active: activeNow, record, manifestPath, next: nextStep(manifestPath, isConfigMapStore(manifestPath)) };
}
