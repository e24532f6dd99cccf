/**
 * run: one retraining of the container model from a cluster's own history, end to end, in stages, each
 * reported as progress (what `npm run retrain` prints and a training job of the agent shows):
 *
 *   reading     the history: Prometheus over --history, or trace files               (history.ts)
 *   splitting   protocol windows, split by workload and by time                      (split.ts)
 *   training    the real train.ts in a child process with a heap cap, on the training
 *               windows (+ any --base-data), its risk table on the calibration ones   (train-child.ts)
 *   exporting   the candidate into the store as a new version, NOT active, its
 *               manifest entry marked shadow.state "evaluating"                       (export/publish.ts)
 *   evaluating  the stored candidate (its verified bytes) next to the active version,
 *               VPA, KRR and max × 1.3 on the shadow windows and their rescalings       (shadow.ts)
 *   deciding    the decision and every figure written into the candidate's manifest
 *               entry (`shadow`, and a summary as `validation`); with `promote` and an
 *               eligible candidate, the candidate is made active in the same write
 *
 * Nothing is activated unless promotion is asked for and every check passed; if the active version
 * changed while the candidate was evaluated, the candidate is not promoted (the record says so). A run
 * cancelled or failed after the export leaves the candidate retained with shadow.state "cancelled" or
 * "failed" and the reason, never active.
 */
import { basename, join, dirname, resolve } from 'node:path';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { activate, family as familyOf, findVersion, readManifest, verifyVersion, writeManifest } from '../store/manifest.js';
import type { Manifest, VersionEntry } from '../store/manifest.js';
import { DEFAULT_CONFIGMAP_STORE, DEPLOY_DIR, isConfigMapStore } from '../store/configmap.js';
import { exportModel } from '../export/publish.js';
import { containerResources } from '../families/container-resources/index.js';
import { CONTAINER_CONTRACT } from '../families/container-resources/features.js';
import { loadOnnx } from '../onnx/runtime.js';
import type { OnnxPredictor } from '../onnx/runtime.js';
import { UserError } from '../util/errors.js';
import type { ReadOptions } from '../sources/types.js';
import type { ReadRequest } from '../sources/prometheus.js';
import { historyFromPrometheus, historyFromTraces, iso } from './history.js';
import type { History } from './history.js';
import { DAY, splitHistory } from './split.js';
import type { RetrainSplit, SplitOptions } from './split.js';
import { windowsToNpz } from './dataset.js';
import { CancelledError, runTrainChild } from './train-child.js';
import type { TrainSummary } from './train-child.js';
import { decide, failed, shadowEvaluate } from './shadow.js';
import type { Check, Decision, ShadowSlice } from './shadow.js';

/** STAGES: each stage's share of the progress, in order. */
export const STAGES = [
  { stage: 'reading', from: 0, to: 10 },
  { stage: 'splitting', from: 10, to: 15 },
  { stage: 'training', from: 15, to: 80 },
  { stage: 'exporting', from: 80, to: 83 },
  { stage: 'evaluating', from: 83, to: 97 },
  { stage: 'deciding', from: 97, to: 100 },
] as const;
export type Stage = (typeof STAGES)[number]['stage'];

/** Progress: where a run is: its stage, 0–100 overall, one line, and the training's own ETA when known. */
export interface Progress {
  stage: Stage;
  pct: number;
  message: string;
  trainingEtaSec?: number | null;
}

/** HistorySource: where the history comes from. */
export type HistorySource =
  | { kind: 'prometheus'; request: ReadRequest }
  | { kind: 'traces'; source: string; paths: string[]; read?: ReadOptions };

/** TrainingSettings: the train.ts flags a retraining passes (defaults: the shipped v2.0.0 recipe). */
export interface TrainingSettings {
  epochs: number;
  patience: number;
  batchSize: number;
  learningRate: number;
  valFraction: number;
  seed: number;
  /** other training files mixed in, FILE[:WEIGHT] as train --data takes them */
  baseData: string[];
}

/** RETRAIN_DEFAULTS: the recipe v2.0.0 was made with (README "The shipped default model"). */
export const RETRAIN_DEFAULTS = {
  training: { epochs: 300, patience: 30, batchSize: 128, learningRate: 0.003, valFraction: 0.2, seed: 1, baseData: [] as string[] },
  split: { holdoutPeriodSec: 4 * DAY, holdoutShare: 0.3, seed: 20261123 },
  historySec: 28 * DAY,
  margin: 0.02,
  maxOldSpaceMb: 1024,
};

