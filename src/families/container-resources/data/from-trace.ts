/**
 * from-trace: training data from real history. Cuts every selected trace of a usage source into the
 * protocol's windows (windows.ts: past 7 d → next 3 d, stride 1 d) and labels each in hindsight from its
 * real future exactly as simulated windows are labelled (simulate.ts labelSample: the same feature
 * contract, label policy and outcome arrays), so a real file and a synthetic one mix in one training run.
 * Rows carry kind 'real' and their trace's name as `group`, so training holds out whole VMs, never
 * windows of a VM it trains on.
 */
import type { ReadOptions, ReadReport, UsageSource } from '../../../sources/types.js';
import { allocateDataset, labelSample, writeRow } from './simulate.js';
import type { Dataset } from './simulate.js';
import { PROTOCOL, windowsOf } from './windows.js';

export interface FromTraceResult {
  ds: Dataset;
  /** per input file: what the source skipped and merged, and how many windows it gave */
  inputs: (ReadReport & { windows: number })[];
  traces: number;
}

/** datasetFromTraces reads `paths` with `source` (only the traces `select` keeps) and labels their windows. */
export function datasetFromTraces(source: UsageSource, paths: string[], opts: ReadOptions & { onWindows?: (trace: string, windows: number) => void } = {}): FromTraceResult {
  const traces = source.read(paths, opts);
  const perTrace = traces.map((t) => windowsOf(t, PROTOCOL));
  const n = perTrace.reduce((a, w) => a + w.length, 0);
  const ds = allocateDataset(n);
  const group: string[] = [];
  ds.group = group;
  let i = 0;
  traces.forEach((t, k) => {
    for (const w of perTrace[k]!) {
      writeRow(ds, i++, labelSample({ kind: 'real', past: w.past, futureDemand: w.future.cpuCores, futureMemory: w.future.memoryBytes }));
      group.push(t.name);
    }
    opts.onWindows?.(t.name, perTrace[k]!.length);
  });
  return { ds, inputs: traces.map((t, k) => ({ ...t.report, windows: perTrace[k]!.length })), traces: traces.length };
}
