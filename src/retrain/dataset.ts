/**
 * dataset: retraining windows as a training-data file (.npz, data/dataset-io.ts), labelled in hindsight
 * exactly as `generate --from-trace` labels real windows (simulate.ts labelSample), with each row's
 * WORKLOAD as its group: `train` then holds out whole workloads for early stopping, and refuses a
 * calibration file that shares a workload with the training file.
 */
import type { TraceWindow } from '../families/container-resources/data/windows.js';
import { allocateDataset, labelSample, writeRow } from '../families/container-resources/data/simulate.js';
import { encodeDataset } from '../families/container-resources/data/dataset-io.js';

/** windowsToNpz labels the windows and encodes them; `source` is recorded in the file's metadata. */
export function windowsToNpz(windows: readonly TraceWindow[], workloadOf: ReadonlyMap<string, string>, source: string): Buffer {
  const ds = allocateDataset(windows.length);
  ds.group = windows.map((w) => workloadOf.get(w.vm) ?? w.vm);
  windows.forEach((w, i) => writeRow(ds, i, labelSample({ kind: 'real', past: w.past, futureDemand: w.future.cpuCores, futureMemory: w.future.memoryBytes })));
  return encodeDataset(ds, 0, source);
}
