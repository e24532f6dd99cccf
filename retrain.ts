/**
 * retrain: retrain the container model on a cluster's own history, judge the candidate against the active
 * version and the rules on held-back workloads and days, and promote it only when it is better
 * (src/retrain/run.ts has the stages; split.ts the split; shadow.ts the decision).
 *   npm run retrain -- --prometheus http://localhost:9090 [--history 28d] [--promote] [--margin 0.02]
 *   npm run retrain -- --input ../shared/data/bitbrains-250 --manifest /store/manifest.json --promote
 *   npm run retrain -- --prometheus URL --configmap resource-agent-store --promote     (in a pod: the ConfigMap store)
 *   npm run retrain -- --family job-memory/build-jobs --jobs ../shared/data/build-jobs/build-jobs.csv [--budget 120]
 *                                                      (a job family: src/retrain/jobs.ts)
 * Progress on stderr (--progress json: one JSON object a line, for the agent's training jobs); the result as
 * one JSON line on stdout. Exit codes: 0 decided (promoted or not), 2 bad input, 1 Prometheus or training failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makeCli, progress, runMain } from './src/util/cli.js';
import { UserError } from './src/util/errors.js';
import { parseDuration } from './src/sources/prometheus.js';
import { connectionOf, withConnectionFlags } from './src/sources/prometheus-cli.js';
import { SOURCES } from './src/sources/registry.js';
import { parseSelector } from './src/sources/select.js';
import { RETRAIN_DEFAULTS, retrain } from './src/retrain/run.js';
import type { HistorySource, RetrainOptions } from './src/retrain/run.js';
import { formatShadow } from './src/retrain/shadow.js';
import { CancelledError } from './src/retrain/train-child.js';
import { kubeAccess, parseConfigMapRef, fetchConfigMapStore, putConfigMapStore } from './src/retrain/kube-configmap.js';
import { retrainJobs } from './src/retrain/jobs.js';
import { CONTAINER_CONTRACT } from './src/families/container-resources/features.js';

const D = RETRAIN_DEFAULTS;

/** parseArgs: the command line, checked. */
async function parseArgs() {
  return withConnectionFlags(makeCli('retrain', 'Retrain the container model on the cluster\'s own history; promote it only when it beats the active version.\n\nUsage: npm run retrain -- --prometheus URL [--history 28d] [--promote] [--margin 0.02]\n       npm run retrain -- --input DIR [--trace bitbrains] [--promote]\n       npm run retrain -- --prometheus URL --configmap resource-agent-store --promote   (in a pod, on the ConfigMap store)\n       npm run retrain -- --family job-memory/build-jobs --jobs FILE [--budget 120] [--promote]'))
    .option('family', { type: 'string', default: CONTAINER_CONTRACT.family, describe: `the family to retrain: ${CONTAINER_CONTRACT.family} (from --prometheus or --input), or job-memory/<data set> (from --jobs)` })
    .option('jobs', { type: 'string', describe: 'with --family job-memory/<data set>: the job CSV (build-jobs or Galaxy format); its latest 20% (by time) are held back to judge the candidate' })
    .option('budget', { type: 'number', describe: 'with --jobs: seconds for the model selection (train --budget; default: train\'s own, 180)' })
    .option('prometheus', { type: 'string', describe: 'Prometheus (or Thanos / Mimir) base URL to read the history from' })
    .option('input', { alias: 'i', type: 'string', array: true, describe: 'trace files or folders instead of Prometheus (e.g. ../shared/data/bitbrains-250)' })
    .option('trace', { choices: SOURCES.filter((s) => s.name !== 'prometheus').map((s) => s.name), default: 'bitbrains', describe: 'with --input: the usage source (format) of the files' })
    .option('vms', { type: 'string', describe: 'with --input: keep only these traces, e.g. 1-150' })
    .option('manifest', { type: 'string', default: 'manifest.json', describe: 'the model store: its active container version is the one to beat; the candidate is added to it' })
    .option('configmap', { type: 'string', describe: 'the model store is this ConfigMap, NAME (the pod\'s namespace) or NAMESPACE/NAME: read through the Kubernetes API, retrained on a copy, written back (instead of --manifest; deploy/overlays/configmap-store-retrain)' })
    .option('kube-api', { type: 'string', describe: 'with --configmap: the Kubernetes API URL (default: in a pod, https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT)' })
    .option('kube-token-file', { type: 'string', describe: 'with --configmap: bearer token file (default: the pod\'s service account token)' })
    .option('kube-ca-file', { type: 'string', describe: 'with --configmap: CA of the API server (default: the pod\'s service account ca.crt)' })
    .option('output', { type: 'string', describe: "folder of the candidate's versioned file (default: the folder of the active version's file)" })
    .option('history', { type: 'string', default: `${D.historySec / 86400}d`, describe: 'history read from Prometheus (windows are 7 d past → 3 d future; the held-back period comes off the end)' })
    .option('step', { type: 'string', default: '5m', describe: 'sample step of the history (the model was trained on 5m)' })
    .option('end', { type: 'string', describe: "end of the history: RFC 3339 or epoch seconds (default now; with --input the traces' last sample)" })
    .option('namespace', { alias: 'n', type: 'string', array: true, describe: 'only these namespaces (repeat or comma-separate)' })
    .option('selector', { alias: 'l', type: 'string', describe: 'pod label selector, e.g. app=web (through kube_pod_labels)' })
    .option('holdout-period', { type: 'string', default: `${D.split.holdoutPeriodSec / 86400}d`, describe: 'the last part of the history held back: no training window reaches into it, every shadow window\'s future lies in it (≥ 3d)' })
    .option('holdout-share', { type: 'number', default: D.split.holdoutShare, describe: 'share of the workloads held out of training for the shadow evaluation (chosen by a hash of their names: stable from run to run)' })
    .option('holdout-seed', { type: 'number', default: D.split.seed, describe: 'seed of that hash' })
    .option('margin', { type: 'number', default: D.margin, describe: 'promote only if business ≤ (1 − margin) × the active version\'s, on every slice, with no more memory under-allocation' })
    .option('rules-gate', { type: 'boolean', default: false, describe: 'also require business ≤ max × 1.3 and memory under ≤ VPA on every slice (as export --stress does); without it the rules\' comparisons are recorded in the decision (`rules`), not required' })
    .option('promote', { type: 'boolean', default: false, describe: 'make the candidate active when every check passes (without it the decision is only recorded)' })
    .option('candidate', { type: 'string', describe: 'evaluate this trained ONNX model instead of training one' })
    .option('base-data', { type: 'string', array: true, default: [], describe: 'other training files mixed in, FILE[:WEIGHT] (e.g. data/fleet-train.npz:1)' })
    .option('epochs', { type: 'number', default: D.training.epochs })
    .option('patience', { type: 'number', default: D.training.patience })
    .option('batch-size', { type: 'number', default: D.training.batchSize })
    .option('learning-rate', { type: 'number', default: D.training.learningRate })
    .option('val-fraction', { type: 'number', default: D.training.valFraction, describe: 'share of the training workloads held out for early stopping' })
    .option('seed', { type: 'number', default: D.training.seed, describe: 'training seed' })
    .option('max-old-space-size', { type: 'number', default: D.maxOldSpaceMb, describe: 'heap cap of the training process, MiB' })
    .option('work-dir', { type: 'string', describe: 'scratch folder (default: a new temporary folder, removed afterwards)' })
    .option('progress', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'json: one {"stage","pct","message"} object a line on stderr (what the agent reads)' })
    .option('stop-with-stdin', { type: 'boolean', default: false, hidden: true, describe: 'cancel when stdin closes (the agent that started this run is gone)' })
    .parse();
}
type Args = Awaited<ReturnType<typeof parseArgs>>;

