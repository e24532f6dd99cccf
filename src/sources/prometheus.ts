/**
 * prometheus: the usage source that reads a cluster's own metrics through Prometheus' standard HTTP API
 * (POST /api/v1/query, /api/v1/query_range, GET /api/v1/label/<name>/values), so Thanos and Mimir work
 * too. This file assembles the read; only prometheus-client.ts speaks HTTP and only promql.ts writes PromQL;
 * the grouping of pods into workloads and windows is pure (kube-workloads.ts).
 *
 * What it reads, for the window (end − history, end] at `step`:
 *   cAdvisor (the kubelet):  container_cpu_usage_seconds_total, container_memory_working_set_bytes,
 *                            container_cpu_cfs_throttled_periods_total, container_cpu_cfs_periods_total
 *                            (per pod and container). Memory is the HIGHEST sample of each step
 *                            (max_over_time over the step), so a peak between two steps (a 30 s scrape
 *                            under 5-minute steps) reaches the model: the OOM kill it exists to prevent
 *                            happens at the peak, not at the step's last sample. CPU is the counters'
 *                            increase over the step divided by the step, i.e. the mean rate over the
 *                            step, so a burst between two steps counts in full (resets handled here);
 *                            CFS periods likewise.
 *   kube-state-metrics:      kube_pod_owner, kube_replicaset_owner, kube_job_owner (workloads),
 *                            kube_pod_container_resource_requests / _limits (current requests and limits),
 *                            kube_pod_created (workload age), kube_pod_labels (only for a label selector)
 * cAdvisor's usage and kube_pod_owner are required: without them the read fails naming the metric and its
 * exporter. The others are optional: their absence is a warning naming them (no CFS counters → throttle
 * ratio 0; no requests → "current" unknown).
 *
 * Requests (prometheus-client.ts): range queries are split so no series exceeds `maxPointsPerQuery` points
 * (Prometheus refuses more than 11,000), run per namespace with at most `concurrency` in flight, each with a
 * timeout and retried (network errors, 429 and 5xx) with exponential back-off. Authentication: extra headers
 * (a tenant header such as X-Scope-OrgID), a bearer token file or a basic-auth file ("user:password"), and a
 * CA file for TLS.
 *
 * Containers whose data covers less than the history are flagged `short`, never dropped; one with fewer
 * than 2 samples has no window and says so.
 */
import { InputError } from '../util/errors.js';
import type { ReadOptions, UsageSource, UsageTrace } from './types.js';
import { mergePods, parseLabelSelector, resolveWorkload, workloadKey } from './kube-workloads.js';
import type { ContainerUsage, Grid, Owners, PodContainerSeries, Resources, WorkloadRef } from './kube-workloads.js';
import { PrometheusClient, PrometheusError, splitRange } from './prometheus-client.js';
import type { Connection, Sample, Series } from './prometheus-client.js';
import { METRICS, containerSeries, createdQuery, missingMetric, ownerQuery, podLabelsCountQuery, podLabelsQuery, readScope, resourceQuery, usageQueries, windowGrid } from './promql.js';
import type { Scope, UsageQuery } from './promql.js';
export type { ContainerUsage, Resources, WorkloadRef } from './kube-workloads.js';
export { PrometheusClient, PrometheusError, redactUrl, splitRange } from './prometheus-client.js';
export type { Connection } from './prometheus-client.js';
export { METRICS, usageQueries, windowGrid } from './promql.js';
export type { UsageQuery } from './promql.js';

/** Selection: which containers to read. */
export interface Selection {
  /** namespaces; empty = every namespace with cAdvisor data */
  namespaces?: readonly string[];
  /** a label selector on pods, "app=web,tier!=db" (through kube_pod_labels) */
  selector?: string;
}

/** ReadRequest: a Prometheus read: connection, selection and the window. */
export interface ReadRequest extends Connection, Selection {
  historySec: number;
  stepSec: number;
  /** the window's end, seconds since the epoch; aligned down to a multiple of the step */
  endSec: number;
  /** called after each range query: (done, total) */
  progress?: (done: number, total: number) => void;
}