export interface RetrainOptions {
  data: HistorySource;
  /** the model store's manifest (its active container version is the one to beat) */
  manifestPath: string;
  /** where the candidate's versioned file goes (default: the folder of the active version's file) */
  outputDir?: string;
  split: SplitOptions;
  training: TrainingSettings;
  /** evaluate this ONNX model instead of training one (e.g. a model trained elsewhere) */
  candidate?: string | null;
  margin: number;
  /** also require business ≤ max × 1.3 and memory under ≤ VPA on every slice */
  rulesGate: boolean;
  /** make an eligible candidate active */
  promote: boolean;
  /** scratch folder (training files, the trained model); the caller creates and removes it */
  workDir: string;
  /** heap cap of the training child, MiB */
  maxOldSpaceMb: number;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  log?: (line: string) => void;
  /** called with the child's stderr lines (train.ts progress) */
  onTrainLine?: (line: string) => void;
}

/** ShadowRecord: what the candidate's manifest entry holds as `shadow` (and /v1/models shows). */
export interface ShadowRecord {
  schemaVersion: 1;
  state: 'evaluating' | 'decided' | 'cancelled' | 'failed';
  /** promoted: made active; eligible: every check passed, promotion not asked; rejected: a check failed */
  decision: 'promoted' | 'eligible' | 'rejected' | null;
  /** the active version it was compared with */
  against: string;
  startedAt: string;
  decidedAt: string | null;
  reason: string | null;
  margin: number;
  rulesGate: boolean;
  promoteAsked: boolean;
  data: {
    source: string;
    description: string;
    start: string;
    end: string;
    cutoff: string;
    holdoutPeriodDays: number;
    holdoutShare: number;
    holdoutSeed: number;
    train: { workloads: number; windows: number };
    calibration: { workloads: number; windows: number };
    shadow: { workloads: number; windows: number };
    baseData: string[];
  };
  training: { trained: boolean; candidateFile?: string; seed?: number; epochs?: number; bestEpoch?: number; seconds?: number; int8MaxDeviation?: number };
  slices: ShadowSlice[];
  checks: Check[];
  /** the failed checks, one line each */
  reasons: string[];
  /** the candidate against max × 1.3 and VPA on every slice, required or not (shadow.ts Decision.rules; absent in records of earlier runs) */
  rules?: Check[];
}

export interface RetrainResult {
  /** the candidate's version */
  version: string;
  against: string;
  decision: 'promoted' | 'eligible' | 'rejected';
  /** the active version after the run */
  active: string;
  record: ShadowRecord;
  manifestPath: string;
  configMapStore: boolean;
  /** the step that makes the result live, for a ConfigMap store (kubectl apply -k …); null otherwise */
  next: string | null;
}

/** round4: every number of a record to 4 decimals (the manifest stays small and readable). */
export function round4<T>(v: T): T {
  return JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'number' && Number.isFinite(x) && !Number.isInteger(x) ? +x.toFixed(4) : x))) as T;
}

/** updateEntry rewrites one version's entry of the family (default: the container one) in the manifest as it is on disk now. */
export function updateEntry(manifestPath: string, version: string, change: (e: VersionEntry) => VersionEntry, alsoActivate = false, familyName: string = CONTAINER_CONTRACT.family): Manifest {
  const m = readManifest(manifestPath);
  const fam = familyOf(m, familyName);
  if (!findVersion(fam, version)) throw new UserError(`the candidate ${version} is no longer retained in ${manifestPath}; nothing recorded`);
  let next: Manifest = { ...m, families: { ...m.families, [familyName]: { ...fam, versions: fam.versions.map((v) => (v.version === version ? change(v) : v)) } } };
  if (alsoActivate) next = activate(next, version, familyName);
  writeManifest(manifestPath, next);
  return next;
}

/** readHistory reads the data source. */
export function readHistory(d: HistorySource): Promise<History> {
  return d.kind === 'prometheus' ? historyFromPrometheus(d.request) : Promise.resolve(historyFromTraces(d.source, d.paths, d.read));
}

/** Reporter: a stage's progress (`within` 0–1 of the stage) as an event and a log line. */
type Reporter = (stage: Stage, within: number, message: string, trainingEtaSec?: number | null) => void;

/** Beat: the version to beat, verified as the agent verifies it, and where the candidate's file goes. */
interface Beat {
  entry: VersionEntry;
  bytes: Uint8Array;
  outputDir: string;
}