/** checkNumbers refuses a training number or margin out of range, naming the flag. */
function checkNumbers(argv: Args): void {
  for (const [flag, v, int] of [['--epochs', argv.epochs, true], ['--patience', argv.patience, true], ['--batch-size', argv.batchSize, true], ['--learning-rate', argv.learningRate, false], ['--max-old-space-size', argv.maxOldSpaceSize, true]] as const) {
    if (!(Number.isFinite(v) && v > 0) || (int && !Number.isInteger(v))) throw new UserError(`${flag} must be a positive ${int ? 'whole ' : ''}number, got ${v}`);
  }
  if (!(argv.margin >= 0 && argv.margin < 1)) throw new UserError(`--margin must be in [0, 1): the share by which the candidate must beat the active version, got ${argv.margin}`);
}

/** historySource: where the history comes from (Prometheus with its access options, or trace files). */
function historySource(argv: Args): HistorySource {
  if ((argv.prometheus === undefined) === (argv.input === undefined)) throw new UserError('give exactly one of --prometheus URL (the cluster) or --input DIR (trace files)');
  const endSec = argv.end === undefined ? undefined : /^\d+(\.\d+)?$/.test(argv.end) ? Number(argv.end) : Date.parse(argv.end) / 1000;
  if (endSec !== undefined && !Number.isFinite(endSec)) throw new UserError(`--end '${argv.end}' is not a time; use RFC 3339 (2026-01-31T00:00:00Z) or epoch seconds`);
  if (argv.prometheus === undefined) {
    const given = [['--namespace', argv.namespace], ['--selector', argv.selector], ['--header', argv.header], ['--bearer-token-file', argv.bearerTokenFile], ['--basic-auth-file', argv.basicAuthFile], ['--ca-file', argv.caFile], ['--end', argv.end]].find(([, v]) => v !== undefined);
    if (given) throw new UserError(`${given[0]} only applies with --prometheus; drop it`);
    return { kind: 'traces', source: argv.trace, paths: argv.input!, read: { select: argv.vms ? parseSelector(argv.vms) : undefined } };
  }
  return {
    kind: 'prometheus',
    request: {
      url: argv.prometheus,
      ...connectionOf(argv),
      namespaces: (argv.namespace ?? []).flatMap((n) => n.split(',')).map((n) => n.trim()).filter(Boolean),
      selector: argv.selector,
      historySec: parseDuration(argv.history, '--history'),
      stepSec: parseDuration(argv.step, '--step'),
      endSec: endSec ?? Date.now() / 1000,
    },
  };
}

