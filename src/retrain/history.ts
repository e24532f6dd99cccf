/**
 * history: the usage history a retraining reads, from a cluster's Prometheus (src/sources/prometheus.ts,
 * with its header, token, basic-auth and CA options) or from trace files (any registered usage source), as
 * one series per container together with the WORKLOAD it belongs to: the workload is the unit the
 * train/shadow split goes by (split.ts), so two containers of one Deployment, or the pods of a rollout,
 * never end up on both sides.
 *
 * Names: Prometheus series are "namespace/Kind/workload/container" in workload "namespace/Kind/workload";
 * a trace file (a Bitbrains VM) is its own workload ("vm12").
 */
import { basename } from 'node:path';
import { getSource } from '../sources/registry.js';
import type { ReadOptions, UsageWindow } from '../sources/types.js';
import { readPrometheus, redactUrl } from '../sources/prometheus.js';
import type { ReadRequest } from '../sources/prometheus.js';
import { workloadKey } from '../sources/kube-workloads.js';
import type { TraceWindow } from '../families/container-resources/data/windows.js';
import { UserError } from '../util/errors.js';

/** SeriesHistory: one container's whole history. */
export interface SeriesHistory {
  /** "shop/Deployment/web/app", or a trace's name ("vm12") */
  name: string;
  /** "shop/Deployment/web", or the trace's name */
  workload: string;
  /** every sample of the history, in time order (with the CFS counters when Prometheus has them) */
  window: UsageWindow;
  /** the allocation it ran with, where known (the container's current requests and limits; a VM's capacity) */
  original?: TraceWindow['original'];
}

/** History: what was read, and from where. */
export interface History {
  /** 'prometheus', or the trace source's name ('bitbrains') */
  source: string;
  /** one line: the URL (without credentials) or the folders */
  description: string;
  /** the first and last second of the history (grid points for Prometheus, samples for traces) */
  startSec: number;
  endSec: number;
  series: SeriesHistory[];
  /** optional metrics that were missing (Prometheus) */
  warnings: string[];
}

/**
 * historyFromPrometheus reads every selected container's history. A container's current requests and
 * limits (kube-state-metrics) become its `original` allocation (what VPA's proportional limits scale)
 * when both limits are known; a missing request is taken as its limit.
 */
export async function historyFromPrometheus(r: ReadRequest): Promise<History> {
  const read = await readPrometheus(r);
  const series: SeriesHistory[] = [];
  for (const c of read.containers) {
    if (!c.window) continue;
    const l = c.limits;
    const q = c.requests;
    series.push({
      name: `${workloadKey(c.workload)}/${c.container}`,
      workload: workloadKey(c.workload),
      window: c.window,
      original: l.cpuCores !== null && l.memoryBytes !== null ? { cpuRequestCores: q.cpuCores ?? l.cpuCores, cpuLimitCores: l.cpuCores, memRequestBytes: q.memoryBytes ?? l.memoryBytes, memLimitBytes: l.memoryBytes } : undefined,
    });
  }
  if (!series.length) throw new UserError(`Prometheus at ${redactUrl(r.url)} has no container with 2 samples or more between ${iso(read.startSec)} and ${iso(read.endSec)}`);
  return { source: 'prometheus', description: `${read.url} ${iso(read.startSec)} → ${iso(read.endSec)} at ${read.stepSec} s`, startSec: read.startSec, endSec: read.endSec, series, warnings: read.warnings };
}

/** historyFromTraces reads trace files (e.g. a folder of Bitbrains VMs), each its own workload. */
export function historyFromTraces(sourceName: string, paths: string[], opts: ReadOptions = {}): History {
  const traces = getSource(sourceName).read(paths, opts);
  const series = traces.filter((t) => t.timestampsSec.length >= 2).map((t): SeriesHistory => ({
    name: t.name,
    workload: t.name,
    window: { timestampsSec: t.timestampsSec, cpuCores: t.cpuCores, memoryBytes: t.memoryBytes, workloadStartSec: t.timestampsSec[0]! },
    original: t.provisioned ? { cpuRequestCores: t.provisioned.cpuCores, cpuLimitCores: t.provisioned.cpuCores, memRequestBytes: t.provisioned.memoryBytes, memLimitBytes: t.provisioned.memoryBytes } : undefined,
  }));
  if (!series.length) throw new UserError(`--input ${paths.join(' ')} has no trace with 2 samples or more${opts.select ? ' that --vms selects' : ''}`);
  let start = Infinity;
  let end = -Infinity;
  for (const s of series) {
    const ts = s.window.timestampsSec;
    start = Math.min(start, ts[0]!);
    end = Math.max(end, ts[ts.length - 1]!);
  }
  // the folders by their last component: the description is shown without a token (GET /v1/models)
  const shown = paths.map((p) => basename(p.replace(/[\\/]+$/, '')) || p);
  return { source: sourceName, description: `${shown.join(' ')} (${series.length} traces, ${iso(start)} → ${iso(end)})`, startSec: start, endSec: end, series, warnings: [] };
}

/** iso(1748822400) === '2025-06-02T00:00:00Z' */
export const iso = (sec: number) => new Date(sec * 1000).toISOString().replace('.000Z', 'Z');
