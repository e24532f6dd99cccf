/**
 * vpa/recommender: the default estimator chain and the flags it is built from.
 *
 * Mirrors logic/recommender.go (upstream root: github.com/kubernetes/autoscaler,
 * vertical-pod-autoscaler/pkg/recommender/): p90 / p50 / p95, 15 % margin, 25 m and 250 MiB floors.
 */
import type { AggregateContainerState } from './container-state.js';
import type { Estimator } from './estimator.js';
import { percentileCpuEstimator, percentileMemoryEstimator, withConfidenceMultiplier, withMargin, withMinResource } from './estimator.js';
import type { ResourceAmount } from './resource-amount.js';
import { cpuAmountFromCores, memoryAmountFromBytes, scaleResource } from './resource-amount.js';

const DAY_SEC = 24 * 3600;

/** RecommenderConfig: the recommender flags and their defaults (logic/recommender.go). */
export interface RecommenderConfig {
  /** --recommendation-margin-fraction = 0.15 */
  safetyMarginFraction: number;
  /** --pod-recommendation-min-cpu-millicores = 25 */
  podMinCpuMillicores: number;
  /** --pod-recommendation-min-memory-mb = 250 (× 1024 × 1024 = 262 144 000 B) */
  podMinMemoryMb: number;
  /** --target-cpu-percentile = 0.9 */
  targetCpuPercentile: number;
  /** --recommendation-lower-bound-cpu-percentile = 0.5 */
  lowerBoundCpuPercentile: number;
  /** --recommendation-upper-bound-cpu-percentile = 0.95 */
  upperBoundCpuPercentile: number;
  /** --target-memory-percentile = 0.9 */
  targetMemoryPercentile: number;
  /** --recommendation-lower-bound-memory-percentile = 0.5 */
  lowerBoundMemoryPercentile: number;
  /** --recommendation-upper-bound-memory-percentile = 0.95 */
  upperBoundMemoryPercentile: number;
  /** --confidence-interval-cpu = 24 h */
  confidenceIntervalCpuSec: number;
  /** --confidence-interval-memory = 24 h */
  confidenceIntervalMemorySec: number;
}

export const DEFAULT_RECOMMENDER_CONFIG: Readonly<RecommenderConfig> = Object.freeze({
  safetyMarginFraction: 0.15,
  podMinCpuMillicores: 25,
  podMinMemoryMb: 250,
  targetCpuPercentile: 0.9,
  lowerBoundCpuPercentile: 0.5,
  upperBoundCpuPercentile: 0.95,
  targetMemoryPercentile: 0.9,
  lowerBoundMemoryPercentile: 0.5,
  upperBoundMemoryPercentile: 0.95,
  confidenceIntervalCpuSec: DAY_SEC,
  confidenceIntervalMemorySec: DAY_SEC,
});

/** PodResourceRecommender: the six composed estimators. */
export interface PodResourceRecommender {
  targetCpu: Estimator;
  targetMemory: Estimator;
  lowerBoundCpu: Estimator;
  lowerBoundMemory: Estimator;
  upperBoundCpu: Estimator;
  upperBoundMemory: Estimator;
}

/**
 * createPodResourceRecommender composes, as CreatePodResourceRecommender + GetRecommendedPodResources:
 *   target = min(margin(p90))             lower = min(conf(0.001, −2, margin(p50)))
 *   upper  = min(conf(1, +1, margin(p95)))
 * The minimums (25 m, 250 MiB) are split evenly across containersPerPod, as upstream.
 */
export function createPodResourceRecommender(
  cfg: RecommenderConfig = DEFAULT_RECOMMENDER_CONFIG,
  containersPerPod = 1,
): PodResourceRecommender {
  const fraction = 1 / containersPerPod;
  const minCpu = scaleResource(cpuAmountFromCores(cfg.podMinCpuMillicores * 0.001), fraction);
  const minMemory = scaleResource(memoryAmountFromBytes(cfg.podMinMemoryMb * 1024 * 1024), fraction);
  const m = cfg.safetyMarginFraction;
  const targetCpu = withMargin(m, percentileCpuEstimator(cfg.targetCpuPercentile));
  const targetMemory = withMargin(m, percentileMemoryEstimator(cfg.targetMemoryPercentile));
  const lowerCpu = withConfidenceMultiplier(0.001, -2, withMargin(m, percentileCpuEstimator(cfg.lowerBoundCpuPercentile)), cfg.confidenceIntervalCpuSec);
  const lowerMemory = withConfidenceMultiplier(0.001, -2, withMargin(m, percentileMemoryEstimator(cfg.lowerBoundMemoryPercentile)), cfg.confidenceIntervalMemorySec);
  const upperCpu = withConfidenceMultiplier(1.0, 1.0, withMargin(m, percentileCpuEstimator(cfg.upperBoundCpuPercentile)), cfg.confidenceIntervalCpuSec);
  const upperMemory = withConfidenceMultiplier(1.0, 1.0, withMargin(m, percentileMemoryEstimator(cfg.upperBoundMemoryPercentile)), cfg.confidenceIntervalMemorySec);
  return {
    targetCpu: withMinResource(minCpu, targetCpu),
    targetMemory: withMinResource(minMemory, targetMemory),
    lowerBoundCpu: withMinResource(minCpu, lowerCpu),
    lowerBoundMemory: withMinResource(minMemory, lowerMemory),
    upperBoundCpu: withMinResource(minCpu, upperCpu),
    upperBoundMemory: withMinResource(minMemory, upperMemory),
  };
}

/** RecommendedResources: millicores and bytes. */
export interface RecommendedResources {
  cpu: ResourceAmount;
  memory: ResourceAmount;
}

/** estimateContainerResources evaluates the six estimators on one aggregated state. */
export function estimateContainerResources(
  r: PodResourceRecommender,
  s: AggregateContainerState,
): { target: RecommendedResources; lowerBound: RecommendedResources; upperBound: RecommendedResources } {
  return {
    target: { cpu: r.targetCpu(s), memory: r.targetMemory(s) },
    lowerBound: { cpu: r.lowerBoundCpu(s), memory: r.lowerBoundMemory(s) },
    upperBound: { cpu: r.upperBoundCpu(s), memory: r.upperBoundMemory(s) },
  };
}