/** cancelSignal: aborted on SIGTERM, SIGINT, and (--stop-with-stdin) when the agent that started the run is gone. */
function cancelSignal(stopWithStdin: boolean): AbortSignal {
  const abort = new AbortController();
  const stop = () => abort.abort();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // A training job of the agent holds our stdin open: if the agent dies (kill -9), the pipe closes and
  // the run stops before it could promote anything the restarted agent reports as interrupted.
  if (stopWithStdin) {
    process.stdin.on('end', stop).on('close', stop).on('error', stop);
    process.stdin.resume();
  }
  return abort.signal;
}

/**
 * onConfigMap: with --configmap, the run on a copy of the ConfigMap store in the work folder, and the
 * decided store written back (kube-configmap.ts); otherwise the run as it is.
 */
async function onConfigMap<R extends { manifestPath: string; next: string | null }>(argv: Args, workDir: string, run: (manifestPath: string) => Promise<R>): Promise<R & { configMap?: { name: string; resourceVersion: string } }> {
  if (argv.configmap === undefined) {
    const given = [['--kube-api', argv.kubeApi], ['--kube-token-file', argv.kubeTokenFile], ['--kube-ca-file', argv.kubeCaFile]].find(([, v]) => v !== undefined);
    if (given) throw new UserError(`${given[0]} only applies with --configmap; drop it`);
    return run(argv.manifest);
  }
  const ref = parseConfigMapRef(argv.configmap);
  const kube = kubeAccess({ api: argv.kubeApi, tokenFile: argv.kubeTokenFile, caFile: argv.kubeCaFile });
  const dir = join(workDir, 'configmap-store');
  const cm = await fetchConfigMapStore(kube, ref, dir);
  const r = await run(join(dir, 'manifest.json'));
  const resourceVersion = await putConfigMapStore(kube, ref, cm, dir);
  const name = `${ref.namespace}/${ref.name}`;
  return { ...r, manifestPath: `configmap ${name}`, next: `written to ConfigMap ${name} (resourceVersion ${resourceVersion}); the agents reload it when the kubelet updates their volume (about a minute)`, configMap: { name, resourceVersion } };
}

/** jobArgs: with a job-memory family, --jobs and the budget, checked; with the container family, neither. */
function jobArgs(argv: Args): { data: string; budgetSec: number | null } | null {
  if (argv.family === CONTAINER_CONTRACT.family) {
    if (argv.jobs !== undefined || argv.budget !== undefined) throw new UserError(`${argv.jobs !== undefined ? '--jobs' : '--budget'} applies to a job-memory family; add --family job-memory/<data set>`);
    return null;
  }
  if (!argv.family.startsWith('job-memory/')) throw new UserError(`--family ${argv.family}: retrain takes ${CONTAINER_CONTRACT.family} or job-memory/<data set>`);
  if (argv.jobs === undefined) throw new UserError(`--family ${argv.family} retrains from a job CSV: give --jobs FILE`);
  const given = [['--prometheus', argv.prometheus], ['--input', argv.input], ['--candidate', argv.candidate], ['--rules-gate', argv.rulesGate || undefined]].find(([, v]) => v !== undefined);
  if (given) throw new UserError(`${given[0]} applies to ${CONTAINER_CONTRACT.family}; a job family retrains from --jobs`);
  if (argv.budget !== undefined && !(Number.isFinite(argv.budget) && argv.budget > 0)) throw new UserError(`--budget must be a positive number of seconds, got ${argv.budget}`);
  return { data: argv.jobs, budgetSec: argv.budget ?? null };
}