/** PrometheusRead: the containers, sorted by namespace, kind, workload, container; and what was missing. */
export interface PrometheusRead {
  url: string;
  startSec: number;
  endSec: number;
  stepSec: number;
  containers: ContainerUsage[];
  /** optional metrics that were absent, each naming the metric and its exporter */
  warnings: string[];
  requests: number;
  bytes: number;
}

/** readPrometheus reads every selected container's window, workload, requests and limits. */
export async function readPrometheus(r: ReadRequest): Promise<PrometheusRead> {
  const client = new PrometheusClient(r);
  try {
    return await readWith(client, r);
  } finally {
    client.close();
  }
}

/** KubeState: what kube-state-metrics says of the pods: their owners, requests, limits and creation times. */
interface KubeState {
  owners: Owners;
  requests: Map<string, Resources>;
  limits: Map<string, Resources>;
  createdAt: Map<string, number>;
}

/** PodSeries: one pod's container, its usage placed on the grid. */
type PodSeries = PodContainerSeries & { namespace: string; container: string };

/**
 * readWith: the read, step by step: the namespaces with container data, the pods a label selector keeps,
 * the kube-state-metrics facts, the usage range queries, their series placed on the grid per pod, and the
 * pods merged into one window per workload container. Optional metrics that are absent add warnings.
 */
async function readWith(client: PrometheusClient, r: ReadRequest): Promise<PrometheusRead> {
  const g = windowGrid(r);
  const end = g.t0 + (g.points - 1) * g.stepSec;
  const start = g.t0;
  const warnings: string[] = [];
  const namespaces = await namespacesWithData(client, r.namespaces, start, end);
  const scope = readScope(namespaces, end - start + g.stepSec);
  const keep = r.selector ? await podsMatching(client, r.selector, namespaces, scope, end) : null;
  const kube = await readKubeState(client, namespaces, scope, end, warnings);
  const usage = await readUsage(client, r, namespaces, keep, g);
  const pods = podsOnGrid(usage, g);
  requireUsage(pods, namespaces, start, end, warnings);
  const containers = workloadContainers(pods.perPod, kube, g, end - start);
  return { url: client.base.href, startSec: start + g.stepSec, endSec: end, stepSec: g.stepSec, containers, warnings, requests: client.requests, bytes: client.bytes };
}

/** namespacesWithData: the namespaces with container data (the series index only), intersected with the selection. */
async function namespacesWithData(client: PrometheusClient, selected: readonly string[] | undefined, start: number, end: number): Promise<string[]> {
  const have = await client.labelValues('namespace', containerSeries, start, end);
  if (have.length === 0) throw new PrometheusError(missingMetric(METRICS.memory, ` between ${iso(start)} and ${iso(end)}`), 2);
  const wanted = selected?.length ? selected : have;
  const namespaces = wanted.filter((n) => have.includes(n));
  if (namespaces.length === 0) throw new PrometheusError(`no container metrics in namespace ${wanted.join(', ')} between ${iso(start)} and ${iso(end)} (namespaces with data: ${have.slice(0, 10).join(', ')}${have.length > 10 ? ', …' : ''})`, 2);
  return namespaces;
}

/** podsMatching: the pods a label selector keeps, by namespace, through kube_pod_labels. */
async function podsMatching(client: PrometheusClient, selector: string, namespaces: readonly string[], scope: Scope, end: number): Promise<Map<string, string[]>> {
  let terms;
  try {
    terms = parseLabelSelector(selector);
  } catch (e) {
    throw new InputError(`--selector: ${(e as Error).message}`);
  }
  const rows = await client.query(podLabelsQuery(scope, terms), end);
  if (rows.length === 0) {
    const any = await client.query(podLabelsCountQuery(scope), end);
    if (any.length === 0) throw new PrometheusError(missingMetric(METRICS.labels, ''), 2);
    throw new PrometheusError(`no pod in ${namespaces.join(', ')} matches --selector ${selector} (kube_pod_labels only has the labels kube-state-metrics is allowed to export)`, 2);
  }
  const keep = new Map<string, string[]>();
  for (const s of rows) {
    const list = keep.get(s.metric.namespace!) ?? [];
    list.push(s.metric.pod!);
    keep.set(s.metric.namespace!, list);
  }
  return keep;
}

