/**
 * metrics: the agent's Prometheus metrics (prom-client), in a registry of its own (no global state, so
 * two agents in one process, as in tests, do not collide). All names start with `resource_agent_`; every
 * model and inference metric carries the model `family` it is about.
 *
 *   http_requests_total{method,route,status}            requests answered
 *   http_request_duration_seconds{method,route}          latency histogram, per route
 *   inference_duration_seconds{endpoint,family}          time in ONNX Runtime per call (single/batch)
 *   inference_rows_total{endpoint,family}                rows predicted
 *   model_info{version,family}                           1 for the version being served
 *   model_ready{family}                                  1 when a verified model is served
 *   model_versions{status,family}                        retained versions by verified/refused
 *   model_load_failures_total{kind,family}               refused manifests (manifest), files (checksum), sessions (load), widths (contract)
 *   model_manifest_error{family}                         1 while the manifest on disk is refused
 *   model_file_drift{family}                             loaded versions whose file changed on disk since verified
 *   model_switches_total{cause,family}                   changes of the served version (start, reload, activate, rollback, verify: a refused file verified on a re-check)
 *   model_rollbacks_total{family}                        switches to a lower version (the rollback API, or an edited manifest)
 *   manifest_reloads_total{result,family}                applied / unchanged / refused
 *   admin_auth_failures_total{reason}                    admin calls refused: UNAUTHORIZED (no token), FORBIDDEN (wrong)
 *   training_jobs{state}                                 training jobs in the store by state (queued, running, succeeded, failed, cancelled)
 *   training_job_progress_percent{job}                   0–100 for each running job (no series when none runs)
 *   training_last_duration_seconds{state}                start to finish of the most recently finished job
 * plus prom-client's default process metrics (CPU, memory, event loop lag) prefixed the same way.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { compareSemver } from '../src/store/manifest.js';
import type { LoadFailureKind, StoreEvents, StoreStatus } from './store.js';

const P = 'resource_agent_';
const TRAINING_STATES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;

/** TrainingSnapshot: what the training gauges show (training-jobs.ts TrainingJobs.snapshot). */
export interface TrainingSnapshot {
  byState: Partial<Record<(typeof TRAINING_STATES)[number], number>>;
  running: { id: string; progress: number }[];
  /** the most recently finished job that had started: how it ended and how long it ran */
  last: { state: string; seconds: number } | null;
}
const FAILURE_KINDS: readonly LoadFailureKind[] = ['manifest', 'checksum', 'load', 'contract', 'reload'];

/** InferenceMetrics: the two inference series of one family and endpoint, resolved once. */
export interface InferenceMetrics {
  duration: { observe(seconds: number): void };
  rows: { inc(n: number): void };
}

