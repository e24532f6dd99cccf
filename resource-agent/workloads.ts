/**
 * workloads: the agent as a recommender for a whole cluster. With --prometheus URL, a WorkloadRefresher
 * reads every selected workload's containers from Prometheus (src/sources/prometheus.ts) every --interval,
 * recommends through the served family's workloads hook (core/family.ts FamilyWorkloads; the container
 * family's) with its serving model (through its Inference, so a refresh holds a lease like any request and
 * counts in the inference metrics) and keeps the result for GET /v1/workloads (routes/workloads.ts).
 *
 * A failed refresh (Prometheus down, a query refused, no model loaded) keeps the LAST GOOD result, which
 * is still served, with `stale: true` and the error; /readyz shows the same status and /metrics the
 * gauges below. The next try comes after min(interval, 1 min × 2^failures) so a brief outage is not an
 * hour-long gap.
 *
 * Memory: the refresher keeps the last good result WITHOUT its raw windows (they are dropped once the
 * recommendations are made; the hook's result keeps none either); per container it keeps the window downsampled to at most SAMPLE_POINTS
 * points (window-samples.ts: ~10 KB per container, ~10 MB for 1,000), which GET
 * /v1/workloads/{namespace}/{kind}/{name}?samples=1 serves for the dashboard's chart.
 *
 * Metrics (prefix resource_agent_), registered on the agent's registry:
 *   workload_recommendation{namespace,kind,workload,container,resource,type}  cores / bytes (type request|limit)
 *   workload_current{…same}                   the container's current request/limit, where known
 *   workload_confidence{namespace,kind,workload,container}
 *   workload_refresh_ok                       1 when the last refresh succeeded
 *   workload_refresh_last_success_timestamp_seconds
 *   workload_refreshes_total{result}          ok / failed
 *   workload_refresh_duration_seconds         of the last refresh
 */
import { Counter, Gauge } from 'prom-client';
import type { FastifyBaseLogger } from 'fastify';
import { readPrometheus, redactUrl } from '../src/sources/prometheus.js';
import type { Connection, PrometheusRead, Selection } from '../src/sources/prometheus.js';
import type { FamilyWorkloads, ServingBounds, WorkloadRecommendations } from '../src/core/family.js';
import type { AgentMetrics } from './metrics.js';
import type { Inference } from './infer.js';
import { downsampleWindow } from './window-samples.js';
import type { WindowSamples } from './window-samples.js';

/** RefreshOptions: where to read, what, how far back, how often. */
export interface RefreshOptions extends Connection, Selection {
  historySec: number;
  stepSec: number;
  intervalSec: number;
}

/** RefreshStatus: what /readyz and GET /v1/workloads say about the refresh. */
export interface RefreshStatus {
  prometheus: string;
  intervalSec: number;
  /** the last successful refresh (ISO time), null before the first */
  refreshedAt: string | null;
  lastAttemptAt: string | null;
  /** the last refresh failed: the results served are from `refreshedAt` */
  stale: boolean;
  lastError: string | null;
  consecutiveFailures: number;
  workloads: number;
  containers: number;
}

const P = 'resource_agent_';
const iso = (ms: number) => new Date(ms).toISOString();

/** WorkloadRefresher: the schedule, the last good result and the gauges. */
export class WorkloadRefresher {
  result: WorkloadRecommendations | null = null;
  read: PrometheusRead | null = null;
  /** each container's downsampled window from the last good refresh, by `namespace/Kind/name/container` */
  private samples = new Map<string, WindowSamples>();
  private refreshedAtMs: number | null = null;
  private lastAttemptMs: number | null = null;
  private lastError: string | null = null;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<boolean> | null = null;
  private stopped = false;
  private readonly refreshes: Counter<'result'>;
  private readonly duration: Gauge;

