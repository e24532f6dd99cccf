/**
 * kube-workloads: the pure half of the Prometheus source. Given per-pod series on one time grid and the
 * ownership kube-state-metrics reports, it groups pods into their workloads and merges each workload's
 * container into one UsageWindow. No HTTP and no PromQL here (prometheus.ts is the only file that speaks
 * to Prometheus), so every rule below is tested with constant inputs.
 *
 * Ownership (kube-state-metrics):
 *   kube_pod_owner{owner_kind="ReplicaSet", owner_name="web-7d9f"} + kube_replicaset_owner{replicaset="web-7d9f",
 *     owner_kind="Deployment", owner_name="web"}                  → Deployment/web
 *   kube_pod_owner{owner_kind="Job", owner_name="backup-2901"} + kube_job_owner{job_name="backup-2901",
 *     owner_kind="CronJob", owner_name="backup"}                 → CronJob/backup
 *   kube_pod_owner{owner_kind="StatefulSet" | "DaemonSet" | "Job"} → that kind and name
 *   no owner (owner_kind="<none>") or no kube_pod_owner row       → Pod/<pod name>
 *   a ReplicaSet (or Job) whose own owner is unknown             → ReplicaSet/<name> (Job/<name>)
 *
 * Merging pods into one window. The grid is t_k = t0 + k·step, k = 0..K (prometheus.ts queries one step
 * before the window so that the first sample has a CPU rate). For each grid point k ≥ 1, over the pods of
 * the workload that ran this container:
 *   CPU cores     = max over pods of the counter's increase (k−1 → k) / step; a decrease is a counter
 *                   reset and counts the new value as the increase (as computeFeatures' counterIncrease);
 *   memory bytes  = max over pods of the working set at k;
 *   CFS periods   = the SUM over pods of each counter's increase, accumulated from 0, so the window's
 *                   throttle ratio is throttled/total over every pod.
 * Per point the maximum is taken because a recommendation is per replica and must fit the busiest one;
 * a rollout (old pod gone, new pod started) simply continues the series. A point is a sample of the
 * window when at least one pod has both a CPU rate and a memory value there.
 * Example: step 300, pod A cpu counter [0, 30, 60] and pod B [—, 0, 90] → CPU [max(0.1, —), max(0.1, 0.3)]
 * = [0.1, 0.3] cores at k = 1, 2.
 */
import type { UsageWindow } from './types.js';
import type { Bytes, Cores } from '../core/units.js';

/** WorkloadRef names a workload: Deployment, StatefulSet, DaemonSet, CronJob, Job, ReplicaSet or Pod. */
export interface WorkloadRef {
  namespace: string;
  kind: string;
  name: string;
}

/** Owners: what kube-state-metrics says, keyed by `${namespace}/${name}`. */
export interface Owners {
  /** pod → its controller (kube_pod_owner) */
  pod: Map<string, { kind: string; name: string }>;
  /** ReplicaSet → its owner (kube_replicaset_owner) */
  replicaSet: Map<string, { kind: string; name: string }>;
  /** Job → its owner (kube_job_owner) */
  job: Map<string, { kind: string; name: string }>;
}

const NONE = new Set(['', '<none>']);

/** resolveWorkload follows a pod's owners up to its workload (see the header). */
export function resolveWorkload(namespace: string, pod: string, owners: Owners): WorkloadRef {
  const direct = owners.pod.get(`${namespace}/${pod}`);
  if (!direct || NONE.has(direct.kind)) return { namespace, kind: 'Pod', name: pod };
  const up = direct.kind === 'ReplicaSet' ? owners.replicaSet.get(`${namespace}/${direct.name}`) : direct.kind === 'Job' ? owners.job.get(`${namespace}/${direct.name}`) : undefined;
  if (up && !NONE.has(up.kind)) return { namespace, kind: up.kind, name: up.name };
  return { namespace, kind: direct.kind, name: direct.name };
}

/** workloadKey('a', 'Deployment', 'web') === 'a/Deployment/web' */
export const workloadKey = (w: WorkloadRef) => `${w.namespace}/${w.kind}/${w.name}`;

/** Resources: a container's requests or limits (null where not set or not known). */
export interface Resources {
  cpuCores: Cores | null;
  memoryBytes: Bytes | null;
}

/** ContainerUsage: one container of one workload, over the window. */
export interface ContainerUsage {
  workload: WorkloadRef;
  container: string;
  /** pods seen over the window, and those with a sample at its end */
  pods: number;
  replicas: number;
  /** null when fewer than 2 samples */
  window: UsageWindow | null;
  samples: number;
  coveredSec: number;
  historySec: number;
  /** covers less than 95% of the history asked for (new workload, or gone) */
  short: boolean;
  requests: Resources;
  limits: Resources;
}

/** Grid: the time points every series is placed on. */
export interface Grid {
  /** t0: one step before the window's first sample, seconds since the epoch */
  t0: number;
  stepSec: number;
  /** number of points, K + 1 */
  points: number;
}

/** gridIndex returns the point a sample time falls on, or −1 when it is off the grid. */
export function gridIndex(g: Grid, tSec: number): number {
  const k = Math.round((tSec - g.t0) / g.stepSec);
  return k >= 0 && k < g.points ? k : -1;
}

