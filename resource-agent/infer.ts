/**
 * infer: the one way a route runs a family's model. `run` leases the serving model from the family's
 * store, predicts, hands the outputs to the caller while the lease holds (so a reload never releases a
 * session in use) and ends the lease. Every ONNX Runtime call is timed and counted here, per family and
 * endpoint:
 *
 *   'single'  one row, coalesced with the rows of concurrent single requests into one call (batcher.ts,
 *             one batcher per loaded model); the call is timed once, for all its rows
 *   'batch'   n rows in one call
 */
import { AgentError } from './errors.js';
import { Batcher } from './batcher.js';
import type { AgentMetrics, InferenceMetrics } from './metrics.js';
import type { LoadedModel, ModelStore } from './store.js';
import type { ServedModel } from '../src/core/family.js';

export type Endpoint = 'single' | 'batch';

/** Inference runs one family's serving model. */
export class Inference {
  private readonly batchers = new WeakMap<LoadedModel, Batcher>();
  private readonly series: Record<Endpoint, InferenceMetrics>;

  constructor(private readonly store: ModelStore, metrics: AgentMetrics, family: string) {
    this.series = { single: metrics.inference(family, 'single'), batch: metrics.inference(family, 'batch') };
  }

  /**
   * run predicts `n` rows of normalized inputs `x` with the serving model and returns `use(y, model)`,
   * `y` holding n rows of normalized outputs. Throws NOT_READY (503) when no verified model is loaded.
   * Example: run(x, 1, 'single', (y, m) => renderSingle(m.version, …)).
   */
  async run<T>(x: Float32Array, n: number, endpoint: Endpoint, use: (y: Float32Array, model: ServedModel) => T): Promise<T> {
    const m = this.acquire();
    try {
      const y = endpoint === 'single' ? await this.batcherFor(m).predictOne(x) : await this.timed(m, x, n, 'batch');
      return use(y, { version: m.version, risk: m.entry.risk ?? null });
    } finally {
      this.store.release(m);
    }
  }

  private acquire(): LoadedModel {
    const m = this.store.acquire();
    if (m) return m;
    const s = this.store.status();
    throw new AgentError('NOT_READY', `no verified model is loaded: ${s.activeError ?? s.manifestError ?? 'the store is starting'}; see /readyz`);
  }

  /** timed makes one ONNX Runtime call and records its duration and rows. */
  private async timed(m: LoadedModel, x: Float32Array, n: number, endpoint: Endpoint): Promise<Float32Array> {
    const t0 = performance.now();
    const y = await m.predictor.predict(x, n);
    const s = this.series[endpoint];
    s.duration.observe((performance.now() - t0) / 1000);
    s.rows.inc(n);
    return y;
  }

  private batcherFor(m: LoadedModel): Batcher {
    let b = this.batchers.get(m);
    if (!b) {
      b = new Batcher((x, n) => this.timed(m, x, n, 'single'), m.predictor.inputWidth, m.predictor.outputWidth);
      this.batchers.set(m, b);
    }
    return b;
  }
}
