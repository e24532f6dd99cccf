/** generate-worker: simulates rows [from, to) of a data set in a worker thread (see generate.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { allocateDataset, simulateRange } from './simulate.js';
import type { SimulatorSettings } from './simulate.js';

const { seed, from, to, settings } = workerData as { seed: number; from: number; to: number; settings?: SimulatorSettings };
const part = allocateDataset(to - from);
// simulateRange writes row i at index i; shift by simulating into a view that starts at `from`.
simulateRange(part, seed, from, to, (done) => parentPort!.postMessage({ progress: done }), from, settings);
parentPort!.postMessage({ part, progress: to - from });