/**
 * readKubeState reads the owners (pod, ReplicaSet, Job), requests, limits and creation times in parallel.
 * Without kube_pod_owner the read fails; each other absent metric adds a warning saying what it costs.
 */
async function readKubeState(client: PrometheusClient, namespaces: readonly string[], scope: Scope, end: number, warnings: string[]): Promise<KubeState> {
  const [podOwners, rsOwners, jobOwners, requests, limits, created] = await Promise.all([
    client.query(ownerQuery(scope, METRICS.podOwner.name, 'pod'), end),
    client.query(ownerQuery(scope, METRICS.replicaSetOwner.name, 'replicaset'), end),
    client.query(ownerQuery(scope, METRICS.jobOwner.name, 'job_name'), end),
    client.query(resourceQuery(scope, METRICS.requests.name), end),
    client.query(resourceQuery(scope, METRICS.limits.name), end),
    client.query(createdQuery(scope), end),
  ]);
  if (podOwners.length === 0) throw new PrometheusError(missingMetric(METRICS.podOwner, ` in ${namespaces.join(', ')} over the window; pods cannot be grouped into workloads`), 2);
  const owners: Owners = { pod: ownerMap(podOwners, 'pod'), replicaSet: ownerMap(rsOwners, 'replicaset'), job: ownerMap(jobOwners, 'job_name') };
  const ownedBy = (kind: string) => [...owners.pod.values()].some((o) => o.kind === kind);
  if (rsOwners.length === 0 && ownedBy('ReplicaSet')) warnings.push(`${missingMetric(METRICS.replicaSetOwner, '')}: pods stay grouped by ReplicaSet, not Deployment`);
  if (jobOwners.length === 0 && ownedBy('Job')) warnings.push(`${missingMetric(METRICS.jobOwner, '')}: Jobs of a CronJob are not grouped into it`);
  if (requests.length === 0) warnings.push(`${missingMetric(METRICS.requests, '')}: current requests unknown`);
  if (limits.length === 0) warnings.push(`${missingMetric(METRICS.limits, '')}: current limits unknown`);
  if (created.length === 0) warnings.push(`${missingMetric(METRICS.created, '')}: workload age taken from the first sample`);
  const createdAt = new Map(created.map((s) => [`${s.metric.namespace}/${s.metric.pod}`, Number(s.value[1])]));
  return { owners, requests: resourceMap(requests), limits: resourceMap(limits), createdAt };
}

/** ownerMap: "namespace/<by label>" → its owner's kind and name. */
function ownerMap(rows: readonly Sample[], by: string): Map<string, { kind: string; name: string }> {
  const m = new Map<string, { kind: string; name: string }>();
  for (const s of rows) m.set(`${s.metric.namespace}/${s.metric[by]}`, { kind: s.metric.owner_kind ?? '', name: s.metric.owner_name ?? '' });
  return m;
}

/** resourceMap: "namespace/pod/container" → its cpu (cores) and memory (bytes), null when absent. */
function resourceMap(rows: readonly Sample[]): Map<string, Resources> {
  const m = new Map<string, Resources>();
  for (const s of rows) {
    const key = `${s.metric.namespace}/${s.metric.pod}/${s.metric.container}`;
    const e = m.get(key) ?? { cpuCores: null, memoryBytes: null };
    if (s.metric.resource === 'cpu') e.cpuCores = Number(s.value[1]);
    else e.memoryBytes = Number(s.value[1]);
    m.set(key, e);
  }
  return m;
}