/** activeToBeat reads and verifies the store's active container version. */
function activeToBeat(manifestPath: string, outputDir: string | undefined): Beat {
  const fam = familyOf(readManifest(manifestPath), CONTAINER_CONTRACT.family);
  const entry = findVersion(fam, fam.active)!;
  const contractOf = (e: VersionEntry) => String((e.contract.features as { contractVersion?: unknown } | null)?.contractVersion ?? '?');
  if (contractOf(entry) !== CONTAINER_CONTRACT.version) throw new UserError(`the active version ${entry.version} is of contract ${contractOf(entry)}, this release trains and judges contract ${CONTAINER_CONTRACT.version}; export a contract-${CONTAINER_CONTRACT.version} version first`);
  const verified = verifyVersion(manifestPath, entry);
  if (!verified.ok) throw new UserError(`the active version ${entry.version} does not verify (${verified.reason}); fix the store (npm run rollback) before retraining`);
  return { entry, bytes: verified.bytes, outputDir: resolve(outputDir ?? dirname(resolve(dirname(manifestPath), entry.file))) };
}

/** Prepared: the history, its split, the set sizes and the training files written for train.ts. */
interface Prepared {
  history: History;
  split: RetrainSplit;
  counts: Record<'train' | 'calibration' | 'shadow', { workloads: number; windows: number }>;
  trainFile: string;
  calFile: string | null;
}

/** readAndSplit: the reading and splitting stages. */
async function readAndSplit(o: RetrainOptions, report: Reporter, log: (line: string) => void): Promise<Prepared> {
  report('reading', 0, o.data.kind === 'prometheus' ? `reading ${o.data.request.historySec / DAY} days of history from Prometheus` : `reading ${o.data.paths.map((p) => basename(p.replace(/[\\/]+$/, '')) || p).join(' ')}`);
  const history = await readHistory(o.data);
  if (o.signal?.aborted) throw new CancelledError();
  for (const w of history.warnings) log(`retrain: warning: ${w}`);
  report('reading', 1, `${history.series.length} containers, ${iso(history.startSec)} → ${iso(history.endSec)}`);

  const split = splitHistory(history, o.split);
  const count = (ws: { vm: string }[]) => ({ workloads: new Set(ws.map((w) => split.workloadOf.get(w.vm))).size, windows: ws.length });
  const counts = { train: count(split.train), calibration: count(split.calibration), shadow: count(split.shadow) };
  mkdirSync(o.workDir, { recursive: true });
  const trainFile = join(o.workDir, 'train.npz');
  const calFile = split.calibration.length ? join(o.workDir, 'calibration.npz') : null;
  writeFileSync(trainFile, windowsToNpz(split.train, split.workloadOf, history.source));
  if (calFile) writeFileSync(calFile, windowsToNpz(split.calibration, split.workloadOf, history.source));
  report('splitting', 1, `cutoff ${iso(split.cutoffSec)}: train ${counts.train.windows} windows of ${counts.train.workloads} workloads; calibration ${counts.calibration.windows} of ${counts.calibration.workloads}; shadow ${counts.shadow.windows} of ${counts.shadow.workloads} held-out workloads`);
  return { history, split, counts, trainFile, calFile };
}

/** trainCandidate: the training stage (train.ts in a child), or the given --candidate. */
async function trainCandidate(o: RetrainOptions, p: Prepared, report: Reporter): Promise<{ modelFile: string; summary: TrainSummary | null }> {
  if (o.candidate) {
    report('training', 1, `no training: evaluating ${o.candidate}`);
    return { modelFile: resolve(o.candidate), summary: null };
  }
  const t = o.training;
  const out = join(o.workDir, 'model');
  const args = ['--data', p.trainFile, ...t.baseData.flatMap((d) => ['--data', d]), ...(p.calFile ? ['--calibration-data', p.calFile] : []), '--output', out,
    '--epochs', String(t.epochs), '--patience', String(t.patience), '--batch-size', String(t.batchSize), '--learning-rate', String(t.learningRate), '--val-fraction', String(t.valFraction), '--seed', String(t.seed)];
  report('training', 0, `train.ts in a child process (heap ≤ ${o.maxOldSpaceMb} MiB), up to ${t.epochs} epochs`);
  const summary = await runTrainChild({
    args,
    maxOldSpaceMb: o.maxOldSpaceMb,
    signal: o.signal,
    onLine: o.onTrainLine,
    // early stopping may end sooner than the epochs asked for: the bar then jumps to the end of the stage
    onEpoch: (e) => report('training', e.epoch / e.epochs, `epoch ${e.epoch}/${e.epochs}`, e.etaSec),
  });
  report('training', 1, `best epoch ${summary.bestEpoch} after ${Number(summary.seconds).toFixed(0)} s`);
  return { modelFile: join(out, 'predictor.onnx'), summary };
}