/** runJobFamily: the job-family retraining (src/retrain/jobs.ts) and its result line. */
async function runJobFamily(argv: Args, jobs: { data: string; budgetSec: number | null }, workDir: string, signal: AbortSignal): Promise<void> {
  const json = argv.progress === 'json';
  const r = await onConfigMap(argv, workDir, (manifestPath) => retrainJobs({
    family: argv.family, ...jobs, manifestPath, margin: argv.margin, rulesGate: false, promote: argv.promote, workDir: join(workDir, 'run'), maxOldSpaceMb: argv.maxOldSpaceSize, signal,
    onProgress: (p) => (json ? process.stderr.write(`${JSON.stringify(p)}\n`) : progress(`retrain: [${p.pct.toFixed(0).padStart(3)}%] ${p.stage}: ${p.message}`, true)),
    onTrainLine: json ? (line) => process.stderr.write(`${JSON.stringify({ log: line })}\n`) : undefined,
  }));
  if (!json) progress(`retrain: candidate ${r.version} ${r.decision} against ${r.against}; active ${r.active}: ${r.record.reason}`, true);
  console.log(JSON.stringify({ version: r.version, against: r.against, decision: r.decision, active: r.active, reason: r.record.reason, manifest: r.manifestPath, next: r.next, configMap: r.configMap, heldBack: r.record.slices[0]?.systems, data: r.record.data }));
}

/** runContainer: the container retraining (src/retrain/run.ts) and its result line (the slices as a table in text mode). */
async function runContainer(argv: Args, data: HistorySource, workDir: string, signal: AbortSignal): Promise<void> {
  const json = argv.progress === 'json';
  const options = (manifestPath: string): RetrainOptions => ({
    data,
    manifestPath,
    outputDir: argv.output,
    split: { holdoutPeriodSec: parseDuration(argv.holdoutPeriod, '--holdout-period'), holdoutShare: argv.holdoutShare, seed: argv.holdoutSeed },
    training: { epochs: argv.epochs, patience: argv.patience, batchSize: argv.batchSize, learningRate: argv.learningRate, valFraction: argv.valFraction, seed: argv.seed, baseData: argv.baseData },
    candidate: argv.candidate ?? null,
    margin: argv.margin,
    rulesGate: argv.rulesGate,
    promote: argv.promote,
    workDir: join(workDir, 'run'),
    maxOldSpaceMb: argv.maxOldSpaceSize,
    signal,
    onProgress: (p) => (json ? process.stderr.write(`${JSON.stringify(p)}\n`) : progress(`retrain: [${p.pct.toFixed(0).padStart(3)}%] ${p.stage}: ${p.message}`, true)),
    onTrainLine: json ? (line) => process.stderr.write(`${JSON.stringify({ log: line })}\n`) : undefined,
    log: json ? (line) => line.includes('warning') && process.stderr.write(`${JSON.stringify({ log: line })}\n`) : undefined,
  });
  const r = await onConfigMap(argv, workDir, (manifestPath) => retrain(options(manifestPath)));
  if (!json) {
    process.stderr.write(`${formatShadow(r.record.slices, { eligible: r.record.reasons.length === 0, checks: r.record.checks, reasons: r.record.reasons, rules: r.record.rules ?? [] })}\n`);
    progress(`retrain: candidate ${r.version} ${r.decision} against ${r.against}; active ${r.active}; decision and figures recorded in ${r.manifestPath}${r.next ? `; ${r.configMap ? '' : 'to make it live: '}${r.next}` : ''}`, true);
  }
  console.log(JSON.stringify({ version: r.version, against: r.against, decision: r.decision, active: r.active, reason: r.record.reason, manifest: r.manifestPath, next: r.next, configMap: r.configMap, heldBack: r.record.slices[0]?.systems, data: r.record.data }));
}

runMain(async () => {
  const argv = await parseArgs();
  checkNumbers(argv);
  const jobs = jobArgs(argv);
  const data = jobs ? null : historySource(argv);
  const workDir = argv.workDir ? resolve(argv.workDir) : mkdtempSync(join(tmpdir(), 'crp-retrain-'));
  const signal = cancelSignal(argv.stopWithStdin);
  try {
    if (jobs) await runJobFamily(argv, jobs, workDir, signal);
    else await runContainer(argv, data!, workDir, signal);
  } catch (e) {
    if (e instanceof CancelledError) throw new UserError('cancelled (SIGTERM, SIGINT, or the agent that started this run is gone); the candidate, if exported, is retained and not active', 130);
    throw e;
  } finally {
    if (!argv.workDir) rmSync(workDir, { recursive: true, force: true });
    process.stdin.destroy();
  }
});