/** readUsage runs the usage range queries: per namespace, 4 metrics, split in time; bounded by the client's concurrency. */
async function readUsage(client: PrometheusClient, r: ReadRequest, namespaces: readonly string[], keep: Map<string, string[]> | null, g: Grid): Promise<{ uq: UsageQuery; series: Series[] }[]> {
  const start = g.t0;
  const end = g.t0 + (g.points - 1) * g.stepSec;
  const queries = namespaces.filter((ns) => !keep || keep.has(ns)).flatMap((ns) => usageQueries(ns, keep?.get(ns) ?? null, g.stepSec));
  const pieces = splitRange(start, end, g.stepSec, client.maxPoints).length;
  let done = 0;
  r.progress?.(0, queries.length * pieces);
  return Promise.all(queries.map(async (uq) => {
    const series = await client.queryRange(uq.promql, start, end, g.stepSec);
    done += pieces;
    r.progress?.(done, queries.length * pieces);
    return { uq, series };
  }));
}

/** podsOnGrid places each series' points on the grid, per pod container; `seen` says which CFS counters came. */
function podsOnGrid(usage: readonly { uq: UsageQuery; series: Series[] }[], g: Grid): { perPod: Map<string, PodSeries>; seen: Record<'throttled' | 'periods', boolean> } {
  const perPod = new Map<string, PodSeries>();
  const seen: Record<'throttled' | 'periods', boolean> = { throttled: false, periods: false };
  for (const { uq, series } of usage) {
    for (const s of series) {
      const { namespace, pod, container } = s.metric as Record<string, string>;
      const key = `${namespace}/${pod}/${container}`;
      let p = perPod.get(key);
      if (!p) {
        p = { namespace: namespace!, pod: pod!, container: container!, cpuCounter: nanArray(g.points), memory: nanArray(g.points), throttled: null, periods: null };
        perPod.set(key, p);
      }
      let target: Float64Array;
      if (uq.metric === 'cpu') target = p.cpuCounter;
      else if (uq.metric === 'memory') target = p.memory;
      else {
        seen[uq.metric as 'throttled' | 'periods'] = true;
        target = (uq.metric === 'throttled' ? (p.throttled ??= nanArray(g.points)) : (p.periods ??= nanArray(g.points)));
      }
      for (const [t, v] of s.values) {
        const k = Math.round((t - g.t0) / g.stepSec);
        if (k >= 0 && k < g.points) target[k] = Number(v);
      }
    }
  }
  return { perPod, seen };
}

/** requireUsage fails when no pod has a CPU sample, and warns when a CFS counter is absent (throttle ratio 0). */
function requireUsage(pods: ReturnType<typeof podsOnGrid>, namespaces: readonly string[], start: number, end: number, warnings: string[]): void {
  if (![...pods.perPod.values()].some((p) => p.cpuCounter.some((v) => !Number.isNaN(v)))) throw new PrometheusError(missingMetric(METRICS.cpu, ` in ${namespaces.join(', ')} between ${iso(start)} and ${iso(end)}`), 2);
  if (!pods.seen.throttled || !pods.seen.periods) warnings.push(`${missingMetric(pods.seen.throttled ? METRICS.periods : METRICS.throttled, '')}: throttle ratio taken as 0`);
}

/**
 * workloadContainers groups the pods by workload container, merges each group's pods into one window and
 * attaches the current requests and limits (those of the latest pod), sorted by namespace, kind, workload, container.
 */
