/**
 * promql: every PromQL string the Prometheus source sends, and the metrics they name. Pure: no HTTP
 * (prometheus-client.ts) and no assembly (prometheus.ts). The window (end − history, end] at `step` is
 * fixed here too (windowGrid), since the range queries and the grid they fill must agree.
 */
import { InputError } from '../util/errors.js';
import { ksmLabelName } from './kube-workloads.js';
import type { Grid, LabelMatch } from './kube-workloads.js';

/** METRICS: every metric read, with the exporter that provides it (named in errors and warnings). */
export const METRICS = {
  cpu: { name: 'container_cpu_usage_seconds_total', exporter: "cAdvisor (the kubelet's /metrics/cadvisor)" },
  memory: { name: 'container_memory_working_set_bytes', exporter: "cAdvisor (the kubelet's /metrics/cadvisor)" },
  throttled: { name: 'container_cpu_cfs_throttled_periods_total', exporter: "cAdvisor (the kubelet's /metrics/cadvisor)" },
  periods: { name: 'container_cpu_cfs_periods_total', exporter: "cAdvisor (the kubelet's /metrics/cadvisor)" },
  podOwner: { name: 'kube_pod_owner', exporter: 'kube-state-metrics' },
  replicaSetOwner: { name: 'kube_replicaset_owner', exporter: 'kube-state-metrics' },
  jobOwner: { name: 'kube_job_owner', exporter: 'kube-state-metrics' },
  requests: { name: 'kube_pod_container_resource_requests', exporter: 'kube-state-metrics' },
  limits: { name: 'kube_pod_container_resource_limits', exporter: 'kube-state-metrics' },
  created: { name: 'kube_pod_created', exporter: 'kube-state-metrics' },
  labels: { name: 'kube_pod_labels', exporter: 'kube-state-metrics (with --metric-labels-allowlist=pods=[...] for the selector\'s labels)' },
} as const;

/** the cAdvisor series of real containers: not the pod's cgroup (container="") nor the pause container */
export const CONTAINER_ONLY = 'container!="",container!="POD"';

/** escapeRegex quotes a value for a PromQL =~ matcher (RE2): 'a.b' → 'a\\.b'. */
const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** q quotes a PromQL string literal. */
const q = (s: string) => JSON.stringify(s);
const dur = (sec: number) => `${Math.round(sec)}s`;

/** UsagePlan: the range queries of a read, one per namespace, usage metric and time piece. */
export interface UsageQuery {
  namespace: string;
  metric: keyof typeof METRICS;
  promql: string;
}

/**
 * usageQueries lists the per-namespace usage range queries (also what the bench times with plain HTTP).
 * Counters are read as they are at each step (their differences are the rates over the steps); memory as
 * the highest sample in the step ending at each point: max_over_time over step − 1 ms, so the range
 * (t − step, t] is the same on Prometheus 2 (ranges closed at both ends) and 3 (open at the start), and a
 * sample is never counted in two steps. Example, step 300 s: max_over_time(container_memory_working_set_bytes{…}[299999ms]).
 */
export function usageQueries(namespace: string, pods: readonly string[] | null, stepSec: number): UsageQuery[] {
  const podMatch = pods ? `,pod=~${q(pods.map(escapeRegex).join('|'))}` : '';
  const sel = `{namespace=${q(namespace)},${CONTAINER_ONLY}${podMatch}}`;
  const range = `[${Math.round(stepSec * 1000) - 1}ms]`;
  return (['cpu', 'memory', 'throttled', 'periods'] as const).map((metric) => ({ namespace, metric, promql: `max by (namespace, pod, container) (${metric === 'memory' ? `max_over_time(${METRICS[metric].name}${sel}${range})` : `${METRICS[metric].name}${sel}`})` }));
}

/** windowGrid: the window (end − history, end] at step, aligned down, with one point before it. */
export function windowGrid(r: { historySec: number; stepSec: number; endSec: number }): Grid {
  if (!(r.stepSec > 0) || !(r.historySec >= 2 * r.stepSec)) throw new InputError(`--history must span at least 2 steps of ${r.stepSec} s`);
  const end = Math.floor(r.endSec / r.stepSec) * r.stepSec;
  const n = Math.floor(r.historySec / r.stepSec);
  return { t0: end - n * r.stepSec, stepSec: r.stepSec, points: n + 1 };
}

/** containerSeries: the series whose namespaces tell which namespaces have container data (the index only). */
export const containerSeries = `${METRICS.memory.name}{${CONTAINER_ONLY}}`;

/**
 * Scope: what every instant query of one read shares: the namespaces matched and the look-back, the
 * window's length. readScope(['a.b'], 3600) → { namespaces: 'namespace=~"a\\.b"', lookback: '3600s' }.
 */
export interface Scope {
  namespaces: string;
  lookback: string;
}

/** readScope builds the Scope of a read over `namespaces` whose window spans `windowSec`. */
export function readScope(namespaces: readonly string[], windowSec: number): Scope {
  return { namespaces: `namespace=~${q(namespaces.map(escapeRegex).join('|'))}`, lookback: dur(windowSec) };
}

/** podLabelsQuery: the pods (namespace, pod) whose kube_pod_labels match a label selector's terms. */
export function podLabelsQuery(s: Scope, terms: readonly LabelMatch[]): string {
  const m = terms.map((t) => `${ksmLabelName(t.key)}${t.op}${q(t.value)}`).join(',');
  return `max by (namespace, pod) (last_over_time(${METRICS.labels.name}{${s.namespaces}${m ? `,${m}` : ''}}[${s.lookback}]))`;
}

/** podLabelsCountQuery: whether kube_pod_labels has any series at all (to tell "no match" from "not exported"). */
export function podLabelsCountQuery(s: Scope): string {
  return `count(last_over_time(${METRICS.labels.name}{${s.namespaces}}[${s.lookback}]))`;
}

/** ownerQuery: an owner metric's (namespace, `by`, owner_kind, owner_name) rows, e.g. kube_pod_owner by pod. */
export function ownerQuery(s: Scope, metric: string, by: string): string {
  return `max by (namespace, ${by}, owner_kind, owner_name) (last_over_time(${metric}{${s.namespaces}}[${s.lookback}]))`;
}

/** resourceQuery: a requests or limits metric's cpu and memory per (namespace, pod, container). */
export function resourceQuery(s: Scope, metric: string): string {
  return `max by (namespace, pod, container, resource) (last_over_time(${metric}{${s.namespaces},resource=~"cpu|memory"}[${s.lookback}]))`;
}

/** createdQuery: each pod's creation time (kube_pod_created). */
export function createdQuery(s: Scope): string {
  return `min by (namespace, pod) (last_over_time(${METRICS.created.name}{${s.namespaces}}[${s.lookback}]))`;
}

/** missingMetric: the message for a metric without series, naming its exporter. `what` says where, e.g. " in prod". */
export function missingMetric(m: (typeof METRICS)[keyof typeof METRICS], what: string): string {
  return `${m.name} has no series${what} (exported by ${m.exporter}; is it installed and scraped?)`;
}
