/**
 * metrics: the agent's Prometheus metrics (prom-client), in a registry of its own (no global state, so
 * two agents in one process, as in tests, do not collide). All names start with `resource_agent_`.
 *
 *   http_requests_total{method,route,status}            requests answered
 *   http_request_duration_seconds{method,route}          latency histogram, per route
 *   inference_duration_seconds{endpoint}                 time in ONNX Runtime per call (single/batch)
 *   inference_rows_total{endpoint}                       rows predicted
 *   model_info{version,family}                           1 for the version being served
 *   model_ready                                          1 when a verified model is served
 *   model_versions{status}                               retained versions by verified/refused
 *   model_load_failures_total{kind}                      refused manifests (manifest), files (checksum), sessions (load)
 *   model_manifest_error                                 1 while the manifest on disk is refused
 *   model_switches_total{cause}                          changes of the served version (start, reload, activate, rollback)
 *   model_rollbacks_total                                switches to a lower version (the rollback API, or an edited manifest)
 *   manifest_reloads_total{result}                       applied / unchanged / refused
 * plus prom-client's default process metrics (CPU, memory, event loop lag) prefixed the same way.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { compareSemver } from '../src/store/manifest.js';
import type { StoreEvents, StoreStatus } from './store.js';

const P = 'resource_agent_';

/** AgentMetrics holds the registry and every metric; `storeEvents()` feeds the store's reports in. */
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
    labelNames: ['endpoint'] as const,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05],
    registers: [this.registry],
  });
  readonly inferenceRows = new Counter({ name: `${P}inference_rows_total`, help: 'rows predicted', labelNames: ['endpoint'] as const, registers: [this.registry] });
  readonly loadFailures = new Counter({ name: `${P}model_load_failures_total`, help: 'refused manifests (kind=manifest), model files (checksum) and sessions (load)', labelNames: ['kind'] as const, registers: [this.registry] });
  readonly switches = new Counter({ name: `${P}model_switches_total`, help: 'changes of the served model version', labelNames: ['cause'] as const, registers: [this.registry] });
  readonly rollbacks = new Counter({ name: `${P}model_rollbacks_total`, help: 'switches to a lower model version (rollback API or an edited manifest)', registers: [this.registry] });
  readonly reloads = new Counter({ name: `${P}manifest_reloads_total`, help: 'manifest reads by result', labelNames: ['result'] as const, registers: [this.registry] });

  /** `status` reads the store at scrape time (a function, so metrics can exist before the store). */
  constructor(status: () => StoreStatus, defaultMetrics = true) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: P });
    for (const kind of ['manifest', 'checksum', 'load']) this.loadFailures.inc({ kind }, 0);
    this.rollbacks.inc(0);
    const reg = [this.registry];
    new Gauge({
      name: `${P}model_info`,
      help: 'the model version being served (value 1)',
      labelNames: ['version', 'family'] as const,
      registers: reg,
      collect() {
        this.reset();
        const s = status();
        if (s.serving) this.set({ version: s.serving, family: s.family }, 1);
      },
    });
    new Gauge({
      name: `${P}model_ready`,
      help: '1 when a verified model is being served',
      registers: reg,
      collect() {
        this.set(status().ready ? 1 : 0);
      },
    });
    new Gauge({
      name: `${P}model_versions`,
      help: 'retained model versions by verification status',
      labelNames: ['status'] as const,
      registers: reg,
      collect() {
        const v = status().versions;
        this.set({ status: 'verified' }, v.filter((x) => x.status === 'verified').length);
        this.set({ status: 'refused' }, v.filter((x) => x.status === 'refused').length);
      },
    });
    new Gauge({
      name: `${P}model_manifest_error`,
      help: '1 while the manifest on disk is refused (the last good one is applied)',
      registers: reg,
      collect() {
        this.set(status().manifestError ? 1 : 0);
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

  /** storeEvents returns the callbacks the ModelStore reports to. */
  storeEvents(): StoreEvents {
    return {
      loadFailure: (kind) => this.loadFailures.inc({ kind }),
      reloaded: (result) => this.reloads.inc({ result }),
      switched: (from, to, cause) => {
        this.switches.inc({ cause });
        if (cause === 'rollback' || (from !== null && compareSemver(to, from) < 0)) this.rollbacks.inc();
      },
    };
  }
}
