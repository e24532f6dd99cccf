/**
 * prometheus: the usage source that reads a cluster's own metrics through Prometheus' standard HTTP API
 * (POST /api/v1/query, /api/v1/query_range, GET /api/v1/label/<name>/values), so Thanos and Mimir work
 * too. This is the only file that speaks PromQL or HTTP to Prometheus; the grouping of pods into workloads
 * and windows is pure (kube-workloads.ts).
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
 * Requests: range queries are split so no series exceeds `maxPointsPerQuery` points (Prometheus refuses
 * more than 11,000), run per namespace with at most `concurrency` in flight, each with a timeout and
 * retried (network errors, 429 and 5xx) with exponential back-off. Authentication: extra headers (a
 * tenant header such as X-Scope-OrgID), a bearer token file or a basic-auth file ("user:password"), and a
 * CA file for TLS.
 *
 * Containers whose data covers less than the history are flagged `short`, never dropped; one with fewer
 * than 2 samples has no window and says so.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { InputError } from '../util/errors.js';
import type { ReadOptions, UsageSource, UsageTrace } from './types.js';
import { ksmLabelName, mergePods, parseLabelSelector, resolveWorkload, workloadKey } from './kube-workloads.js';
import type { ContainerUsage, Grid, Owners, PodContainerSeries, Resources, WorkloadRef } from './kube-workloads.js';
export type { ContainerUsage, Resources, WorkloadRef } from './kube-workloads.js';

/** PrometheusError: Prometheus could not be reached or refused a query; one line naming the URL. */
export class PrometheusError extends InputError {
  constructor(message: string, exitCode = 1) {
    super(message, exitCode);
  }
}

/** Connection: where Prometheus is and how to talk to it. */
export interface Connection {
  /** base URL: http://localhost:9090, https://thanos.example/ or http://mimir/prometheus */
  url: string;
  /** extra request headers, e.g. { 'X-Scope-OrgID': 'team-a' } */
  headers?: Record<string, string>;
  bearerTokenFile?: string | null;
  /** a file holding "user:password" */
  basicAuthFile?: string | null;
  /** PEM file of the CA that signed Prometheus' certificate */
  caFile?: string | null;
  /** per request, default 60 s */
  timeoutMs?: number;
  /** retries after the first try, default 3 */
  retries?: number;
  /** requests in flight at once, default 4 */
  concurrency?: number;
  /** most points per series in one range query, default 10,000 */
  maxPointsPerQuery?: number;
}

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
const CONTAINER_ONLY = 'container!="",container!="POD"';

type Sample = { metric: Record<string, string>; value: [number, string] };
type Series = { metric: Record<string, string>; values: [number, string][] };

/** PrometheusClient: the HTTP half. query/queryRange/labelValues return Prometheus' data, parsed. */
export class PrometheusClient {
  readonly base: URL;
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly retries: number;
  readonly maxPoints: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly concurrency: number;
  /** requests made (for reports and the bench) */
  requests = 0;
  bytes = 0;

