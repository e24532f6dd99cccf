/**
 * vpa/recommend-vpa: the glue from a usage series to a recommendation. No single upstream file: it plays
 * the part of the recommender loop (routines/recommender.go) feeding one container's history through
 * model/container.go and logic/recommender.go, then scaling limits as utils/vpa/limit_and_request_scaling.go.
 *
 * Choices where upstream is not one fixed thing (all overridable through VpaOptions):
 * - Limits: with no original limit upstream sets none. That is what we do for CPU (cpuLimitCores = null);
 *   for memory Recommendation needs a number, so memLimitBytes = the memory request (documented
 *   deviation: an unlimited container cannot be scored for OOM kills).
 * - The CPU first bucket and the other aggregation constants: see container-state.ts.
 *
 * Example: 2 days of constant 0.5 core / 1 GiB at 1-minute samples →
 *   CPU target = bucket end 0.01 × (1.05^26 − 1)/0.05 = 0.51113 core → 511 m → +15 % (76 m) = 587 m;
 *   memory target = bucket end 1e7 × (1.05^38 − 1)/0.05 = 1.0771e9 B → +15 % = 1.2387e9 B.
 */
import type { Recommendation } from '../../recommendation.js';
import type { UsageWindow } from '../types.js';
import { usageSeriesLength } from '../types.js';
import type { AggregationsConfig } from './container-state.js';
import { AggregateContainerState, ContainerState, DEFAULT_AGGREGATIONS_CONFIG } from './container-state.js';
import { getConfidence } from './estimator.js';
import { proportionalLimit } from './limits.js';
import type { RecommenderConfig } from './recommender.js';
import { createPodResourceRecommender, DEFAULT_RECOMMENDER_CONFIG, estimateContainerResources } from './recommender.js';
import { coresFromCpuAmount, cpuAmountFromCores, memoryAmountFromBytes } from './resource-amount.js';
import type { Bytes, Cores } from '../../../../core/units.js';

/** VpaOptions: the container's current spec, OOM events, and overrides of the upstream defaults. */
export interface VpaOptions {
  /** Current CPU request: weighs CPU samples (max(request, 0.1)) and sets the limit ratio. */
  originalCpuRequestCores?: Cores;
  originalCpuLimitCores?: Cores;
  /** Current memory request: sets the limit ratio (OOM events carry their own request). */
  originalMemRequestBytes?: Bytes;
  originalMemLimitBytes?: Bytes;
  /** OOM kills; memoryBytes is the memory request at the kill (upstream's OomInfo.Memory). */
  oomEvents?: { timestampSec: number; memoryBytes: number }[];
  aggregations?: Partial<AggregationsConfig>;
  recommender?: Partial<RecommenderConfig>;
}

/** VpaBound is one of the bounds in the units of Recommendation. */
export interface VpaBound {
  cpuCores: number;
  memoryBytes: number;
}

export type VpaRecommendation = Recommendation & {
  lowerBound: VpaBound;
  upperBound: VpaBound;
  /** How much history backed the bounds and which OOM events upstream would have discarded. */
  diagnostics: { cpuSamples: number; confidenceCpu: number; confidenceMemory: number; oomEventsDiscarded: number };
};

/**
 * recommendVpa replays a usage series through VPA's model (ContainerState → AggregateContainerState) and
 * returns the target as requests, VPA's lower/upper bounds, and proportional limits.
 * Each row adds a CPU sample and a memory sample at timestampsSec[i]; OOM events are merged in time order
 * (a usage row first when times tie).
 * Example: 2 days of 0.5 core / 1 GiB every minute → cpuRequestCores 0.587, memRequestBytes ≈ 1.2387e9.
 */
export function recommendVpa(series: UsageWindow, opts: VpaOptions = {}): VpaRecommendation {
  const n = usageSeriesLength(series, 'recommendVpa');
  const agg: AggregationsConfig = { ...DEFAULT_AGGREGATIONS_CONFIG, ...opts.aggregations };
  const rcfg: RecommenderConfig = { ...DEFAULT_RECOMMENDER_CONFIG, ...opts.recommender };
  const state = new AggregateContainerState(agg);
  const cpuRequest = cpuAmountFromCores(opts.originalCpuRequestCores ?? 0);
  const container = new ContainerState({ cpu: cpuRequest, memory: memoryAmountFromBytes(opts.originalMemRequestBytes ?? 0) }, state, agg);

  const ooms = [...(opts.oomEvents ?? [])].sort((a, b) => a.timestampSec - b.timestampSec);
  let j = 0;
  let oomEventsDiscarded = 0;
  const recordOom = (e: { timestampSec: number; memoryBytes: number }): void => {
    if (!container.recordOom(e.timestampSec, memoryAmountFromBytes(e.memoryBytes))) oomEventsDiscarded++;
  };
  for (let i = 0; i < n; i++) {
    const t = series.timestampsSec[i]!;
    while (j < ooms.length && ooms[j]!.timestampSec < t) recordOom(ooms[j++]!);
    const cpu = series.cpuCores[i]!;
    const mem = series.memoryBytes[i]!;
    container.addSample({ measureStartSec: t, usage: Number.isNaN(cpu) ? NaN : cpuAmountFromCores(cpu), request: cpuRequest, resource: 'cpu' });
    container.addSample({ measureStartSec: t, usage: Number.isNaN(mem) ? NaN : memoryAmountFromBytes(mem), request: cpuRequest, resource: 'memory' });
  }
  while (j < ooms.length) recordOom(ooms[j++]!);

  const est = estimateContainerResources(createPodResourceRecommender(rcfg), state);
  const cpuRequestCores = coresFromCpuAmount(est.target.cpu);
  const memRequestBytes = est.target.memory;
  return {
    cpuRequestCores,
    cpuLimitCores: proportionalLimit('cpu', opts.originalCpuLimitCores, opts.originalCpuRequestCores, cpuRequestCores),
    memRequestBytes,
    memLimitBytes: proportionalLimit('memory', opts.originalMemLimitBytes, opts.originalMemRequestBytes, memRequestBytes) ?? memRequestBytes,
    lowerBound: { cpuCores: coresFromCpuAmount(est.lowerBound.cpu), memoryBytes: est.lowerBound.memory },
    upperBound: { cpuCores: coresFromCpuAmount(est.upperBound.cpu), memoryBytes: est.upperBound.memory },
    diagnostics: {
      cpuSamples: state.totalSamplesCount,
      confidenceCpu: getConfidence(state, rcfg.confidenceIntervalCpuSec),
      confidenceMemory: getConfidence(state, rcfg.confidenceIntervalMemorySec),
      oomEventsDiscarded,
    },
  };
}