/** shadowBase: the candidate's record as it is exported (state "evaluating", no figures yet). */
function shadowBase(o: RetrainOptions, against: string, p: Prepared, summary: TrainSummary | null): ShadowRecord {
  const { history, split, counts } = p;
  return {
    schemaVersion: 1,
    state: 'evaluating',
    decision: null,
    against,
    startedAt: new Date().toISOString(),
    decidedAt: null,
    reason: null,
    margin: o.margin,
    rulesGate: o.rulesGate,
    promoteAsked: o.promote,
    data: {
      source: history.source,
      description: history.description,
      start: iso(history.startSec),
      end: iso(history.endSec),
      cutoff: iso(split.cutoffSec),
      holdoutPeriodDays: +(o.split.holdoutPeriodSec / DAY).toFixed(3),
      holdoutShare: o.split.holdoutShare,
      holdoutSeed: o.split.seed,
      ...counts,
      baseData: o.training.baseData,
    },
    training: summary
      ? { trained: true, seed: o.training.seed, epochs: o.training.epochs, bestEpoch: summary.bestEpoch, seconds: Number(summary.seconds), int8MaxDeviation: Number(summary.int8MaxDeviation) }
      : { trained: false, candidateFile: o.candidate ?? undefined },
    slices: [],
    checks: [],
    reasons: [],
    rules: [],
  };
}

/** reasonOf: the decision in one line (and the rules the candidate lost to when they were not required). */
function reasonOf(decision: ShadowRecord['decision'], d: Decision): string {
  const lost = d.rules.filter((k) => !k.passed && !d.checks.includes(k));
  const rules = lost.length ? `; not required (no --rules-gate / rulesGate): ${lost.map(failed).join('; ')}` : '';
  if (decision === 'promoted') return `every check passed (${d.checks.length}); promoted${rules}`;
  if (decision === 'eligible') return `every check passed (${d.checks.length}); not promoted: promotion was not asked for (--promote / autoPromote)${rules}`;
  return `failed ${d.reasons.length} of ${d.checks.length} checks: ${d.reasons.join('; ')}`;
}

/**
 * judge: the evaluating and deciding stages on the exported candidate: its decision and figures written
 * into its manifest entry, and, when asked and eligible, the candidate made active in the same write.
 */
async function judge(o: RetrainOptions, manifestPath: string, beat: Beat, version: string, exported: Manifest, p: Prepared, base: ShadowRecord, report: Reporter): Promise<RetrainResult> {
  let cand: OnnxPredictor | null = null;
  let act: OnnxPredictor | null = null;
  try {
    const entry = findVersion(familyOf(exported, CONTAINER_CONTRACT.family), version)!;
    const cv = verifyVersion(manifestPath, entry);
    if (!cv.ok) throw new UserError(`the exported candidate ${version} does not verify: ${cv.reason}`);
    cand = await loadOnnx(cv.bytes, `candidate ${version}`);
    act = await loadOnnx(beat.bytes, `active ${beat.entry.version}`);
    report('evaluating', 0, `candidate ${version} vs active ${beat.entry.version}, VPA, KRR, max × 1.3 on ${p.counts.shadow.windows} shadow windows`);
    const slices = await shadowEvaluate(p.split.shadow, p.split.workloadOf, { candidate: cand, active: act }, (done, total, name) => report('evaluating', done / total, `${name} scored`));
    if (o.signal?.aborted) throw new CancelledError();
    const d = decide(slices, { margin: o.margin, rulesGate: o.rulesGate });
    const held = slices[0]!.systems.candidate;
    const record: ShadowRecord = round4({ ...base, state: 'decided', slices, checks: d.checks, reasons: d.reasons, rules: d.rules, decidedAt: new Date().toISOString(), decision: 'rejected' });
    // Promote only against the version it was judged against.
    const now = familyOf(readManifest(manifestPath), CONTAINER_CONTRACT.family).active;
    let promoteNow = o.promote && d.eligible;
    if (promoteNow && now !== beat.entry.version) {
      promoteNow = false;
      record.reason = `the active version changed from ${beat.entry.version} to ${now} during the evaluation; not promoted (retrain again against ${now})`;
    }
    record.decision = promoteNow ? 'promoted' : d.eligible && !record.reason ? 'eligible' : 'rejected';
    record.reason ??= reasonOf(record.decision, d);
    const validation = round4({ source: `shadow evaluation: ${p.counts.shadow.windows} windows of ${p.counts.shadow.workloads} held-out workloads after ${iso(p.split.cutoffSec)}`, windows: held.windows, businessScore: held.businessScore, memUnderAllocationPct: held.memUnderAllocationPct, memOverAllocationPct: held.memOverAllocationPct, cpuLimitBreachPct: held.cpuLimitBreachPct, cpuRequestSlackPct: held.cpuRequestSlackPct, activeBusinessScore: slices[0]!.systems.active.businessScore });
    report('deciding', 0.5, record.reason);
    const written = updateEntry(manifestPath, version, (e) => ({ ...e, validation, shadow: record as unknown as Record<string, unknown> }), promoteNow);
    const configMapStore = isConfigMapStore(manifestPath);
    const active = familyOf(written, CONTAINER_CONTRACT.family).active;
    report('deciding', 1, `${record.decision}: active ${active}`);
    return { version, against: beat.entry.version, decision: record.decision, active, record, manifestPath, configMapStore, next: nextStep(manifestPath, configMapStore) };
  } finally {
    await cand?.release();
    await act?.release();
  }
}