  constructor(c: Connection) {
    let u: URL;
    try {
      u = new URL(c.url.endsWith('/') ? c.url : `${c.url}/`);
    } catch {
      throw new InputError(`--prometheus ${c.url} is not a URL; give e.g. http://localhost:9090`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InputError(`--prometheus ${c.url}: use an http:// or https:// URL`);
    this.base = u;
    this.concurrency = c.concurrency ?? 4;
    this.timeoutMs = c.timeoutMs ?? 60_000;
    this.retries = c.retries ?? 3;
    this.maxPoints = c.maxPointsPerQuery ?? 10_000;
    const ca = c.caFile ? readOrFail(c.caFile, '--ca-file') : undefined;
    this.agent = u.protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: this.concurrency, ca }) : new http.Agent({ keepAlive: true, maxSockets: this.concurrency });
    this.headers = { accept: 'application/json', ...(c.headers ?? {}) };
    if (c.bearerTokenFile) this.headers.authorization = `Bearer ${readOrFail(c.bearerTokenFile, '--bearer-token-file').trim()}`;
    if (c.basicAuthFile) this.headers.authorization = `Basic ${Buffer.from(readOrFail(c.basicAuthFile, '--basic-auth-file').trim()).toString('base64')}`;
    // Credentials in the URL (http://user:pass@host) become a Basic header and leave the URL, which is
    // shown in messages, /readyz and /v1/workloads.
    if (u.username || u.password) {
      this.headers.authorization ??= `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
      u.username = '';
      u.password = '';
    }
  }

  /** close releases the keep-alive sockets. */
  close(): void {
    this.agent.destroy();
  }

  /** query runs an instant query at `timeSec`. */
  async query(promql: string, timeSec: number): Promise<Sample[]> {
    return (await this.api('api/v1/query', { query: promql, time: String(timeSec) })) as Sample[];
  }

  /**
   * queryRange runs a range query, split into pieces of at most maxPoints points per series, and joins
   * each series' points back in time order. Example: 30 days at 60 s = 43,201 points → 5 queries.
   */
  async queryRange(promql: string, startSec: number, endSec: number, stepSec: number): Promise<Series[]> {
    const parts = await Promise.all(splitRange(startSec, endSec, stepSec, this.maxPoints).map(([s, e]) => this.api('api/v1/query_range', { query: promql, start: String(s), end: String(e), step: String(stepSec) }) as Promise<Series[]>));
    if (parts.length === 1) return parts[0]!;
    const byKey = new Map<string, Series>();
    for (const part of parts) {
      for (const s of part) {
        const key = JSON.stringify(Object.entries(s.metric).sort());
        const have = byKey.get(key);
        if (have) have.values.push(...s.values);
        else byKey.set(key, { metric: s.metric, values: [...s.values] });
      }
    }
    return [...byKey.values()];
  }

  /** labelValues lists a label's values on series matching `match` in [start, end] (the index only: cheap). */
  async labelValues(label: string, match: string, startSec: number, endSec: number): Promise<string[]> {
    return (await this.api(`api/v1/label/${encodeURIComponent(label)}/values`, { 'match[]': match, start: String(startSec), end: String(endSec) }, 'GET')) as string[];
  }

  /** raw POSTs (or GETs) form parameters to an API path and returns the body, after retries. */
  async raw(path: string, params: Record<string, string>, method: 'GET' | 'POST' = 'POST'): Promise<{ status: number; body: Buffer }> {
    await this.slot();
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const r = await this.once(path, params, method);
          if ((r.status === 429 || r.status >= 500) && attempt < this.retries) {
            await sleep(250 * 2 ** attempt);
            continue;
          }
          return r;
        } catch (e) {
          if (attempt >= this.retries) throw new PrometheusError(`cannot reach Prometheus at ${this.base.href}: ${errorText(e)}`);
          await sleep(250 * 2 ** attempt);
        }
      }
    } finally {
      this.release();
    }
  }

  private async api(path: string, params: Record<string, string>, method: 'GET' | 'POST' = 'POST'): Promise<unknown> {
    const { status, body } = await this.raw(path, params, method);
    let parsed: { status?: string; data?: unknown; error?: string; errorType?: string; resultType?: string };
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw new PrometheusError(`Prometheus at ${this.base.href} answered ${path} with HTTP ${status} and no JSON (${body.toString('utf8', 0, 120).replace(/\s+/g, ' ')}); is this the Prometheus API URL?`);
    }
    if (parsed.status !== 'success') throw new PrometheusError(`Prometheus at ${this.base.href} refused ${path} (HTTP ${status}, ${parsed.errorType ?? 'error'}): ${parsed.error ?? 'no message'}`);
    const data = parsed.data as { result?: unknown } | unknown[];
    return Array.isArray(data) ? data : data?.result;
  }

  private once(path: string, params: Record<string, string>, method: 'GET' | 'POST'): Promise<{ status: number; body: Buffer }> {
    const form = new URLSearchParams(params).toString();
    const url = new URL(path, this.base);
    if (method === 'GET') url.search = form;
    const mod = url.protocol === 'https:' ? https : http;
    this.requests++;
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method, agent: this.agent, headers: method === 'POST' ? { ...this.headers, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(form) } : this.headers, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          this.bytes += body.length;
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.timeoutMs / 1000} s`)));
      req.on('error', reject);
      if (method === 'POST') req.end(form);
      else req.end();
    });
  }

  private slot(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((r) => this.waiting.push(r));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

/**
 * splitRange cuts [start, end] at `step` into pieces of at most `maxPoints` points that never repeat a
 * point. splitRange(0, 900, 300, 2) → [[0, 300], [600, 900]].
 */
export function splitRange(startSec: number, endSec: number, stepSec: number, maxPoints: number): [number, number][] {
  const out: [number, number][] = [];
  const per = Math.max(1, Math.floor(maxPoints));
  for (let s = startSec; s <= endSec; s += per * stepSec) out.push([s, Math.min(s + (per - 1) * stepSec, endSec)]);
  return out;
}

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

/** readPrometheus reads every selected container's window, workload, requests and limits. */
export async function readPrometheus(r: ReadRequest): Promise<PrometheusRead> {
  const client = new PrometheusClient(r);
  try {
    return await readWith(client, r);
  } finally {
    client.close();
  }
}

async function readWith(client: PrometheusClient, r: ReadRequest): Promise<PrometheusRead> {
  const g = windowGrid(r);
  const end = g.t0 + (g.points - 1) * g.stepSec;
  const start = g.t0;
  const H = dur(end - start + g.stepSec);
  const warnings: string[] = [];
  const missing = (m: (typeof METRICS)[keyof typeof METRICS], what: string) => `${m.name} has no series${what} (exported by ${m.exporter}; is it installed and scraped?)`;

  // Namespaces with container data (the series index only), intersected with the selection.
  const have = await client.labelValues('namespace', `${METRICS.memory.name}{${CONTAINER_ONLY}}`, start, end);
  if (have.length === 0) throw new PrometheusError(missing(METRICS.memory, ` between ${iso(start)} and ${iso(end)}`), 2);
  const wanted = r.namespaces?.length ? r.namespaces : have;
  const namespaces = wanted.filter((n) => have.includes(n));
  if (namespaces.length === 0) throw new PrometheusError(`no container metrics in namespace ${wanted.join(', ')} between ${iso(start)} and ${iso(end)} (namespaces with data: ${have.slice(0, 10).join(', ')}${have.length > 10 ? ', …' : ''})`, 2);
  const nsSel = `namespace=~${q(namespaces.map(escapeRegex).join('|'))}`;

  // Pods kept by a label selector, through kube_pod_labels.
  let keep: Map<string, string[]> | null = null;
  if (r.selector) {
    let terms;
    try {
      terms = parseLabelSelector(r.selector);
    } catch (e) {
      throw new InputError(`--selector: ${(e as Error).message}`);
    }
    const m = terms.map((t) => `${ksmLabelName(t.key)}${t.op}${q(t.value)}`).join(',');
    const rows = await client.query(`max by (namespace, pod) (last_over_time(${METRICS.labels.name}{${nsSel}${m ? `,${m}` : ''}}[${H}]))`, end);
    if (rows.length === 0) {
      const any = await client.query(`count(last_over_time(${METRICS.labels.name}{${nsSel}}[${H}]))`, end);
      if (any.length === 0) throw new PrometheusError(missing(METRICS.labels, ''), 2);
      throw new PrometheusError(`no pod in ${namespaces.join(', ')} matches --selector ${r.selector} (kube_pod_labels only has the labels kube-state-metrics is allowed to export)`, 2);
    }
    keep = new Map();
    for (const s of rows) {
      const list = keep.get(s.metric.namespace!) ?? [];
      list.push(s.metric.pod!);
      keep.set(s.metric.namespace!, list);
    }
  }

  const owners: Owners = { pod: new Map(), replicaSet: new Map(), job: new Map() };
  const ownerQuery = (m: string, by: string) => client.query(`max by (namespace, ${by}, owner_kind, owner_name) (last_over_time(${m}{${nsSel}}[${H}]))`, end);
  const resQuery = (m: string) => client.query(`max by (namespace, pod, container, resource) (last_over_time(${m}{${nsSel},resource=~"cpu|memory"}[${H}]))`, end);
  const [podOwners, rsOwners, jobOwners, requests, limits, created] = await Promise.all([
    ownerQuery(METRICS.podOwner.name, 'pod'),
    ownerQuery(METRICS.replicaSetOwner.name, 'replicaset'),
    ownerQuery(METRICS.jobOwner.name, 'job_name'),
    resQuery(METRICS.requests.name),
    resQuery(METRICS.limits.name),
    client.query(`min by (namespace, pod) (last_over_time(${METRICS.created.name}{${nsSel}}[${H}]))`, end),
  ]);
  if (podOwners.length === 0) throw new PrometheusError(missing(METRICS.podOwner, ` in ${namespaces.join(', ')} over the window; pods cannot be grouped into workloads`), 2);
  for (const s of podOwners) owners.pod.set(`${s.metric.namespace}/${s.metric.pod}`, { kind: s.metric.owner_kind ?? '', name: s.metric.owner_name ?? '' });
  for (const s of rsOwners) owners.replicaSet.set(`${s.metric.namespace}/${s.metric.replicaset}`, { kind: s.metric.owner_kind ?? '', name: s.metric.owner_name ?? '' });
  for (const s of jobOwners) owners.job.set(`${s.metric.namespace}/${s.metric.job_name}`, { kind: s.metric.owner_kind ?? '', name: s.metric.owner_name ?? '' });
  const ownedBy = (kind: string) => [...owners.pod.values()].some((o) => o.kind === kind);
  if (rsOwners.length === 0 && ownedBy('ReplicaSet')) warnings.push(`${missing(METRICS.replicaSetOwner, '')}: pods stay grouped by ReplicaSet, not Deployment`);
  if (jobOwners.length === 0 && ownedBy('Job')) warnings.push(`${missing(METRICS.jobOwner, '')}: Jobs of a CronJob are not grouped into it`);
  if (requests.length === 0) warnings.push(`${missing(METRICS.requests, '')}: current requests unknown`);
  if (limits.length === 0) warnings.push(`${missing(METRICS.limits, '')}: current limits unknown`);
  if (created.length === 0) warnings.push(`${missing(METRICS.created, '')}: workload age taken from the first sample`);
  const resources = (rows: Sample[]) => {
    const m = new Map<string, Resources>();
    for (const s of rows) {
      const key = `${s.metric.namespace}/${s.metric.pod}/${s.metric.container}`;
      const e = m.get(key) ?? { cpuCores: null, memoryBytes: null };
      if (s.metric.resource === 'cpu') e.cpuCores = Number(s.value[1]);
      else e.memoryBytes = Number(s.value[1]);
      m.set(key, e);
    }
    return m;
  };
  const req = resources(requests);
  const lim = resources(limits);
  const createdAt = new Map(created.map((s) => [`${s.metric.namespace}/${s.metric.pod}`, Number(s.value[1])]));

  // The usage range queries: per namespace, 4 metrics, split in time; bounded by the client's concurrency.
  const queries = namespaces.filter((ns) => !keep || keep.has(ns)).flatMap((ns) => usageQueries(ns, keep?.get(ns) ?? null, g.stepSec));
  const pieces = splitRange(start, end, g.stepSec, client.maxPoints).length;
  let done = 0;
  r.progress?.(0, queries.length * pieces);
  const results = await Promise.all(queries.map(async (uq) => {
    const series = await client.queryRange(uq.promql, start, end, g.stepSec);
    done += pieces;
    r.progress?.(done, queries.length * pieces);
    return { uq, series };
  }));

  // Pod series on the grid, grouped by workload container.
  const perPod = new Map<string, PodContainerSeries & { namespace: string; container: string }>();
  const seen: Record<'throttled' | 'periods', boolean> = { throttled: false, periods: false };
  for (const { uq, series } of results) {
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
  if (![...perPod.values()].some((p) => p.cpuCounter.some((v) => !Number.isNaN(v)))) throw new PrometheusError(missing(METRICS.cpu, ` in ${namespaces.join(', ')} between ${iso(start)} and ${iso(end)}`), 2);
  if (!seen.throttled || !seen.periods) warnings.push(`${missing(seen.throttled ? METRICS.periods : METRICS.throttled, '')}: throttle ratio taken as 0`);

  const groups = new Map<string, { workload: WorkloadRef; container: string; pods: (PodContainerSeries & { namespace: string })[] }>();
  for (const p of perPod.values()) {
    const workload = resolveWorkload(p.namespace, p.pod, owners);
    const key = `${workloadKey(workload)}/${p.container}`;
    const gr = groups.get(key) ?? { workload, container: p.container, pods: [] };
    gr.pods.push(p);
    groups.set(key, gr);
  }
  const historySec = end - start;
  const containers: ContainerUsage[] = [];
  for (const gr of groups.values()) {
    const starts = gr.pods.map((p) => createdAt.get(`${p.namespace}/${p.pod}`)).filter((x): x is number => x !== undefined && Number.isFinite(x));
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
      requests: current(req),
      limits: current(lim),
    });
  }
  containers.sort((a, b) => cmp(a.workload.namespace, b.workload.namespace) || cmp(a.workload.kind, b.workload.kind) || cmp(a.workload.name, b.workload.name) || cmp(a.container, b.container));
  return { url: client.base.href, startSec: start + g.stepSec, endSec: end, stepSec: g.stepSec, containers, warnings, requests: client.requests, bytes: client.bytes };
}

/** redactUrl: a URL as it may be shown: without user and password. redactUrl('http://a:b@h:9090/') === 'http://h:9090/'. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.href;
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

/** errorText: a network error in one line (Node's AggregateError for ::1 and 127.0.0.1 has no message of its own). */
function errorText(e: unknown): string {
  const x = e as Error & { code?: string; errors?: Error[] };
  if (x.message) return x.message;
  if (x.errors?.length) return x.errors.map((y) => y.message).join('; ');
  return x.code ?? String(e);
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const nanArray = (n: number) => new Float64Array(n).fill(NaN);
const iso = (sec: number) => new Date(sec * 1000).toISOString().replace('.000Z', 'Z');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readOrFail(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`${flag} ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

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