/** PodContainerSeries: one pod's container on the grid; NaN where Prometheus returned no point. */
export interface PodContainerSeries {
  pod: string;
  cpuCounter: Float64Array;
  memory: Float64Array;
  throttled: Float64Array | null;
  periods: Float64Array | null;
}

/** MergedWindow: a container's window over all its pods, and how much of the asked history it covers. */
export interface MergedWindow {
  /** null when fewer than 2 samples remain */
  window: UsageWindow | null;
  samples: number;
  /** last sample − first sample + one step, seconds (0 without samples) */
  coveredSec: number;
  /** pods with a sample at the grid's last point (the replicas running now) */
  runningPods: number;
  /** the pod with the latest sample (its requests and limits are the current ones) */
  latestPod: string | null;
}

/**
 * mergePods merges a workload container's pod series into one window (see the header). `workloadStartSec`
 * is passed through to the window when known (kube_pod_created of its oldest pod).
 */
export function mergePods(g: Grid, pods: readonly PodContainerSeries[], workloadStartSec: number | null): MergedWindow {
  const K = g.points;
  const t: number[] = [];
  const cpu: number[] = [];
  const mem: number[] = [];
  const withCfs = pods.some((p) => p.throttled && p.periods);
  const thr: number[] = [];
  const tot: number[] = [];
  let thrAcc = 0;
  let totAcc = 0;
  let latestPod: string | null = null;
  let latestK = -1;
  let running = 0;
  for (const p of pods) {
    let lastK = -1;
    for (let k = K - 1; k >= 0; k--) if (!Number.isNaN(p.memory[k]!)) { lastK = k; break; }
    if (lastK > latestK) { latestK = lastK; latestPod = p.pod; }
    if (lastK === K - 1) running++;
  }
  for (let k = 1; k < K; k++) {
    let c = -1;
    let m = -1;
    let dThr = 0;
    let dTot = 0;
    for (const p of pods) {
      const rate = increase(p.cpuCounter, k);
      const mk = p.memory[k]!;
      if (!Number.isNaN(rate) && rate / g.stepSec > c) c = rate / g.stepSec;
      if (!Number.isNaN(mk) && mk > m) m = mk;
      if (p.throttled && p.periods) {
        const a = increase(p.throttled, k);
        const b = increase(p.periods, k);
        if (!Number.isNaN(a) && !Number.isNaN(b)) { dThr += a; dTot += b; }
      }
    }
    thrAcc += dThr;
    totAcc += dTot;
    if (c < 0 || m < 0) continue;
    t.push(g.t0 + k * g.stepSec);
    cpu.push(c);
    mem.push(m);
    thr.push(thrAcc);
    tot.push(totAcc);
  }
  const n = t.length;
  const coveredSec = n ? t[n - 1]! - t[0]! + g.stepSec : 0;
  if (n < 2) return { window: null, samples: n, coveredSec, runningPods: running, latestPod };
  const window: UsageWindow = { timestampsSec: Float64Array.from(t), cpuCores: Float64Array.from(cpu), memoryBytes: Float64Array.from(mem) };
  if (withCfs) {
    window.throttledPeriods = Float64Array.from(thr);
    window.totalPeriods = Float64Array.from(tot);
  }
  if (workloadStartSec !== null && workloadStartSec <= t[n - 1]!) window.workloadStartSec = Math.min(workloadStartSec, t[0]!);
  return { window, samples: n, coveredSec, runningPods: running, latestPod };
}

/** increase of a counter from point k−1 to k: the difference, or the new value after a reset; NaN if either is absent. */
function increase(c: Float64Array, k: number): number {
  const a = c[k - 1]!;
  const b = c[k]!;
  if (Number.isNaN(a) || Number.isNaN(b)) return NaN;
  return b >= a ? b - a : b;
}

/** LabelMatch: one term of a Kubernetes label selector: app=web, tier!=db. */
export interface LabelMatch {
  key: string;
  op: '=' | '!=';
  value: string;
}

/**
 * parseLabelSelector reads "app=web,tier!=db" (also "==") into terms; an empty string gives none.
 * Set-based terms ("env in (a,b)") are refused naming the term. Throws Error with the fix.
 */
export function parseLabelSelector(s: string): LabelMatch[] {
  if (!s.trim()) return [];
  return s.split(',').map((term) => {
    const m = /^\s*([A-Za-z0-9][-A-Za-z0-9_./]*)\s*(==|!=|=)\s*([-A-Za-z0-9_.]*)\s*$/.exec(term);
    if (!m) throw new Error(`'${term.trim()}' is not a label selector term; use key=value or key!=value, comma-separated (set-based terms are not supported)`);
    return { key: m[1]!, op: m[2] === '!=' ? '!=' : '=', value: m[3]! };
  });
}

/**
 * ksmLabelName is the name kube-state-metrics gives a Kubernetes label on kube_pod_labels: "label_" and
 * the key with every character outside [a-zA-Z0-9_] replaced by "_". ksmLabelName('app.kubernetes.io/name')
 * === 'label_app_kubernetes_io_name'.
 */
export function ksmLabelName(key: string): string {
  return `label_${key.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}
