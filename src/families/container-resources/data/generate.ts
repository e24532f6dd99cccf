/**
 * generate: builds a data set of n samples for a seed, split across worker threads. Every sample depends
 * only on (seed, index), so the result is the same for any number of threads.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { allocateDataset, OUTCOME_NAMES, simulateRange } from './simulate.js';
import type { Dataset, SimulatorSettings } from './simulate.js';
import { N_FEATURES, N_OUTPUTS } from '../features.js';

export interface GenerateOptions {
  /** worker threads; default: the machine's parallelism (1 runs in this thread). */
  threads?: number;
  /** called with the number of samples done so far. */
  onProgress?: (done: number) => void;
  /** a calibration's simulator settings (calibration.ts); default: the uncalibrated simulator */
  settings?: SimulatorSettings;
}

/** generateDataset simulates samples [0, n) for seed. */
export async function generateDataset(n: number, seed: number, opts: GenerateOptions = {}): Promise<Dataset> {
  const threads = Math.max(1, Math.min(opts.threads ?? availableParallelism(), Math.ceil(n / 2000)));
  const ds = allocateDataset(n);
  if (threads === 1) {
    simulateRange(ds, seed, 0, n, opts.onProgress, 0, opts.settings);
    opts.onProgress?.(n);
    return ds;
  }
  const done = new Array<number>(threads).fill(0);
  const chunk = Math.ceil(n / threads);
  await Promise.all(
    Array.from({ length: threads }, (_, t) => {
      const from = t * chunk;
      const to = Math.min(n, from + chunk);
      return new Promise<void>((resolve, reject) => {
        const w = new Worker(new URL('./generate-worker.mjs', import.meta.url), { workerData: { seed, from, to, settings: opts.settings } });
        w.on('message', (m: { progress?: number; part?: Dataset }) => {
          if (m.progress !== undefined) {
            done[t] = m.progress;
            opts.onProgress?.(done.reduce((a, b) => a + b, 0));
          }
          if (m.part) {
            copyRows(m.part, ds, from);
            resolve();
          }
        });
        w.on('error', reject);
        w.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`generator worker exited with code ${code}`))));
      });
    }),
  );
  opts.onProgress?.(n);
  return ds;
}

/** copyRows copies all rows of part into ds starting at row `at`. */
function copyRows(part: Dataset, ds: Dataset, at: number): void {
  ds.X.set(part.X, at * N_FEATURES);
  ds.Y.set(part.Y, at * N_OUTPUTS);
  ds.featuresRaw.set(part.featuresRaw, at * N_FEATURES);
  for (const k of OUTCOME_NAMES) ds.outcomes[k].set(part.outcomes[k], at);
  ds.kind.set(part.kind, at);
}