  constructor(
    readonly o: RefreshOptions,
    private readonly hook: FamilyWorkloads,
    private readonly infer: Inference,
    private readonly bounds: ServingBounds,
    metrics: AgentMetrics,
    private readonly log: FastifyBaseLogger,
    private readonly now: () => number = Date.now,
  ) {
    const reg = [metrics.registry];
    const self = this;
    const names = ['namespace', 'kind', 'workload', 'container', 'resource', 'type'] as const;
    const perContainer = (name: string, help: string, pick: 'recommended' | 'current') =>
      new Gauge({
        name: `${P}${name}`,
        help,
        labelNames: names,
        registers: reg,
        collect() {
          this.reset();
          for (const c of self.result?.gauges() ?? []) {
            const l = { namespace: c.namespace, kind: c.kind, workload: c.workload, container: c.container };
            const v = c[pick];
            if (!v) continue;
            for (const resource of ['cpu', 'memory'] as const) {
              const [req, lim] = v[resource];
              if (req !== null && req !== undefined) this.set({ ...l, resource, type: 'request' }, req);
              if (lim !== null && lim !== undefined) this.set({ ...l, resource, type: 'limit' }, lim);
            }
          }
        },
      });
    perContainer('workload_recommendation', 'recommended request/limit per workload container: cores for cpu, bytes for memory', 'recommended');
    perContainer('workload_current', 'current request/limit per workload container (kube-state-metrics), cores or bytes', 'current');
    new Gauge({
      name: `${P}workload_confidence`,
      help: "the model's confidence for a workload container's recommendation (carries no risk information on real workloads; see the README)",
      labelNames: ['namespace', 'kind', 'workload', 'container'] as const,
      registers: reg,
      collect() {
        this.reset();
        for (const c of self.result?.gauges() ?? []) {
          if (c.confidence === null) continue;
          this.set({ namespace: c.namespace, kind: c.kind, workload: c.workload, container: c.container }, c.confidence);
        }
      },
    });
    new Gauge({ name: `${P}workload_refresh_ok`, help: '1 when the last workload refresh from Prometheus succeeded', registers: reg, collect() { this.set(self.lastAttemptMs !== null && self.failures === 0 ? 1 : 0); } });
    new Gauge({ name: `${P}workload_refresh_last_success_timestamp_seconds`, help: 'when the workload recommendations served were computed', registers: reg, collect() { this.set(self.refreshedAtMs === null ? 0 : self.refreshedAtMs / 1000); } });
    this.refreshes = new Counter({ name: `${P}workload_refreshes_total`, help: 'workload refreshes from Prometheus by result', labelNames: ['result'] as const, registers: reg });
    this.refreshes.inc({ result: 'ok' }, 0);
    this.refreshes.inc({ result: 'failed' }, 0);
    this.duration = new Gauge({ name: `${P}workload_refresh_duration_seconds`, help: 'duration of the last workload refresh', registers: reg });
  }

  /** start refreshes now and then on the schedule. */
  start(): void {
    this.stopped = false;
    void this.tick();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async tick(): Promise<void> {
    const ok = await this.refresh();
    if (this.stopped) return;
    const delaySec = ok ? this.o.intervalSec : Math.min(this.o.intervalSec, 60 * 2 ** Math.min(this.failures - 1, 10));
    this.timer = setTimeout(() => void this.tick(), delaySec * 1000);
    this.timer.unref();
  }

  /** refresh reads and recommends once (joining one in progress); false when it failed (the last good result stays). */
  refresh(): Promise<boolean> {
    return (this.running ??= this.doRefresh().finally(() => (this.running = null)));
  }

  private async doRefresh(): Promise<boolean> {
    const t0 = performance.now();
    this.lastAttemptMs = this.now();
    try {
      const read = await readPrometheus({ ...this.o, endSec: this.lastAttemptMs / 1000 });
      const result = await this.hook.recommend(read.containers, (x, n, use) => this.infer.run(x, n, 'batch', use), this.bounds);
      // Keep the downsampled windows; drop the raw ones (the memory bound in the header).
      const samples = new Map<string, WindowSamples>();
      for (const c of read.containers) if (c.window) samples.set(sampleKey(c.workload.namespace, c.workload.kind, c.workload.name, c.container), downsampleWindow(c.window));
      this.read = { ...read, containers: read.containers.map((c) => ({ ...c, window: null })) };
      this.result = result;
      this.samples = samples;
      this.refreshedAtMs = this.lastAttemptMs;
      this.failures = 0;
      this.lastError = null;
      this.refreshes.inc({ result: 'ok' });
      for (const w of read.warnings) this.log.warn({ prometheus: read.url }, w);
      this.log.info({ workloads: result.totals.workloads, containers: result.totals.containers, recommended: result.totals.recommended, ms: Math.round(performance.now() - t0) }, 'workload recommendations refreshed');
      return true;
    } catch (e) {
      this.failures++;
      this.lastError = e instanceof Error ? e.message : String(e);
      this.refreshes.inc({ result: 'failed' });
      this.log.warn({ err: this.lastError, failures: this.failures, keeping: this.refreshedAtMs === null ? null : iso(this.refreshedAtMs) }, 'workload refresh failed; keeping the last good recommendations');
      return false;
    } finally {
      this.duration.set((performance.now() - t0) / 1000);
    }
  }

  /** samplesOf: a container's downsampled window from the last good refresh (kind as the result spells it), or null. */
  samplesOf(namespace: string, kind: string, name: string, container: string): WindowSamples | null {
    return this.samples.get(sampleKey(namespace, kind, name, container)) ?? null;
  }

  status(): RefreshStatus {
    return {
      prometheus: redactUrl(this.o.url),
      intervalSec: this.o.intervalSec,
      refreshedAt: this.refreshedAtMs === null ? null : iso(this.refreshedAtMs),
      lastAttemptAt: this.lastAttemptMs === null ? null : iso(this.lastAttemptMs),
      stale: this.failures > 0,
      lastError: this.lastError,
      consecutiveFailures: this.failures,
      workloads: this.result?.totals.workloads ?? 0,
      containers: this.result?.totals.containers ?? 0,
    };
  }
}

const sampleKey = (namespace: string, kind: string, name: string, container: string) => `${namespace}/${kind}/${name}/${container}`;