/** AgentMetrics holds the registry and every metric; `storeEvents(family)` feeds a store's reports in. */
export class AgentMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({ name: `${P}http_requests_total`, help: 'HTTP requests answered', labelNames: ['method', 'route', 'status'] as const, registers: [this.registry] });
  readonly httpDuration = new Histogram({
    name: `${P}http_request_duration_seconds`,
    help: 'HTTP request latency (from the request arriving to the response sent)',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly inferenceDuration = new Histogram({
    name: `${P}inference_duration_seconds`,
    help: 'time from calling ONNX Runtime to its answer, per call (includes the event-loop hop onnxruntime-node takes); single-row calls carry the coalesced rows of concurrent requests',
    labelNames: ['endpoint', 'family'] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05],
    registers: [this.registry],
  });
  readonly inferenceRows = new Counter({ name: `${P}inference_rows_total`, help: 'rows predicted', labelNames: ['endpoint', 'family'] as const, registers: [this.registry] });
  readonly loadFailures = new Counter({ name: `${P}model_load_failures_total`, help: 'refused manifests (kind=manifest), model files (checksum), sessions (load), models of other widths (contract) and reloads that failed unexpectedly (reload)', labelNames: ['kind', 'family'] as const, registers: [this.registry] });
  readonly switches = new Counter({ name: `${P}model_switches_total`, help: 'changes of the served model version', labelNames: ['cause', 'family'] as const, registers: [this.registry] });
  readonly rollbacks = new Counter({ name: `${P}model_rollbacks_total`, help: 'switches to a lower model version (rollback API or an edited manifest)', labelNames: ['family'] as const, registers: [this.registry] });
  readonly adminAuthFailures = new Counter({ name: `${P}admin_auth_failures_total`, help: 'admin calls refused for a missing (UNAUTHORIZED) or wrong (FORBIDDEN) bearer token', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly reloads = new Counter({ name: `${P}manifest_reloads_total`, help: 'manifest reads by result', labelNames: ['result', 'family'] as const, registers: [this.registry] });

  /** `statuses` reads every family's store at scrape time (a function, so metrics can exist before the stores). */
  constructor(statuses: () => StoreStatus[], defaultMetrics = true) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: P });
    for (const reason of ['UNAUTHORIZED', 'FORBIDDEN']) this.adminAuthFailures.inc({ reason }, 0);
    const reg = [this.registry];
    new Gauge({
      name: `${P}model_info`,
      help: 'the model version being served (value 1)',
      labelNames: ['version', 'family'] as const,
      registers: reg,
      collect() {
        this.reset();
        for (const s of statuses()) if (s.serving) this.set({ version: s.serving, family: s.family }, 1);
      },
    });
    new Gauge({
      name: `${P}model_ready`,
      help: '1 when a verified model is being served',
      labelNames: ['family'] as const,
      registers: reg,
      collect() {
        for (const s of statuses()) this.set({ family: s.family }, s.ready ? 1 : 0);
      },
    });
    new Gauge({
      name: `${P}model_versions`,
      help: 'retained model versions by verification status',
      labelNames: ['status', 'family'] as const,
      registers: reg,
      collect() {
        for (const s of statuses()) {
          this.set({ status: 'verified', family: s.family }, s.versions.filter((x) => x.status === 'verified').length);
          this.set({ status: 'refused', family: s.family }, s.versions.filter((x) => x.status === 'refused').length);
        }
      },
    });
    new Gauge({
      name: `${P}model_file_drift`,
      help: 'loaded model versions whose file on disk no longer matches the sha256 verified at load (the verified copy keeps serving)',
      labelNames: ['family'] as const,
      registers: reg,
      collect() {
        for (const s of statuses()) this.set({ family: s.family }, s.drift.length);
      },
    });
    new Gauge({
      name: `${P}model_manifest_error`,
      help: '1 while the manifest on disk is refused (the last good one is applied)',
      labelNames: ['family'] as const,
      registers: reg,
      collect() {
        for (const s of statuses()) this.set({ family: s.family }, s.manifestError ? 1 : 0);
      },
    });
  }

  /**
   * watchTraining adds the training-job gauges, read from `snapshot` at scrape time (the jobs of the store,
   * as every agent on it sees them: two replicas report the same figures).
   */
  watchTraining(snapshot: () => TrainingSnapshot): void {
    const reg = [this.registry];
    new Gauge({
      name: `${P}training_jobs`,
      help: 'training jobs in the model store by state',
      labelNames: ['state'] as const,
      registers: reg,
      collect() {
        const s = snapshot();
        for (const state of TRAINING_STATES) this.set({ state }, s.byState[state] ?? 0);
      },
    });
    new Gauge({
      name: `${P}training_job_progress_percent`,
      help: 'progress of each running training job, 0-100',
      labelNames: ['job'] as const,
      registers: reg,
      collect() {
        this.reset();
        for (const r of snapshot().running) this.set({ job: r.id }, r.progress);
      },
    });
    new Gauge({
      name: `${P}training_last_duration_seconds`,
      help: 'start to finish of the most recently finished training job (label: how it ended)',
      labelNames: ['state'] as const,
      registers: reg,
      collect() {
        this.reset();
        const last = snapshot().last;
        if (last) this.set({ state: last.state }, last.seconds);
      },
    });
  }

  private readonly httpChildren = new Map<string, { requests: { inc(): void }; duration: { observe(v: number): void } }>();

  /** observeHttp counts one answered request; label children are cached (this runs on every request). */
  observeHttp(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route} ${status}`;
    let c = this.httpChildren.get(key);
    if (!c) {
      c = { requests: this.httpRequests.labels(method, route, String(status)), duration: this.httpDuration.labels(method, route) };
      this.httpChildren.set(key, c);
    }
    c.requests.inc();
    c.duration.observe(seconds);
  }

  /** inference returns the series of one family's endpoint ('single': coalesced single requests; 'batch'). */
  inference(family: string, endpoint: 'single' | 'batch'): InferenceMetrics {
    return { duration: this.inferenceDuration.labels(endpoint, family), rows: this.inferenceRows.labels(endpoint, family) };
  }

  /** storeEvents returns the callbacks one family's ModelStore reports to (and shows its counters at 0). */
  storeEvents(family: string): StoreEvents {
    for (const kind of FAILURE_KINDS) this.loadFailures.inc({ kind, family }, 0);
    this.rollbacks.inc({ family }, 0);
    return {
      loadFailure: (kind) => this.loadFailures.inc({ kind, family }),
      reloaded: (result) => this.reloads.inc({ result, family }),
      switched: (from, to, cause) => {
        this.switches.inc({ cause, family });
        if (cause === 'rollback' || (from !== null && compareSemver(to, from) < 0)) this.rollbacks.inc({ family });
      },
    };
  }
}
