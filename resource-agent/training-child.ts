/**
 * training-child: what the agent tells a training job's child (`retrain.ts` arguments) and how it reads
 * what the child says back (its stderr lines: `--progress json` objects, log lines, error text) into the
 * job: stage, progress, ETA, log tail. training-jobs.ts spawns the child and owns the job file.
 */
import type { Job, JobRequest } from './training-job-files.js';

/** LOG_LINES: the log lines a job file keeps (the API shows the last 20). */
export const LOG_LINES = 40;

/** RetrainArgsOptions: what of the agent's own settings a job's arguments carry. */
export interface RetrainArgsOptions {
  manifestPath: string;
  maxOldSpaceMb: number;
  /** the agent's Prometheus and how to reach it (a job never names its own URL) */
  prometheus: { url: string; headers: readonly string[]; bearerTokenFile: string | null; caFile: string | null } | null;
}

/** retrainArgs: the retrain.ts arguments of a job (after the script). */
export function retrainArgs(r: JobRequest, o: RetrainArgsOptions): string[] {
  const a: string[] = ['--manifest', o.manifestPath, '--progress', 'json', '--stop-with-stdin', '--max-old-space-size', String(o.maxOldSpaceMb), '--family', r.family];
  if ('jobs' in r.data) {
    a.push('--jobs', r.data.jobs.path, ...(r.budget ? ['--budget', String(r.budget)] : []));
  } else if ('prometheus' in r.data) {
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
  if (r.holdout) a.push('--holdout-period', r.holdout.period, '--holdout-share', String(r.holdout.share), '--holdout-seed', String(r.holdout.seed));
  const t = r.training;
  if (t) a.push('--epochs', String(t.epochs), '--patience', String(t.patience), '--batch-size', String(t.batchSize), '--learning-rate', String(t.learningRate), '--val-fraction', String(t.valFraction), '--seed', String(t.seed));
  a.push('--margin', String(r.margin));
  if (!('jobs' in r.data)) a.push(r.rulesGate ? '--rules-gate' : '--no-rules-gate');
  if (r.autoPromote) a.push('--promote');
  return a;
}

/**
 * applyLine: one stderr line of the child into the job: a progress object ({"stage","pct","message"}), a
 * log object ({"log"}), or plain text (an error line). `elapsedSec` since the job started gives the ETA
 * (elapsed × (100 − pct) ⁄ pct, from 3 %). Epoch lines are not logged (the progress shows them).
 * Example: {"stage":"training","pct":50,"message":"epoch 10/30"} after 60 s → progress 50, etaSec 60.
 */
export function applyLine(j: Job, raw: string, elapsedSec: number): void {
  // GET needs no token: an absolute path in a line is shown by its last component
  const line = raw.replace(/(?:\/[^\s/:,;()"'`]+)+\/([^\s/:,;()"'`]+)/g, '$1');
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
    j.etaSec = p.pct >= 3 ? Math.round((elapsedSec * (100 - p.pct)) / p.pct) : null;
    if (!/epoch \d+\//.test(j.message ?? '')) j.log.push(`${p.stage}: ${p.message}`);
  } else if (p && typeof p.log === 'string') {
    if (!/^train: epoch \d+\//.test(p.log)) j.log.push(p.log);
  } else if (line.trim()) {
    j.log.push(line);
  }
  if (j.log.length > LOG_LINES) j.log.splice(0, j.log.length - LOG_LINES);
}