function workloadContainers(perPod: Map<string, PodSeries>, kube: KubeState, g: Grid, historySec: number): ContainerUsage[] {
  const groups = new Map<string, { workload: WorkloadRef; container: string; pods: (PodContainerSeries & { namespace: string })[] }>();
  for (const p of perPod.values()) {
    const workload = resolveWorkload(p.namespace, p.pod, kube.owners);
    const key = `${workloadKey(workload)}/${p.container}`;
    const gr = groups.get(key) ?? { workload, container: p.container, pods: [] };
    gr.pods.push(p);
    groups.set(key, gr);
  }
  const containers: ContainerUsage[] = [];
  for (const gr of groups.values()) {
    const starts = gr.pods.map((p) => kube.createdAt.get(`${p.namespace}/${p.pod}`)).filter((x): x is number => x !== undefined && Number.isFinite(x));
    const merged = mergePods(g, gr.pods, starts.length ? Math.min(...starts) : null);
    const current = (m: Map<string, Resources>) => (merged.latestPod ? m.get(`${gr.workload.namespace}/${merged.latestPod}/${gr.container}`) : undefined) ?? { cpuCores: null, memoryBytes: null };
    containers.push({
      workload: gr.workload,
      container: gr.container,
      pods: gr.pods.length,
      replicas: merged.runningPods,
      window: merged.window,
      samples: merged.samples,
      coveredSec: merged.coveredSec,
      historySec,
      short: merged.coveredSec < 0.95 * historySec,
      requests: current(kube.requests),
      limits: current(kube.limits),
    });
  }
  containers.sort((a, b) => cmp(a.workload.namespace, b.workload.namespace) || cmp(a.workload.kind, b.workload.kind) || cmp(a.workload.name, b.workload.name) || cmp(a.container, b.container));
  return containers;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const nanArray = (n: number) => new Float64Array(n).fill(NaN);
const iso = (sec: number) => new Date(sec * 1000).toISOString().replace('.000Z', 'Z');

/** parseDuration reads Prometheus-style durations: '7d' → 604800, '90m' → 5400, '1h30m' → 5400, '300' → 300 s. */
export function parseDuration(s: string, flag: string): number {
  const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  if (/^\d+$/.test(s)) return Number(s);
  const re = /(\d+(?:\.\d+)?)([smhdw])/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let used = 0;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    used = re.lastIndex;
  }
  if (used !== s.length || total <= 0) throw new InputError(`${flag} '${s}' is not a duration; use e.g. 7d, 36h, 90m or 300s`);
  return total;
}

/**
 * prometheus: the UsageSource registration. Its data comes over HTTP, so `read` (files, synchronous)
 * refuses with the command to use; `npm run recommend -- --prometheus URL` and the agent's --prometheus
 * call readPrometheus. Each container becomes one trace named namespace/Kind/workload/container.
 */
export const prometheus: UsageSource & { readRemote(r: ReadRequest, opts?: ReadOptions): Promise<UsageTrace[]> } = {
  name: 'prometheus',
  describe: "a cluster's Prometheus (cAdvisor + kube-state-metrics), over HTTP: npm run recommend -- --prometheus URL",
  read(): UsageTrace[] {
    throw new InputError('--trace prometheus reads over HTTP, not files; use npm run recommend -- --prometheus URL');
  },
  async readRemote(r: ReadRequest, opts: ReadOptions = {}): Promise<UsageTrace[]> {
    const read = await readPrometheus(r);
    const out: UsageTrace[] = [];
    for (const c of read.containers) {
      const name = `${workloadKey(c.workload)}/${c.container}`;
      if (!c.window || (opts.select && !opts.select(name))) continue;
      const w = c.window;
      out.push({
        name,
        timestampsSec: Float64Array.from(w.timestampsSec),
        cpuCores: Float64Array.from(w.cpuCores),
        memoryBytes: Float64Array.from(w.memoryBytes),
        provisioned: c.limits.cpuCores !== null && c.limits.memoryBytes !== null ? { cpuCores: c.limits.cpuCores, memoryBytes: c.limits.memoryBytes } : null,
        report: { input: `${read.url} ${name}`, rows: c.samples, samples: c.samples, skipped: {}, merged: 0, reordered: 0, gaps: 0, longestGapSec: 0, examples: [] },
      });
    }
    return out;
  },
};