/** retrain runs the stages of the module header. */
export async function retrain(o: RetrainOptions): Promise<RetrainResult> {
  const log = o.log ?? (() => {});
  const report: Reporter = (stage, within, message, trainingEtaSec) => {
    const s = STAGES.find((x) => x.stage === stage)!;
    o.onProgress?.({ stage, pct: +(s.from + (s.to - s.from) * Math.min(Math.max(within, 0), 1)).toFixed(1), message, trainingEtaSec });
    log(`retrain: ${stage}: ${message}`);
  };
  const check = () => {
    if (o.signal?.aborted) throw new CancelledError();
  };
  const manifestPath = resolve(o.manifestPath);
  const beat = activeToBeat(manifestPath, o.outputDir);
  const prepared = await readAndSplit(o, report, log);
  check();
  const { modelFile, summary } = await trainCandidate(o, prepared, report);
  check();

  const base = shadowBase(o, beat.entry.version, prepared, summary);
  const exported = exportModel({ model: modelFile, outputDir: beat.outputDir, manifestPath, family: containerResources, validation: null, activate: false, shadow: base as unknown as Record<string, unknown> });
  const version = exported.version;
  report('exporting', 1, `candidate ${version} retained in the store (${basename(manifestPath)}), not active (active: ${beat.entry.version})`);
  try {
    check();
    return await judge(o, manifestPath, beat, version, exported.manifest, prepared, base, report);
  } catch (e) {
    // a run cancelled or failed after the export leaves its candidate retained, marked, never active
    const state = e instanceof CancelledError ? 'cancelled' : 'failed';
    const reason = e instanceof CancelledError ? 'cancelled while evaluating' : (e as Error).message;
    try {
      updateEntry(manifestPath, version, (x) => ({ ...x, shadow: { ...base, state, reason, decidedAt: new Date().toISOString() } as unknown as Record<string, unknown> }));
    } catch (e2) {
      log(`retrain: could not record the ${state} state of ${version}: ${(e2 as Error).message}`);
    }
    throw e;
  }
}

/**
 * nextStep: what makes the result live on Kubernetes. A ConfigMap store folder: apply the folder above it;
 * the store `npm start` serves in a checkout (the ConfigMap store is generated from it): regenerate, then
 * apply; any other store (a PVC, a local folder): nothing, the agents follow the manifest.
 */
export function nextStep(manifestPath: string, configMapStore: boolean): string | null {
  const shown = (p: string) => (p.startsWith(`${process.cwd()}/`) ? p.slice(process.cwd().length + 1) : p);
  if (configMapStore) return `kubectl apply -k ${shown(dirname(dirname(manifestPath)))}`;
  if (existsSync(join(dirname(manifestPath), DEFAULT_CONFIGMAP_STORE, 'kustomization.yaml'))) return `npm run store:configmap, then kubectl apply -k ${DEPLOY_DIR} (the ConfigMap store is generated from this one)`;
  return null;
}
